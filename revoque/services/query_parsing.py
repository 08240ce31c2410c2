"""Price limits written into a shopper's words: "jacket under 30000", "between 10 and 30 thousand",
"sofa below ₦200k", "over $50".

Search and the assistant turn them into price filters and search for what is left ("jacket"), so a
budget is honoured exactly instead of hoping the words "under 30000" match something. Amounts are in
the store currency's major unit as shoppers write them; the result is in minor units like every
price here. A number that is not clearly a price ("size 10", "iphone 15") is left alone: only a
limit word ("under", "between", …) or a currency mark makes a number a price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from revoque.services.money import currency_info, format_money

_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
_AMOUNT = (
    r"(?:₦|\$|€|£|¥|gh₵|ksh|ngn|usd|eur|gbp|jpy|ghs|kes|zar|n(?=\d))?\s?"
    r"(?P<{name}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"\s?(?P<{name}_unit>k|thousand|m|million)?\b(?:\s?(?:naira|ngn|dollars?|euros?|pounds?))?"
)
_GLUE = r"(?:\b(?:priced|costing|costs?|that|which|is|are|for|at|a|price|budget|of|with|and|something)\s+)*"
_BETWEEN = re.compile(
    rf"{_GLUE}\b(?:between|from)\s+{_AMOUNT.format(name='low')}\s*(?:and|to|-|–)\s*{_AMOUNT.format(name='high')}",
    re.IGNORECASE,
)
_MAXIMUM = re.compile(
    rf"{_GLUE}(?:\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|at most|not more than|within)\s*|<=?\s*)"
    rf"{_AMOUNT.format(name='amount')}",
    re.IGNORECASE,
)
_MINIMUM = re.compile(
    rf"{_GLUE}(?:\b(?:over|above|more than|at least|min(?:imum)?|starting at|from)\s*|>=?\s*)"
    rf"{_AMOUNT.format(name='amount')}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PriceLimits:
    text: str  # the query with the price words taken out
    minimum: int | None = None  # inclusive, minor units
    maximum: int | None = None

    @property
    def found(self) -> bool:
        return self.minimum is not None or self.maximum is not None


def parse_price_limits(text: str, currency: str) -> PriceLimits:
    """The first price range, upper limit and lower limit written in ``text`` (each at most once).
    A range written backwards ("between 30k and 10k") is put the right way round."""
    exponent = currency_info(currency).exponent
    minimum = maximum = None
    found = _BETWEEN.search(text)
    if found:
        low, high = _range_amounts(found, exponent)
        minimum, maximum = min(low, high), max(low, high)
        text = _cut(text, found)
    else:
        if found := _MAXIMUM.search(text):
            maximum = _amount(found, "amount", exponent)
            text = _cut(text, found)
        if found := _MINIMUM.search(text):
            minimum = _amount(found, "amount", exponent)
            text = _cut(text, found)
    return PriceLimits(" ".join(text.split()), minimum, maximum)


def describe_limits(minimum: int | None, maximum: int | None, currency: str) -> str:
    """How a page names the limits it applied: "Under ₦30,000", "₦10,000 – ₦30,000", "Over ₦5,000"."""
    if minimum is not None and maximum is not None:
        return f"{format_money(minimum, currency)} – {format_money(maximum, currency)}"
    if maximum is not None:
        return f"Under {format_money(maximum, currency)}"
    if minimum is not None:
        return f"Over {format_money(minimum, currency)}"
    return ""


def _range_amounts(found: re.Match[str], exponent: int) -> tuple[int, int]:
    """Both ends of a range; a unit written only after the second ("10 and 30 thousand") covers both
    when the first would otherwise be absurdly small next to it."""
    high = _amount(found, "high", exponent)
    low_unit, high_unit = found.group("low_unit"), found.group("high_unit")
    shared = high_unit if _number(found, "low") < _number(found, "high") else None
    return _amount(found, "low", exponent, unit=low_unit or shared), high


def _number(found: re.Match[str], name: str) -> Decimal:
    try:
        return Decimal(found.group(name).replace(",", ""))
    except InvalidOperation:  # the pattern only lets digits through; kept for safety's sake
        return Decimal(0)


def _amount(found: re.Match[str], name: str, exponent: int, unit: str | None = None) -> int:
    unit = (unit if unit is not None else found.group(f"{name}_unit") or "").lower()
    major = _number(found, name) * _MULTIPLIERS.get(unit, 1)
    return int(major * 10**exponent)


def _cut(text: str, found: re.Match[str]) -> str:
    return f"{text[: found.start()]} {text[found.end() :]}"
