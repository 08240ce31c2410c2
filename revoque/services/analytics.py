"""The shopping funnel's events: product views, adds to cart, checkout starts and orders placed.

Each event is one small insert. Recording one must never get in the way of the shopper: inside a
caller's transaction (add to cart, checkout, placing an order) the insert runs in a savepoint, so a
failure is logged and rolled back on its own while the shopper's change commits; product views are
written in their own short transaction by ``record_event_now``, which logs and swallows any error.
Events recorded inside a shopper's transaction commit or roll back with it, so an add to cart that
was refused (out of stock) is not counted.

The dashboard counts people, not clicks, at each step, by ``visitor``: a signed-in customer is
``user:<id>`` on every device; a guest is the hash of their browser's cart token, which is also
their guest cart's ``token_hash``, so a guest's view, add to cart, checkout and order line up.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from revoque.db import session_scope
from revoque.models import Cart, StoreEvent, StoreEventKind

log = logging.getLogger(__name__)

VISITOR_MAX_LENGTH = 64


def visitor_key(user_id: int | None, cart_token_hash: str = "") -> str:
    """Who an event belongs to for the funnel: the customer's account, else the guest's browser."""
    if user_id:
        return f"user:{user_id}"
    return cart_token_hash[:VISITOR_MAX_LENGTH]


def cart_visitor(cart: Cart) -> str:
    return visitor_key(cart.user_id, cart.token_hash)


def _event(kind: StoreEventKind | str, product_id: int | None, user_id: int | None, visitor: str) -> StoreEvent:
    return StoreEvent(
        kind=StoreEventKind(kind).value,
        product_id=product_id,
        user_id=user_id,
        visitor=visitor[:VISITOR_MAX_LENGTH],
    )


def record_event(
    session: Session,
    kind: StoreEventKind | str,
    *,
    product_id: int | None = None,
    user_id: int | None = None,
    visitor: str = "",
) -> bool:
    """Add an event to the caller's transaction; returns whether it was recorded. A database error
    is rolled back to a savepoint and logged, never raised: the shopper's own change goes on."""
    try:
        with session.begin_nested():
            session.add(_event(kind, product_id, user_id, visitor))
    except SQLAlchemyError:
        log.warning("could not record the %s event; carrying on without it", kind, exc_info=True)
        return False
    return True


def record_event_now(
    kind: StoreEventKind | str, *, product_id: int | None = None, user_id: int | None = None, visitor: str = ""
) -> bool:
    """Record an event in its own short transaction (a product view, which changes nothing else).
    Any failure, even the database being down, is logged and swallowed."""
    try:
        with session_scope(write=True) as session:  # SQLite: queue for the write lock, don't fail
            session.add(_event(kind, product_id, user_id, visitor))
    except Exception:
        log.warning("could not record the %s event; carrying on without it", kind, exc_info=True)
        return False
    return True
