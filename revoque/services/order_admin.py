"""Orders as staff manage them: the filtered, paged list; one order's whole picture (lines, customer,
addresses, payments, refunds, returns, invoice, the full timeline); and the changes staff make to it.

Every change goes through ``revoque.services.orders`` (so only allowed status moves happen, under a
row lock, with the timeline and emails that go with them) and is recorded in the audit log in the
same transaction. Run the status, payment, note and invoice changes in ``session_scope(write=True)``.
Moving an order to refunded is a refund, so only an admin may do it; the page's guard refuses it
first and this module checks again.

Refunds and returns
-------------------
``refund`` and ``record_return`` open their own transactions, because a card refund goes through the
gateway, which ``revoque.services.payments`` only ever calls outside a transaction (it reserves the
amount first, so two refunds at once never exceed what was paid). Both take the one-time ``key`` the
page issued with its form (``new_request_key``) and claim it in an ``OrderRequest`` row under the
order's lock before doing anything: a double click, a retried request or a second backend handling
the same submit finds the key taken and gets the first result back instead of refunding or
restocking twice. A refund refused by the rules or the gateway releases its key, so the same form
can be corrected and sent again.

A return puts the chosen units back on the shelf in the same transaction that records them, under
the order's and the variants' locks (variants in id order, as everywhere). ``ReturnLine`` rows count
what came back per order line, and a line can never take back more than was ordered; once all of a
line is back it is marked ``restocked`` like a cancelled line, so ``orders.restock_order`` never adds
it again. Returns are for goods that left the store (shipped, delivered, or refunded after that);
an order still in the store is cancelled or refunded instead, which restocks it. A card-paid order
is refunded through the gateway only: the status list does not offer "refunded" for it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.queue import enqueue_after_commit
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError, ValidationError
from revoque.models import (
    Invoice,
    Order,
    OrderLine,
    OrderRequest,
    OrderRequestKind,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    ReturnLine,
    Role,
    User,
)
from revoque.services import accounts, audit, invoices, orders, payments, search
from revoque.services.accounts import OrderLineInfo
from revoque.services.catalog import clamp_page
from revoque.services.inventory import lock_variants, move_stock
from revoque.services.money import currency_info, format_money, parse_money
from revoque.services.orders import EventView
from revoque.services.payments import PaymentState, RefundState
from revoque.services.pricing import as_utc
from revoque.services.queries import contains_any

PAGE_SIZE = 20
ADMIN_ONLY_STATUSES = {OrderStatus.REFUNDED}  # a refund: admins only
AUDITED_FIELDS = ["status", "payment_status"]
MAX_REASON_LENGTH = 300
MAX_KEY_LENGTH = 64
# Goods that left the store can come back; an order still in the store is cancelled or refunded instead.
RETURNABLE_STATUSES = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED}
REFUND_LABELS = {RefundState.PENDING: "Waiting for the provider", RefundState.PROCESSED: "Refunded"}


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
class RefundInfo:
    amount_text: str
    status: str  # pending | processed | failed
    status_label: str
    reason: str
    requested_by: str
    created_text: str


@dataclass
class ReturnableLine:
    """An order line in the return form: how many were ordered, came back, and may still come back."""

    line_id: int
    title: str
    variant: str
    sku: str
    unit_price: str
    ordered: int
    returned: int
    returnable: int


@dataclass
class ReturnInfo:
    created_text: str
    actor: str
    reason: str
    items_text: str  # "2 × Kente Scarf, 1 × Aso Oke Throw (M)"
    refund_text: str  # "₦15,000 refunded", "" without a refund


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
    # refunds through the gateway
    can_refund: bool = False
    refund_note: str = ""  # why there is nothing to refund, when there is not
    refundable_text: str = ""  # "₦25,000"
    refundable_input: str = ""  # the same, as staff would type it: "25000"
    refunds: list[RefundInfo] = field(default_factory=list)  # newest first
    # returns
    can_return: bool = False
    return_note: str = ""
    returnable_lines: list[ReturnableLine] = field(default_factory=list)
    returns: list[ReturnInfo] = field(default_factory=list)  # newest first
    # the invoice
    invoice_number: str = ""
    invoice_version: int = 0  # 0: none generated yet
    invoice_text: str = ""  # "Version 2 · 3 Mar 2027, 14:05 UTC"
    invoice_url: str = ""  # a signed, expiring download link


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
        statement = statement.where(contains_any(filters.q, Order.number, Order.email))
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
        next_statuses=[Option(s.value, label(s.value)) for s in staff_next_statuses(session, order)],
        can_mark_paid=can_mark_paid(order),
        **_refund_fields(session, order),
        **_return_fields(session, order),
        **_invoice_fields(session, order),
    )


def staff_next_statuses(session: Session, order: Order) -> list[OrderStatus]:
    """The moves staff are offered: the status rules' list, without "refunded" for an order paid by
    card (its money goes back through the gateway with a refund, which moves the status itself)."""
    moves = orders.next_statuses(order.status, orders.is_paid(order))
    if _card_payment(session, order) is not None:
        moves = [s for s in moves if s != OrderStatus.REFUNDED]
    return moves


def _refund_fields(session: Session, order: Order) -> dict:
    blocker, left = refund_blocker(session, order), refundable_left(session, order)
    rows = session.exec(select(Refund).where(Refund.order_id == order.id).order_by(col(Refund.id).desc())).all()
    return {
        "can_refund": not blocker,
        "refund_note": blocker,
        "refundable_text": format_money(left, order.currency),
        "refundable_input": amount_input(left, order.currency) if left else "",
        "refunds": [
            RefundInfo(
                amount_text=format_money(r.amount, r.currency),
                status=r.status,
                status_label=REFUND_LABELS.get(r.status, label(r.status)),
                reason=r.reason,
                requested_by=r.requested_by,
                created_text=_created_text(r.created_at),
            )
            for r in rows
        ],
    }


def _return_fields(session: Session, order: Order) -> dict:
    lines = _lines(session, order)
    returned = _returned_units(session, [line.id for line in lines])
    returnable = [
        ReturnableLine(
            line_id=line.id,
            title=line.product_title,
            variant=line.variant_title,
            sku=line.sku,
            unit_price=format_money(line.unit_price, order.currency),
            ordered=line.quantity,
            returned=returned.get(line.id, 0),
            returnable=returnable_units(line, returned.get(line.id, 0)),
        )
        for line in lines
    ]
    note = return_blocker(order, sum(line.returnable for line in returnable))
    return {
        "can_return": not note,
        "return_note": note,
        "returnable_lines": returnable,
        "returns": _return_history(session, order, {line.id: line for line in lines}),
    }


def _return_history(session: Session, order: Order, lines: dict[int, OrderLine]) -> list[ReturnInfo]:
    requests = session.exec(
        select(OrderRequest)
        .where(OrderRequest.order_id == order.id, OrderRequest.kind == OrderRequestKind.RETURN)
        .order_by(col(OrderRequest.id).desc())
    ).all()
    items = session.exec(
        select(ReturnLine).where(col(ReturnLine.request_id).in_([r.id for r in requests])).order_by(ReturnLine.id)
    ).all()
    refunds = {
        r.id: r
        for r in session.exec(select(Refund).where(col(Refund.id).in_([q.refund_id for q in requests if q.refund_id])))
    }
    history = []
    for request in requests:
        mine = [(lines[i.order_line_id], i.quantity) for i in items if i.request_id == request.id]
        refund = refunds.get(request.refund_id)
        history.append(
            ReturnInfo(
                created_text=_created_text(request.created_at),
                actor=request.actor,
                reason=request.reason,
                items_text=items_text(mine),
                refund_text=_refund_text(refund) if refund else "",
            )
        )
    return history


def _refund_text(refund: Refund) -> str:
    amount = format_money(refund.amount, refund.currency)
    return {
        RefundState.PROCESSED: f"{amount} refunded",
        RefundState.PENDING: f"{amount} refund waiting for the provider",
    }.get(refund.status, f"{amount} refund failed")


def _invoice_fields(session: Session, order: Order) -> dict:
    invoice = session.exec(select(Invoice).where(Invoice.order_id == order.id)).first()
    if invoice is None or not invoice.version:
        return {"invoice_number": invoices.invoice_number(order)}
    generated = f" · {_created_text(invoice.generated_at)} UTC" if invoice.generated_at else ""
    return {
        "invoice_number": invoice.number,
        "invoice_version": invoice.version,
        "invoice_text": f"Version {invoice.version}{generated}",
        "invoice_url": invoices.invoice_download_url(session, order.id) or "",
    }


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
    if to_status == OrderStatus.REFUNDED and orders.is_paid(order) and _card_payment(session, order) is not None:
        raise ValidationError("This order was paid by card: use Refund, so the money goes back to the card.")
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


def regenerate_invoice(session: Session, actor: User, number: str) -> int:
    """Queue a fresh invoice PDF for the order as it stands now (after a refund, a return, an address
    fix); the job writes the next version once this transaction commits. Returns the current
    version, so the page can tell when the new one is there."""
    _staff(actor)
    order = find_order(session, number)
    if order.status == OrderStatus.CANCELLED and order.payment_status == PaymentStatus.UNPAID:
        raise ValidationError("This order was cancelled before it was paid, so it has no invoice.")
    invoice = session.exec(select(Invoice).where(Invoice.order_id == order.id)).first()
    version = invoice.version if invoice else 0
    # Its own job id: a payment's invoice job that is already running may have read the order before now.
    enqueue_after_commit(session, jobs.generate_invoice, order.id, job_id=f"invoice-regenerate-{order.id}")
    audit.record(session, actor, "order.invoice", order, None, {"invoice": "regenerate", "version": version}, number)
    return version


# --- refunds and returns -------------------------------------------------------------------------


@dataclass
class RefundOutcome:
    amount_text: str
    status: str  # a RefundState value
    repeated: bool = False  # this form's refund was made before; nothing was done now

    @property
    def message(self) -> str:
        if self.repeated:
            return f"That refund of {self.amount_text} was already made."
        if self.status == RefundState.PENDING:
            return f"Refund of {self.amount_text} sent; the payment provider will confirm it."
        return f"Refunded {self.amount_text} to the card."


@dataclass
class ReturnPlan:
    """A return checked against the order, before anything is written."""

    quantities: dict[int, int]  # order line id → units coming back
    items_text: str
    units: int
    refund_amount: int  # 0: no refund
    refund_text: str

    @property
    def summary(self) -> str:
        text = f"Return {self.items_text} and put {'it' if self.units == 1 else 'them'} back in stock"
        return text + (f", and refund {self.refund_text} to the card." if self.refund_amount else ".")


@dataclass
class ReturnOutcome:
    units: int
    restocked: int  # units added to stock (variants that are gone or untracked take none)
    repeated: bool = False
    refund: RefundOutcome | None = None
    refund_error: str = ""  # the return is recorded, but its refund was refused: why

    @property
    def message(self) -> str:
        if self.repeated:
            return "That return was already recorded."
        text = f"Return recorded: {self.units} item{'' if self.units == 1 else 's'} back in stock."
        return text + (f" {self.refund.message}" if self.refund else "")


def new_request_key() -> str:
    """A one-time key for one refund or return form (see the module docstring)."""
    return secrets.token_urlsafe(24)


def amount_input(amount: int, currency: str) -> str:
    """Minor units as staff type them in the amount box: 2500000 → "25000", 1250050 → "12500.50"."""
    exponent = currency_info(currency).exponent
    value = Decimal(amount).scaleb(-exponent)
    return f"{value:f}" if amount % 10**exponent else str(amount // 10**exponent)


def parse_amount(text: str, currency: str) -> int | None:
    """A refund amount typed by staff; blank means "everything that is left"."""
    text = (text or "").strip()
    if not text:
        return None
    amount = parse_money(text, currency)
    if amount <= 0:
        raise ValidationError("Enter a refund amount greater than zero.")
    return amount


def _card_payment(session: Session, order: Order) -> Payment | None:
    """The card payment a refund goes back to (the latest that succeeded), if the order has one."""
    statement = select(Payment).where(Payment.order_id == order.id, Payment.status == PaymentState.SUCCEEDED)
    return session.exec(statement.order_by(col(Payment.id).desc())).first()


def _reserved(session: Session, payment: Payment) -> int:
    """Refunded or on its way back: what the payment cannot give again."""
    statement = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id,
        col(Refund.status).in_([RefundState.PENDING.value, RefundState.PROCESSED.value]),
    )
    return int(session.exec(statement).one())


def refundable_left(session: Session, order: Order) -> int:
    """What can still go back to the card, in minor units (0 when nothing can)."""
    payment = _card_payment(session, order)
    if payment is None or not orders.is_paid(order):
        return 0
    return max(0, payment.amount - _reserved(session, payment))


def refund_blocker(session: Session, order: Order) -> str:
    """Why the order cannot be refunded through the gateway now ("" when it can)."""
    if order.payment_status == PaymentStatus.REFUNDED:
        return "This order has been refunded in full."
    if not orders.is_paid(order):
        return "Only paid orders can be refunded."
    if _card_payment(session, order) is None:
        return "This order wasn't paid by card: refund it outside the store, then move it to refunded."
    if refundable_left(session, order) <= 0:
        return "The rest of the payment is already on its way back to the card."
    return ""


def _check_refund(session: Session, order: Order, amount: int | None) -> int:
    """The amount to refund (all that is left for ``None``), or ValidationError saying why not. The
    payments service checks again under its own lock; this gives the reason before anything is
    written."""
    blocker = refund_blocker(session, order)
    if blocker:
        raise ValidationError(blocker)
    left = refundable_left(session, order)
    if amount is None:
        return left
    if amount <= 0:
        raise ValidationError("Enter a refund amount greater than zero.")
    if amount > left:
        raise ValidationError(f"You can refund at most {format_money(left, order.currency)}.")
    return amount


def clean_reason(text: str, what: str) -> str:
    """The reason staff gave for a refund or return, required and kept short."""
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError(f"Say why, so the {what} makes sense to whoever reads the order later.")
    if len(text) > MAX_REASON_LENGTH:
        raise ValidationError(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    return text


def _claim(session: Session, order: Order, key: str, kind: OrderRequestKind) -> OrderRequest | None:
    """The earlier request made under ``key`` for this order (None when the key is new). A key used
    for another order or another kind of request is a stale form."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError("This form has expired. Reload the order and try again.")
    found = session.exec(select(OrderRequest).where(OrderRequest.key == key)).first()
    if found is not None and (found.order_id != order.id or found.kind != kind):
        raise ValidationError("This form has expired. Reload the order and try again.")
    return found


