"""Products in the admin, in Chromium against the prod build: a member of staff signs in, finds the
seeded products in the table, creates a product with two variants (the grid follows the option they
type), uploads its picture, and then a shopper finds it with the header search and on the results
page, with the uploaded picture."""

from __future__ import annotations

import re
import time

from PIL import Image
from playwright.sync_api import Page, expect
from sqlmodel import select

from revoque.models import Product, ProductImage, User, Variant
from revoque.services.accounts import hash_password
from tests.e2e.test_admin import PASSWORD, sign_in
from tests.e2e.test_search_suggestions import search_box, suggestions
from tests.e2e.test_storefront_journey import open_page

TITLE = "Okavango Batik Sun Hat"
WORD = "okavango"  # in no seeded product
INDEX_WAIT_SECONDS = 90  # the re-index job runs after the commit (a thread, or an RQ worker)


def _picture(path) -> None:
    image = Image.new("RGB", (600, 600), (214, 164, 42))
    for x in range(150, 450):
        for y in range(250, 350):
            image.putpixel((x, y), (38, 58, 104))
    image.save(path, "PNG")


def _find_in_results(page: Page, store) -> None:
    """Open the results page until the product is there: indexing happens just after the save."""
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while True:
        open_page(page, f"{store.url}/search?q={WORD}")
        expect(page.get_by_test_id("page-heading")).to_contain_text(WORD, timeout=60_000)
        if page.get_by_test_id("product-title").filter(has_text=TITLE).count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(2_000)
    expect(page.get_by_test_id("product-title").filter(has_text=TITLE)).to_have_count(1)


def test_staff_create_a_product_with_variants_and_an_image_and_shoppers_find_it(
    page: Page, store, store_db, shot, tmp_path
):
    store_db.rollback()  # a fresh snapshot before writing (SQLite WAL)
    staff = User(email="products-staff@example.com", password_hash=hash_password(PASSWORD), name="Stock", role="staff")
    store_db.add(staff)
    store_db.commit()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, store, "products-staff@example.com", "/admin/products")
    expect(page).to_have_url(re.compile(r"/admin/products/?$"))
    expect(page.get_by_test_id("admin-title")).to_have_text("Products")
    expect(page.get_by_test_id("admin-product-row")).to_have_count(25)
    expect(page.get_by_test_id("pager-text")).to_contain_text("page 1 of")
    shot(page, "1-products")

    page.get_by_test_id("products-search").fill("kaftan")
    page.get_by_test_id("products-apply").click()
    expect(page).to_have_url(re.compile(r"/admin/products/?\?q=kaftan$"))
    expect(page.get_by_test_id("product-link").first).to_contain_text("Kaftan")

    page.get_by_test_id("new-product").click()
    expect(page).to_have_url(re.compile(r"/admin/products/new/?$"))
    expect(page.get_by_test_id("product-heading")).to_have_text("New product")
    page.get_by_test_id("product-title").fill(TITLE)
    page.get_by_test_id("product-description").fill("A wide-brimmed hat of hand-dyed batik cotton.")
    page.get_by_test_id("product-status").click()
    page.get_by_role("option", name="Active").click()
    page.get_by_test_id("add-option").click()
    page.get_by_test_id("option-name").fill("Size")
    page.get_by_test_id("option-values").fill("M, L")
    page.get_by_test_id("option-values").press("Tab")
    rows = page.get_by_test_id("variant-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("M")
    expect(rows.nth(1)).to_contain_text("L")
    for index, (price, stock) in enumerate([("25000", "5"), ("27,500", "3")]):
        rows.nth(index).get_by_test_id("variant-price").fill(price)
        rows.nth(index).get_by_test_id("variant-stock").fill(stock)
    shot(page, "2-new-product")
    page.get_by_test_id("product-save").click()

    expect(page).to_have_url(re.compile(r"/admin/products/\d+/?$"))
    expect(page.get_by_test_id("product-heading")).to_have_text(TITLE)
    product_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    picture = tmp_path / "hat.png"
    _picture(picture)
    page.get_by_test_id("image-upload").locator("input[type=file]").set_input_files(str(picture))
    expect(page.get_by_test_id("product-image")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("product-image").locator("img")).to_have_attribute(
        "src", re.compile(rf"/media/products/{product_id}/[0-9a-f]+\.png$")
    )
    expect(page.get_by_test_id("variant-sku").first).to_have_value("OKAVANGO-BATIK-SUN-HAT-M")
    shot(page, "3-edit-product")

    store_db.rollback()  # a fresh snapshot: the browser's changes are committed
    product = store_db.get(Product, product_id)
    assert (product.title, product.status, product.slug) == (TITLE, "active", "okavango-batik-sun-hat")
    variants = store_db.exec(select(Variant).where(Variant.product_id == product_id).order_by(Variant.position)).all()
    assert [(v.title, v.price, v.stock_on_hand) for v in variants] == [("M", 2_500_000, 5), ("L", 2_750_000, 3)]
    assert len(store_db.exec(select(ProductImage).where(ProductImage.product_id == product_id)).all()) == 1

    _find_in_results(page, store)
    result = page.get_by_test_id("product-title").filter(has_text=TITLE)
    card = page.get_by_test_id("product-card").filter(has=result)
    expect(card.locator("img").first).to_have_attribute("src", re.compile(r"/media/products/\d+/[0-9a-f]+\.png$"))
    expect(card).to_contain_text("₦25,000")
    shot(page, "4-search-results")

    open_page(page, store.url + "/")
    box = search_box(page)
    box.click()
    box.press_sequentially(WORD[:6], delay=40)
    option = suggestions(page).get_by_role("option").filter(has_text=TITLE)
    expect(option).to_have_count(1)
    option.click()
    expect(page).to_have_url(re.compile(r"/product/okavango-batik-sun-hat/?$"))
    expect(page.get_by_test_id("product-heading")).to_have_text(TITLE)
    shot(page, "5-product-page")

    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, f"{store.url}/admin/products?q={WORD}")
    expect(page.get_by_test_id("admin-product-row")).to_have_count(1)
    shot(page, "6-products-phone")
