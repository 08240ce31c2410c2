"""The admin in Chromium: an admin made with the CLI signs in and reads the dashboard (figures that
match the dashboard service, charts drawn, the period switch), moves an order to shipped and finds
both changes in the audit log, and uses the phone-sized layout; a customer who opens /admin is told
it is not allowed and sees none of the figures."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from revoque.models import Order, OrderStatus, PaymentStatus, Product, StoreEvent, StoreEventKind, User, Variant
from revoque.models.base import utcnow
from revoque.services.accounts import hash_password
from revoque.services.dashboard import build_dashboard
from tests.e2e.test_storefront_journey import open_page
from tests.factories import add_order
from tests.support.server import run_cli

PASSWORD = "correct horse 42"


def _sales(session) -> None:
    """A few orders over the last days and a small funnel, so every block has something to show."""
    variants = []
    for product in session.exec(select(Product).where(Product.status == "active").order_by(Product.id)):
        variant = session.exec(
            select(Variant).where(Variant.product_id == product.id, Variant.stock_on_hand >= 5).order_by(Variant.id)
        ).first()
        if variant is not None:
            variants.append(variant)
        if len(variants) == 4:
            break
    now = utcnow()
    buyers = ["Ada Obi", "Bola Ade", "Chidi Eze", "Dayo Bello"]
    for age, (variant, quantity) in enumerate(zip(variants * 2, [1, 2, 1, 3, 2, 1, 1, 2], strict=True)):
        name = buyers[age % 4]
        email = f"{name.split()[0].lower()}@example.com"
        order = add_order(
            session, [(variant, quantity)], email=email, status=OrderStatus.PAID, payment_status=PaymentStatus.PAID
        )
        order.created_at = now - timedelta(days=age * 3, hours=1)
        order.shipping_method_name = "Lagos delivery"
        order.shipping_address = {"name": name, "line1": "12 Admiralty Way", "city": "Lekki", "state": "Lagos"}
        session.add(order)
    for day in (2, 9):
        session.add(User(email=f"new-{day}@example.com", password_hash="-", created_at=now - timedelta(days=day)))
    for kind, visitors in [
        (StoreEventKind.PRODUCT_VIEW, 40),
        (StoreEventKind.ADD_TO_CART, 14),
        (StoreEventKind.CHECKOUT_STARTED, 9),
        (StoreEventKind.ORDER_PLACED, 6),
    ]:
        session.add_all(StoreEvent(kind=kind, visitor=f"e2e-{i}", created_at=now) for i in range(visitors))
    session.commit()


def sign_in(page: Page, store, email: str, next_path: str) -> None:
    open_page(page, f"{store.url}{next_path}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fadmin"))
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("sign-in-submit").click()
    # Password hashing is deliberately slow (argon2id); on a busy 2-core machine it can take seconds.
    expect(page).not_to_have_url(re.compile(r"/sign-in"), timeout=30_000)


def test_an_admin_signs_in_and_reads_the_dashboard(page: Page, store, store_db, shot):
    run_cli(store.env, "create-admin", "boss@example.com", "--password", PASSWORD)
    _sales(store_db)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, store, "boss@example.com", "/admin")
    expect(page).to_have_url(re.compile(r"/admin/?$"))
    expect(page.get_by_test_id("admin-title")).to_have_text("Dashboard")
    expect(page.get_by_test_id("metric-card")).to_have_count(4)
    expect(page.get_by_test_id("index-status")).to_contain_text("Search index:")

    dashboard = build_dashboard(store_db, 30)
    expected = {m.key: m.value_text for m in dashboard.metrics}
    for key, text in expected.items():
        expect(page.get_by_test_id(f"metric-{key}")).to_have_text(text)
    assert expected["orders"] != "0"
    expect(page.get_by_test_id("revenue-chart").locator(".recharts-area-curve")).to_be_visible()
    expect(page.get_by_test_id("orders-chart").locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(page.get_by_test_id("top-product").first).to_be_visible()
    expect(page.get_by_test_id("funnel-step")).to_have_count(4)
    assert dashboard.funnel[0].visitors >= 40  # the 40 seeded here, and any other test's shoppers
    expect(page.get_by_test_id("funnel-step").first).to_contain_text(f"{dashboard.funnel[0].visitors:,}")
    shot(page, "dashboard")

    page.get_by_test_id("period-7").click()
    expect(page).to_have_url(re.compile(r"/admin/?\?period=7$"))
    seven = {m.key: m.value_text for m in build_dashboard(store_db, 7).metrics}
    expect(page.get_by_test_id("metric-orders")).to_have_text(seven["orders"])

    page.get_by_test_id("admin-nav-orders").click()
    expect(page).to_have_url(re.compile(r"/admin/orders"))
    expect(page.get_by_test_id("admin-order-row").first).to_be_visible()
    shot(page, "orders")
    number = page.get_by_test_id("order-link").first.inner_text()
    page.get_by_test_id("order-link").first.click()
    expect(page.get_by_test_id("admin-order-number")).to_have_text(number)
    for status in ("Processing", "Shipped"):
        page.get_by_test_id("next-status").click()
        page.get_by_role("option", name=status).click()
        page.get_by_test_id("update-status").click()
        expect(page.get_by_test_id("admin-order-status")).to_have_text(status)
    shot(page, "order")
    store_db.rollback()  # a fresh snapshot: the browser's changes are committed
    assert store_db.exec(select(Order).where(Order.number == number)).one().status == "shipped"

    page.get_by_test_id("admin-nav-audit-log").click()
    expect(page).to_have_url(re.compile(r"/admin/audit"))
    expect(page.get_by_test_id("admin-title")).to_have_text("Audit log")
    expect(page.get_by_test_id("audit-row")).to_have_count(2)
    expect(page.get_by_test_id("audit-row").first).to_contain_text("boss@example.com")
    expect(page.get_by_test_id("audit-row").first).to_contain_text("processing → shipped")
    shot(page, "audit-log")

    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, f"{store.url}/admin")
    expect(page.get_by_test_id("metric-card").first).to_be_visible()
    expect(page.get_by_role("button", name="Open admin menu")).to_be_visible()
    shot(page, "dashboard-phone")
    page.get_by_role("button", name="Open admin menu").click()
    expect(page.get_by_role("dialog").get_by_test_id("admin-nav-dashboard")).to_be_visible()
    shot(page, "menu-phone")


def test_a_customer_opening_the_admin_is_not_allowed(page: Page, store, store_db, shot):
    store_db.add(User(email="shopper@example.com", password_hash=hash_password(PASSWORD), name="Shopper"))
    store_db.commit()
    sign_in(page, store, "shopper@example.com", "/admin")
    expect(page.get_by_test_id("admin-not-allowed")).to_be_visible()
    expect(page.get_by_test_id("admin-not-allowed")).to_contain_text("Not allowed")
    expect(page.get_by_test_id("metric-card")).to_have_count(0)
    expect(page.get_by_test_id("admin-nav-dashboard")).to_have_count(0)
    shot(page, "not-allowed")