def _locked_order(session: Session, number: str) -> Order:
    order = find_order(session, number)
    orders.lock_order(session, order)
    return order


def _forget(request_id: int) -> None:
    """Release a claimed key whose refund was refused, so the corrected form can be sent again."""
    with session_scope(write=True) as session:
        request = session.get(OrderRequest, request_id)
        if request is not None:
            session.delete(request)


def plan_refund(session: Session, actor: User, number: str, amount: int | None) -> int:
    """The amount a refund would send back (everything left for ``None``), checked but not written."""
    _staff(actor, admin_only=True)
    return _check_refund(session, find_order(session, number), amount)


def refund(actor: User, number: str, amount: int | None, reason: str, key: str) -> RefundOutcome:
    """Refund ``amount`` minor units (everything left for ``None``) of the order's card payment
    through the gateway; admins only. Idempotent per ``key`` (see the module docstring)."""
    _staff(actor, admin_only=True)
    reason, key = clean_reason(reason, "refund"), (key or "").strip()
    with session_scope(write=True) as session:
        order = _locked_order(session, number)
        earlier = _claim(session, order, key, OrderRequestKind.REFUND)
        if earlier is not None:
            return _earlier_refund(session, earlier)
        amount = _check_refund(session, order, amount)
        request = OrderRequest(
            order_id=order.id,
            key=key,
            kind=OrderRequestKind.REFUND,
            reason=reason,
            refund_amount=amount,
            actor=actor.email,
        )
        session.add(request)
        session.flush()
        order_id, request_id = order.id, request.id
        before = audit.snapshot(order, AUDITED_FIELDS)
    try:
        made = payments.request_refund(order_id, amount, actor.email, reason)
    except RevoqueError:
        _forget(request_id)
        raise
    return _record_refund(actor, request_id, made, before, request.created_at)


