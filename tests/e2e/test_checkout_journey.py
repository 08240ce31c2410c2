"""Shoppers buy: a guest checks out with a coupon; a shopper signs up and finds the order in history."""

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from revoque.models import Order, OrderLine, Product, Variant
from tests.e2e.test_storefront_journey import open_page


def _two_buyable_variants(session) -> tuple[str, list[str]]:
    """A product with two in-stock variants with option values, and the values naming each."""
    for product in session.exec(select(Product).where(Product.status == "active").order_by(Product.id)):
        variants = session.exec(
            select(Variant).where(Variant.product_id == product.id, Variant.stock_on_hand >= 3, Variant.title != "")
        ).all()
        if len(variants) >= 2:
            return product.slug, [variants[0].title, variants[1].title]
    raise AssertionError("the demo catalog needs a product with two variants in stock")


def choose(page: Page, title: str) -> None:
    for value in title.split(" / "):
        page.get_by_test_id("option-choice").filter(has_text=re.compile(f"^{re.escape(value)}$")).first.click()


def add_two_variants(page: Page, store, store_db) -> None:
    slug, titles = _two_buyable_variants(store_db)
    open_page(page, f"{store.url}/product/{slug}")
    for title in titles:
        choose(page, title)
        page.get_by_test_id("add-to-cart").click()
        expect(page.get_by_test_id("cart-drawer")).to_be_visible()
        page.keyboard.press("Escape")
    expect(page.get_by_test_id("cart-button")).to_have_attribute("aria-label", re.compile(r"Cart, 2 items"))


def fill_address(page: Page, email: str) -> None:
    for field, value in {
        "email": email,
        "name": "Ada Obi",
        "phone": "0803 123 4567",
        "line1": "12 Admiralty Way",
        "city": "Lekki",
        "region": "Lagos",
    }.items():
        page.locator(f"#checkout-{field}").fill(value)


def check_out(page: Page, shot, email: str, coupon: str = "", payment: str = "Pay on delivery") -> str:
    page.get_by_test_id("cart-button").click()
    page.get_by_test_id("cart-drawer").get_by_test_id("checkout-button").click()
    expect(page.get_by_test_id("step-1")).to_be_visible()
    if coupon:
        page.get_by_test_id("coupon-input").fill("EXPIRED20")
        page.get_by_test_id("apply-coupon").click()
        expect(page.get_by_test_id("coupon-error")).to_contain_text("expired on")
        page.get_by_test_id("coupon-input").fill(coupon)
        page.get_by_test_id("apply-coupon").click()
        expect(page.get_by_text(coupon.upper(), exact=True)).to_be_visible()
    page.get_by_test_id("to-delivery").click()
    expect(page.get_by_test_id("error-line1")).to_have_text("Street address is required.")
    fill_address(page, email)
    shot(page, "address")
    page.get_by_test_id("to-delivery").click()
    page.get_by_test_id("shipping-option").first.click()
    page.get_by_test_id("to-payment").click()
    page.get_by_test_id("payment-option").filter(has_text=re.compile(f"^{re.escape(payment)}")).click()
    page.get_by_test_id("to-review").click()
    shot(page, "review")
    page.get_by_test_id("place-order").dblclick()
    if payment.startswith("Card"):
        return ""
    expect(page.get_by_test_id("order-confirmed")).to_be_visible(timeout=15_000)
    number = page.get_by_test_id("order-number").inner_text()
    shot(page, "confirmation")
    return number


def test_guest_checks_out_two_variants_with_a_coupon(page: Page, store, store_db, shot):
    add_two_variants(page, store, store_db)
    number = check_out(page, shot, "guest@example.com", coupon="welcome10")
    store_db.rollback()  # end the read snapshot so the new order is visible
    orders = store_db.exec(select(Order).where(Order.email == "guest@example.com")).all()
    assert [o.number for o in orders] == [number]  # the double click made one order
    order = orders[0]
    assert order.coupon_code == "WELCOME10" and order.discount > 0
    assert order.payment_method == "pay_on_delivery"
    assert len(store_db.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()) == 2
    expect(page.get_by_test_id("cart-button")).to_have_attribute("aria-label", "Cart, 0 items")


