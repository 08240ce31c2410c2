"""Redis stopped mid-run, in the browser: a signed-in shopper keeps browsing, fills the cart and buys
while Redis is down, a tab opened during the outage works as a guest, and when Redis comes back both
carry on with their carts and sign-in, and the shopper's tab is back in Redis. Then Redis freezes:
pages still load and the shopper browses on.

This module runs its own store (PostgreSQL + a private redis-server on a free port) because it
stops that Redis; the shared store's Redis is never touched.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from reflex.state import BaseState
from sqlmodel import select

from revoque.models import Order, OrderLine, Product, Variant
from revoque.state.cart import CartState
from tests.conftest import drop_pg_database, pg_admin, pg_url
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_checkout_journey import _two_buyable_variants, add_two_variants, check_out
from tests.e2e.test_storefront_journey import open_page
from tests.support.redis_server import RedisServer, redis_server
from tests.support.server import RunningStore, running_store

EMAIL = "outage@example.com"
HAND_BACK_GUARD_SECONDS = 60.0  # Redis is retried 5 s after a failure; this only guards a hang
REFLEX_ERROR = "[Reflex Backend Exception]"


@pytest.fixture(scope="module")
def outage_redis(tmp_path_factory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("outage-redis")) as server:
        yield server


@pytest.fixture(scope="module", params=["postgresql+redis"])
def store(outage_redis, tmp_path_factory) -> Iterator[RunningStore]:
    """This module's store (it replaces the shared one here), on the Redis the test stops."""
    data_dir = tmp_path_factory.mktemp("outage-store")
    pg_name = f"revoque_outage_{uuid.uuid4().hex[:10]}"
    pg_admin(f'CREATE DATABASE "{pg_name}"')
    env = {
        "DATA_DIR": str(data_dir),
        "STORE_NAME": "Revoque",
        "DATABASE_URL": pg_url(pg_name),
        "REDIS_URL": outage_redis.url,
        "REDIS_PREFIX": f"revoque-outage-{uuid.uuid4().hex[:8]}",
    }
    try:
        with running_store(env, ARTIFACTS / "logs") as running:
            yield running
    finally:
        drop_pg_database(pg_name)


def _another_product_in_stock(session, besides: str) -> str:
    """The title of a product (not the one with slug ``besides``) in stock in every variant."""
    for product in session.exec(select(Product).where(Product.status == "active").order_by(Product.id)):
        stocks = session.exec(select(Variant.stock_on_hand).where(Variant.product_id == product.id)).all()
        if product.slug != besides and stocks and min(stocks) >= 3:
            return product.title
    raise AssertionError("the demo catalog needs a product in stock in every variant")


def sign_up(page: Page) -> None:
    page.get_by_test_id("account-link").click()
    page.get_by_role("link", name="Create an account").click()
    for field, value in {"name": "Uche Obi", "email": EMAIL, "password": "outage pass 42"}.items():
        page.get_by_test_id(f"input-{field}").fill(value)
    page.get_by_test_id("input-confirm_password").fill("outage pass 42")
    page.get_by_test_id("sign-up-submit").click()
    expect(page).to_have_url(re.compile(r"/account"))


def search_and_add(page: Page, title: str, items_after: int) -> None:
    """Find a product with the header search, open it from the results and add it to the cart."""
    box = page.get_by_role("combobox", name="Search products").first
    box.fill(title)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    page.get_by_test_id("product-title").filter(has_text=title).first.click()
    expect(page.get_by_test_id("product-heading")).to_have_text(title)
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-drawer")).to_be_visible()
    page.keyboard.press("Escape")
    expect_cart(page, items_after)


def expect_cart(page: Page, items: int) -> None:
    expect(page.get_by_test_id("cart-button")).to_have_attribute("aria-label", f"Cart, {items} items")


def open_the_cart(page: Page) -> None:
    page.get_by_test_id("cart-button").click()
    expect(page.get_by_test_id("cart-drawer")).to_be_visible()


