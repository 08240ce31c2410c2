"""The rate limiter's rules on in-process counters, with the clock passed in (no sleeping)."""

from __future__ import annotations

from contextlib import nullcontext

import pytest

from revoque.adapters import counters
from revoque.adapters.counters import MemoryCounters, get_counters
from revoque.services import rate_limit
from revoque.services.rate_limit import Limit, RateLimited
from tests.conftest import use_settings

FIVE_A_MINUTE = Limit("test", 5, 60, "Too many tries. Try again in {wait}.")
TWO_AN_HOUR = Limit("other", 2, 3600, "Slow down: {wait}.")
T0 = 1_800_000_000.0  # the start of a one-minute window (and of a one-hour window)


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch):
    use_settings(monkeypatch, redis_url="")
    get_counters.cache_clear()
    yield
    get_counters.cache_clear()


def test_the_limit_allows_its_attempts_then_refuses_saying_how_long_to_wait():
    for _ in range(5):
        rate_limit.check((FIVE_A_MINUTE, "10.0.0.1"), now=T0 + 10)
    with pytest.raises(RateLimited) as refused:
        rate_limit.check((FIVE_A_MINUTE, "10.0.0.1"), now=T0 + 15)
    assert str(refused.value) == "Too many tries. Try again in 45 seconds."
    assert refused.value.retry_after == 45


def test_a_new_window_starts_afresh_and_refusals_keep_counting_within_one():
    for attempt in range(7):
        with pytest.raises(RateLimited) if attempt >= 5 else nullcontext():
            rate_limit.check((FIVE_A_MINUTE, "10.0.0.1"), now=T0)
    assert rate_limit.blocked((FIVE_A_MINUTE, "10.0.0.1"), now=T0 + 59) is not None
    rate_limit.check((FIVE_A_MINUTE, "10.0.0.1"), now=T0 + 60)  # the next minute


def test_keys_and_limits_are_counted_apart_and_keys_ignore_case_and_spaces():
    for _ in range(5):
        rate_limit.check((FIVE_A_MINUTE, "Ada@Example.com "), now=T0)
    with pytest.raises(RateLimited):
        rate_limit.check((FIVE_A_MINUTE, "ada@example.com"), now=T0)
    rate_limit.check((FIVE_A_MINUTE, "bayo@example.com"), now=T0)
    rate_limit.check((TWO_AN_HOUR, "ada@example.com"), now=T0)


def test_any_pair_over_its_limit_refuses_with_its_own_message():
    rate_limit.check((TWO_AN_HOUR, "10.0.0.1"), now=T0)
    rate_limit.check((TWO_AN_HOUR, "10.0.0.1"), now=T0)
    with pytest.raises(RateLimited, match=r"^Slow down: 60 minutes\.$"):
        rate_limit.check((FIVE_A_MINUTE, "ada@example.com"), (TWO_AN_HOUR, "10.0.0.1"), now=T0)


def test_blocked_only_looks_and_record_only_counts():
    assert rate_limit.blocked((TWO_AN_HOUR, "k"), now=T0) is None
    assert rate_limit.record((TWO_AN_HOUR, "k"), (FIVE_A_MINUTE, "k"), now=T0) == [1, 1]
    assert rate_limit.blocked((TWO_AN_HOUR, "k"), now=T0) is None
    rate_limit.record((TWO_AN_HOUR, "k"), now=T0)
    refusal = rate_limit.blocked((FIVE_A_MINUTE, "k"), (TWO_AN_HOUR, "k"), now=T0 + 600)
    assert isinstance(refusal, RateLimited) and str(refusal) == "Slow down: 50 minutes."


def test_an_unknown_key_is_never_limited():
    for _ in range(20):
        rate_limit.check((TWO_AN_HOUR, ""), now=T0)
    assert rate_limit.record((TWO_AN_HOUR, ""), now=T0) == [0]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "1 second"), (1, "1 second"), (45, "45 seconds"), (60, "1 minute"), (61, "2 minutes"), (3600, "60 minutes")],
)
def test_wait_text(seconds, text):
    assert rate_limit.wait_text(seconds) == text


def test_no_key_is_stored_in_the_clear():
    rate_limit.record((FIVE_A_MINUTE, "ada@example.com"), now=T0)
    stored = list(get_counters()._counts)
    assert len(stored) == 1 and "ada" not in stored[0] and stored[0].startswith("test:")


def test_memory_counters_expire_and_stay_bounded(monkeypatch):
    memory = MemoryCounters(max_keys=3)
    assert [memory.hit("a", 60) for _ in range(3)] == [1, 2, 3]
    assert memory.count("a") == 3 and memory.count("missing") == 0
    for key in "bcd":
        memory.hit(key, 60)
    assert memory.count("a") == 0 and len(memory._counts) == 3  # the least recently used went first
    clock = [1000.0]
    monkeypatch.setattr(counters.time, "monotonic", lambda: clock[0])
    memory.hit("e", 10)
    clock[0] += 10
    assert memory.count("e") == 0 and memory.hit("e", 10) == 1


def test_the_embedded_mode_counts_in_memory():
    assert isinstance(get_counters(), MemoryCounters)
