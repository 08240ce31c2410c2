"""Dashboard figures on a real database (SQLite and PostgreSQL), from a small store whose numbers
are worked out by hand, and the dashboard page as staff see it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from revoque.db import session_scope
from revoque.models import (
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    Role,
    StoreEvent,
    StoreEventKind,
)
from revoque.pages.admin.dashboard import DashboardState
from revoque.services.dashboard import build_dashboard
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, frame, page_state, run, token_for

NOW = datetime(2027, 3, 30, 15, 0, tzinfo=UTC)  # the 7-day period is 24–30 March, the one before 17–23


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, second, tzinfo=UTC)


def _order(session, variant, quantity, when, status=OrderStatus.PAID, payment=PaymentStatus.PAID):
    order = add_order(session, [(variant, quantity)], status=status, payment_status=payment, take_stock=False)
    order.created_at = when
    session.add(order)
    session.flush()
    return order


def _refund(session, order, amount: int, status: str) -> None:
    payment = Payment(
        order_id=order.id, provider="sandbox", reference=f"ref-{order.id}-{status}", amount=order.total, currency="NGN"
    )
    session.add(payment)
    session.flush()
    session.add(Refund(order_id=order.id, payment_id=payment.id, amount=amount, currency="NGN", status=status))


def _event(session, kind, visitor: str, when: datetime) -> None:
    session.add(StoreEvent(kind=kind, visitor=visitor, created_at=when))


@pytest.fixture
def store(database) -> None:
    with session_scope(write=True) as session:
        scarf = variants_of(session, add_product(session, "Kente Scarf", variants=[({}, 1_500_000, 2)]))[0]
        tote = variants_of(session, add_product(session, "Ankara Tote", variants=[({}, 500_000, 50)]))[0]
        bracelet = variants_of(session, add_product(session, "Beaded Bracelet", variants=[({}, 300_000, 0)]))[0]
        shirt = variants_of(session, add_product(session, "Adire Shirt", variants=[({}, 1_000_000, 5)]))[0]
        sandals = variants_of(session, add_product(session, "Leather Sandals", variants=[({}, 700_000, 6)]))[0]
        add_product(session, "Draft Hat", status="draft", variants=[({}, 100_000, 1)])
        untracked = variants_of(session, add_product(session, "Gift Card", variants=[({}, 100_000, 0)]))[0]
        untracked.track_inventory = False
        session.add(untracked)

        # this period (24–30 March)
        _order(session, scarf, 1, at(25))  # 1,500,000
        _order(session, tote, 2, at(30, 9), OrderStatus.PENDING, PaymentStatus.UNPAID)  # 1,000,000
        _order(session, sandals, 1, at(26), OrderStatus.CANCELLED, PaymentStatus.UNPAID)  # not a sale
        _order(session, shirt, 1, at(26), OrderStatus.REFUNDED, PaymentStatus.REFUNDED)  # not a sale
        partly = _order(session, shirt, 1, at(27), OrderStatus.DELIVERED, PaymentStatus.PARTIALLY_REFUNDED)
        _refund(session, partly, 200_000, "processed")  # 1,000,000 − 200,000
        _order(session, bracelet, 1, at(24, 0))  # 300,000, the first moment of the period
        # the period before (17–23 March)
        _order(session, shirt, 1, at(20))  # 1,000,000
        _order(session, tote, 1, at(23, 23, 59, 59))  # 500,000, the last moment before the period
        # too old for either
        _order(session, scarf, 3, at(2))

        for email, day, role in [
            ("new1@example.com", 25, Role.CUSTOMER),
            ("new2@example.com", 29, Role.CUSTOMER),
            ("staff@example.com", 26, Role.STAFF),
            ("old@example.com", 18, Role.CUSTOMER),
        ]:
            add_user(session, email, role).created_at = at(day)

        for visitor in ["a", "a", "b", "c", "d"]:
            _event(session, StoreEventKind.PRODUCT_VIEW, visitor, at(28))
        for visitor in ["a", "b", "b"]:
            _event(session, StoreEventKind.ADD_TO_CART, visitor, at(28, 11))
        _event(session, StoreEventKind.CHECKOUT_STARTED, "a", at(28, 12))
        _event(session, StoreEventKind.ORDER_PLACED, "a", at(28, 13))
        _event(session, StoreEventKind.PRODUCT_VIEW, "z", at(20))  # the period before


def test_headline_figures_and_their_change(store):
    with session_scope() as session:
        board = build_dashboard(session, 7, NOW)
    figures = {m.key: (m.value, m.value_text, m.previous, m.change_text, m.trend) for m in board.metrics}
    assert figures == {
        "revenue": (3_600_000, "₦36,000", 1_500_000, "+140.0%", "up"),
        "orders": (4, "4", 2, "+100.0%", "up"),
        "aov": (900_000, "₦9,000", 750_000, "+20.0%", "up"),
        "customers": (2, "2", 1, "+100.0%", "up"),
    }
    assert (board.days, board.range_text) == (7, "24 Mar – 30 Mar 2027")


def test_revenue_and_orders_per_day(store):
    with session_scope() as session:
        series = build_dashboard(session, 7, NOW).series
    assert [p.label for p in series] == ["24 Mar", "25 Mar", "26 Mar", "27 Mar", "28 Mar", "29 Mar", "30 Mar"]
    assert [p.revenue for p in series] == [300_000, 1_500_000, 0, 1_000_000, 0, 0, 1_000_000]
    assert [p.orders for p in series] == [1, 1, 0, 1, 0, 0, 1]
    assert series[1].revenue_major == 15_000 and series[1].revenue_text == "₦15,000"


def test_top_products_low_stock_and_the_funnel(store):
    with session_scope() as session:
        board = build_dashboard(session, 7, NOW)
    assert [(p.title, p.units, p.revenue_text) for p in board.top_products] == [
        ("Kente Scarf", 1, "₦15,000"),
        ("Adire Shirt", 1, "₦10,000"),
        ("Ankara Tote", 2, "₦10,000"),
        ("Beaded Bracelet", 1, "₦3,000"),
    ]
    assert [(i.product_title, i.stock, i.href) for i in board.low_stock] == [
        ("Beaded Bracelet", 0, "/product/beaded-bracelet"),
        ("Kente Scarf", 2, "/product/kente-scarf"),
        ("Adire Shirt", 5, "/product/adire-shirt"),
    ]
    assert board.low_stock_total == 3
    assert [(s.label, s.visitors, s.rate_text, s.share) for s in board.funnel] == [
        ("Viewed a product", 4, "", 100),
        ("Added to cart", 2, "50%", 50),
        ("Started checkout", 1, "50%", 25),
        ("Placed an order", 1, "100%", 25),
    ]


def test_a_longer_period_takes_in_older_orders(store):
    with session_scope() as session:
        board = build_dashboard(session, 30, NOW)  # 1–30 March; before it 30 Jan – 28 Feb: nothing
    revenue = next(m for m in board.metrics if m.key == "revenue")
    assert (revenue.value, revenue.previous, revenue.change_text) == (3_600_000 + 1_500_000 + 4_500_000, 0, "new")
    assert len(board.series) == 30


def test_an_empty_store_shows_zeros_not_errors(database):
    with session_scope() as session:
        board = build_dashboard(session, 90, NOW)
    assert [m.value_text for m in board.metrics] == ["₦0", "0", "₦0", "0"]
    assert {m.change_text for m in board.metrics} == {"0%"}
    assert board.top_products == [] and board.low_stock == [] and len(board.series) == 90
    assert [s.rate_text for s in board.funnel] == ["", "—", "—", "—"]


def test_staff_see_the_dashboard_for_the_period_in_the_url(store):
    state = page_state(DashboardState, token_for("staff"), "http://localhost:3000/admin?period=90")
    assert run(DashboardState.load, state) is None
    assert frame(state).access == "granted"
    assert state.loaded and state.days == 90 and len(state.series) == 90
    assert [m.label for m in state.metrics] == ["Revenue", "Orders", "Average order value", "New customers"]
    assert state.low_stock_total == 3


def test_a_customer_gets_none_of_the_figures(store):
    state = page_state(DashboardState, token_for("customer"), "http://localhost:3000/admin")
    assert run(DashboardState.load, state) is None
    assert frame(state).access == "not_allowed"
    assert state.metrics == [] and state.series == [] and state.top_products == [] and not state.loaded
