"""Reading what staff type into admin forms: every field is checked and every problem is reported at
once, keyed by field name, so a form can show each message beside its field instead of making staff
fix one mistake per submit.

Forms arrive as the browser sent them (``{"name": "value"}``; a ticked checkbox or switch is
``"on"``, an unticked one is missing). Helpers here turn one raw value into a typed one or record
a problem in a ``Problems`` collector; ``Problems.raise_if_any`` ends with ``FormInvalid`` whose
``str()`` is the first message (for a toast) and ``problems`` the full field → message map.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from revoque.errors import ValidationError
from revoque.services.money import currency_info, format_money, parse_money

EMAIL_PATTERN = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
TRUE_VALUES = {"on", "true", "1", "yes"}
BASIS_POINTS_PER_PERCENT = 100


class FormInvalid(ValidationError):
    """One or more fields are wrong; ``problems`` maps each field name to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(next(iter(problems.values()), "Check the form."))
        self.problems = dict(problems)


class Problems:
    """Collects field → message while a form is read (the first problem per field is kept)."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.found.setdefault(field, message)

    def __contains__(self, field: str) -> bool:
        return field in self.found

    def raise_if_any(self) -> None:
        if self.found:
            raise FormInvalid(self.found)


def text(form: dict, name: str) -> str:
    """The field's value as stripped text ("" when missing)."""
    value = form.get(name, "")
    return "" if value is None else str(value).strip()


def flag(form: dict, name: str) -> bool:
    """A checkbox or switch: present and "on" (or "true") means ticked."""
    value = form.get(name)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_VALUES


def required(problems: Problems, field: str, value: str, label: str, max_length: int) -> str:
    if not value:
        problems.add(field, f"{label} is required.")
    elif len(value) > max_length:
        problems.add(field, f"{label} can be at most {max_length} characters.")
    return value


def optional(problems: Problems, field: str, value: str, label: str, max_length: int) -> str:
    if len(value) > max_length:
        problems.add(field, f"{label} can be at most {max_length} characters.")
    return value


def whole_number(problems: Problems, field: str, value: str, label: str, minimum: int = 1) -> int | None:
    """Blank means "no limit" (None); anything else must be a whole number ≥ ``minimum``."""
    if not value:
        return None
    cleaned = value.replace(",", "")
    if not cleaned.isdigit():
        problems.add(field, f"{label} must be a whole number, like 100 (or leave it blank for no limit).")
        return None
    number = int(cleaned)
    if number < minimum:
        problems.add(field, f"{label} must be at least {minimum} (or leave it blank for no limit).")
        return None
    return number


def money(problems: Problems, field: str, value: str, label: str, currency: str, *, positive: bool = False) -> int:
    """An amount typed in the major unit ("12,500", "₦12500.50") as minor units; blank is 0."""
    if not value:
        if positive:
            problems.add(field, f"{label} is required.")
        return 0
    if value.lstrip().startswith("-"):
        problems.add(field, f"{label} can't be negative.")
        return 0
    try:
        amount = parse_money(value, currency)
    except ValidationError:
        info = currency_info(currency)
        decimals = f" with at most {info.exponent} decimal places" if info.exponent else " without decimals"
        problems.add(field, f"{label} must be an amount like {format_money(1_250_000, currency)}{decimals}.")
        return 0
    if positive and amount <= 0:
        problems.add(field, f"{label} must be more than {format_money(0, currency)}.")
    return amount


def percent_bp(problems: Problems, field: str, value: str, label: str, *, allow_zero: bool) -> int:
    """A percentage typed as "7.5" or "10%" in basis points (750, 1000); up to 2 decimals, ≤ 100."""
    cleaned = value.replace("%", "").strip()
    if not cleaned:
        problems.add(field, f"{label} is required.")
        return 0
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        problems.add(field, f"{label} must be a number of percent, like 7.5.")
        return 0
    lowest = "0" if allow_zero else "more than 0"
    if amount.as_tuple().exponent < -2:
        problems.add(field, f"{label} can have at most 2 decimal places, like 7.25.")
        return 0
    if amount < 0 or (amount == 0 and not allow_zero) or amount > 100:
        problems.add(field, f"{label} must be between {lowest} and 100%.")
        return 0
    return int(amount * BASIS_POINTS_PER_PERCENT)


def day(problems: Problems, field: str, value: str, label: str) -> date | None:
    """A date from a date input (YYYY-MM-DD); blank is None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.add(field, f"{label} must be a date, like 2027-03-31.")
        return None


def start_of_day(value: date) -> datetime:
    """00:00:00 UTC on ``value``: a "starts on" date counts from the first moment of that day."""
    return datetime.combine(value, time.min, tzinfo=UTC)


def end_of_day(value: date) -> datetime:
    """23:59:59 UTC on ``value``: an "ends on" date is the last day the thing is still valid."""
    return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)


def email(problems: Problems, field: str, value: str, label: str, *, optional_field: bool = True) -> str:
    """A lower-cased email address; blank is allowed when ``optional_field``."""
    value = value.strip().lower()
    if not value:
        if not optional_field:
            problems.add(field, f"{label} is required.")
        return ""
    if len(value) > 254 or not EMAIL_PATTERN.match(value):
        problems.add(field, f"{label} must be an email address, like hello@example.com.")
    return value


def email_list(problems: Problems, field: str, value: str, label: str, limit: int) -> list[str]:
    """Emails separated by commas, semicolons, spaces or new lines; lower-cased, each once, in order."""
    emails = list(dict.fromkeys(part.lower() for part in re.split(r"[\s,;]+", value) if part))
    bad = [item for item in emails if len(item) > 254 or not EMAIL_PATTERN.match(item)]
    if bad:
        shown = ", ".join(bad[:3]) + ("…" if len(bad) > 3 else "")
        verb = "is not an email address" if len(bad) == 1 else "are not email addresses"
        problems.add(field, f"{label}: {shown} {verb}.")
    elif len(emails) > limit:
        problems.add(field, f"{label} can list at most {limit} emails.")
    return emails


# --- stored values back into form fields ----------------------------------------------------------


def major_text(minor: int, currency: str) -> str:
    """Minor units as staff type them back into a form: 500000 → "5000", 1250050 → "12500.50"."""
    exponent = currency_info(currency).exponent
    whole, fraction = divmod(minor, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}" if exponent and fraction else str(whole)


def percent_text(basis_points: int) -> str:
    """1000 → "10", 1250 → "12.5": a percentage as staff type it."""
    whole, fraction = divmod(basis_points, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".")
