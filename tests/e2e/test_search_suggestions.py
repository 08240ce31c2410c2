"""Search as you type in the header, on the prod build: a misspelled word still suggests the product,
the keyboard (or a tap on a phone) opens it, and Enter with no row chosen opens the results page."""

import re

from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from revoque.models import Product, ProductStatus

HYDRATED = "[data-testid=hydrated][data-hydrated=true]"
TARGET_WORD = "Espadrille"  # in one seeded title ("Woven Espadrille Wedges")
MISSPELLED = "espadrile"  # one letter short: within the two typos a 9-letter word is allowed


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(HYDRATED, state="attached")


def search_box(page: Page) -> Locator:
    """The visible header box (desktop and mobile rows each have one; one is hidden)."""
    return page.get_by_role("combobox", name="Search products").locator("visible=true").first


def suggestions(page: Page) -> Locator:
    return page.get_by_role("listbox", name="Search suggestions")


def target_product(store_db) -> Product:
    return store_db.exec(
        select(Product).where(Product.title.contains(TARGET_WORD), Product.status == ProductStatus.ACTIVE)
    ).one()


def test_arrow_keys_and_enter_open_a_suggested_product(page: Page, store, store_db, shot):
    product = target_product(store_db)
    open_page(page, store.url + "/")
    box = search_box(page)
    box.click()
    box.press_sequentially(MISSPELLED, delay=40)

    options = suggestions(page).get_by_role("option")
    wanted = options.filter(has_text=product.title)
    expect(wanted).to_have_count(1)
    expect(wanted.locator("mark")).to_have_text(TARGET_WORD)  # the matched word, typo and all
    expect(wanted).to_contain_text("₦")
    expect(wanted.locator("img")).to_have_attribute("src", re.compile(r"\S"))
    expect(options.last).to_have_text(f"See all results for “{MISSPELLED}”")
    expect(box).to_have_attribute("aria-expanded", "true")
    shot(page, "dropdown")

    titles = [t.strip() for t in options.all_inner_texts()]
    position = next(i for i, text in enumerate(titles) if text.startswith(product.title))
    for _ in range(position + 1):
        box.press("ArrowDown")
    expect(wanted).to_have_attribute("aria-selected", "true")
    expect(suggestions(page).locator("[aria-selected=true]")).to_have_count(1)
    expect(box).to_have_attribute("aria-activedescendant", wanted.get_attribute("id"))

    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/product/{re.escape(product.slug)}$"))
    expect(page.get_by_test_id("product-heading")).to_have_text(product.title)
    expect(suggestions(page)).to_have_count(0)


def test_enter_with_no_row_chosen_opens_the_results_page(page: Page, store):
    open_page(page, store.url + "/")
    box = search_box(page)
    box.click()
    box.press_sequentially("linen shirt", delay=40)
    expect(suggestions(page).get_by_role("option").first).to_be_visible()
    box.press("ArrowDown")
    box.press("ArrowUp")  # back to the box: nothing active
    expect(box).to_have_attribute("aria-activedescendant", "")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=linen\+shirt$"))
    # The first search by meaning loads the embedding model into the store: allow it the time.
    expect(page.get_by_test_id("page-heading")).to_have_text("Results for “linen shirt”", timeout=60_000)
    marked = page.get_by_test_id("product-title").first.locator("mark")
    expect(marked.first).to_be_visible()  # matched words are marked in the result grid


def test_escape_and_short_text_close_the_list(page: Page, store):
    open_page(page, store.url + "/")
    box = search_box(page)
    box.click()
    box.press_sequentially("dress", delay=40)
    expect(suggestions(page)).to_be_visible()
    box.press("Escape")
    expect(suggestions(page)).to_have_count(0)
    expect(box).to_have_value("dress")
    box.press_sequentially("es", delay=40)
    expect(suggestions(page)).to_be_visible()  # typing opens it again
    box.fill("d")
    expect(suggestions(page)).to_have_count(0)


def test_tapping_a_suggestion_on_a_phone_opens_it(page: Page, store, store_db, shot):
    product = target_product(store_db)
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, store.url + "/")
    box = search_box(page)
    box.click()
    box.press_sequentially(MISSPELLED, delay=40)
    wanted = suggestions(page).get_by_role("option").filter(has_text=product.title)
    expect(wanted).to_be_visible()
    shot(page, "dropdown-mobile")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    wanted.click()
    expect(page).to_have_url(re.compile(rf"/product/{re.escape(product.slug)}$"))
    expect(page.get_by_test_id("product-heading")).to_have_text(product.title)
