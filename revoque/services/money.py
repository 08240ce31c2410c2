"""Money is an integer count of the currency's minor unit; this module only formats and parses it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from revoque.errors import ValidationError

MAX_MAJOR_DIGITS = 15  # ₦999 trillion: far above any price, far below where integer columns overflow


@dataclass(frozen=True)
class CurrencyInfo:
    code: str
    symbol: str
    exponent: int  # digits after the decimal point in the major unit


_CURRENCIES = {
    info.code: info
    for info in (
        CurrencyInfo("NGN", "₦", 2),
        CurrencyInfo("USD", "$", 2),
        CurrencyInfo("EUR", "€", 2),
        CurrencyInfo("GBP", "£", 2),
        CurrencyInfo("GHS", "GH₵", 2),
        CurrencyInfo("KES", "KSh", 2),
        CurrencyInfo("ZAR", "R", 2),
        CurrencyInfo("JPY", "¥", 0),
    )
}


def known_currencies() -> tuple[CurrencyInfo, ...]:
    """The currencies this module has a symbol for; any other code is only shown as a prefix."""
    return tuple(_CURRENCIES.values())


def currency_info(code: str) -> CurrencyInfo:
    """Known currencies get their symbol; any other ISO code is shown as a prefix with 2 decimals."""
    code = code.upper()
    return _CURRENCIES.get(code, CurrencyInfo(code, code + " ", 2))


def format_money(minor: int, currency: str) -> str:
    """``1250050, "NGN"`` → ``₦12,500.50``; whole amounts drop the decimals (``₦12,500``), as shops do."""
    info = currency_info(currency)
    sign = "-" if minor < 0 else ""
    major, fraction = divmod(abs(minor), 10**info.exponent)
    text = f"{major:,}"
    if info.exponent and fraction:
        text += f".{fraction:0{info.exponent}d}"
    return f"{sign}{info.symbol}{text}"


def parse_money(text: str, currency: str) -> int:
    """Parse what staff type ("12,500.5", "₦12500") into minor units; refuse anything ambiguous."""
    info = currency_info(currency)
    cleaned = text.strip().replace(info.symbol.strip(), "").replace(",", "").replace(" ", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationError(f"{text!r} is not an amount of money") from exc
    if not amount.is_finite():  # Decimal reads "NaN" and "Infinity"
        raise ValidationError(f"{text!r} is not an amount of money")
    if amount.adjusted() >= MAX_MAJOR_DIGITS:  # also keeps the arithmetic below within Decimal's precision
        raise ValidationError(f"{text!r} is too large an amount")
    if amount.as_tuple().exponent < -info.exponent:
        raise ValidationError(f"{text!r} has more than {info.exponent} decimal places for {info.code}")
    if amount < 0:
        raise ValidationError("Amounts cannot be negative")
    return int((amount * 10**info.exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def discount_percent(price: int, compare_at_price: int | None) -> int:
    """Whole-percent saving shown on sale badges; 0 when there is no real saving."""
    if not compare_at_price or compare_at_price <= price:
        return 0
    return (compare_at_price - price) * 100 // compare_at_price
