"""Price limits read out of a shopper's words, in minor units, with the words left to search."""

from __future__ import annotations

import pytest

from revoque.services.query_parsing import PriceLimits, describe_limits, parse_price_limits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("something warm for winter under 30000", PriceLimits("something warm for winter", None, 3_000_000)),
        ("jacket for under ₦30,000", PriceLimits("jacket", None, 3_000_000)),
        ("cheap sofa below ₦200k", PriceLimits("cheap sofa", None, 20_000_000)),
        ("headphones between 10 and 40 thousand", PriceLimits("headphones", 1_000_000, 4_000_000)),
        ("bags from 5k to 12k", PriceLimits("bags", 500_000, 1_200_000)),
        ("watch between 5000 and 20k", PriceLimits("watch", 500_000, 2_000_000)),
        ("lamp between 30k and 10k", PriceLimits("lamp", 1_000_000, 3_000_000)),  # written backwards
        ("shoes over 5000 and under 20k", PriceLimits("shoes", 500_000, 2_000_000)),
        ("laptop at least 1.5m", PriceLimits("laptop", 150_000_000, None)),
        ("perfume < 12500 naira", PriceLimits("perfume", None, 1_250_000)),
        ("dress that costs less than N15000", PriceLimits("dress", None, 1_500_000)),
    ],
)
def test_price_limits_become_filters_and_leave_the_words(text: str, expected: PriceLimits) -> None:
    assert parse_price_limits(text, "NGN") == expected


@pytest.mark.parametrize("text", ["iphone 15 pro", "size 10 shoes", "under armour shirt", "2 seater sofa", "30000"])
def test_numbers_that_are_not_prices_stay_search_words(text: str) -> None:
    parsed = parse_price_limits(text, "NGN")
    assert parsed == PriceLimits(text) and not parsed.found


def test_a_currency_without_minor_units_is_not_multiplied() -> None:
    assert parse_price_limits("camera under ¥50000", "JPY") == PriceLimits("camera", None, 50_000)


@pytest.mark.parametrize(
    ("low", "high", "label"),
    [
        (None, 3_000_000, "Under ₦30,000"),
        (500_000, None, "Over ₦5,000"),
        (1_000_000, 3_000_000, "₦10,000 – ₦30,000"),
        (None, None, ""),
    ],
)
def test_limits_are_described_in_the_store_currency(low, high, label) -> None:
    assert describe_limits(low, high, "NGN") == label
