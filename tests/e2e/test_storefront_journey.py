"""A shopper browses: home → category → page 2 → product → another variant, on the prod build."""

import re
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect
from sqlmodel import func, select

from revoque.models import Product, ProductOption, Variant
from revoque.services import catalog
from revoque.settings import Settings

PAGE_SIZE = Settings().page_size
HYDRATED = "[data-testid=hydrated][data-hydrated=true]"


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(HYDRATED, state="attached")


def card_titles(page: Page) -> list[str]:
    return page.get_by_test_id("product-title").all_inner_texts()


def test_browse_from_home_to_a_variant(page: Page, store, store_db, shot):
    open_page(page, store.url + "/")
    expect(page.get_by_test_id("featured").get_by_test_id("product-card").first).to_be_visible()
    expect(page.get_by_test_id("category-tile").first).to_be_visible()
    expect(page.get_by_role("heading", name="New arrivals")).to_be_visible()
    shot(page, "1-home")

    page.get_by_test_id("category-tile").filter(has_text=_largest_category(store_db)).click()
    expect(page).to_have_url(re.compile(r"/category/[\w-]+"))
    expect(page.get_by_test_id("page-indicator")).to_have_text(re.compile(r"Page 1 of \d+"))
    first_page_titles = card_titles(page)
    assert len(first_page_titles) == PAGE_SIZE
    shot(page, "2-category")

    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-indicator")).to_have_text(re.compile(r"Page 2 of \d+"))
    expect(page).to_have_url(re.compile(r"page=2"))
    second_page_titles = card_titles(page)
    assert second_page_titles and not set(second_page_titles) & set(first_page_titles)
    shot(page, "3-category-page-2")

    slug = _product_with_priced_options(store_db)
    open_page(page, f"{store.url}/product/{slug}")
    expect(page.get_by_test_id("product-heading")).to_be_visible()
    expect(page.get_by_test_id("breadcrumbs")).to_contain_text("Home")
    shot(page, "4-product")

    sku_before = page.get_by_test_id("sku").inner_text()
    price_before = page.get_by_test_id("price").first.inner_text()
    variants = {v.sku: v for v in store_db.exec(select(Variant).join(Product).where(Product.slug == slug))}
    assert sku_before in variants
    target = _cheaper_or_dearer_sibling(variants, sku_before)
    for choice in _choices_for(store_db, target):
        page.get_by_test_id("option-choice").filter(has_text=re.compile(f"^{re.escape(choice)}$")).first.click()
    expect(page.get_by_test_id("sku")).to_have_text(target.sku)
    expect(page.get_by_test_id("price").first).not_to_have_text(price_before)
    expect(page.get_by_test_id("stock-badge")).to_be_visible()
    shot(page, "5-variant-chosen")


def _largest_category(session) -> str:
    with_counts = [(tile.product_count, tile.name) for tile in catalog.top_categories(session)]
    count, name = max(with_counts)
    assert count > PAGE_SIZE, "the demo catalog needs a category with more than one page"
    return name


def _product_with_priced_options(session) -> str:
    """An active product with several variants at different prices (the seed has many)."""
    spread = func.max(Variant.price) - func.min(Variant.price)
    return session.exec(
        select(Product.slug)
        .join(Variant)
        .where(Product.status == "active")
        .group_by(Product.id, Product.slug)
        .having(func.count(Variant.id) > 2, spread > 0)
        .order_by(Product.id)
    ).first()


def _cheaper_or_dearer_sibling(variants: dict, sku: str) -> Variant:
    current = variants[sku]
    return next(v for v in variants.values() if v.price != current.price)


def _choices_for(session, variant: Variant) -> list[str]:
    """The option values naming ``variant``, from its title ("M / Red")."""
    options = session.exec(select(ProductOption).where(ProductOption.product_id == variant.product_id)).all()
    values = variant.title.split(" / ")
    assert len(values) == len(options)
    return values


def test_sorting_by_price_reorders_the_listing(page: Page, store, shot):
    open_page(page, store.url + "/search")
    page.get_by_test_id("sort-select").click()
    page.get_by_role("option", name="Price: low to high").click()
    expect(page).to_have_url(re.compile(r"sort=price_asc"))
    # The select shows the state's sort, which changes together with the listing it ordered.
    expect(page.get_by_test_id("sort-select")).to_have_text("Price: low to high")
    prices = [_amount(t) for t in page.get_by_test_id("price").all_inner_texts()]
    assert prices == sorted(prices) and len(prices) == PAGE_SIZE
    shot(page, "sorted")


def _amount(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text.split(".")[0]))


def test_header_search_filters_by_title(page: Page, store):
    open_page(page, store.url + "/")
    box = page.get_by_role("combobox", name="Search products").first
    box.fill("dress")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=dress"))
    expect(page.get_by_test_id("page-heading")).to_have_text("Results for “dress”")
    titles = card_titles(page)
    assert titles and "dress" in titles[0].lower()


def test_facets_and_sort_live_in_the_url(page: Page, store, shot):
    open_page(page, store.url + "/search?q=shirt")
    for group in ("Category", "Colour"):
        page.get_by_test_id("facet-group").filter(has_text=group).get_by_test_id("facet-option").first.click()
        expect(page).to_have_url(re.compile(rf"{'category' if group == 'Category' else 'colour'}="))
    page.get_by_test_id("sort-select").click()
    page.get_by_role("option", name="Price: low to high").click()
    expect(page).to_have_url(re.compile(r"sort=price_asc"))
    expect(page.get_by_test_id("sort-select")).to_have_text("Price: low to high")
    url = page.url
    open_page(page, url)
    expect(page.get_by_test_id("sort-select")).to_have_text("Price: low to high")
    for group in ("Category", "Colour"):
        chosen = page.get_by_test_id("facet-group").filter(has_text=group).get_by_role("checkbox").first
        expect(chosen).to_be_checked()
    prices = [_amount(t) for t in page.get_by_test_id("price").all_inner_texts()]
    assert prices and prices == sorted(prices)
    shot(page, "facets")


def test_a_misspelled_search_still_finds_products(page: Page, store):
    open_page(page, store.url + "/search?q=sneekers")
    expect(page.get_by_test_id("product-card").first).to_be_visible()


def test_unknown_pages_show_not_found(page: Page, store, shot):
    open_page(page, store.url + "/product/no-such-product")
    expect(page.get_by_text("Product not found")).to_be_visible()
    shot(page, "product")
    open_page(page, store.url + "/category/no-such-category")
    expect(page.get_by_text("Category not found")).to_be_visible()
    open_page(page, store.url + "/no/such/page")
    expect(page.get_by_test_id("not-found")).to_be_visible()
    for path in ("/no/such/page", "/product/no-such-product", "/category/nope", "/collection/nope"):
        assert http_status(store.url + path) == 404, path
    assert http_status(store.url + "/search") == 200


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_out_of_range_page_clamps_to_the_last_page(page: Page, store):
    open_page(page, store.url + "/search?page=999")
    expect(page.get_by_test_id("page-indicator")).to_have_text(re.compile(r"Page (\d+) of \1$"))


def test_mobile_layout(page: Page, store, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, store.url + "/")
    expect(page.get_by_role("button", name="Open menu")).to_be_visible()
    expect(page.get_by_test_id("featured").get_by_test_id("product-card").first).to_be_visible()
    shot(page, "home")
    page.get_by_role("button", name="Open menu").click()
    expect(page.get_by_role("dialog").get_by_role("link").nth(1)).to_be_visible()
    shot(page, "menu")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
