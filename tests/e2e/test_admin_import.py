"""Spreadsheets and customers in Chromium. A member of staff signs in, uploads a small CSV in our
template, reads the dry run, starts the import and watches the progress bar reach 100% and the
summary; the imported product is then on the storefront. They also export the catalog and download
it through a signed link, and look a customer up."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from revoque.models import DataImport, Product, User, Variant
from revoque.services.accounts import hash_password
from tests.e2e.test_admin import PASSWORD, sign_in
from tests.e2e.test_storefront_journey import open_page

HANDLE = "e2e-indigo-batik-throw"
SIGN_IN_WAIT = 30_000  # ms: signing in hashes a password, slow on a busy 2-core machine
ROWS = [
    ["handle", "title", "description", "status", "brand", "category", "option1_name", "option1_value", "sku", "price",
     "stock"],
    [HANDLE, "Indigo Batik Throw", "Hand-dyed cotton throw.", "active", "Adire House", "Home > Throws", "Size",
     "Single", "E2E-IBT-S", "23,500", "7"],
    [HANDLE, "Indigo Batik Throw", "Hand-dyed cotton throw.", "active", "Adire House", "Home > Throws", "Size",
     "Double", "E2E-IBT-D", "31500.00", "4"],
]  # fmt: skip


def _staff(store_db, email: str) -> None:
    if store_db.exec(select(User).where(User.email == email)).first() is None:
        store_db.add(User(email=email, password_hash=hash_password(PASSWORD), name="Stock Keeper", role="staff"))
        store_db.commit()


def _template_csv(tmp_path: Path) -> Path:
    path = tmp_path / "new-throws.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    return path


def test_staff_import_a_csv_and_the_product_is_on_the_storefront(page: Page, store, store_db, shot, tmp_path):
    _staff(store_db, "stock@example.com")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, store, "stock@example.com", "/admin/import")
    expect(page).to_have_url(re.compile(r"/admin/import/?$"), timeout=SIGN_IN_WAIT)
    expect(page.get_by_test_id("admin-title")).to_have_text("Import products", timeout=SIGN_IN_WAIT)
    expect(page.get_by_test_id("import-dropzone")).to_be_visible()
    shot(page, "1-upload")

    page.get_by_test_id("import-dropzone").locator("input[type=file]").set_input_files(str(_template_csv(tmp_path)))
    expect(page.get_by_test_id("import-shape")).to_have_text("Revoque template")
    expect(page.get_by_test_id("import-filename")).to_have_text("new-throws.csv")
    expect(page.get_by_test_id("count-products_created")).to_have_text("1")
    expect(page.get_by_test_id("count-variants_created")).to_have_text("2")
    expect(page.get_by_test_id("preview-ok")).to_be_visible()
    expect(page.get_by_test_id("import-sample-row")).to_contain_text("Indigo Batik Throw")
    store_db.rollback()
    assert store_db.exec(select(Product).where(Product.slug == HANDLE)).first() is None  # a dry run
    shot(page, "2-preview")

    page.get_by_test_id("import-start").click()
    expect(page).to_have_url(re.compile(r"/admin/import\?import=\d+$"))
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    expect(page.get_by_test_id("import-percent")).to_have_text("100%", timeout=60_000)
    expect(page.get_by_test_id("import-succeeded")).to_be_visible()
    summary = page.get_by_test_id("import-summary")
    expect(summary.get_by_test_id("count-products_created")).to_have_text("1")
    expect(summary.get_by_test_id("count-variants_created")).to_have_text("2")
    expect(page.get_by_test_id("import-history-row").first).to_contain_text("new-throws.csv")
    expect(page.get_by_test_id("import-history-row").first).to_contain_text("1 product created")
    shot(page, "3-done")

    store_db.rollback()
    record = store_db.exec(select(DataImport).order_by(DataImport.id.desc())).first()
    assert (record.status, record.requested_by) == ("succeeded", "stock@example.com")
    product = store_db.exec(select(Product).where(Product.slug == HANDLE)).one()
    prices = sorted(v.price for v in store_db.exec(select(Variant).where(Variant.product_id == product.id)))
    assert prices == [2_350_000, 3_150_000]

    open_page(page, f"{store.url}/product/{HANDLE}")
    expect(page.get_by_test_id("product-heading")).to_have_text("Indigo Batik Throw")
    expect(page.get_by_test_id("option-choice")).to_have_count(2)
    shot(page, "4-storefront")


def test_staff_export_the_catalog_and_look_up_a_customer(page: Page, store, store_db, shot):
    _staff(store_db, "stock@example.com")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, store, "stock@example.com", "/admin/exports")
    expect(page.get_by_test_id("admin-title")).to_have_text("Exports", timeout=SIGN_IN_WAIT)
    page.get_by_test_id("export-products").click()
    row = page.get_by_test_id("export-row").first
    expect(row.get_by_test_id("export-status")).to_have_text("Done", timeout=60_000)
    shot(page, "exports")
    with page.expect_download() as download_info:
        row.get_by_test_id("export-download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("revoque-products-") and download.suggested_filename.endswith(".xlsx")
    assert Path(download.path()).read_bytes()[:4] == b"PK\x03\x04"

    page.get_by_test_id("admin-nav-customers").click()
    expect(page.get_by_test_id("admin-title")).to_have_text("Customers")
    page.get_by_test_id("customers-search").fill("stock@")
    page.get_by_test_id("customers-apply").click()
    expect(page).to_have_url(re.compile(r"/admin/customers\?q=stock%40$"))
    expect(page.get_by_test_id("customer-row")).to_have_count(1)
    shot(page, "customers")
    page.get_by_test_id("customer-link").first.click()
    expect(page.get_by_test_id("customer-name")).to_have_text("Stock Keeper")
    expect(page.get_by_test_id("customer-role")).to_have_text("Staff")
    expect(page.get_by_text("This is your own account")).to_be_visible()
    shot(page, "customer")
