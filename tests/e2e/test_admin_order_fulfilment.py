"""Fulfilment in Chromium: a guest places an order and keeps the link from the confirmation; a member
of staff signs in (in another browser) and moves the order on to shipped; the guest's link then shows
it shipped. A signed-in customer sees their shipped order in their account the same way. An admin
refunds part of a card order and records a return through the confirmation dialog."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from revoque.models import Order, OrderLine, Payment, PaymentMethod, Product, Refund, User, Variant
from revoque.services.accounts import hash_password
from tests.e2e.test_checkout_journey import add_two_variants, check_out
from tests.e2e.test_storefront_journey import open_page
from tests.factories import add_order

PASSWORD = "correct horse 42"
SHIPPING_NOTE = "Sent with GIG Logistics, tracking GIG-4471"


def add_account(store_db, email: str, role: str, name: str) -> User:
    # End the session's read snapshot first: the browser has written since, and SQLite's WAL refuses
    # to turn an old snapshot into a write ("database is locked").
    store_db.rollback()
    user = User(email=email, password_hash=hash_password(PASSWORD), name=name, role=role)
    store_db.add(user)
    store_db.commit()
    return user


def sign_in(page: Page, store, email: str, next_path: str) -> None:
    """Open ``next_path``, get sent to sign in, sign in and land back on it."""
    open_page(page, f"{store.url}{next_path}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("sign-in-submit").click()
    # argon2id hashing is deliberately slow; on a busy 2-core machine it can take seconds
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"), timeout=30_000)


def staff_page(browser: Browser, store, email: str, number: str) -> Page:
    """A separate browser (its own cookies) signed in as ``email`` on the order's admin page."""
    page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    sign_in(page, store, email, f"/admin/orders/{number}")
    expect(page.get_by_test_id("admin-order-number")).to_have_text(number)
    return page


def ship(page: Page, shot) -> None:
    for status in ("Processing", "Shipped"):
        page.get_by_test_id("next-status").click()
        page.get_by_role("option", name=status, exact=True).click()
        if status == "Shipped":
            page.get_by_placeholder("Message on the timeline (optional)").fill(SHIPPING_NOTE)
        page.get_by_test_id("update-status").click()
        expect(page.get_by_test_id("admin-order-status")).to_have_text(status)
    expect(page.get_by_test_id("admin-timeline-entry").first).to_contain_text(SHIPPING_NOTE)
    shot(page, "staff-shipped")


def expect_shipped(page: Page) -> None:
    """The customer's order page: the status badge and the newest timeline entry say shipped."""
    expect(page.get_by_text("Shipped", exact=True).first).to_be_visible()
    latest = page.get_by_test_id("timeline-entry").first
    expect(latest).to_contain_text("Shipped")
    expect(latest).to_contain_text(SHIPPING_NOTE)


def test_staff_ship_a_guest_order_and_the_guest_link_shows_it(page: Page, browser, store, store_db, shot):
    add_two_variants(page, store, store_db)
    number = check_out(page, shot, "guest-ship@example.com")
    guest_link = page.url
    assert f"/order/{number}?key=" in guest_link
    expect(page.get_by_text("Pending", exact=True).first).to_be_visible()

    add_account(store_db, "sam@example.com", "staff", "Sam Staff")
    staff = staff_page(browser, store, "sam@example.com", number)
    ship(staff, shot)
    staff.context.close()
    store_db.rollback()  # a fresh snapshot: the staff browser's changes are committed
    assert store_db.exec(select(Order).where(Order.number == number)).one().status == "shipped"

    open_page(page, guest_link)  # the link from the confirmation email, no account
    expect_shipped(page)
    shot(page, "guest-sees-shipped")


def test_staff_ship_a_customer_order_and_the_customer_sees_it_in_their_account(
    page: Page, browser, store, store_db, shot
):
    customer = add_account(store_db, "ada-ship@example.com", "customer", "Ada Obi")
    variant = store_db.exec(select(Variant).where(Variant.stock_on_hand >= 3).order_by(Variant.id)).first()
    order = add_order(store_db, [(variant, 1)], email=customer.email, payment_method=PaymentMethod.PAY_ON_DELIVERY)
    order.user_id = customer.id
    order.shipping_address = {"name": "Ada Obi", "line1": "12 Admiralty Way", "city": "Lekki", "region": "Lagos"}
    store_db.add(order)
    store_db.commit()
    number = order.number

    add_account(store_db, "tunde@example.com", "staff", "Tunde Staff")
    staff = staff_page(browser, store, "tunde@example.com", number)
    ship(staff, shot)
    staff.context.close()

    sign_in(page, store, customer.email, f"/account/orders/{number}")
    expect_shipped(page)
    shot(page, "customer-sees-shipped")


def test_an_admin_refunds_part_of_a_card_order_and_records_a_return(page: Page, store, store_db, shot):
    product = store_db.exec(select(Product).where(Product.status == "active").order_by(Product.id)).first()
    variant = store_db.exec(
        select(Variant).where(Variant.product_id == product.id, Variant.stock_on_hand >= 3).order_by(Variant.id)
    ).first()
    order = add_order(
        store_db, [(variant, 2)], status="shipped", payment_status="paid", payment_method=PaymentMethod.CARD
    )
    reference = f"{order.number}-1-e2e"
    store_db.add(
        Payment(
            order_id=order.id,
            provider="sandbox",
            reference=reference,
            amount=order.total,
            currency=order.currency,
            status="succeeded",
        )
    )
    store_db.commit()
    number, stock_before = order.number, variant.stock_on_hand
    line_id = store_db.exec(select(OrderLine.id).where(OrderLine.order_id == order.id)).one()
    add_account(store_db, "refunds-boss@example.com", "admin", "Bola Boss")

    sign_in(page, store, "refunds-boss@example.com", f"/admin/orders/{number}")
    page.get_by_test_id("refund-amount").fill("1000")
    page.get_by_test_id("refund-reason").fill("Box arrived dented")
    page.get_by_test_id("refund-submit").click()
    expect(page.get_by_test_id("confirm-text")).to_have_text(f"Refund ₦1,000 to the card that paid for {number}?")
    shot(page, "refund-confirm")
    page.get_by_test_id("confirm-action").dblclick()
    expect(page.get_by_test_id("admin-refund")).to_have_count(1)
    expect(page.get_by_test_id("admin-refund").first).to_contain_text("₦1,000")
    expect(page.get_by_test_id("admin-refund").first).to_contain_text("Box arrived dented")

    page.get_by_test_id("return-quantity").fill("1")
    page.get_by_test_id("return-reason").fill("Wrong colour")
    page.get_by_test_id("return-submit").click()
    expect(page.get_by_test_id("confirm-text")).to_contain_text("and put it back in stock.")
    page.keyboard.press("Escape")  # changed their mind: nothing happens
    expect(page.get_by_test_id("confirm-text")).to_have_count(0)
    page.get_by_test_id("return-submit").click()
    page.get_by_test_id("confirm-action").click()
    expect(page.get_by_test_id("admin-return")).to_have_count(1)
    expect(page.get_by_test_id("admin-return").first).to_contain_text("1 ×")
    shot(page, "returned")

    store_db.rollback()
    assert [r.amount for r in store_db.exec(select(Refund).where(Refund.order_id == order.id))] == [100_000]
    assert store_db.get(Variant, variant.id).stock_on_hand == stock_before + 1
    assert store_db.get(OrderLine, line_id).restocked is False  # one of the two is still with the customer