def _earlier_refund(session: Session, request: OrderRequest) -> RefundOutcome:
    made = session.get(Refund, request.refund_id) if request.refund_id else None
    if made is None:
        raise ValidationError("This refund is already on its way to the payment provider. Reload the order.")
    return RefundOutcome(format_money(made.amount, made.currency), made.status, repeated=True)


def _record_refund(actor: User, request_id: int, made: Refund, before: dict, asked_at: datetime) -> RefundOutcome:
    """Tie the gateway's refund to the request, note it on the timeline (for staff: the customer sees
    the refund itself once it is settled) and audit it. The note is dated when the refund was asked
    for, so the timeline reads request → settlement even when the gateway settled it at once."""
    amount = format_money(made.amount, made.currency)
    with session_scope(write=True) as session:
        request = session.get(OrderRequest, request_id)
        order = session.get(Order, request.order_id)
        orders.lock_order(session, order)
        request.refund_id = made.id
        session.add(request)
        waiting = " Waiting for the payment provider to confirm it." if made.status == RefundState.PENDING else ""
        failed = " The payment provider refused it." if made.status == RefundState.FAILED else ""
        note = f"Refund of {amount} to the card: {request.reason.rstrip('.!')}.{waiting}{failed}"
        orders.add_note(session, order, note, actor.email, visible_to_customer=False, now=asked_at)
        after = {**audit.snapshot(order, AUDITED_FIELDS), "refund": amount, "refund_status": made.status}
        audit.record(session, actor, "order.refund", order, before, {**after, "reason": request.reason}, order.number)
    return RefundOutcome(amount, made.status)