def test_a_new_shopper_signs_up_keeps_the_guest_cart_and_sees_the_order(page: Page, store, store_db, shot):
    add_two_variants(page, store, store_db)
    page.get_by_test_id("account-link").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_test_id("input-name").fill("Bola Ade")
    page.get_by_test_id("input-email").fill("bola@example.com")
    page.get_by_test_id("input-password").fill("correct horse 42")
    page.get_by_test_id("input-confirm_password").fill("correct horse 42")
    shot(page, "sign-up")
    page.get_by_test_id("sign-up-submit").click()
    expect(page).to_have_url(re.compile(r"/account"))
    expect(page.get_by_test_id("cart-button")).to_have_attribute("aria-label", re.compile(r"Cart, 2 items"))
    number = check_out(page, shot, "bola@example.com")
    open_page(page, store.url + "/account/orders")
    expect(page.get_by_test_id("order-row").filter(has_text=number)).to_be_visible()
    shot(page, "order-history")
    page.get_by_test_id("order-row").filter(has_text=number).click()
    expect(page.get_by_test_id("timeline-entry").first).to_contain_text("Order placed")
    store_db.rollback()  # end the read snapshot so the new order is visible
    order = store_db.exec(select(Order).where(Order.number == number)).one()
    assert order.user_id is not None

    open_page(page, store.url + "/search")
    saved_title = page.get_by_test_id("product-title").first.inner_text()
    page.get_by_test_id("card-wishlist").first.click()
    expect(page.get_by_test_id("card-wishlist").first).to_have_attribute("aria-pressed", "true")
    open_page(page, store.url + "/account/wishlist")
    expect(page.get_by_test_id("product-title")).to_have_text([saved_title])
    shot(page, "wishlist")


def test_signing_in_with_a_wrong_password_shows_a_clear_error(page: Page, store, shot):
    open_page(page, store.url + "/sign-in")
    page.get_by_test_id("input-email").fill("nobody@example.com")
    page.get_by_test_id("input-password").fill("wrong password 1")
    page.get_by_test_id("sign-in-submit").click()
    expect(page.get_by_test_id("auth-error")).to_have_text("Email or password is incorrect.")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    shot(page, "wrong-password")


def pay_in_sandbox(page: Page, shot, decision: str) -> None:
    expect(page.get_by_test_id("sandbox-approve")).to_be_visible(timeout=15_000)
    shot(page, f"sandbox-{decision}")
    page.get_by_test_id(f"sandbox-{decision}").click()
    expect(page.get_by_test_id("order-confirmed")).to_be_visible(timeout=15_000)


def test_card_checkout_through_the_sandbox_pays_and_gives_an_invoice(page: Page, store, store_db, shot):
    add_two_variants(page, store, store_db)
    check_out(page, shot, "card@example.com", payment="Card")
    pay_in_sandbox(page, shot, "approve")
    expect(page.get_by_test_id("order-confirmed")).to_have_text("Thank you for your order")
    expect(page.get_by_text("Payment: Paid")).to_be_visible()
    link = page.get_by_test_id("invoice-link")
    expect(link).to_be_visible(timeout=20_000)
    shot(page, "paid")
    href = link.get_attribute("href")
    response = page.request.get(store.url + href if href.startswith("/") else href)
    assert response.ok and response.body().startswith(b"%PDF")


def test_a_declined_card_leaves_the_order_pending_and_a_retry_succeeds(page: Page, store, store_db, shot):
    add_two_variants(page, store, store_db)
    check_out(page, shot, "declined@example.com", payment="Card")
    pay_in_sandbox(page, shot, "decline")
    expect(page.get_by_test_id("payment-pending")).to_contain_text("didn't go through")
    shot(page, "declined")
    number = page.get_by_test_id("order-number").inner_text()
    page.get_by_test_id("pay-again").click()
    pay_in_sandbox(page, shot, "approve")
    expect(page.get_by_text("Payment: Paid")).to_be_visible()
    store_db.rollback()
    order = store_db.exec(select(Order).where(Order.number == number)).one()
    assert (order.status, order.payment_status) == ("paid", "paid")
