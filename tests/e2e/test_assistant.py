"""A shopper asks the chat assistant for a product within a budget, sees cards within it, adds one
to the cart from the chat, and finds the conversation again in another tab."""

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from revoque.models import Category, Product, Variant
from tests.e2e.test_storefront_journey import HYDRATED, open_page

ANSWER_TIMEOUT = 60_000  # the first question loads the embedding model in the server


def _budget_question(session) -> tuple[str, int]:
    """A question naming a demo category and a budget (in naira) that some in-stock products of that
    category fit and some do not, so the limit is really tested."""
    sneakers = session.exec(select(Category).where(Category.slug == "sneakers")).one()
    active = select(Product).where(Product.category_id == sneakers.id, Product.status == "active")
    on_shelf = select(Variant.product_id).where(Variant.stock_on_hand > 0)
    prices = sorted(product.price_min for product in session.exec(active.where(Product.id.in_(on_shelf))))
    assert len(prices) >= 2, "the demo catalog needs in-stock sneakers at different prices"
    limit = prices[len(prices) // 2] // 100
    return f"sneakers under {limit}", limit


def _naira(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text.split(".")[0]))


def test_ask_for_products_within_a_budget_and_add_one_to_the_cart(page: Page, store, store_db, shot):
    question, limit = _budget_question(store_db)
    open_page(page, store.url + "/")
    page.get_by_test_id("chat-launcher").click()
    panel = page.get_by_test_id("chat-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("chat-chip").first).to_be_visible()

    panel.get_by_test_id("chat-input").fill(question)
    panel.get_by_test_id("chat-send").click()
    expect(panel.get_by_test_id("chat-question").last).to_have_text(question)
    answer = panel.get_by_test_id("chat-answer").last
    expect(answer).to_contain_text(f"under ₦{limit:,}", timeout=ANSWER_TIMEOUT)
    cards = answer.get_by_test_id("chat-card")
    expect(cards.first).to_be_visible()
    prices = [_naira(text) for text in answer.get_by_test_id("chat-card-price").all_inner_texts()]
    assert prices and all(price <= limit for price in prices), (prices, limit)
    shot(page, "answer")

    expect(page.get_by_test_id("cart-button")).not_to_have_attribute("aria-label", re.compile(r"Cart, [1-9]"))
    cards.first.get_by_test_id("chat-add-to-cart").click()
    expect(page.get_by_test_id("cart-button")).to_have_attribute("aria-label", "Cart, 1 items")
    page.keyboard.press("Escape")  # the cart drawer opened, as for any "Add to cart"

    # Another tab of the same browser (a fresh page state): the conversation comes back from the server.
    tab = page.context.new_page()
    tab.goto(store.url + "/")
    tab.wait_for_selector(HYDRATED, state="attached", timeout=ANSWER_TIMEOUT)  # a busy 2-core machine
    tab.get_by_test_id("chat-launcher").click()
    expect(tab.get_by_test_id("chat-question").last).to_have_text(question)
    expect(tab.get_by_test_id("chat-answer").last.get_by_test_id("chat-card").first).to_be_visible()

    tab.get_by_test_id("chat-new").click()
    expect(tab.get_by_test_id("chat-question")).to_have_count(0)
    tab.get_by_test_id("chat-chip").filter(has_text="Where is my order?").click()
    expect(tab.get_by_test_id("chat-answer").last).to_contain_text("sign in", timeout=ANSWER_TIMEOUT)
    shot(tab, "signed-out-order")
