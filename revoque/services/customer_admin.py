"""Customers as staff see them: the searchable, sortable list of accounts; one account's whole picture
(orders, lifetime value, saved addresses); and changing an account's role.

What counts
-----------
- **Orders** are every order placed while signed in to the account (guest checkouts with the same
  email are not joined to it: an email typed at checkout proves nothing about who owns it).
- **Lifetime value** is what the store has kept of the account's money: the totals of its orders
  whose payment was received (payment status paid or partially refunded) less the refunds already
  processed on them. An order refunded in full counts 0, however it was refunded (through the
  gateway or outside the store); a refund still pending is not taken off until it is processed.
  Money stays in integer minor units of the store currency.

Changing a role is for admins only, never on one's own account, and is recorded in the audit log in
the same transaction. The actor's and the target's rows are locked (in id order) and read again
before the change, so two admins demoting each other at once cannot leave the store without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from revoque.errors import NotFound, PermissionDenied, ValidationError
from revoque.models import Address, Order, PaymentStatus, Refund, Role, User
from revoque.services import accounts, audit, store_identity
from revoque.services.catalog import clamp_page
from revoque.services.money import format_money
from revoque.services.order_admin import label
from revoque.services.pricing import as_utc
from revoque.services.queries import contains_any

PAGE_SIZE = 20
DETAIL_ORDERS = 25  # the detail page shows the latest orders; the orders page lists the rest
MONEY_KEPT = (PaymentStatus.PAID.value, PaymentStatus.PARTIALLY_REFUNDED.value)
REFUND_PROCESSED = "processed"
OWN_ROLE_MESSAGE = "You can't change your own role. Ask another admin to do it."
ADMINS_ONLY_MESSAGE = "Only an admin can change roles."
ROLE_LABELS = {Role.CUSTOMER.value: "Customer", Role.STAFF.value: "Staff", Role.ADMIN.value: "Admin"}


@dataclass
class Option:
    value: str
    label: str


ROLE_OPTIONS = [Option(role, text) for role, text in ROLE_LABELS.items()]
SORT_OPTIONS = [
    Option("joined", "Newest first"),
    Option("oldest", "Oldest first"),
    Option("orders", "Most orders"),
    Option("value", "Highest lifetime value"),
    Option("name", "Name A–Z"),
]
DEFAULT_SORT = "joined"


@dataclass
class CustomerFilters:
    q: str = ""  # part of a name or email
    role: str = ""  # one of Role, or "" for every account
    sort: str = DEFAULT_SORT


@dataclass
class CustomerRow:
    id: int
    name: str
    email: str
    role: str
    role_label: str
    is_active: bool
    joined_text: str
    orders: int
    lifetime_value: int
    lifetime_text: str


@dataclass
class CustomerPage:
    items: list[CustomerRow]
    total: int
    page: int
    pages: int


@dataclass
class CustomerOrder:
    number: str
    created_text: str
    status: str
    status_label: str
    payment_status: str
    payment_label: str
    total_text: str
    refunded_text: str  # "" when nothing was refunded


@dataclass
class CustomerAddress:
    lines: list[str]
    defaults: str  # "Default delivery · Default billing", or ""


@dataclass
class CustomerDetail:
    id: int
    name: str
    email: str
    phone: str
    role: str
    role_label: str
    is_active: bool
    joined_text: str
    order_count: int
    paid_orders: int
    lifetime_value: int
    lifetime_text: str
    refunded_text: str
    average_text: str  # lifetime value per paid order
    last_order_text: str
    orders: list[CustomerOrder] = field(default_factory=list)
    addresses: list[CustomerAddress] = field(default_factory=list)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, label(role))


def _day_text(moment: datetime) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y}"


def _time_text(moment: datetime) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M}"


# --- filters from the URL ------------------------------------------------------------------------


def parse_filters(params: dict[str, str]) -> CustomerFilters:
    """Filters from query parameters; an unknown role or sort is ignored, not an error."""
    role = params.get("role", "")
    sort = params.get("sort", "")
    return CustomerFilters(
        q=params.get("q", "").strip()[:100],
        role=role if role in ROLE_LABELS else "",
        sort=sort if sort in {o.value for o in SORT_OPTIONS} else DEFAULT_SORT,
    )


# --- figures per account, in SQL -------------------------------------------------------------------


def _order_figures():
    """Per account: the number of orders and the totals of those whose money was received."""
    kept = col(Order.payment_status).in_(MONEY_KEPT)
    return (
        select(
            Order.user_id.label("user_id"),
            func.count(col(Order.id)).label("orders"),
            func.coalesce(func.sum(case((kept, Order.total), else_=0)), 0).label("gross"),
        )
        .where(col(Order.user_id).is_not(None))
        .group_by(Order.user_id)
        .subquery()
    )


def _refund_figures():
    """Per account: processed refunds on orders whose money still counts as received."""
    return (
        select(Order.user_id.label("user_id"), func.sum(Refund.amount).label("refunded"))
        .join(Order, col(Order.id) == Refund.order_id)
        .where(
            col(Order.user_id).is_not(None),
            Refund.status == REFUND_PROCESSED,
            col(Order.payment_status).in_(MONEY_KEPT),
        )
        .group_by(Order.user_id)
        .subquery()
    )


def _filtered(statement, filters: CustomerFilters):
    if filters.role:
        statement = statement.where(User.role == filters.role)
    if filters.q:
        statement = statement.where(contains_any(filters.q, User.name, User.email))
    return statement


def list_customers(
    session: Session, filters: CustomerFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> CustomerPage:
    """A page of accounts with their order count and lifetime value; a page past the end gives the
    last page. Ties in any sort fall back to the newest account first, so pages never overlap."""
    filters = filters or CustomerFilters()
    currency = store_identity.currency(session)
    total = session.exec(_filtered(select(func.count()).select_from(User), filters)).one()
    page, pages = clamp_page(page, total, page_size)
    figures, refunds = _order_figures(), _refund_figures()
    orders = func.coalesce(figures.c.orders, 0)
    value = func.coalesce(figures.c.gross, 0) - func.coalesce(refunds.c.refunded, 0)
    newest = [col(User.created_at).desc(), col(User.id).desc()]
    order_by = {
        "joined": newest,
        "oldest": [col(User.created_at).asc(), col(User.id).asc()],
        "orders": [orders.desc(), *newest],
        "value": [value.desc(), *newest],
        "name": [func.lower(User.name).asc(), func.lower(User.email).asc(), col(User.id).asc()],
    }[filters.sort if filters.sort in {o.value for o in SORT_OPTIONS} else DEFAULT_SORT]
    statement = (
        select(User, orders, value)
        .outerjoin(figures, figures.c.user_id == User.id)
        .outerjoin(refunds, refunds.c.user_id == User.id)
    )
    rows = session.exec(
        _filtered(statement, filters).order_by(*order_by).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return CustomerPage(
        items=[_row(user, int(count), int(lifetime), currency) for user, count, lifetime in rows],
        total=total,
        page=page,
        pages=pages,
    )


def _row(user: User, orders: int, lifetime: int, currency: str) -> CustomerRow:
    return CustomerRow(
        id=user.id or 0,
        name=user.name or user.email.split("@")[0],
        email=user.email,
        role=user.role,
        role_label=role_label(user.role),
        is_active=user.is_active,
        joined_text=_day_text(user.created_at),
        orders=orders,
        lifetime_value=lifetime,
        lifetime_text=format_money(lifetime, currency),
    )


# --- one account -----------------------------------------------------------------------------------


def find_customer(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no account with that number.")
    return user


def lifetime_value(session: Session, user_id: int) -> int:
    """The account's lifetime value in minor units, as defined in the module docstring."""
    gross = session.exec(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.user_id == user_id, col(Order.payment_status).in_(MONEY_KEPT)
        )
    ).one()
    refunded = session.exec(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Order, col(Order.id) == Refund.order_id)
        .where(Order.user_id == user_id, Refund.status == REFUND_PROCESSED, col(Order.payment_status).in_(MONEY_KEPT))
    ).one()
    return int(gross) - int(refunded)


