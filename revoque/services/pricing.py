"""Order totals (discount, VAT, shipping), coupons, and the store-wide tax settings.

Rounding rule
-------------
All amounts are integers in the currency's minor unit (kobo) and every rate is an integer in basis
points (750 = 7.5 %), so no float ever touches money. A fractional minor unit appears only where a
rate is applied, and there it is rounded **half-up to the nearest minor unit** (an exact .5 goes
up; amounts are never negative, so "up" means "away from zero") using integer arithmetic only:
``round_half_up(n, d) = (2·n + d) // (2·d)``. The rate is applied **once, to the order's total
taxable amount** (subtotal − discount), never per line, so the tax on an order does not depend on
how its lines are split:

- prices exclude tax: ``tax = round_half_up(taxable × rate, 10000)``; total = taxable + tax + shipping;
- prices include tax: ``tax = round_half_up(taxable × rate, 10000 + rate)`` is the VAT already
  inside the prices; total = taxable + shipping (shown as "Includes ₦X VAT").

Shipping is not taxed. A percent coupon's discount is ``round_half_up(subtotal × value, 10000)``;
every discount is capped at the subtotal, so nothing is ever negative.

Coupons and concurrency
-----------------------
``evaluate_coupon`` answers "may this shopper use this code on this subtotal, and what is it worth?".
Usage limits count ``CouponRedemption`` rows, so the check and the insert must not interleave with
another order using the same code. The order-placing transaction therefore calls, in this order:
``lock_coupon`` (SELECT … FOR UPDATE on the coupon row on PostgreSQL; on SQLite that transaction is
an immediate one that already holds the database write lock), ``evaluate_coupon`` again under the
lock, then ``redeem_coupon`` — all before it commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from revoque.errors import NotFound, RevoqueError, ValidationError
from revoque.models import Coupon, CouponCustomer, CouponKind, CouponRedemption, StoreConfig
from revoque.models.base import utcnow
from revoque.services.money import format_money

BASIS_POINTS = 10_000
STORE_CONFIG_ID = 1


class CouponError(RevoqueError):
    """A coupon code cannot be used; the message tells the shopper exactly why."""


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up, in integers (both arguments non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def format_percent_bp(basis_points: int) -> str:
    """``750`` → ``7.5%``, ``1000`` → ``10%``: a rate as staff and shoppers write it."""
    whole, fraction = divmod(basis_points, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class Totals:
    """An order's money, all in minor units; ``tax`` is included in ``total`` either way."""

    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    tax_rate_bp: int
    prices_include_tax: bool

    def tax_label(self, currency: str) -> str:
        """What the summary says about VAT: a row label when it is added on top ("VAT (7.5%)"), a
        note when it is already inside the prices ("Includes ₦750 VAT"); empty when there is none."""
        if not self.tax_rate_bp:
            return ""
        if self.prices_include_tax:
            return f"Includes {format_money(self.tax, currency)} VAT"
        return f"VAT ({format_percent_bp(self.tax_rate_bp)})"


def compute_totals(subtotal: int, discount: int, shipping: int, tax_rate_bp: int, prices_include_tax: bool) -> Totals:
    """Totals for an order, following the rounding rule in this module's docstring."""
    _require_non_negative(subtotal=subtotal, discount=discount, shipping=shipping)
    if not 0 <= tax_rate_bp <= BASIS_POINTS:
        raise ValidationError("The tax rate must be between 0% and 100%.")
    discount = min(discount, subtotal)
    taxable = subtotal - discount
    if prices_include_tax:
        tax = round_half_up(taxable * tax_rate_bp, BASIS_POINTS + tax_rate_bp)
        total = taxable + shipping
    else:
        tax = round_half_up(taxable * tax_rate_bp, BASIS_POINTS)
        total = taxable + tax + shipping
    return Totals(subtotal, discount, tax, shipping, total, tax_rate_bp, prices_include_tax)


def _require_non_negative(**amounts: int) -> None:
    for name, amount in amounts.items():
        if amount < 0:
            raise ValidationError(f"The {name} cannot be negative.")


# --- coupons ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedCoupon:
    coupon_id: int
    code: str
    discount: int
    description: str  # "10% off", "₦5,000 off"


def normalise_code(code: str) -> str:
    """Codes are stored upper-cased; shoppers type them any way, with stray spaces."""
    return code.strip().upper()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def evaluate_coupon(
    session: Session, code: str, subtotal: int, email: str, currency: str, now: datetime | None = None
) -> AppliedCoupon:
    """The discount ``code`` gives on ``subtotal`` for ``email``, or CouponError saying why not
    (amounts in the messages are in ``currency``, the cart's).

    Checks run in a fixed order so the shopper hears the most basic problem first. With no email
    yet (a guest before checkout), the per-customer limit is checked later, when the order is placed
    with the email; a code restricted to listed customers needs the email up front."""
    normalised = normalise_code(code)
    if not normalised:
        raise CouponError("Enter a coupon code.")
    coupon = session.exec(select(Coupon).where(Coupon.code == normalised)).first()
    if coupon is None:
        raise CouponError(f"We don't recognise the code “{normalised}”.")
    _check_dates_and_status(coupon, now or utcnow())
    if subtotal < coupon.min_subtotal:
        raise CouponError(f"This code needs a subtotal of {format_money(coupon.min_subtotal, currency)}.")
    _check_usage(session, coupon, normalise_email(email))
    discount = coupon_discount(coupon, subtotal)
    return AppliedCoupon(coupon.id, coupon.code, discount, describe_coupon(coupon, currency))


