"""Order lifecycle: the status state machine, payments received, notes, the timeline, and numbers.

Status rules (``ALLOWED``)
--------------------------
- pending → paid (money received) | processing (pay-on-delivery orders, confirmed by staff) |
  cancelled
- paid → processing | cancelled | refunded
- processing → shipped | cancelled | refunded
- shipped → delivered | refunded
- delivered → refunded
- cancelled and refunded are final.

Refunding needs money to have been received (payment status paid or partially refunded); an
unpaid pay-on-delivery order is cancelled instead. Moving to paid marks the payment paid; refunding
marks it refunded. Cancelling, or refunding an order that has not shipped, puts its goods back on
the shelf: each line is restocked at most once (``OrderLine.restocked``), so retries and repeated
clicks never add stock twice. Every change appends an ``OrderEvent``, which is the order's timeline.

Emails: moving an order to shipped emails the customer (``emails.send_order_shipped``). Like every
store email it is written to the outbox in the same transaction and delivered by a job
(``jobs.deliver_email`` through the mail adapter) only after that transaction commits, so a refused or
rolled-back change mails no one.

Concurrency: ``transition`` and ``mark_paid`` first re-read the order with a row lock (SELECT … FOR
UPDATE on PostgreSQL; on SQLite run them in ``session_scope(write=True)``, an immediate
transaction), so two staff clicking "Cancel" at once produce one cancellation and one clear error.
Variants are locked in id order when restocking, like everywhere else stock changes.

Order numbers
-------------
Numbers are derived from the primary key: insert the order with a random placeholder number, flush
to get its id, then set ``RVQ-{100000 + id}`` (``assign_order_number``). The database's own id
sequence makes them unique on PostgreSQL and SQLite without a counter row every checkout would
queue on; gaps (from rolled-back orders) are harmless.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from revoque.errors import RevoqueError, ValidationError
from revoque.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentStatus
from revoque.models.base import utcnow
from revoque.services import emails, search, store_identity
from revoque.services.inventory import lock_variants, move_stock
from revoque.services.pricing import as_utc

ORDER_NUMBER_PREFIX = "RVQ-"
ORDER_NUMBER_OFFSET = 100_000
MAX_MESSAGE_LENGTH = 1000


class TransitionError(RevoqueError):
    """The order cannot move to the requested status; the message says why in plain words."""


class EventKind(StrEnum):
    STATUS = "status"
    PAYMENT = "payment"
    NOTE = "note"
    EMAIL = "email"


ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.PROCESSING, OrderStatus.CANCELLED, OrderStatus.REFUNDED},
    OrderStatus.PROCESSING: {OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.REFUNDED},
    OrderStatus.DELIVERED: {OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}
NEEDS_MONEY_RECEIVED = {OrderStatus.REFUNDED}
MONEY_RECEIVED = {PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED}
GOODS_IN_STORE = {OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING}
RETURNS_GOODS = {OrderStatus.CANCELLED, OrderStatus.REFUNDED}

# "An order that is {STATE} can't be {ACTION}."
STATE_WORDS = {
    OrderStatus.PENDING: "pending",
    OrderStatus.PAID: "paid",
    OrderStatus.PROCESSING: "being processed",
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REFUNDED: "refunded",
}
ACTION_WORDS = {
    OrderStatus.PENDING: "moved back to pending",
    OrderStatus.PAID: "marked as paid",
    OrderStatus.PROCESSING: "moved to processing",
    OrderStatus.SHIPPED: "marked as shipped",
    OrderStatus.DELIVERED: "marked as delivered",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REFUNDED: "refunded",
}
PAYMENT_TITLES = {
    PaymentStatus.PAID: "Payment received",
    PaymentStatus.REFUNDED: "Payment refunded",
    PaymentStatus.PARTIALLY_REFUNDED: "Partly refunded",
}
STATUS_TITLES = {
    OrderStatus.PENDING: "Order placed",
    OrderStatus.PAID: "Payment confirmed",
    OrderStatus.PROCESSING: "Being prepared",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REFUNDED: "Refunded",
}


# --- the state machine -----------------------------------------------------------------------------


def parse_status(status: OrderStatus | str) -> OrderStatus:
    try:
        return OrderStatus(status)
    except ValueError as exc:
        raise ValidationError(f"“{status}” is not an order status.") from exc


def next_statuses(status: OrderStatus | str, paid: bool) -> list[OrderStatus]:
    """Where an order can go from ``status`` (in lifecycle order): the buttons staff are offered."""
    allowed = ALLOWED[parse_status(status)]
    return [s for s in OrderStatus if s in allowed and (paid or s not in NEEDS_MONEY_RECEIVED)]


def check_transition(from_status: OrderStatus | str, to_status: OrderStatus | str, paid: bool) -> None:
    """Raise TransitionError unless the rules in this module's docstring allow the move."""
    source, target = parse_status(from_status), parse_status(to_status)
    if target not in next_statuses(source, paid):
        raise TransitionError(_refusal(source, target))