def _lines(session: Session, order: Order, lock: bool = False) -> list[OrderLine]:
    statement = select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(session.exec(statement))


def _returned_units(session: Session, line_ids: list[int]) -> dict[int, int]:
    if not line_ids:
        return {}
    statement = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .where(col(ReturnLine.order_line_id).in_(line_ids))
        .group_by(ReturnLine.order_line_id)
    )
    return {line_id: int(total) for line_id, total in session.exec(statement)}


def returnable_units(line: OrderLine, returned: int) -> int:
    """Units of ``line`` that may still come back: none once the line is restocked (returned in
    full, or put back when the order was cancelled or refunded before shipping)."""
    return 0 if line.restocked else max(0, line.quantity - returned)


def return_blocker(order: Order, returnable: int) -> str:
    """Why nothing on the order can be returned now ("" when something can); ``returnable`` is the
    number of units that may still come back."""
    if order.status not in RETURNABLE_STATUSES:
        if order.status == OrderStatus.CANCELLED:
            return "This order was cancelled, so its goods are already back in stock."
        return "Returns are for orders that have shipped. Cancel or refund this one instead: its goods are still here."
    if returnable <= 0:
        return "Everything on this order is already back in stock."
    return ""


def items_text(items: list[tuple[OrderLine, int]]) -> str:
    """ "2 × Kente Scarf, 1 × Aso Oke Throw (M)" """
    return ", ".join(
        f"{quantity} × {line.product_title}" + (f" ({line.variant_title})" if line.variant_title else "")
        for line, quantity in items
    )


