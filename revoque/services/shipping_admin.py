"""Delivery methods as staff manage them: the list in checkout order, creating and editing a method
(name, price, delivery estimate, pick-up or not), switching it off or on, and moving it up or down
the list shoppers choose from (``revoque.services.shipping`` shows the active ones in this order).

Methods are switched off rather than deleted, because orders point at the method they used. The
store always keeps at least one method switched on: checkout cannot be completed without one. Every
change is written to the audit log in the same transaction. Run changes in
``session_scope(write=True)``: a reorder reads every position and rewrites them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque.errors import NotFound, ValidationError
from revoque.models import Order, ShippingMethod, User
from revoque.services import admin_forms, audit, positions, store_identity
from revoque.services.admin_forms import FormInvalid, Problems
from revoque.services.money import format_money

AUDITED_FIELDS = ["name", "price", "estimate", "is_pickup", "active"]
LAST_ACTIVE_MESSAGE = "Keep at least one delivery method switched on: shoppers need one to check out."


class ShippingError(ValidationError):
    """A change to the delivery methods that the store cannot accept; the message says why."""


@dataclass
class ShippingRow:
    id: int
    name: str
    price_text: str  # "₦2,500" or "Free"
    estimate: str
    is_pickup: bool
    active: bool
    orders: int  # orders placed with this method
    first: bool  # first in the list: cannot move up
    last: bool  # last in the list: cannot move down


@dataclass
class ShippingFormValues:
    id: int = 0  # 0 for a new method
    name: str = ""
    price: str = ""
    estimate: str = ""
    is_pickup: bool = False
    active: bool = True


@dataclass(frozen=True)
class ShippingInput:
    name: str
    price: int
    estimate: str
    is_pickup: bool
    active: bool


def _ordered(session: Session, lock: bool = False) -> list[ShippingMethod]:
    statement = select(ShippingMethod).order_by(ShippingMethod.position, ShippingMethod.id)
    if lock:
        statement = statement.with_for_update()
    return list(session.exec(statement))


def list_methods(session: Session) -> list[ShippingRow]:
    """Every method, switched off ones included, in the order shoppers see them."""
    methods = _ordered(session)
    counts = dict(
        session.exec(
            select(Order.shipping_method_id, func.count())
            .where(col(Order.shipping_method_id).in_([m.id for m in methods]))
            .group_by(Order.shipping_method_id)
        ).all()
    )
    currency, last = store_identity.currency(session), len(methods) - 1
    return [
        ShippingRow(
            id=method.id,
            name=method.name,
            price_text=format_money(method.price, currency) if method.price else "Free",
            estimate=method.estimate,
            is_pickup=method.is_pickup,
            active=method.active,
            orders=int(counts.get(method.id, 0)),
            first=index == 0,
            last=index == last,
        )
        for index, method in enumerate(methods)
    ]


def get_method(session: Session, method_id: int) -> ShippingMethod:
    method = session.get(ShippingMethod, method_id)
    if method is None:
        raise NotFound("There is no such delivery method. It may have been removed.")
    return method


def form_values(session: Session, method_id: int) -> ShippingFormValues:
    method = get_method(session, method_id)
    return ShippingFormValues(
        id=method.id,
        name=method.name,
        price=admin_forms.major_text(method.price, store_identity.currency(session)),
        estimate=method.estimate,
        is_pickup=method.is_pickup,
        active=method.active,
    )


def form_values_from(form: dict, method_id: int = 0) -> ShippingFormValues:
    """What staff typed, so a refused form comes back as they left it."""
    return ShippingFormValues(
        id=method_id,
        name=admin_forms.text(form, "name"),
        price=admin_forms.text(form, "price"),
        estimate=admin_forms.text(form, "estimate"),
        is_pickup=admin_forms.flag(form, "is_pickup"),
        active=admin_forms.flag(form, "active"),
    )


def parse_shipping_form(form: dict, currency: str) -> ShippingInput:
    """The form as a ``ShippingInput`` (the price in ``currency``, the store's), or ``FormInvalid``."""
    problems = Problems()
    name = admin_forms.required(problems, "name", admin_forms.text(form, "name"), "Name", 120)
    price_text = admin_forms.text(form, "price")
    if not price_text:
        problems.add("price", "Price is required: enter 0 for free delivery.")
    price = admin_forms.money(problems, "price", price_text, "Price", currency)
    estimate = admin_forms.optional(problems, "estimate", admin_forms.text(form, "estimate"), "Delivery time", 120)
    problems.raise_if_any()
    return ShippingInput(
        name=" ".join(name.split()),
        price=price,
        estimate=estimate,
        is_pickup=admin_forms.flag(form, "is_pickup"),
        active=admin_forms.flag(form, "active"),
    )


def _check_name_free(session: Session, name: str, method_id: int | None) -> None:
    statement = select(ShippingMethod.id).where(func.lower(ShippingMethod.name) == name.lower())
    if method_id is not None:
        statement = statement.where(ShippingMethod.id != method_id)
    if session.exec(statement).first() is not None:
        raise FormInvalid({"name": f"There is already a delivery method called “{name}”."})


def _others_active(session: Session, method_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(ShippingMethod).where(ShippingMethod.active, ShippingMethod.id != method_id)
    ).one()


def create_method(session: Session, actor: User, data: ShippingInput) -> ShippingMethod:
    """A new method, at the end of the list."""
    _ordered(session, lock=True)  # new positions are counted under the same lock as reorders
    _check_name_free(session, data.name, None)
    position = session.exec(select(func.max(ShippingMethod.position))).one()
    method = ShippingMethod(**_fields(data), position=0 if position is None else position + 1)
    session.add(method)
    session.flush()
    audit.record(session, actor, "shipping.create", method, None, audit.snapshot(method, AUDITED_FIELDS), method.name)
    return method


def update_method(session: Session, actor: User, method_id: int, data: ShippingInput) -> ShippingMethod:
    """Change a method; orders already placed keep the name and price they were charged."""
    methods = {m.id: m for m in _ordered(session, lock=True)}
    method = methods.get(method_id)
    if method is None:
        raise NotFound("There is no such delivery method. It may have been removed.")
    _check_name_free(session, data.name, method.id)
    if method.active and not data.active and not _others_active(session, method.id):
        raise FormInvalid({"active": LAST_ACTIVE_MESSAGE})
    before = audit.snapshot(method, AUDITED_FIELDS)
    for name, value in _fields(data).items():
        setattr(method, name, value)
    session.add(method)
    session.flush()
    audit.record(session, actor, "shipping.update", method, before, audit.snapshot(method, AUDITED_FIELDS), method.name)
    return method


def set_method_active(session: Session, actor: User, method_id: int, active: bool) -> ShippingMethod:
    """Switch a method off (checkout stops offering it) or on; the last active one stays on."""
    methods = {m.id: m for m in _ordered(session, lock=True)}
    method = methods.get(method_id)
    if method is None:
        raise NotFound("There is no such delivery method. It may have been removed.")
    if method.active and not active and not _others_active(session, method.id):
        raise ShippingError(LAST_ACTIVE_MESSAGE)
    before = audit.snapshot(method, ["active"])
    method.active = active
    session.add(method)
    session.flush()
    action = "shipping.activate" if active else "shipping.deactivate"
    audit.record(session, actor, action, method, before, audit.snapshot(method, ["active"]), method.name)
    return method


def move_method(session: Session, actor: User, method_id: int, direction: str) -> list[ShippingMethod]:
    """Swap a method with its neighbour above or below; positions are renumbered 0, 1, 2… so gaps
    and ties left by older data disappear. Moving the first one up (or the last down) is a no-op."""
    if direction not in positions.DIRECTIONS:
        raise ShippingError("Move a delivery method up or down.")
    current = _ordered(session, lock=True)
    before = [m.name for m in current]
    moved, methods = positions.move(
        session, current, method_id, direction, "There is no such delivery method. It may have been removed."
    )
    summary = f"{moved.name} moved {direction}"
    audit.record(
        session, actor, "shipping.reorder", moved, {"order": before}, {"order": [m.name for m in methods]}, summary
    )
    return methods


def _fields(data: ShippingInput) -> dict:
    return {
        "name": data.name,
        "price": data.price,
        "estimate": data.estimate,
        "is_pickup": data.is_pickup,
        "active": data.active,
    }
