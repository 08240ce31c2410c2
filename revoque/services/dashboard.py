"""The figures on the admin dashboard, for a period of whole UTC days ending today.

What counts
-----------
- **Orders** are orders placed in the period that were not cancelled or fully refunded (a pending
  bank transfer counts: it was placed; an unpaid card order is cancelled when its hold expires).
- **Revenue** is those orders' totals (tax and delivery included) less refunds already processed on
  them (partial refunds); **average order value** is revenue ÷ orders, rounded half up.
- **New customers** are customer accounts created in the period.
- Each figure is compared with the period of the same length just before it.
- **The funnel** counts visitors, not clicks, at each step (``revoque.services.analytics``).

Money stays in integer minor units and is formatted with the store currency (every order is in it:
it cannot change once an order exists); nothing here knows about Reflex. ``now`` is a parameter so
tests can pin the calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductStatus,
    Refund,
    Role,
    StoreEvent,
    StoreEventKind,
    User,
    Variant,
)
from revoque.models.base import utcnow
from revoque.services import store_identity
from revoque.services.catalog import LOW_STOCK_THRESHOLD
from revoque.services.money import currency_info, format_money

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP_PRODUCTS_LIMIT = 5
LOW_STOCK_LIMIT = 8
NOT_SALES = (OrderStatus.CANCELLED.value, OrderStatus.REFUNDED.value)
REFUND_PROCESSED = "processed"
FUNNEL_STEPS = [
    (StoreEventKind.PRODUCT_VIEW, "Viewed a product"),
    (StoreEventKind.ADD_TO_CART, "Added to cart"),
    (StoreEventKind.CHECKOUT_STARTED, "Started checkout"),
    (StoreEventKind.ORDER_PLACED, "Placed an order"),
]


@dataclass(frozen=True)
class Period:
    """Whole UTC days: ``start`` inclusive, ``end`` exclusive (midnight after the last day)."""

    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)


@dataclass
class Metric:
    key: str
    label: str
    value: int
    value_text: str
    previous: int
    previous_text: str
    change_text: str  # "+12.5%", "−3.0%", "0%", "new"
    trend: str  # "up" | "down" | "flat"


@dataclass
class DayPoint:
    day: str  # ISO date
    label: str  # "3 Mar"
    revenue: int  # minor units
    revenue_major: int  # whole currency units, for the chart's axis
    revenue_text: str
    orders: int


@dataclass
class TopProduct:
    title: str
    units: int
    revenue: int
    revenue_text: str


@dataclass
class LowStockItem:
    product_title: str
    variant_title: str
    sku: str
    stock: int
    href: str


@dataclass
class FunnelStep:
    label: str
    visitors: int
    rate_text: str  # of the step before ("" for the first)
    share: int  # of the first step, 0–100, for the bar's width


@dataclass
class Dashboard:
    days: int
    range_text: str  # "1 Mar – 30 Mar 2027"
    metrics: list[Metric] = field(default_factory=list)
    series: list[DayPoint] = field(default_factory=list)
    top_products: list[TopProduct] = field(default_factory=list)
    low_stock: list[LowStockItem] = field(default_factory=list)
    low_stock_total: int = 0
    funnel: list[FunnelStep] = field(default_factory=list)


# --- pure helpers ----------------------------------------------------------------------------------


def parse_period(value: str | int | None) -> int:
    """7, 30 or 90 days; anything else is the default (a bad URL never fails the page)."""
    try:
        days = int(value) if value not in (None, "") else DEFAULT_PERIOD
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def period_ending_today(days: int, now: datetime) -> Period:
    """The last ``days`` whole UTC days, today included."""
    end = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time.min, tzinfo=UTC)
    return Period(end - timedelta(days=days), end)


def change(current: int, previous: int) -> tuple[str, str]:
    """(text, trend) of the change from ``previous`` to ``current``, one decimal place."""
    if previous == 0:
        return ("new", "up") if current > 0 else ("0%", "flat")
    tenths = round((current - previous) * 1000 / previous)
    if tenths == 0:
        return "0%", "flat"
    sign = "+" if tenths > 0 else "−"
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}%", "up" if tenths > 0 else "down"


def average(total: int, count: int) -> int:
    """``total / count`` rounded half up in integers (0 for no orders)."""
    return (2 * total + count) // (2 * count) if count else 0


def _percent(part: int, whole: int) -> str:
    return f"{round(part * 100 / whole)}%" if whole else "—"


def _day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def _range_text(period: Period) -> str:
    first, last = period.start.date(), (period.end - timedelta(days=1)).date()
    start = f"{first.day} {first:%b}" + ("" if first.year == last.year else f" {first.year}")
    return f"{start} – {last.day} {last:%b %Y}"


# --- queries ---------------------------------------------------------------------------------------


def _sales(statement, period: Period):
    return statement.where(
        Order.created_at >= period.start, Order.created_at < period.end, col(Order.status).not_in(NOT_SALES)
    )


def _refunded(session: Session, period: Period) -> int:
    statement = (
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.status == REFUND_PROCESSED)
    )
    return int(session.exec(_sales(statement, period)).one())


def sales_totals(session: Session, period: Period) -> tuple[int, int]:
    """(revenue, orders) for ``period``, as defined in the module docstring."""
    gross, count = session.exec(
        _sales(select(func.coalesce(func.sum(Order.total), 0), func.count(col(Order.id))), period)
    ).one()
    return int(gross) - _refunded(session, period), int(count)


def new_customers(session: Session, period: Period) -> int:
    return session.exec(
        select(func.count(col(User.id))).where(
            User.role == Role.CUSTOMER.value, User.created_at >= period.start, User.created_at < period.end
        )
    ).one()


def _utc_day(session: Session, column):
    """The UTC calendar day of a timestamp column, in SQL (PostgreSQL would use the session zone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def daily_series(session: Session, period: Period, currency: str) -> list[DayPoint]:
    """Revenue (before refunds) and orders per day, every day of the period, days without sales as 0."""
    day = _utc_day(session, Order.created_at)
    rows = session.exec(
        _sales(select(day, func.coalesce(func.sum(Order.total), 0), func.count(col(Order.id))), period).group_by(day)
    ).all()
    by_day = {str(d)[:10]: (int(total), int(count)) for d, total, count in rows}
    unit = 10 ** currency_info(currency).exponent
    points = []
    for offset in range(period.days):
        current = period.start.date() + timedelta(days=offset)
        revenue, orders = by_day.get(current.isoformat(), (0, 0))
        points.append(
            DayPoint(
                day=current.isoformat(),
                label=_day_label(current),
                revenue=revenue,
                revenue_major=revenue // unit,
                revenue_text=format_money(revenue, currency),
                orders=orders,
            )
        )
    return points


def top_products(session: Session, period: Period, currency: str, limit: int = TOP_PRODUCTS_LIMIT) -> list[TopProduct]:
    """Best sellers by revenue (line totals) in the period."""
    revenue = func.sum(OrderLine.line_total)
    rows = session.exec(
        _sales(
            select(func.max(OrderLine.product_title), func.sum(OrderLine.quantity), revenue).join(
                Order, Order.id == OrderLine.order_id
            ),
            period,
        )
        .group_by(OrderLine.product_id, OrderLine.product_title)
        .order_by(revenue.desc(), func.max(OrderLine.product_title))
        .limit(limit)
    ).all()
    return [
        TopProduct(title=t, units=int(u), revenue=int(r), revenue_text=format_money(int(r), currency))
        for t, u, r in rows
    ]


def _low_stock_filter(statement, threshold: int):
    return statement.where(
        Product.status == ProductStatus.ACTIVE.value,
        col(Variant.track_inventory).is_(True),
        Variant.stock_on_hand <= threshold,
    )


def low_stock(
    session: Session, threshold: int = LOW_STOCK_THRESHOLD, limit: int = LOW_STOCK_LIMIT
) -> tuple[list[LowStockItem], int]:
    """Variants of active products at or below ``threshold`` (fewest first), and how many there are."""
    join = (Product, Product.id == Variant.product_id)
    total = session.exec(_low_stock_filter(select(func.count()).select_from(Variant).join(*join), threshold)).one()
    rows = session.exec(
        _low_stock_filter(select(Variant, Product).join(*join), threshold)
        .order_by(Variant.stock_on_hand, Product.title, Variant.position)
        .limit(limit)
    ).all()
    items = [
        LowStockItem(
            product_title=product.title,
            variant_title=variant.title,
            sku=variant.sku,
            stock=variant.stock_on_hand,
            href=f"/product/{product.slug}",
        )
        for variant, product in rows
    ]
    return items, int(total)


def funnel(session: Session, period: Period) -> list[FunnelStep]:
    """Distinct visitors at each step of the funnel in the period."""
    rows = session.exec(
        select(StoreEvent.kind, func.count(func.distinct(StoreEvent.visitor)))
        .where(StoreEvent.created_at >= period.start, StoreEvent.created_at < period.end)
        .group_by(StoreEvent.kind)
    ).all()
    counts = {kind: int(n) for kind, n in rows}
    steps, first, before = [], None, None
    for kind, label in FUNNEL_STEPS:
        visitors = counts.get(kind.value, 0)
        first = visitors if first is None else first
        steps.append(
            FunnelStep(
                label=label,
                visitors=visitors,
                rate_text="" if before is None else _percent(visitors, before),
                share=min(100, round(visitors * 100 / first)) if first else 0,
            )
        )
        before = visitors
    return steps


def _count(number: int) -> str:
    return f"{number:,}"


def _metric(key: str, label: str, current: int, previous: int, show: Callable[[int], str]) -> Metric:
    text, trend = change(current, previous)
    return Metric(
        key=key,
        label=label,
        value=current,
        value_text=show(current),
        previous=previous,
        previous_text=show(previous),
        change_text=text,
        trend=trend,
    )


def build_dashboard(session: Session, days: int = DEFAULT_PERIOD, now: datetime | None = None) -> Dashboard:
    """Everything the dashboard shows for the last ``days`` days (7, 30 or 90)."""
    period = period_ending_today(parse_period(days), now or utcnow())
    before = period.previous()
    currency = store_identity.currency(session)
    money = partial(format_money, currency=currency)
    revenue, orders = sales_totals(session, period)
    previous_revenue, previous_orders = sales_totals(session, before)
    lows, low_total = low_stock(session)
    return Dashboard(
        days=period.days,
        range_text=_range_text(period),
        metrics=[
            _metric("revenue", "Revenue", revenue, previous_revenue, money),
            _metric("orders", "Orders", orders, previous_orders, _count),
            _metric(
                "aov",
                "Average order value",
                average(revenue, orders),
                average(previous_revenue, previous_orders),
                money,
            ),
            _metric(
                "customers", "New customers", new_customers(session, period), new_customers(session, before), _count
            ),
        ],
        series=daily_series(session, period, currency),
        top_products=top_products(session, period, currency),
        low_stock=lows,
        low_stock_total=low_total,
        funnel=funnel(session, period),
    )