def _returned_value(order: Order, items: list[tuple[OrderLine, int]]) -> int:
    """What the returned units cost the customer: their prices less their share of the order's
    discount (rounded half up). Delivery is not refunded with items."""
    value = sum(line.unit_price * quantity for line, quantity in items)
    if not order.discount or not order.subtotal:
        return value
    paid = max(order.subtotal - order.discount, 0)
    return (2 * value * paid + order.subtotal) // (2 * order.subtotal)


def _plan(
    session: Session, order: Order, lines: list[OrderLine], quantities: dict[int, int], refund: bool, amount: int | None
) -> ReturnPlan:
    """Check a return against the order as it stands; raises ValidationError naming what is wrong."""
    wanted = {int(line_id): int(quantity) for line_id, quantity in quantities.items() if int(quantity) != 0}
    if any(quantity < 0 for quantity in wanted.values()):
        raise ValidationError("Quantities to return can't be negative.")
    if not wanted:
        raise ValidationError("Choose how many of which items came back.")
    by_id = {line.id: line for line in lines}
    returned = _returned_units(session, list(by_id))
    note = return_blocker(order, sum(returnable_units(ln, returned.get(i, 0)) for i, ln in by_id.items()))
    if note:
        raise ValidationError(note)
    items = []
    for line_id, quantity in sorted(wanted.items()):
        line = by_id.get(line_id)
        if line is None:
            raise ValidationError("One of those items is not on this order. Reload the order and try again.")
        left = returnable_units(line, returned.get(line_id, 0))
        if quantity > left:
            title = line.product_title
            raise ValidationError(
                f"Only {left} of “{title}” can still come back." if left else f"All of “{title}” is already back."
            )
        items.append((line, quantity))
    refund_amount = 0
    if refund:
        value = _returned_value(order, items)
        refund_amount = _check_refund(session, order, amount)
        if amount is None:
            refund_amount = min(value, refund_amount)
        if refund_amount <= 0:
            raise ValidationError("There is nothing left to refund on this order.")
    return ReturnPlan(
        quantities=dict(sorted(wanted.items())),
        items_text=items_text(items),
        units=sum(wanted.values()),
        refund_amount=refund_amount,
        refund_text=format_money(refund_amount, order.currency) if refund_amount else "",
    )


