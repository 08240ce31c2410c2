"""Totals, VAT and percent discounts: integer arithmetic, rounded half-up once per order."""

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from revoque.errors import ValidationError
from revoque.models import Coupon, CouponKind
from revoque.services.pricing import (
    Totals,
    compute_totals,
    coupon_discount,
    describe_coupon,
    format_day,
    format_percent_bp,
    round_half_up,
)


def decimal_half_up(numerator: int, denominator: int) -> int:
    """An independent reference for the rounding rule."""
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 7, 0), (4, 10, 0), (5, 10, 1), (15, 10, 2), (25, 10, 3), (6, 10, 1), (1, 3, 0), (2, 3, 1), (10, 10, 1)],
)
def test_round_half_up(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


def test_exclusive_tax_is_added_on_top_of_the_discounted_subtotal_and_shipping_is_untaxed():
    totals = compute_totals(1_200_000, 200_000, 250_000, 750, prices_include_tax=False)
    assert totals == Totals(
        subtotal=1_200_000,
        discount=200_000,
        tax=75_000,
        shipping=250_000,
        total=1_000_000 + 75_000 + 250_000,
        tax_rate_bp=750,
        prices_include_tax=False,
    )


def test_inclusive_tax_is_the_vat_inside_the_prices_and_does_not_change_the_total():
    totals = compute_totals(1_075_000, 0, 250_000, 750, prices_include_tax=True)
    assert totals.tax == 75_000  # 1_075_000 × 750 / 10_750
    assert totals.total == 1_075_000 + 250_000


@pytest.mark.parametrize(
    ("taxable", "rate", "include", "tax"),
    [
        (20, 750, False, 2),  # 1.5 exactly → 2
        (14, 2500, False, 4),  # 3.5 exactly → 4
        (10, 2500, False, 3),  # 2.5 exactly → 3 (half-even would give 2)
        (6, 750, False, 0),  # 0.45 → 0
        (7, 750, False, 1),  # 0.525 → 1
        (1, 10000, True, 1),  # 0.5 exactly → 1
        (5, 10000, True, 3),  # 2.5 exactly → 3 (half-even would give 2)
        (3, 2500, True, 1),  # 0.6 → 1
        (2, 2500, True, 0),  # 0.4 → 0
    ],
)
def test_tax_rounds_half_up_to_the_minor_unit(taxable, rate, include, tax):
    assert compute_totals(taxable, 0, 0, rate, include).tax == tax


@pytest.mark.parametrize("include", [False, True])
@pytest.mark.parametrize("rate", [1, 500, 750, 1234, 2500, 10000])
def test_tax_matches_a_decimal_half_up_reference(rate, include):
    denominator = 10_000 + rate if include else 10_000
    for taxable in range(0, 3000):
        assert compute_totals(taxable, 0, 0, rate, include).tax == decimal_half_up(taxable * rate, denominator)


def test_tax_is_rounded_once_on_the_order_not_per_line():
    # Two lines of 20 would each round 1.5 up to 2 (4 in all); the order's 40 is taxed exactly 3.
    assert compute_totals(20, 0, 0, 750, False).tax == 2
    assert compute_totals(40, 0, 0, 750, False).tax == 3


def test_discount_is_capped_at_the_subtotal_and_nothing_goes_negative():
    for include in (False, True):
        totals = compute_totals(150_000, 900_000, 250_000, 750, include)
        assert (totals.discount, totals.tax, totals.total) == (150_000, 0, 250_000)


def test_zero_rate_means_no_tax_and_no_label():
    for include in (False, True):
        totals = compute_totals(999_999, 1, 100, 0, include)
        assert (totals.tax, totals.total) == (0, 999_998 + 100)
        assert totals.tax_label("NGN") == ""


def test_big_amounts_stay_exact():
    subtotal = 123_456_789_012_345_678_901
    exclusive = compute_totals(subtotal, 0, 0, 750, False)
    assert exclusive.tax == decimal_half_up(subtotal * 750, 10_000)
    assert exclusive.total == subtotal + exclusive.tax
    inclusive = compute_totals(subtotal, 0, 0, 750, True)
    assert inclusive.tax == decimal_half_up(subtotal * 750, 10_750)
    assert compute_totals(10**18, 0, 0, 750, False).tax == 75 * 10**15


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((-1, 0, 0, 750), "The subtotal cannot be negative."),
        ((100, -1, 0, 750), "The discount cannot be negative."),
        ((100, 0, -1, 750), "The shipping cannot be negative."),
        ((100, 0, 0, -1), "The tax rate must be between 0% and 100%."),
        ((100, 0, 0, 10001), "The tax rate must be between 0% and 100%."),
    ],
)
def test_bad_inputs_are_refused(arguments, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        compute_totals(*arguments, prices_include_tax=False)


def test_tax_label_describes_how_vat_is_shown():
    assert compute_totals(1_075_000, 0, 0, 750, True).tax_label("NGN") == "Includes ₦750 VAT"
    assert compute_totals(1_000_000, 0, 0, 750, False).tax_label("NGN") == "VAT (7.5%)"


@pytest.mark.parametrize(
    ("basis_points", "text"), [(1000, "10%"), (750, "7.5%"), (1234, "12.34%"), (5, "0.05%"), (0, "0%"), (10000, "100%")]
)
def test_format_percent_bp(basis_points, text):
    assert format_percent_bp(basis_points) == text


@pytest.mark.parametrize(
    ("value", "subtotal", "discount"),
    [
        (1000, 15, 2),  # 1.5 → 2
        (1000, 14, 1),  # 1.4 → 1
        (1250, 4, 1),  # 0.5 → 1
        (1000, 1_234_567, 123_457),  # 123_456.7 → 123_457
        (10000, 5_000, 5_000),
        (15000, 5_000, 5_000),  # more than 100 % is capped at the subtotal
        (1, 0, 0),
    ],
)
def test_percent_discount_rounds_half_up(value, subtotal, discount):
    assert coupon_discount(Coupon(code="X", kind=CouponKind.PERCENT, value=value), subtotal) == discount


@pytest.mark.parametrize(
    ("value", "subtotal", "discount"), [(500_000, 3_000_000, 500_000), (500_000, 300_000, 300_000)]
)
def test_fixed_discount_never_exceeds_the_subtotal(value, subtotal, discount):
    assert coupon_discount(Coupon(code="X", kind=CouponKind.FIXED, value=value), subtotal) == discount


def test_coupon_descriptions():
    assert describe_coupon(Coupon(code="X", kind=CouponKind.PERCENT, value=1250), "NGN") == "12.5% off"
    assert describe_coupon(Coupon(code="X", kind=CouponKind.FIXED, value=500_000), "NGN") == "₦5,000 off"


def test_format_day_adds_the_year_only_when_it_is_not_this_year():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert format_day(datetime(2026, 3, 3, 9, 30), now) == "3 March"
    assert format_day(datetime(2027, 3, 3, tzinfo=UTC), now) == "3 March 2027"
