"""Orders as staff manage them: the filtered, paged list; one order's whole picture (lines, customer,
addresses, payments, the full timeline); and the changes staff make to it.

Every change goes through ``revoque.services.orders`` (so only allowed status moves happen, under a
row lock, with the timeline and emails that go with them) and is recorded in the audit log in the
same transaction. Run the changes in ``session_scope(write=True)``. Moving an order to refunded is a
refund, so only an admin may do it; the page's guard refuses it first and this module checks again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from revoque.errors import NotFound, ValidationError
from revoque.models import Order, OrderLine, OrderStatus, Payment, PaymentStatus, Role, User
from revoque.services import accounts, audit, orders
from revoque.services.accounts import OrderLineInfo
from revoque.services.catalog import clamp_page
from revoque.services.money import format_money
from revoque.services.orders import EventView
from revoque.services.pricing import as_utc

PAGE_SIZE = 20
ADMIN_ONLY_STATUSES = {OrderStatus.REFUNDED}  # a refund: admins only
AUDITED_FIELDS = ["status", "payment_status"]


@dataclass
class Option:
    value: str
    label: str


def label(code: str) -> str:
    """Codes as people read them: partially_refunded → "Partially refunded"."""
    return code.replace("_", " ").capitalize()


STATUS_OPTIONS = [Option(s.value, label(s.value)) for s in OrderStatus]
PAYMENT_OPTIONS = [Option(s.value, label(s.value)) for s in PaymentStatus]


@dataclass
class OrderFilters:
    status: str = ""
    payment_status: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    q: str = ""  # part of an order number or email


@dataclass
class OrderRow:
    number: str
    created_text: str
    customer: str
    email: str
    status: str
    status_label: str
    payment_status: str
    payment_label: str
    payment_method: str
    total_text: str
    item_count: int


@dataclass
class OrderRowsPage:
    items: list[OrderRow]
    total: int
    page: int
    pages: int


@dataclass
class PaymentInfo:
    provider: str
    reference: str
    status: str
    amount_text: str
    created_text: str


@dataclass
class StaffOrderView:
    number: str
    status: str
    status_label: str
    payment_status: str
    payment_label: str
    payment_method: str
    created_text: str
    email: str
    customer_name: str
    phone: str
    account: str  # "Guest checkout" or "Customer account · 3 orders"
    shipping_method: str
    customer_note: str
    coupon_code: str
    subtotal: str
    discount: str
    shipping: str
    tax: str
    total: str
    lines: list[OrderLineInfo] = field(default_factory=list)
    shipping_address: list[str] = field(default_factory=list)
    billing_address: list[str] = field(default_factory=list)
    payments: list[PaymentInfo] = field(default_factory=list)
    timeline: list[EventView] = field(default_factory=list)  # newest first, staff notes included
    next_statuses: list[Option] = field(default_factory=list)
    can_mark_paid: bool = False


# --- filters from the URL ------------------------------------------------------------------------


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_filters(params: dict[str, str]) -> OrderFilters:
    """Filters from query parameters; unknown statuses and bad dates are ignored, not errors."""
    status = params.get("status", "")
    payment = params.get("payment", "")
    return OrderFilters(
        status=status if status in {s.value for s in OrderStatus} else "",
        payment_status=payment if payment in {s.value for s in PaymentStatus} else "",
        date_from=_date(params.get("from")),
        date_to=_date(params.get("to")),
        q=params.get("q", "").strip()[:100],
    )


# --- the list --------------------------------------------------------------------------------------


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(statement, filters: OrderFilters):
    if filters.status:
        statement = statement.where(Order.status == filters.status)
    if filters.payment_status:
        statement = statement.where(Order.payment_status == filters.payment_status)
    if filters.date_from:
        statement = statement.where(Order.created_at >= _utc_midnight(filters.date_from))
    if filters.date_to:
        statement = statement.where(Order.created_at < _utc_midnight(filters.date_to + timedelta(days=1)))
    if filters.q:
        text = filters.q.lower()
        statement = statement.where(
            or_(
                func.lower(Order.number).contains(text, autoescape=True),
                func.lower(Order.email).contains(text, autoescape=True),
            )
        )
    return statement


def _created_text(moment: datetime) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def list_orders(
    session: Session, filters: OrderFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> OrderRowsPage:
    """Newest first, a page at a time; a page past the end gives the last page."""
    filters = filters or OrderFilters()
    total = session.exec(_filtered(select(func.count()).select_from(Order), filters)).one()
    page, pages = clamp_page(page, total, page_size)
    rows = session.exec(
        _filtered(select(Order), filters)
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    counts = dict(
        session.exec(
            select(OrderLine.order_id, func.sum(OrderLine.quantity))
            .where(col(OrderLine.order_id).in_([o.id for o in rows]))
            .group_by(OrderLine.order_id)
        ).all()
    )
    return OrderRowsPage(items=[_row(o, int(counts.get(o.id, 0))) for o in rows], total=total, page=page, pages=pages)


def _row(order: Order, items: int) -> OrderRow:
    return OrderRow(
        number=order.number,
        created_text=_created_text(order.created_at),
        customer=(order.shipping_address or {}).get("name", "") or order.email,
        email=order.email,
        status=order.status,
        status_label=label(order.status),
        payment_status=order.payment_status,
        payment_label=label(order.payment_status),
        payment_method=label(order.payment_method),
        total_text=format_money(order.total, order.currency),
        item_count=items,
    )


# --- one order -------------------------------------------------------------------------------------


def find_order(session: Session, number: str) -> Order:
    order = session.exec(select(Order).where(Order.number == number.strip())).first()
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return order


def _account_text(session: Session, order: Order) -> str:
    if order.user_id is None or session.get(User, order.user_id) is None:
        return "Guest checkout"
    count = session.exec(select(func.count()).select_from(Order).where(Order.user_id == order.user_id)).one()
    return f"Customer account · {count} order{'' if count == 1 else 's'}"


def _payments(session: Session, order: Order) -> list[PaymentInfo]:
    rows = session.exec(select(Payment).where(Payment.order_id == order.id).order_by(col(Payment.id).desc())).all()
    return [
        PaymentInfo(
            provider=p.provider.capitalize(),
            reference=p.reference,
            status=label(p.status),
            amount_text=format_money(p.amount, p.currency),
            created_text=_created_text(p.created_at),
        )
        for p in rows
    ]


def can_mark_paid(order: Order) -> bool:
    """Money collected after the order moved on (pay on delivery at the door, a late transfer);
    a pending order is marked paid through its status instead."""
    return order.payment_status == PaymentStatus.UNPAID and order.status in (
        OrderStatus.PROCESSING,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
    )


def staff_order_view(session: Session, number: str) -> StaffOrderView:
    """Everything staff see about one order."""
    order = find_order(session, number)
    shown = accounts.order_detail(session, order)  # lines, totals and addresses as the customer sees them
    money = partial(format_money, currency=order.currency)
    address = order.shipping_address or {}
    return StaffOrderView(
        number=order.number,
        status=order.status,
        status_label=label(order.status),
        payment_status=order.payment_status,
        payment_label=label(order.payment_status),
        payment_method=label(order.payment_method),
        created_text=_created_text(order.created_at) + " UTC",
        email=order.email,
        customer_name=address.get("name", ""),
        phone=address.get("phone", ""),
        account=_account_text(session, order),
        shipping_method=order.shipping_method_name,
        customer_note=order.customer_note,
        coupon_code=order.coupon_code,
        subtotal=shown.subtotal,
        discount=shown.discount,
        shipping=shown.shipping,
        tax=money(order.tax),
        total=shown.total,
        lines=shown.lines,
        shipping_address=shown.shipping_address,
        billing_address=shown.billing_address,
        payments=_payments(session, order),
        timeline=list(reversed(orders.order_timeline(session, order.id, customer_view=False))),
        next_statuses=[
            Option(s.value, label(s.value)) for s in orders.next_statuses(order.status, orders.is_paid(order))
        ],
        can_mark_paid=can_mark_paid(order),
    )


# --- changes ---------------------------------------------------------------------------------------


def _staff(actor: User | None, admin_only: bool = False) -> User:
    """The guard again, below the page: services never trust that the caller checked."""
    return accounts.require_role(actor, Role.ADMIN.value if admin_only else Role.STAFF.value)


def needs_admin(to_status: str) -> bool:
    return to_status in {s.value for s in ADMIN_ONLY_STATUSES}


def change_status(session: Session, actor: User, number: str, to_status: str, message: str = "") -> Order:
    """Move the order to ``to_status`` if the rules allow it, and record who did it."""
    _staff(actor, admin_only=needs_admin(to_status))
    order = find_order(session, number)
    orders.lock_order(session, order)
    before = audit.snapshot(order, AUDITED_FIELDS)
    orders.transition(session, order, to_status, actor=actor.email, message=message)
    audit.record(session, actor, "order.status", order, before, audit.snapshot(order, AUDITED_FIELDS), order.number)
    return order


def mark_payment_received(session: Session, actor: User, number: str) -> Order:
    """Record money collected for an order that has already moved on (see ``can_mark_paid``)."""
    _staff(actor)
    order = find_order(session, number)
    orders.lock_order(session, order)
    if not can_mark_paid(order):
        raise ValidationError(
            "Mark a pending order as paid by changing its status."
            if order.status == OrderStatus.PENDING
            else "This order has no payment waiting to be recorded."
        )
    before = audit.snapshot(order, AUDITED_FIELDS)
    orders.mark_paid(session, order, actor=actor.email)
    audit.record(session, actor, "order.payment", order, before, audit.snapshot(order, AUDITED_FIELDS), order.number)
    return order


def add_note(session: Session, actor: User, number: str, text: str, visible_to_customer: bool) -> None:
    """A note on the order's timeline, for the customer to see or for staff only."""
    _staff(actor)
    order = find_order(session, number)
    event = orders.add_note(session, order, text, actor.email, visible_to_customer)
    after = {"note": event.message, "visible_to_customer": visible_to_customer}
    audit.record(session, actor, "order.note", order, None, after, order.number)
