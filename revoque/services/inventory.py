"""Stock: what is available to a cart, reservations during checkout, and locking for allocation.

Available to a cart = on hand − active reservations held by *other* carts. Reservations expire on
their own (every query ignores expired rows), so releasing them in a periodic job is clean-up, not a
correctness requirement. Rows are locked in variant-id order everywhere, so two transactions that
lock overlapping variants can never deadlock each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from revoque.models import CartLine, Reservation, Variant
from revoque.models.base import utcnow
from revoque.settings import get_settings

UNLIMITED = 10**9


def lock_variants(session: Session, variant_ids: Iterable[int]) -> dict[int, Variant]:
    """Row-lock the variants (SELECT … FOR UPDATE, ascending id; on SQLite the immediate
    transaction already holds the database write lock) and return them fresh from the database."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Variant)
        .where(col(Variant.id).in_(ids))
        .order_by(Variant.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def move_stock(session: Session, variant: Variant, units: int) -> bool:
    """Add ``units`` (negative: sold) to a variant's stock on hand. Returns whether the variant
    crossed between sold out and in stock: the only stock change a listing shows (its cards'
    in-stock flag), so callers drop the cached listings only then (``search.schedule_stock_index``)."""
    before = variant.stock_on_hand
    variant.stock_on_hand = before + units
    session.add(variant)
    return (before > 0) != (variant.stock_on_hand > 0)


def reserved_by_others(
    session: Session, variant_ids: Iterable[int], cart_id: int | None, now: datetime | None = None
) -> dict[int, int]:
    """Quantities held by active reservations of carts other than ``cart_id``."""
    ids = list(set(variant_ids))
    if not ids:
        return {}
    statement = (
        select(Reservation.variant_id, func.sum(Reservation.quantity))
        .where(col(Reservation.variant_id).in_(ids), Reservation.expires_at > (now or utcnow()))
        .group_by(Reservation.variant_id)
    )
    if cart_id is not None:
        statement = statement.where(Reservation.cart_id != cart_id)
    return {variant_id: int(total) for variant_id, total in session.exec(statement)}


def available_for(variant: Variant, held_by_others: int) -> int:
    if not variant.track_inventory:
        return UNLIMITED
    return max(0, variant.stock_on_hand - held_by_others)


def availability(
    session: Session, variants: Iterable[Variant], cart_id: int | None, now: datetime | None = None
) -> dict[int, int]:
    variants = list(variants)
    held = reserved_by_others(session, [v.id for v in variants], cart_id, now)
    return {v.id: available_for(v, held.get(v.id, 0)) for v in variants}


def reserve_cart(session: Session, cart_id: int, now: datetime | None = None) -> dict[int, int]:
    """Hold every line of the cart until now + RESERVATION_MINUTES.

    Each line holds what it asks for, or what is left when others hold the rest; the return value
    maps variant id → quantity that could NOT be held, so checkout can tell the shopper exactly what
    to change. Call inside ``session_scope(write=True)``."""
    now = now or utcnow()
    expires = now + timedelta(minutes=get_settings().reservation_minutes)
    lines = session.exec(select(CartLine).where(CartLine.cart_id == cart_id)).all()
    variants = lock_variants(session, [line.variant_id for line in lines])
    available = availability(session, variants.values(), cart_id, now)
    existing = {r.variant_id: r for r in session.exec(select(Reservation).where(Reservation.cart_id == cart_id))}
    short: dict[int, int] = {}
    for line in lines:
        held = min(line.quantity, available.get(line.variant_id, 0))
        if held < line.quantity:
            short[line.variant_id] = line.quantity - held
        _hold(session, existing.pop(line.variant_id, None), cart_id, line.variant_id, held, expires)
    for stale in existing.values():
        session.delete(stale)
    return short


def _hold(
    session: Session, reservation: Reservation | None, cart_id: int, variant_id: int, quantity: int, expires: datetime
) -> None:
    if quantity <= 0:
        if reservation is not None:
            session.delete(reservation)
        return
    if reservation is None:
        reservation = Reservation(cart_id=cart_id, variant_id=variant_id, quantity=quantity, expires_at=expires)
    reservation.quantity, reservation.expires_at = quantity, expires
    session.add(reservation)


def reservation_expiry(session: Session, cart_id: int, now: datetime | None = None) -> datetime | None:
    """When the cart's hold runs out (None when it holds nothing)."""
    return session.exec(
        select(func.min(Reservation.expires_at)).where(
            Reservation.cart_id == cart_id, Reservation.expires_at > (now or utcnow())
        )
    ).one()


def release_cart(session: Session, cart_id: int) -> None:
    session.execute(delete(Reservation).where(Reservation.cart_id == cart_id))


def release_expired(session: Session, now: datetime | None = None) -> int:
    """Delete reservations whose time is up; returns how many went."""
    result = session.execute(delete(Reservation).where(Reservation.expires_at <= (now or utcnow())))
    return result.rowcount or 0