def _refusal(source: OrderStatus, target: OrderStatus) -> str:
    if source == target:
        return f"This order is already {STATE_WORDS[source]}."
    if not ALLOWED[source]:
        return f"An order that is {STATE_WORDS[source]} can't be changed."
    if target in ALLOWED[source]:  # allowed in principle, so the payment is what is missing
        return "An order that hasn't been paid can't be refunded."
    return f"An order that is {STATE_WORDS[source]} can't be {ACTION_WORDS[target]}."


def is_paid(order: Order) -> bool:
    """Whether the store holds the customer's money (so there is something to refund)."""
    return order.payment_status in MONEY_RECEIVED


def transition(
    session: Session,
    order: Order,
    to_status: OrderStatus | str,
    *,
    actor: str,
    message: str = "",
    now: datetime | None = None,
) -> OrderEvent:
    """Move ``order`` (persistent in ``session``) to ``to_status`` and record it on the timeline.

    The order is re-read under a row lock first, so the rules are checked against its latest status
    (unflushed changes to ``order`` are discarded)."""
    lock_order(session, order)
    target = parse_status(to_status)
    event = _apply(session, order, target, actor=actor, message=message, now=now)
    if target == OrderStatus.SHIPPED:
        emails.send_order_shipped(session, order)
    return event


def _apply(
    session: Session, order: Order, target: OrderStatus, *, actor: str, message: str, now: datetime | None
) -> OrderEvent:
    source = parse_status(order.status)
    check_transition(source, target, is_paid(order))
    order.status = target.value
    if target == OrderStatus.PAID:
        order.payment_status = PaymentStatus.PAID.value
    elif target == OrderStatus.REFUNDED:
        order.payment_status = PaymentStatus.REFUNDED.value
    if target in RETURNS_GOODS and source in GOODS_IN_STORE:
        restock_order(session, order)
    session.add(order)
    return record_event(
        session, order, EventKind.STATUS, actor=actor, message=message, from_status=source, to_status=target, now=now
    )


def lock_order(session: Session, order: Order) -> None:
    """Reload ``order`` in place with a row lock held until the transaction ends."""
    session.refresh(order, with_for_update=True)


def restock_order(session: Session, order: Order) -> int:
    """Put back the stock of every line not yet restocked and mark it; returns the units put back.

    Lines are re-read fresh and variants locked in id order; variants that do not track inventory
    (never decremented) are only marked. Safe to call any number of times."""
    lines = session.exec(
        select(OrderLine)
        .where(OrderLine.order_id == order.id, col(OrderLine.restocked).is_(False))
        .order_by(OrderLine.id)
        .execution_options(populate_existing=True)
    ).all()
    variants = lock_variants(session, [line.variant_id for line in lines if line.variant_id is not None])
    returned = 0
    flipped = False
    for line in lines:
        variant = variants.get(line.variant_id)
        if variant is not None and variant.track_inventory:
            flipped |= move_stock(session, variant, line.quantity)
            returned += line.quantity
        line.restocked = True
        session.add(line)
    search.schedule_stock_index(
        session, *(line.product_id for line in lines if line.product_id is not None), availability_changed=flipped
    )
    session.flush()
    return returned


def mark_paid(
    session: Session, order: Order, *, actor: str, reference: str = "", now: datetime | None = None
) -> OrderEvent | None:
    """Record that the order's money arrived (a bank transfer staff confirmed, a verified card payment).

    Idempotent, because verify, callback and webhook may all report the same payment: when the order
    is no longer unpaid nothing changes and ``None`` is returned. A pending order moves to paid; an
    order already moving (pay on delivery, paid at the door) keeps its status and gets a payment
    event."""
    lock_order(session, order)
    if order.payment_status != PaymentStatus.UNPAID:
        return None
    message = f"Payment received (reference {reference})." if reference else "Payment received."
    if order.status == OrderStatus.PENDING:
        return _apply(session, order, OrderStatus.PAID, actor=actor, message=message, now=now)
    order.payment_status = PaymentStatus.PAID.value
    session.add(order)
    return record_event(
        session,
        order,
        EventKind.PAYMENT,
        actor=actor,
        message=message,
        from_status=PaymentStatus.UNPAID,
        to_status=PaymentStatus.PAID,
        now=now,
    )