def plan_return(
    session: Session,
    actor: User,
    number: str,
    quantities: dict[int, int],
    refund: bool = False,
    amount: int | None = None,
) -> ReturnPlan:
    """What a return would do (for the page's confirmation), checked but not written. ``amount``
    None with ``refund`` refunds the value of the returned items, capped at what is left."""
    _staff(actor, admin_only=refund)
    order = find_order(session, number)
    return _plan(session, order, _lines(session, order), quantities, refund, amount)


def record_return(
    actor: User,
    number: str,
    quantities: dict[int, int],
    reason: str,
    key: str,
    refund: bool = False,
    amount: int | None = None,
) -> ReturnOutcome:
    """Take back the chosen units (order line id → quantity) and restock them, exactly once per
    ``key``; then, with ``refund`` (admins only), refund them to the card (see ``plan_return`` for
    the amount). A refused refund leaves the return recorded and says why in ``refund_error``."""
    _staff(actor, admin_only=refund)
    reason, key = clean_reason(reason, "return"), (key or "").strip()
    with session_scope(write=True) as session:
        order = _locked_order(session, number)
        earlier = _claim(session, order, key, OrderRequestKind.RETURN)
        if earlier is not None:
            return _earlier_return(session, earlier)
        lines = _lines(session, order, lock=True)
        plan = _plan(session, order, lines, quantities, refund, amount)
        request = OrderRequest(
            order_id=order.id,
            key=key,
            kind=OrderRequestKind.RETURN,
            reason=reason,
            refund_amount=plan.refund_amount,
            actor=actor.email,
        )
        session.add(request)
        session.flush()
        restocked = _restock(session, request, {line.id: line for line in lines}, plan.quantities)
        orders.add_note(session, order, f"Return received: {plan.items_text}.", actor.email, visible_to_customer=True)
        after = {"returned": plan.items_text, "restocked_units": restocked, "reason": reason}
        if plan.refund_amount:
            after["refund"] = plan.refund_text
        audit.record(session, actor, "order.return", order, None, after, order.number)
        order_id, request_id, asked_at = order.id, request.id, request.created_at
        before = audit.snapshot(order, AUDITED_FIELDS)
    outcome = ReturnOutcome(units=plan.units, restocked=restocked)
    if plan.refund_amount:
        try:
            made = payments.request_refund(order_id, plan.refund_amount, actor.email, f"Return: {reason}")
        except RevoqueError as exc:
            outcome.refund_error = str(exc)
            _note_refund_refused(actor, order_id, plan.refund_text, str(exc))
        else:
            outcome.refund = _record_refund(actor, request_id, made, before, asked_at)
    return outcome


def _restock(session: Session, request: OrderRequest, lines: dict[int, OrderLine], quantities: dict[int, int]) -> int:
    """Put the returned units back (variants locked in id order) and record them; returns the units
    added to stock. A line all of whose units are back is marked restocked."""
    chosen = [lines[line_id] for line_id in quantities]
    variants = lock_variants(session, [line.variant_id for line in chosen if line.variant_id is not None])
    returned = _returned_units(session, list(quantities))
    added = 0
    flipped = False
    for line in chosen:
        quantity = quantities[line.id]
        variant = variants.get(line.variant_id)
        units = quantity if variant is not None and variant.track_inventory else 0
        if units:
            flipped |= move_stock(session, variant, units)
            added += units
        session.add(ReturnLine(request_id=request.id, order_line_id=line.id, quantity=quantity, restocked_units=units))
        if returned.get(line.id, 0) + quantity >= line.quantity:
            line.restocked = True
            session.add(line)
    search.schedule_stock_index(
        session, *(line.product_id for line in chosen if line.product_id is not None), availability_changed=flipped
    )
    session.flush()
    return added


def _earlier_return(session: Session, request: OrderRequest) -> ReturnOutcome:
    rows = session.exec(select(ReturnLine).where(ReturnLine.request_id == request.id)).all()
    made = session.get(Refund, request.refund_id) if request.refund_id else None
    refund_outcome = RefundOutcome(format_money(made.amount, made.currency), made.status, True) if made else None
    return ReturnOutcome(
        units=sum(r.quantity for r in rows),
        restocked=sum(r.restocked_units for r in rows),
        repeated=True,
        refund=refund_outcome,
    )


def _note_refund_refused(actor: User, order_id: int, amount: str, reason: str) -> None:
    with session_scope(write=True) as session:
        order = session.get(Order, order_id)
        note = f"The refund of {amount} for the return was not made: {reason} Use Refund to try again."
        orders.add_note(session, order, note[: orders.MAX_MESSAGE_LENGTH], actor.email, visible_to_customer=False)