def browse_a_category_and_a_product(page: Page) -> None:
    page.get_by_role("link", name="Home", exact=True).first.click()
    page.get_by_test_id("category-tile").first.click()
    expect(page).to_have_url(re.compile(r"/category/[\w-]+"))
    expect(page.get_by_test_id("product-card").first).to_be_visible()
    page.get_by_test_id("product-card").first.click()
    expect(page.get_by_test_id("product-heading")).to_be_visible()


def cart_token_in_redis(outage_redis: RedisServer, page: Page) -> str:
    """The cart token that Redis holds for the tab of ``page`` (empty if Redis holds none)."""
    tab = page.evaluate("window.sessionStorage.getItem('token')")
    data = outage_redis.client().get(f"{tab}_{CartState.get_full_name()}")
    return BaseState._deserialize(data=data).cart_token if data else ""


def test_a_shopper_keeps_shopping_through_a_redis_outage(
    page: Page, browser: Browser, store, store_db, outage_redis, shot
):
    add_two_variants(page, store, store_db)
    sign_up(page)
    expect_cart(page, 2)  # the guest cart came along
    other = _another_product_in_stock(store_db, besides=_two_buyable_variants(store_db)[0])

    outage_redis.stop()
    log_start = store.log_path.stat().st_size

    browse_a_category_and_a_product(page)
    expect(page.get_by_test_id("account-link")).to_have_attribute("aria-label", "Your account")
    expect_cart(page, 2)
    search_and_add(page, other, items_after=3)
    shot(page, "outage-cart")
    number = check_out(page, shot, EMAIL)
    search_and_add(page, other, items_after=1)  # the next cart, started during the outage

    guest_context = browser.new_context()
    guest = guest_context.new_page()
    open_page(guest, store.url + "/")
    browse_a_category_and_a_product(guest)
    search_and_add(guest, other, items_after=1)
    expect(guest.get_by_test_id("account-link")).to_have_attribute("aria-label", "Sign in")

    outage_redis.start()
    browse_a_category_and_a_product(page)
    expect(page.get_by_test_id("account-link")).to_have_attribute("aria-label", "Your account")
    expect_cart(page, 1)
    open_the_cart(page)
    expect(page.get_by_test_id("cart-drawer")).to_contain_text(other)
    shot(page, "after-outage")
    page.keyboard.press("Escape")
    browse_a_category_and_a_product(guest)
    expect_cart(guest, 1)
    guest_context.close()

    # The tab's state, with the cart token it got during the outage, goes back to Redis on one of
    # its next events (Redis is left alone for a few seconds after a failure).
    browser_cart = page.evaluate("window.localStorage.getItem('revoque_cart')")
    deadline = time.monotonic() + HAND_BACK_GUARD_SECONDS
    while cart_token_in_redis(outage_redis, page) != browser_cart:
        assert time.monotonic() < deadline, "the tab's state never went back to Redis"
        open_the_cart(page)
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("cart-drawer")).to_be_hidden()
        time.sleep(1)

    # A frozen Redis (stuck, or cut off by the network) answers nothing: its commands time out, so
    # a new tab, whose websocket Reflex first registers in Redis, loads, and the shopper browses on.
    outage_redis.freeze()
    try:
        late = browser.new_page()
        open_page(late, store.url + "/")
        expect(late.get_by_test_id("category-tile").first).to_be_visible()
        late.close()
        browse_a_category_and_a_product(page)
        expect_cart(page, 1)
    finally:
        outage_redis.thaw()

    assert REFLEX_ERROR not in store.log_path.read_text()[log_start:]
    store_db.rollback()  # end the read snapshot so the new order is visible
    order = store_db.exec(select(Order).where(Order.number == number)).one()
    assert order.user_id is not None and order.email == EMAIL
    assert len(store_db.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()) == 3