# --- timeline --------------------------------------------------------------------------------------


def record_event(
    session: Session,
    order: Order,
    kind: EventKind | str,
    *,
    actor: str,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    visible_to_customer: bool = True,
    now: datetime | None = None,
) -> OrderEvent:
    """Append one entry to the order's timeline (every change goes through here)."""
    event = OrderEvent(
        order_id=order.id,
        kind=str(kind),
        from_status=str(from_status),
        to_status=str(to_status),
        message=_clean_message(message),
        actor=actor,
        visible_to_customer=visible_to_customer,
        created_at=now or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def _clean_message(message: str) -> str:
    message = message.strip()
    if len(message) > MAX_MESSAGE_LENGTH:
        raise ValidationError(f"Notes can be at most {MAX_MESSAGE_LENGTH:,} characters.")
    return message


def add_note(
    session: Session, order: Order, message: str, actor: str, visible_to_customer: bool, now: datetime | None = None
) -> OrderEvent:
    """A note on the timeline: to the customer when ``visible_to_customer``, else for staff only."""
    if not message.strip():
        raise ValidationError("Write a note before saving it.")
    return record_event(
        session, order, EventKind.NOTE, actor=actor, message=message, visible_to_customer=visible_to_customer, now=now
    )


@dataclass(frozen=True)
class EventView:
    kind: str
    title: str  # "Shipped", "Payment received", "Internal note"
    message: str
    actor: str  # in the customer's view: "You" or the store's name, never a staff email
    created_at: datetime
    created_text: str  # "3 Mar 2027, 14:05 UTC"
    visible_to_customer: bool


def order_timeline(session: Session, order_id: int, customer_view: bool) -> list[EventView]:
    """The order's events, oldest first; the customer's view leaves out staff-only entries."""
    statement = select(OrderEvent).where(OrderEvent.order_id == order_id)
    if customer_view:
        statement = statement.where(col(OrderEvent.visible_to_customer).is_(True))
    events = session.exec(statement.order_by(OrderEvent.created_at, OrderEvent.id)).all()
    store_name = store_identity.store_name(session)
    return [_view(event, customer_view, store_name) for event in events]


def _view(event: OrderEvent, customer_view: bool, store_name: str) -> EventView:
    moment = as_utc(event.created_at)
    return EventView(
        kind=event.kind,
        title=_event_title(event),
        message=event.message,
        actor=_actor_text(event.actor, store_name) if customer_view else event.actor,
        created_at=moment,
        created_text=f"{moment.day} {moment:%b %Y, %H:%M} UTC",
        visible_to_customer=event.visible_to_customer,
    )


def _event_title(event: OrderEvent) -> str:
    if event.kind == EventKind.STATUS:
        return STATUS_TITLES.get(event.to_status, event.to_status.capitalize())
    if event.kind == EventKind.NOTE:
        return "Note" if event.visible_to_customer else "Internal note"
    if event.kind == EventKind.PAYMENT:
        return PAYMENT_TITLES.get(event.to_status, "Payment update")
    return {EventKind.EMAIL: "Email sent"}.get(event.kind, event.kind)


def _actor_text(actor: str, store_name: str) -> str:
    return "You" if actor == "customer" else store_name


# --- numbers ---------------------------------------------------------------------------------------


def order_number_for(order_id: int) -> str:
    return f"{ORDER_NUMBER_PREFIX}{ORDER_NUMBER_OFFSET + order_id}"


def assign_order_number(session: Session, order: Order) -> str:
    """Give ``order`` its public number, inserting it first (with a placeholder) when it has no id.

    See "Order numbers" in the module docstring for why this needs no lock."""
    if order.id is None:
        order.number = f"new-{uuid.uuid4().hex[:16]}"  # unique, 20 characters, replaced just below
        session.add(order)
        session.flush()
    order.number = order_number_for(order.id)
    session.add(order)
    session.flush()
    return order.number
