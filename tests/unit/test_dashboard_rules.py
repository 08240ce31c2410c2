"""The dashboard's arithmetic on its own: periods of whole UTC days, change, averages."""

from datetime import UTC, datetime

import pytest

from revoque.services.dashboard import average, change, parse_period, period_ending_today


@pytest.mark.parametrize(
    ("value", "days"), [("7", 7), (30, 30), ("90", 90), ("14", 30), ("x", 30), (None, 30), ("", 30)]
)
def test_parse_period_accepts_only_the_offered_periods(value, days):
    assert parse_period(value) == days


def test_a_period_is_whole_utc_days_ending_today_and_the_previous_one_touches_it():
    period = period_ending_today(7, datetime(2027, 3, 30, 23, 59, tzinfo=UTC))
    assert (period.start, period.end) == (datetime(2027, 3, 24, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC))
    assert period.days == 7
    before = period.previous()
    assert (before.start, before.end) == (datetime(2027, 3, 17, tzinfo=UTC), period.start)


@pytest.mark.parametrize(
    ("current", "previous", "text", "trend"),
    [
        (3_600_000, 1_500_000, "+140.0%", "up"),
        (90, 100, "−10.0%", "down"),
        (1, 3, "−66.7%", "down"),
        (100, 100, "0%", "flat"),
        (100_001, 100_000, "0%", "flat"),  # below a tenth of a percent
        (5, 0, "new", "up"),
        (0, 0, "0%", "flat"),
        (0, 4, "−100.0%", "down"),
    ],
)
def test_change_against_the_previous_period(current, previous, text, trend):
    assert change(current, previous) == (text, trend)


def test_average_rounds_half_up_in_integers():
    assert average(3_600_000, 4) == 900_000
    assert average(10, 4) == 3  # 2.5 → 3
    assert average(9, 4) == 2  # 2.25 → 2
    assert average(0, 0) == 0
