"""Coupons as staff manage them: the list with how often each was used, and creating, editing and
switching coupons off, with every rule the shop applies at checkout (``revoque.services.pricing``):
percent or fixed amount, start and end dates, a minimum subtotal, a total usage limit, a
per-customer limit and an optional list of the only customers who may use it.

Coupons are switched off rather than deleted: orders and redemptions point at them, and the usage
counts must survive. Every change is written to the audit log in the same transaction, with the
fields before → after (the customer list included). Dates are whole UTC days: a coupon "starting"
on 1 March works from 00:00 that day, one "ending" on 31 March works until 23:59:59 that day, which
is the day the shopper is told it expired on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from revoque.errors import NotFound
from revoque.models import Coupon, CouponCustomer, CouponKind, CouponRedemption, Order, User
from revoque.models.base import utcnow
from revoque.services import admin_forms, audit, store_identity
from revoque.services.admin_forms import FormInvalid, Problems
from revoque.services.catalog import clamp_page
from revoque.services.money import format_money
from revoque.services.pricing import as_utc, describe_coupon, normalise_code

PAGE_SIZE = 25
MAX_CUSTOMERS = 500
RECENT_USES = 10
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
KIND_LABELS = {CouponKind.PERCENT.value: "Percent off", CouponKind.FIXED.value: "Fixed amount off"}
STATE_FILTERS = ("on", "off")  # the list's "Switched on / off" filter
AUDITED_FIELDS = [
    "code",
    "kind",
    "value",
    "min_subtotal",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
    "active",
]


# --- what the pages show -------------------------------------------------------------------------


@dataclass
class CouponRow:
    id: int
    code: str
    description: str  # "10% off", "₦5,000 off"
    rules: list[str]  # "Orders of ₦30,000 or more", "Until 31 Mar 2027", "Once per customer", …
    uses: int
    uses_text: str  # "12" or "12 of 100"
    status: str  # live | scheduled | expired | used_up | off
    status_label: str
    active: bool


@dataclass
class CouponPage:
    items: list[CouponRow]
    total: int
    page: int
    pages: int


@dataclass
class CouponFilters:
    q: str = ""  # part of a code
    state: str = ""  # "on", "off" or "" for both


@dataclass
class UseRow:
    number: str
    email: str
    created_text: str
    discount_text: str


@dataclass
class CouponFormValues:
    """The edit form's fields as text (what staff typed or what is stored), plus what the page shows
    beside it."""

    id: int = 0  # 0 for a new coupon
    code: str = ""
    kind: str = CouponKind.PERCENT.value
    value: str = ""
    min_subtotal: str = ""
    starts_on: str = ""
    ends_on: str = ""
    usage_limit: str = ""
    per_customer_limit: str = ""
    customers: str = ""  # one email a line
    active: bool = True
    uses: int = 0
    status_label: str = ""
    recent_uses: list[UseRow] = field(default_factory=list)


@dataclass(frozen=True)
class CouponInput:
    """A coupon as the form describes it, checked and typed."""

    code: str
    kind: str
    value: int  # basis points (percent) or minor units (fixed)
    min_subtotal: int
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None
    customers: tuple[str, ...]
    active: bool


def _short_day(moment: datetime) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y}"


def coupon_status(coupon: Coupon, uses: int, now: datetime | None = None) -> str:
    """Why a shopper could or could not use the coupon right now, as one word for a badge."""
    now = as_utc(now or utcnow())
    if not coupon.active:
        return "off"
    if coupon.ends_at is not None and as_utc(coupon.ends_at) <= now:
        return "expired"
    if coupon.starts_at is not None and as_utc(coupon.starts_at) > now:
        return "scheduled"
    if coupon.usage_limit is not None and uses >= coupon.usage_limit:
        return "used_up"
    return "live"


STATUS_LABELS = {
    "live": "Live",
    "scheduled": "Scheduled",
    "expired": "Expired",
    "used_up": "Used up",
    "off": "Switched off",
}


def coupon_rules(coupon: Coupon, customer_count: int, currency: str) -> list[str]:
    """The coupon's conditions in words (amounts in ``currency``, the store's), as the list shows them."""
    rules = []
    if coupon.min_subtotal:
        rules.append(f"Orders of {format_money(coupon.min_subtotal, currency)} or more")
    if coupon.starts_at and coupon.ends_at:
        rules.append(f"{_short_day(coupon.starts_at)} – {_short_day(coupon.ends_at)}")
    elif coupon.starts_at:
        rules.append(f"From {_short_day(coupon.starts_at)}")
    elif coupon.ends_at:
        rules.append(f"Until {_short_day(coupon.ends_at)}")
    if coupon.usage_limit is not None:
        rules.append(f"{coupon.usage_limit} use{'' if coupon.usage_limit == 1 else 's'} in all")
    if coupon.per_customer_limit is not None:
        times = coupon.per_customer_limit
        rules.append("Once per customer" if times == 1 else f"{times} times per customer")
    if customer_count:
        rules.append(f"Only {customer_count} listed customer{'' if customer_count == 1 else 's'}")
    return rules


# --- the list --------------------------------------------------------------------------------------


def parse_filters(params: dict[str, str]) -> CouponFilters:
    state = params.get("state", "")
    return CouponFilters(q=normalise_code(params.get("q", ""))[:40], state=state if state in STATE_FILTERS else "")


def _filtered(statement, filters: CouponFilters):
    if filters.q:
        statement = statement.where(col(Coupon.code).contains(filters.q, autoescape=True))
    if filters.state:
        statement = statement.where(Coupon.active == (filters.state == "on"))
    return statement


def redemption_counts(session: Session, coupon_ids: list[int]) -> dict[int, int]:
    """Coupon id → how many orders used it."""
    if not coupon_ids:
        return {}
    rows = session.exec(
        select(CouponRedemption.coupon_id, func.count())
        .where(col(CouponRedemption.coupon_id).in_(coupon_ids))
        .group_by(CouponRedemption.coupon_id)
    ).all()
    return {coupon_id: int(count) for coupon_id, count in rows}


def _customer_counts(session: Session, coupon_ids: list[int]) -> dict[int, int]:
    if not coupon_ids:
        return {}
    rows = session.exec(
        select(CouponCustomer.coupon_id, func.count())
        .where(col(CouponCustomer.coupon_id).in_(coupon_ids))
        .group_by(CouponCustomer.coupon_id)
    ).all()
    return {coupon_id: int(count) for coupon_id, count in rows}


def list_coupons(
    session: Session,
    filters: CouponFilters | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> CouponPage:
    """Newest first, a page at a time, each with its usage count and status."""
    filters = filters or CouponFilters()
    currency = store_identity.currency(session)
    total = session.exec(_filtered(select(func.count()).select_from(Coupon), filters)).one()
    page, pages = clamp_page(page, total, page_size)
    coupons = session.exec(
        _filtered(select(Coupon), filters)
        .order_by(col(Coupon.created_at).desc(), col(Coupon.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    ids = [c.id for c in coupons]
    uses, customers = redemption_counts(session, ids), _customer_counts(session, ids)
    rows = [_row(c, uses.get(c.id, 0), customers.get(c.id, 0), now, currency) for c in coupons]
    return CouponPage(rows, total, page, pages)


def _row(coupon: Coupon, uses: int, customer_count: int, now: datetime | None, currency: str) -> CouponRow:
    status = coupon_status(coupon, uses, now)
    return CouponRow(
        id=coupon.id,
        code=coupon.code,
        description=describe_coupon(coupon, currency),
        rules=coupon_rules(coupon, customer_count, currency),
        uses=uses,
        uses_text=f"{uses} of {coupon.usage_limit}" if coupon.usage_limit is not None else str(uses),
        status=status,
        status_label=STATUS_LABELS[status],
        active=coupon.active,
    )


# --- one coupon ------------------------------------------------------------------------------------


def get_coupon(session: Session, coupon_id: int) -> Coupon:
    coupon = session.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound("There is no such coupon. It may have been removed.")
    return coupon


def _customers(session: Session, coupon_id: int) -> list[str]:
    return list(
        session.exec(
            select(CouponCustomer.email).where(CouponCustomer.coupon_id == coupon_id).order_by(CouponCustomer.email)
        )
    )


def _day_text(moment: datetime | None) -> str:
    return as_utc(moment).date().isoformat() if moment else ""


def recent_uses(session: Session, coupon_id: int, limit: int = RECENT_USES) -> list[UseRow]:
    rows = session.exec(
        select(CouponRedemption, Order)
        .join(Order, col(Order.id) == CouponRedemption.order_id)
        .where(CouponRedemption.coupon_id == coupon_id)
        .order_by(col(CouponRedemption.created_at).desc(), col(CouponRedemption.id).desc())
        .limit(limit)
    ).all()
    return [
        UseRow(
            order.number,
            redemption.email,
            _short_day(redemption.created_at),
            format_money(order.discount, order.currency),
        )
        for redemption, order in rows
    ]


def coupon_form_values(session: Session, coupon_id: int, now: datetime | None = None) -> CouponFormValues:
    """The stored coupon as the edit form shows it."""
    coupon = get_coupon(session, coupon_id)
    uses = redemption_counts(session, [coupon.id]).get(coupon.id, 0)
    currency = store_identity.currency(session)
    percent = coupon.kind == CouponKind.PERCENT
    return CouponFormValues(
        id=coupon.id,
        code=coupon.code,
        kind=coupon.kind,
        value=admin_forms.percent_text(coupon.value) if percent else admin_forms.major_text(coupon.value, currency),
        min_subtotal=admin_forms.major_text(coupon.min_subtotal, currency) if coupon.min_subtotal else "",
        starts_on=_day_text(coupon.starts_at),
        ends_on=_day_text(coupon.ends_at),
        usage_limit="" if coupon.usage_limit is None else str(coupon.usage_limit),
        per_customer_limit="" if coupon.per_customer_limit is None else str(coupon.per_customer_limit),
        customers="\n".join(_customers(session, coupon.id)),
        active=coupon.active,
        uses=uses,
        status_label=STATUS_LABELS[coupon_status(coupon, uses, now)],
        recent_uses=recent_uses(session, coupon.id),
    )


def form_values_from(form: dict) -> CouponFormValues:
    """What staff typed, kept as they typed it, so a refused form comes back filled in."""
    return CouponFormValues(
        code=admin_forms.text(form, "code"),
        kind=admin_forms.text(form, "kind") or CouponKind.PERCENT.value,
        value=admin_forms.text(form, "value"),
        min_subtotal=admin_forms.text(form, "min_subtotal"),
        starts_on=admin_forms.text(form, "starts_on"),
        ends_on=admin_forms.text(form, "ends_on"),
        usage_limit=admin_forms.text(form, "usage_limit"),
        per_customer_limit=admin_forms.text(form, "per_customer_limit"),
        customers=admin_forms.text(form, "customers"),
        active=admin_forms.flag(form, "active"),
    )


# --- checking the form -----------------------------------------------------------------------------


def parse_coupon_form(form: dict, currency: str) -> CouponInput:
    """The form as a ``CouponInput``, or ``FormInvalid`` naming every field that is wrong (amounts
    are read in ``currency``, the store's)."""
    problems = Problems()
    code = normalise_code(admin_forms.text(form, "code"))
    if not code:
        problems.add("code", "Code is required.")
    elif not CODE_PATTERN.match(code):
        problems.add("code", "Code must be 3 to 40 letters, digits, dashes or underscores, like SUMMER25.")
    kind = admin_forms.text(form, "kind")
    value = 0
    if kind == CouponKind.PERCENT:
        value = admin_forms.percent_bp(problems, "value", admin_forms.text(form, "value"), "Discount", allow_zero=False)
    elif kind == CouponKind.FIXED:
        value = admin_forms.money(
            problems, "value", admin_forms.text(form, "value"), "Discount", currency, positive=True
        )
    else:
        problems.add("kind", "Choose percent off or a fixed amount off.")
    min_subtotal = admin_forms.money(
        problems, "min_subtotal", admin_forms.text(form, "min_subtotal"), "Minimum subtotal", currency
    )
    starts = admin_forms.day(problems, "starts_on", admin_forms.text(form, "starts_on"), "Start date")
    ends = admin_forms.day(problems, "ends_on", admin_forms.text(form, "ends_on"), "End date")
    if starts and ends and ends < starts:
        problems.add("ends_on", "The end date must be on or after the start date.")
    usage_limit = admin_forms.whole_number(problems, "usage_limit", admin_forms.text(form, "usage_limit"), "Total uses")
    per_customer = admin_forms.whole_number(
        problems, "per_customer_limit", admin_forms.text(form, "per_customer_limit"), "Uses per customer"
    )
    if usage_limit is not None and per_customer is not None and per_customer > usage_limit:
        problems.add("per_customer_limit", "Uses per customer can't be more than the total uses.")
    customers = admin_forms.email_list(
        problems, "customers", admin_forms.text(form, "customers"), "Customers", MAX_CUSTOMERS
    )
    problems.raise_if_any()
    return CouponInput(
        code=code,
        kind=kind,
        value=value,
        min_subtotal=min_subtotal,
        starts_at=admin_forms.start_of_day(starts) if starts else None,
        ends_at=admin_forms.end_of_day(ends) if ends else None,
        usage_limit=usage_limit,
        per_customer_limit=per_customer,
        customers=tuple(customers),
        active=admin_forms.flag(form, "active"),
    )


# --- changes ----------------------------------------------------------------------------------------


def _snapshot(session: Session, coupon: Coupon) -> dict:
    return {**audit.snapshot(coupon, AUDITED_FIELDS), "customers": _customers(session, coupon.id)}


def _check_code_free(session: Session, code: str, coupon_id: int | None) -> None:
    statement = select(Coupon.id).where(Coupon.code == code)
    if coupon_id is not None:
        statement = statement.where(Coupon.id != coupon_id)
    if session.exec(statement).first() is not None:
        raise FormInvalid({"code": f"There is already a coupon {code}. Choose another code."})


def _apply(session: Session, coupon: Coupon, data: CouponInput) -> None:
    for name in AUDITED_FIELDS:
        setattr(coupon, name, getattr(data, name))
    try:
        with session.begin_nested():  # a concurrent save of the same code fails here, not the transaction
            session.add(coupon)
            session.flush()
    except IntegrityError:
        raise FormInvalid({"code": f"There is already a coupon {data.code}. Choose another code."}) from None
    session.exec(delete(CouponCustomer).where(CouponCustomer.coupon_id == coupon.id))
    session.add_all(CouponCustomer(coupon_id=coupon.id, email=email) for email in data.customers)
    session.flush()


def create_coupon(session: Session, actor: User, data: CouponInput, now: datetime | None = None) -> Coupon:
    """A new coupon; a code already in use, or an end date already past, is refused."""
    _check_code_free(session, data.code, None)
    if data.ends_at is not None and data.ends_at <= as_utc(now or utcnow()):
        raise FormInvalid({"ends_on": "The end date has passed: nobody could use this coupon. Choose a later date."})
    coupon = Coupon(code=data.code, kind=data.kind, value=data.value)
    _apply(session, coupon, data)
    audit.record(session, actor, "coupon.create", coupon, None, _snapshot(session, coupon), coupon.code)
    return coupon


def update_coupon(session: Session, actor: User, coupon_id: int, data: CouponInput) -> Coupon:
    """Change every rule of a coupon. Orders that already used it keep the discount they got."""
    coupon = _locked(session, coupon_id)
    _check_code_free(session, data.code, coupon.id)
    before = _snapshot(session, coupon)
    _apply(session, coupon, data)
    audit.record(session, actor, "coupon.update", coupon, before, _snapshot(session, coupon), coupon.code)
    return coupon


def set_coupon_active(session: Session, actor: User, coupon_id: int, active: bool) -> Coupon:
    """Switch a coupon off (shoppers are told "no longer active") or back on."""
    coupon = _locked(session, coupon_id)
    before = audit.snapshot(coupon, ["active"])
    coupon.active = active
    session.add(coupon)
    session.flush()
    action = "coupon.activate" if active else "coupon.deactivate"
    audit.record(session, actor, action, coupon, before, audit.snapshot(coupon, ["active"]), coupon.code)
    return coupon


def _locked(session: Session, coupon_id: int) -> Coupon:
    """The coupon, row-locked so a concurrent edit or order waits (see pricing.lock_coupon)."""
    coupon = session.exec(
        select(Coupon).where(Coupon.id == coupon_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if coupon is None:
        raise NotFound("There is no such coupon. It may have been removed.")
    return coupon