def _refunds_by_order(session: Session, order_ids: list[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    rows = session.exec(
        select(Refund.order_id, func.sum(Refund.amount))
        .where(col(Refund.order_id).in_(order_ids), Refund.status == REFUND_PROCESSED)
        .group_by(Refund.order_id)
    ).all()
    return {order_id: int(amount) for order_id, amount in rows}


def _order(order: Order, refunded: int) -> CustomerOrder:
    return CustomerOrder(
        number=order.number,
        created_text=_time_text(order.created_at),
        status=order.status,
        status_label=label(order.status),
        payment_status=order.payment_status,
        payment_label=label(order.payment_status),
        total_text=format_money(order.total, order.currency),
        refunded_text=format_money(refunded, order.currency) if refunded else "",
    )


def _address(address: Address) -> CustomerAddress:
    defaults = [
        text
        for flag, text in (
            (address.is_default_shipping, "Default delivery"),
            (address.is_default_billing, "Default billing"),
        )
        if flag
    ]
    return CustomerAddress(lines=accounts.address_lines(address.model_dump()), defaults=" · ".join(defaults))


def customer_detail(session: Session, user_id: int) -> CustomerDetail:
    """Everything staff see about one account (the latest DETAIL_ORDERS orders). Totals across
    orders are in the store's currency: it cannot change once an order exists."""
    currency = store_identity.currency(session)
    money = partial(format_money, currency=currency)
    user = find_customer(session, user_id)
    order_count, paid_orders = session.exec(
        select(
            func.count(col(Order.id)),
            func.coalesce(func.sum(case((col(Order.payment_status).in_(MONEY_KEPT), 1), else_=0)), 0),
        ).where(Order.user_id == user_id)
    ).one()
    latest = session.exec(
        select(Order)
        .where(Order.user_id == user_id)
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        .limit(DETAIL_ORDERS)
    ).all()
    refunds = _refunds_by_order(session, [o.id for o in latest])
    refunded_total = session.exec(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Order, col(Order.id) == Refund.order_id)
        .where(Order.user_id == user_id, Refund.status == REFUND_PROCESSED)
    ).one()
    addresses = session.exec(
        select(Address)
        .where(Address.user_id == user_id)
        .order_by(col(Address.is_default_shipping).desc(), col(Address.id).asc())
    ).all()
    value = lifetime_value(session, user_id)
    paid_orders = int(paid_orders)
    return CustomerDetail(
        id=user.id or 0,
        name=user.name,
        email=user.email,
        phone=user.phone,
        role=user.role,
        role_label=role_label(user.role),
        is_active=user.is_active,
        joined_text=_day_text(user.created_at),
        order_count=int(order_count),
        paid_orders=paid_orders,
        lifetime_value=value,
        lifetime_text=money(value),
        refunded_text=money(int(refunded_total)),
        average_text=money((2 * value + paid_orders) // (2 * paid_orders)) if paid_orders else "—",
        last_order_text=_time_text(latest[0].created_at) if latest else "",
        orders=[_order(o, refunds.get(o.id, 0)) for o in latest],
        addresses=[_address(a) for a in addresses],
    )


# --- changing a role -------------------------------------------------------------------------------


def _locked(session: Session, *user_ids: int) -> dict[int, User]:
    """The rows, read again under a row lock taken in id order (as every writer takes them)."""
    rows = session.exec(
        select(User)
        .where(col(User.id).in_(sorted(set(user_ids))))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {user.id: user for user in rows}


def _require_admin(actor: User | None) -> User:
    """The guard again, below the page: services never trust that the caller checked."""
    if actor is None or not actor.is_active or actor.role != Role.ADMIN.value:
        raise PermissionDenied(ADMINS_ONLY_MESSAGE)
    return actor


def change_role(session: Session, actor: User | None, user_id: int, role: str) -> User:
    """Give the account ``role``. Only an active admin may, never on their own account; the change
    is audited. Choosing the role the account already has changes (and records) nothing. Run it in
    ``session_scope(write=True)``."""
    _require_admin(actor)
    if role not in ROLE_LABELS:
        raise ValidationError("Choose customer, staff or admin.")
    if actor.id == user_id:
        raise PermissionDenied(OWN_ROLE_MESSAGE)
    rows = _locked(session, actor.id, user_id)
    current_actor, user = rows.get(actor.id), rows.get(user_id)
    if user is None:
        raise NotFound("There is no account with that number.")
    _require_admin(current_actor)  # still an admin, now that the rows are locked
    if user.role == role:
        return user
    before = audit.snapshot(user, ["role"])
    user.role = role
    session.add(user)
    session.flush()
    audit.record(session, current_actor, "customer.role", user, before, audit.snapshot(user, ["role"]), user.email)
    return user