def _check_dates_and_status(coupon: Coupon, now: datetime) -> None:
    now = as_utc(now)
    if not coupon.active:
        raise CouponError("This code is no longer active.")
    if coupon.starts_at is not None and as_utc(coupon.starts_at) > now:
        raise CouponError(f"This code starts on {format_day(coupon.starts_at, now)}.")
    if coupon.ends_at is not None and as_utc(coupon.ends_at) <= now:
        raise CouponError(f"This code expired on {format_day(coupon.ends_at, now)}.")


def _check_usage(session: Session, coupon: Coupon, email: str) -> None:
    if coupon.usage_limit is not None and _redemptions(session, coupon.id) >= coupon.usage_limit:
        raise CouponError("This code has reached its usage limit.")
    if email and coupon.per_customer_limit is not None:
        limit = coupon.per_customer_limit
        if _redemptions(session, coupon.id, email) >= limit:
            times = "" if limit == 1 else f" {limit} times, the most allowed per customer"
            raise CouponError(f"You've already used this code{times}.")
    allowed = session.exec(select(CouponCustomer.email).where(CouponCustomer.coupon_id == coupon.id)).all()
    if allowed and email not in {normalise_email(e) for e in allowed}:
        if not email:
            raise CouponError("Sign in or enter your email to use this code.")
        raise CouponError("This code isn't available for your account.")


def _redemptions(session: Session, coupon_id: int, email: str = "") -> int:
    """Orders that used the coupon (by this email, case-insensitively, when one is given)."""
    statement = select(func.count()).select_from(CouponRedemption).where(CouponRedemption.coupon_id == coupon_id)
    if email:
        statement = statement.where(func.lower(CouponRedemption.email) == email)
    return session.exec(statement).one()


def coupon_discount(coupon: Coupon, subtotal: int) -> int:
    """Percent coupons take ``value`` basis points of the subtotal (rounded half-up); fixed ones
    take ``value`` minor units. Never more than the subtotal."""
    if coupon.kind == CouponKind.PERCENT:
        return min(round_half_up(subtotal * coupon.value, BASIS_POINTS), subtotal)
    return min(coupon.value, subtotal)


def describe_coupon(coupon: Coupon, currency: str) -> str:
    if coupon.kind == CouponKind.PERCENT:
        return f"{format_percent_bp(coupon.value)} off"
    return f"{format_money(coupon.value, currency)} off"


def lock_coupon(session: Session, coupon_id: int) -> Coupon:
    """Row-lock the coupon for the rest of the transaction and return it fresh from the database, so
    concurrent orders using it take turns at the usage-limit check (see the module docstring)."""
    coupon = session.exec(
        select(Coupon).where(Coupon.id == coupon_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if coupon is None:
        raise NotFound("That coupon no longer exists.")
    return coupon


def redeem_coupon(session: Session, coupon_id: int, order_id: int, email: str) -> CouponRedemption:
    """Record that ``order_id`` used the coupon; one redemption per order (a unique constraint)."""
    redemption = CouponRedemption(coupon_id=coupon_id, order_id=order_id, email=normalise_email(email))
    session.add(redemption)
    session.flush()
    return redemption


def as_utc(moment: datetime) -> datetime:
    """Stored timestamps are UTC; SQLite hands them back without a zone, so attach it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_day(moment: datetime, now: datetime) -> str:
    """``3 March`` in the current year, ``3 March 2027`` otherwise (dates are UTC calendar days)."""
    moment = as_utc(moment)
    day = f"{moment.day} {moment:%B}"
    return day if moment.year == as_utc(now).year else f"{day} {moment.year}"


# --- store configuration ---------------------------------------------------------------------------


def get_store_config(session: Session) -> StoreConfig:
    """The single settings row (id 1), created with the model's defaults the first time.

    Two first requests may both find no row; the loser's insert fails on the primary key inside a
    savepoint, which leaves the caller's transaction intact, and it reads the winner's row."""
    config = session.get(StoreConfig, STORE_CONFIG_ID)
    if config is not None:
        return config
    try:
        with session.begin_nested():
            config = StoreConfig(id=STORE_CONFIG_ID)
            session.add(config)
        return config
    except IntegrityError:
        return session.exec(
            select(StoreConfig).where(col(StoreConfig.id) == STORE_CONFIG_ID).execution_options(populate_existing=True)
        ).one()


def lock_store_config(session: Session, *, shared: bool = False) -> StoreConfig:
    """The settings row, fresh from the database and locked until the transaction ends: exclusively
    (FOR UPDATE) to change it, or ``shared`` (FOR KEY SHARE) to act on it as it stands. A shared
    lock waits for a change in progress and holds off the next one, and never waits for another
    shared lock. SQLite ignores both: its write transactions already run one at a time."""
    get_store_config(session)  # make sure the row exists
    return session.exec(
        select(StoreConfig)
        .where(col(StoreConfig.id) == STORE_CONFIG_ID)
        .with_for_update(read=shared, key_share=shared)
        .execution_options(populate_existing=True)
    ).one()
