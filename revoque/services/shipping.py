"""Delivery methods the shopper chooses from at checkout, with prices already formatted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from revoque.errors import NotFound
from revoque.models import ShippingMethod
from revoque.services import store_identity
from revoque.services.money import format_money

DEFAULT_METHODS: tuple[dict, ...] = (
    {"name": "Standard delivery (Lagos)", "price": 250_000, "estimate": "1–2 business days"},
    {"name": "Standard delivery (rest of Nigeria)", "price": 450_000, "estimate": "3–5 business days"},
    {"name": "Express delivery (Lagos, same day)", "price": 600_000, "estimate": "Same day if ordered before 12:00"},
    {"name": "Pick up in store (Lekki)", "price": 0, "estimate": "Ready the next business day", "is_pickup": True},
)


@dataclass(frozen=True)
class ShippingOption:
    id: int
    name: str
    price: int
    price_text: str  # "₦2,500" or "Free"
    estimate: str
    is_pickup: bool


def list_active_methods(session: Session) -> list[ShippingOption]:
    """Active methods in the order staff arranged them."""
    currency = store_identity.currency(session)
    methods = session.exec(
        select(ShippingMethod).where(ShippingMethod.active).order_by(ShippingMethod.position, ShippingMethod.id)
    ).all()
    return [_option(method, currency) for method in methods]


def _option(method: ShippingMethod, currency: str) -> ShippingOption:
    price_text = format_money(method.price, currency) if method.price else "Free"
    return ShippingOption(method.id, method.name, method.price, price_text, method.estimate, method.is_pickup)


def get_active_method(session: Session, method_id: int | None) -> ShippingMethod:
    """The method the shopper picked; a missing or since-disabled one asks them to choose again."""
    method = session.get(ShippingMethod, method_id) if method_id is not None else None
    if method is None or not method.active:
        raise NotFound("Choose a delivery method.")
    return method


def ensure_default_methods(session: Session) -> None:
    """Give a new store the usual Nigerian delivery options; once any method exists (even one staff
    disabled) the table is left alone, so running it again never duplicates or resurrects rows."""
    if session.exec(select(func.count()).select_from(ShippingMethod)).one():
        return
    for position, fields in enumerate(DEFAULT_METHODS):
        session.add(ShippingMethod(**fields, position=position))
    session.flush()
