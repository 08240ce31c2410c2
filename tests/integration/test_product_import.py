"""Product imports against real SQLite and PostgreSQL: dry run, apply, only-valid-rows, upserts that
never duplicate, the template round trip, the import job's progress, and a 10,000-row file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from revoque import jobs
from revoque.adapters.storage import EXPORTS, get_storage
from revoque.db import session_scope
from revoque.models import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    DataImport,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductTag,
    Tag,
    Variant,
    VariantOptionValue,
)
from revoque.services import product_import
from revoque.services.exports import products_workbook
from revoque.services.product_import import (
    apply_import,
    import_progress,
    list_imports,
    preview_import,
    start_import,
)
from revoque.services.sheets import read_sheet
from tests.factories import add_brand, add_category, add_collection, add_product, variants_of
from tests.support.recorded_jobs import record_jobs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spreadsheets"
SHOPIFY = (FIXTURES / "shopify_products.csv").read_bytes()
BAD_ROWS = (FIXTURES / "template_bad_rows.csv").read_bytes()
CATALOG_TABLES = (
    Product,
    Variant,
    ProductOption,
    ProductOptionValue,
    VariantOptionValue,
    Brand,
    Category,
    Tag,
    ProductTag,
    Collection,
    CollectionProduct,
    ProductImage,
)


def table_counts(session: Session) -> dict[str, int]:
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in CATALOG_TABLES}


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def preview(data: bytes, filename: str = "file.csv", **kwargs):
    with session_scope() as session:
        return preview_import(session, data, filename, **kwargs)


def errors_of(problems) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.column, p.message) for p in problems if p.is_error]


def variant_by_sku(session: Session, sku: str) -> Variant:
    return session.exec(select(Variant).where(Variant.sku == sku)).one()


# --- dry run and apply -----------------------------------------------------------------------------


def test_dry_run_counts_and_writes_nothing(database):
    result = preview(SHOPIFY, "shopify.csv")
    assert result.shape == "shopify"
    assert result.counts.as_dict() == {
        "rows": 8,
        "rows_skipped": 0,
        "products_created": 3,
        "products_updated": 0,
        "products_unchanged": 0,
        "variants_created": 7,
        "variants_updated": 0,
        "variants_unchanged": 0,
    }
    assert result.errors == []
    assert [(w.row, w.column) for w in result.warnings] == [(2, "Image Src"), (3, "Image Src"), (6, "Image Src")]
    assert "not download" in result.warnings[0].message
    assert [(s["handle"], s["action"], s["variants"]) for s in result.sample] == [
        ("ankara-wrap-dress", "create", 4),
        ("leather-card-holder", "create", 1),
        ("shea-body-butter", "create", 2),
    ]
    with session_scope() as session:
        assert set(table_counts(session).values()) == {0}


def test_apply_shopify_file_builds_the_catalog_and_schedules_indexing(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    result = apply_import(SHOPIFY, "shopify.csv")
    assert result.written
    assert (result.counts.products_created, result.counts.variants_created) == (3, 7)
    with session_scope() as session:
        dress = session.exec(select(Product).where(Product.slug == "ankara-wrap-dress")).one()
        assert dress.title == "Ankara Wrap Dress"
        assert dress.status == "active"
        assert dress.description == "A wrap dress in bold Ankara print.\n\n• 100% cotton\n• Hand finished"
        assert (dress.price_min, dress.price_max) == (2_500_000, 2_650_000)
        assert session.get(Brand, dress.brand_id).name == "Adire House"
        assert session.get(Category, dress.category_id).name == "Dresses"
        options = session.exec(
            select(ProductOption).where(ProductOption.product_id == dress.id).order_by(ProductOption.position)
        ).all()
        assert [o.name for o in options] == ["Size", "Colour"]
        variants = variants_of(session, dress)
        assert [(v.sku, v.title, v.price, v.compare_at_price, v.stock_on_hand) for v in variants] == [
            ("AWD-S-BLU", "S / Blue", 2_500_000, 3_000_000, 6),
            ("AWD-S-RED", "S / Red", 2_500_000, 3_000_000, 4),
            ("AWD-M-BLU", "M / Blue", 2_650_000, None, 0),
            ("AWD-M-RED", "M / Red", 2_650_000, None, 9),
        ]
        tags = session.exec(
            select(Tag.name).join(ProductTag, ProductTag.tag_id == Tag.id).where(ProductTag.product_id == dress.id)
        ).all()
        assert sorted(tags) == ["ankara", "summer"]
        holder = session.exec(select(Product).where(Product.slug == "leather-card-holder")).one()
        (holder_variant,) = variants_of(session, holder)
        assert (holder.status, holder_variant.title, holder_variant.track_inventory) == ("draft", "", False)
        assert (
            session.exec(
                select(func.count()).select_from(ProductOption).where(ProductOption.product_id == holder.id)
            ).one()
            == 0
        )
        assert session.exec(select(func.count()).select_from(ProductImage)).one() == 0  # URLs are not downloaded
        ids = sorted(p.id for p in session.exec(select(Product)))
    assert sorted(result.product_ids) == ids
    assert sorted(job.args[0] for job in recorded.named("index_product")) == ids
    assert sorted(job.args[0] for job in recorded.named("embed_product")) == ids


def test_importing_twice_creates_no_duplicates(database, monkeypatch):
    record_jobs(monkeypatch)
    apply_import(SHOPIFY, "shopify.csv")
    with session_scope() as session:
        before = table_counts(session)
    again = apply_import(SHOPIFY, "shopify.csv")
    assert again.written
    assert again.counts.as_dict() | {"rows": 0} == {
        "rows": 0,
        "rows_skipped": 0,
        "products_created": 0,
        "products_updated": 0,
        "products_unchanged": 3,
        "variants_created": 0,
        "variants_updated": 0,
        "variants_unchanged": 7,
    }
    assert again.product_ids == []
    with session_scope() as session:
        assert table_counts(session) == before


def test_errors_block_the_import_and_write_nothing(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    result = apply_import(BAD_ROWS, "bad.csv")
    assert not result.written
    assert errors_of(result.problems) == [
        (3, "price", "'-15000': prices cannot be negative"),
        (4, "sku", "SKU 'LS-S' is already used on row 2"),
        (5, "option2_value", "Unknown option: 'Red' is given for option 2, but the product has only 1 option"),
        (6, "stock", "'ten' is not a whole number"),
        (6, "price", "Product 'canvas-tote' has no valid variant row (a row with a price)"),
    ]
    with session_scope() as session:
        assert set(table_counts(session).values()) == {0}
    assert recorded.jobs == []


def test_only_valid_rows_imports_the_rest(database, monkeypatch):
    record_jobs(monkeypatch)
    result = apply_import(BAD_ROWS, "bad.csv", only_valid_rows=True)
    assert result.written
    assert (result.counts.products_created, result.counts.variants_created, result.counts.rows_skipped) == (1, 1, 4)
    with session_scope() as session:
        products = session.exec(select(Product)).all()
        assert [p.slug for p in products] == ["linen-shirt"]
        assert [v.sku for v in variants_of(session, products[0])] == ["LS-S"]
        shirts = session.get(Category, products[0].category_id)
        assert (shirts.name, session.get(Category, shirts.parent_id).name) == ("Shirts", "Fashion")


def test_file_level_problems_stop_even_only_valid_rows(database):
    data = csv_bytes([["Notes", "Colour"], ["hello", "red"]])
    result = apply_import(data, "notes.csv", mapping={}, only_valid_rows=True)
    assert not result.written
    assert [p.row for p in result.problems] == [None, None]


# --- upserts ---------------------------------------------------------------------------------------


def test_upsert_updates_by_handle_and_sku_and_reports_what_changed(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    apply_import(SHOPIFY, "shopify.csv")
    recorded.jobs.clear()
    rows = [
        ["handle", "title", "description", "price", "sku", "stock", "option1_name", "option1_value"],
        ["shea-body-butter", "Shea Body Butter", "Now with vitamin E.", "4,800", "SBB-100", "", "Size", "100ml"],
        ["shea-body-butter", "", "", "8000", "SBB-250", "30", "Size", "250ml"],
        ["shea-body-butter", "", "", "12000", "", "5", "Size", "500ml"],
    ]
    result = apply_import(csv_bytes(rows), "update.csv")
    assert result.written, result.problems
    assert (result.counts.products_updated, result.counts.variants_updated, result.counts.variants_created) == (1, 2, 1)
    with session_scope() as session:
        butter = session.exec(select(Product).where(Product.slug == "shea-body-butter")).one()
        assert butter.description == "Now with vitamin E."
        assert butter.brand_id is not None  # no brand column: the brand is left alone
        assert (butter.price_min, butter.price_max) == (480_000, 1_200_000)
        variants = variants_of(session, butter)
        assert [(v.sku, v.title, v.price, v.stock_on_hand, v.compare_at_price) for v in variants] == [
            ("SBB-100", "100ml", 480_000, 40, None),  # blank stock leaves stock alone
            ("SBB-250", "250ml", 800_000, 30, 900_000),  # no compare-at column: left alone
            ("SHEA-BODY-BUTTER-500ML", "500ml", 1_200_000, 5, None),  # a row without SKU gets one
        ]
        values = session.exec(
            select(ProductOptionValue.value)
            .join(ProductOption, ProductOption.id == ProductOptionValue.option_id)
            .where(ProductOption.product_id == butter.id)
            .order_by(ProductOptionValue.position)
        ).all()
        assert values == ["100ml", "250ml", "500ml"]
    assert [job.args[0] for job in recorded.named("index_product")] == [butter.id]
    again = apply_import(csv_bytes(rows), "update.csv")
    assert (again.counts.products_unchanged, again.counts.variants_unchanged, again.counts.variants_created) == (
        1,
        3,
        0,
    )


def test_a_price_sheet_updates_variants_by_sku_alone(database, monkeypatch):
    record_jobs(monkeypatch)
    apply_import(SHOPIFY, "shopify.csv")
    sheet = csv_bytes([["SKU", "Price"], ["AWD-M-RED", "₦ 27,000"], ["LCH-001", "9500"], ["NOPE-1", "100"]])
    checked = preview(sheet, "prices.csv")
    assert checked.shape == "mapped"
    assert checked.columns == {"sku": "SKU", "price": "Price"}
    assert errors_of(checked.problems) == [
        (4, "SKU", "SKU 'NOPE-1' is not in the store and the row has no handle or title")
    ]
    result = apply_import(sheet, "prices.csv", only_valid_rows=True)
    assert (result.counts.variants_updated, result.counts.variants_unchanged, result.counts.rows_skipped) == (1, 1, 1)
    with session_scope() as session:
        assert variant_by_sku(session, "AWD-M-RED").price == 2_700_000
        dress = session.exec(select(Product).where(Product.slug == "ankara-wrap-dress")).one()
        assert dress.price_max == 2_700_000
        assert dress.description.startswith("A wrap dress")  # a price sheet says nothing about descriptions
        assert len(variants_of(session, dress)) == 4


def test_store_conflicts_are_reported_per_row(database, monkeypatch):
    record_jobs(monkeypatch)
    apply_import(SHOPIFY, "shopify.csv")
    rows = [
        ["handle", "title", "price", "sku", "option1_name", "option1_value"],
        ["new-scarf", "New Scarf", "5000", "AWD-S-BLU", "", ""],  # that SKU is the dress's
        ["shea-body-butter", "", "5000", "SBB-100", "Volume", "100ml"],  # the store's option is Size
    ]
    result = preview(csv_bytes(rows))
    assert errors_of(result.problems) == [
        (2, "sku", "SKU 'AWD-S-BLU' belongs to another product ('ankara-wrap-dress')"),
        (2, "price", "Product 'new-scarf' has no valid variant row (a row with a price)"),
        (
            3,
            "option1_name",
            "Product 'shea-body-butter' has the options Size in the store; the file gives Volume",
        ),
    ]


def test_categories_brands_collections_and_tags_are_created_once(database, monkeypatch):
    record_jobs(monkeypatch)
    rows = [
        ["handle", "title", "price", "brand", "category", "collections", "tags"],
        ["oxford-shirt", "Oxford Shirt", "15000", "Adire House", "Fashion > Men > Shirts", "New In, Office", "cotton"],
        ["silk-blouse", "Silk Blouse", "22000", "adire house", "Fashion > Women > Shirts", "New In", "Silk, cotton"],
    ]
    result = apply_import(csv_bytes(rows), "cats.csv")
    assert result.written, result.problems
    with session_scope() as session:
        categories = {c.slug: c for c in session.exec(select(Category))}
        assert sorted(categories) == ["fashion", "men", "shirts", "women", "women-shirts"]
        assert categories["shirts"].parent_id == categories["men"].id
        assert categories["women-shirts"].parent_id == categories["women"].id
        assert categories["men"].parent_id == categories["women"].parent_id == categories["fashion"].id
        assert [b.name for b in session.exec(select(Brand))] == ["Adire House"]
        assert sorted(c.title for c in session.exec(select(Collection))) == ["New In", "Office"]
        assert sorted(t.name for t in session.exec(select(Tag))) == ["Silk", "cotton"]
        new_in = session.exec(select(Collection).where(Collection.slug == "new-in")).one()
        members = session.exec(
            select(CollectionProduct.position).where(CollectionProduct.collection_id == new_in.id)
        ).all()
        assert sorted(members) == [0, 1]


def test_an_xlsx_sheet_through_a_column_mapping(database, monkeypatch):
    record_jobs(monkeypatch)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Item", "Cost to customer", "Units", "Shade", "Maker", "Weight (kg)"])
    sheet.append(["Raffia Basket", 7500, 12, "Natural", "Kano Weavers", 0.4])
    sheet.append(["Raffia Basket", 7500.5, 3, "Black", "Kano Weavers", 0.45])
    buffer = io.BytesIO()
    workbook.save(buffer)
    mapping = {
        "Item": "title",
        "Cost to customer": "price",
        "Units": "stock",
        "Shade": "option:Colour",
        "Maker": "brand",
        "Weight (kg)": "weight_grams",
    }
    result = apply_import(buffer.getvalue(), "baskets.xlsx", mapping=mapping)
    assert result.written, result.problems
    with session_scope() as session:
        basket = session.exec(select(Product).where(Product.slug == "raffia-basket")).one()
        assert [(v.title, v.price, v.stock_on_hand, v.weight_grams) for v in variants_of(session, basket)] == [
            ("Natural", 750_000, 12, 400),
            ("Black", 750_050, 3, 450),
        ]


# --- the template round trip -----------------------------------------------------------------------


def build_catalog(session: Session) -> None:
    """Two products that use every template column: options, a sale price, untracked stock, weight,
    images with alt text, a category tree, a brand, collections (one with a comma) and tags."""
    fashion = add_category(session, "Fashion")
    shirts = add_category(session, "Shirts", parent=fashion)
    brand = add_brand(session, "Adire House")
    shirt = add_product(
        session,
        "Indigo Shirt",
        category=shirts,
        brand=brand,
        variants=[({"Size": s, "Colour": c}, 1_500_050, 4) for s in ("S", "M") for c in ("Indigo", "Rust")],
        images=2,
    )
    shirt.description = "Hand-dyed indigo.\n\nCool in the heat."
    shirt.featured = True
    variants = variants_of(session, shirt)
    variants[1].compare_at_price = 1_800_000
    variants[2].track_inventory = False
    variants[3].weight_grams = 320
    session.add_all([shirt, *variants])
    tote = add_product(session, "Canvas Tote", status="draft", images=1)
    add_collection(session, "New In", [shirt, tote])
    add_collection(session, "Shoes, Bags & More", [tote])
    for name in ("cotton", "hand dyed"):
        tag = Tag(name=name, slug=name.replace(" ", "-"))
        session.add(tag)
        session.flush()
        session.add(ProductTag(product_id=shirt.id, tag_id=tag.id))
    session.flush()
    storage = get_storage()
    for image in session.exec(select(ProductImage)):
        storage.put(image.storage_key, b"\xff\xd8jpeg", "image/jpeg")


def test_template_export_round_trips_through_import_unchanged(database, monkeypatch):
    record_jobs(monkeypatch)
    with session_scope() as session:
        build_catalog(session)
    with session_scope() as session:
        exported, rows = products_workbook(session)
    assert rows == 5
    checked = preview(exported, "products.xlsx")
    assert checked.shape == "template"
    assert checked.problems == []
    assert (checked.counts.products_unchanged, checked.counts.variants_unchanged) == (2, 5)
    assert checked.counts.products_updated + checked.counts.variants_updated == 0

    with session_scope() as session:  # into an empty catalog, and out again: the same sheet
        for product in session.exec(select(Product)):
            session.delete(product)
    result = apply_import(exported, "products.xlsx")
    assert result.written and result.problems == []
    assert (result.counts.products_created, result.counts.variants_created) == (2, 5)
    with session_scope() as session:
        again, _ = products_workbook(session)
    first, second = read_sheet(exported, "a.xlsx"), read_sheet(again, "b.xlsx")
    assert first.headers == second.headers
    assert first.rows == second.rows
    by_column = dict(zip(first.headers, first.rows[0][1], strict=True))
    assert by_column["collections"] == "New In"
    assert dict(zip(first.headers, first.rows[4][1], strict=True))["collections"] == "New In, shoes-bags-more"
    assert by_column["category"] == "Fashion > Shirts"
    assert by_column["price"] == "15000.5"
    assert by_column["images"] == "products/indigo-shirt/0.jpg\nproducts/indigo-shirt/1.jpg"


# --- the job ---------------------------------------------------------------------------------------


def test_import_job_reports_progress_and_a_summary(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    monkeypatch.setattr(product_import, "BATCH_PRODUCTS", 1)
    seen: list[tuple[int, int]] = []
    original = product_import._record_progress

    def spy(session, import_id, done, total):
        original(session, import_id, done, total)
        seen.append((done, total))

    monkeypatch.setattr(product_import, "_record_progress", spy)
    with session_scope() as session:
        record = start_import(session, SHOPIFY, "shopify.csv", requested_by="staff@example.com")
        import_id = record.id
        assert recorded.named("import_products") == []  # queued only once the upload commits
    (job,) = recorded.named("import_products")
    assert (job.args, job.job_id) == ((import_id,), f"import-products-{import_id}")
    with session_scope() as session:
        waiting = import_progress(session, import_id)
        assert (waiting.status, waiting.finished, waiting.percent) == ("pending", False, 0)
        stored = session.get(DataImport, import_id)
        assert get_storage().read(stored.file_key, EXPORTS) == SHOPIFY
    summary = job.run()
    assert summary["products_created"] == 3 and summary["errors"] == 0 and summary["warnings"] == 3
    assert seen == [(5, 8), (6, 8), (8, 8)]  # one product per batch: rows of the dress, holder, butter
    with session_scope() as session:
        done = import_progress(session, import_id)
        assert (done.status, done.stage, done.rows_done, done.rows_total, done.percent) == (
            "succeeded",
            "done",
            8,
            8,
            100,
        )
        assert done.summary == summary
        assert [p["column"] for p in done.problems] == ["Image Src"] * 3
        assert [entry.id for entry in list_imports(session)] == [import_id]
    assert jobs.import_products(import_id) == summary  # a finished import is not run again
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Product)).one() == 3


def test_import_job_with_errors_fails_and_keeps_the_problems(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    with session_scope() as session:
        import_id = start_import(session, BAD_ROWS, "bad.csv").id
    recorded.named("import_products")[0].run()
    with session_scope() as session:
        failed = import_progress(session, import_id)
        assert failed.status == "failed" and failed.finished
        assert failed.error == "5 problems in the file: nothing was imported. Fix them, or import only the valid rows."
        assert failed.problems[0] == {
            "row": 3,
            "column": "price",
            "message": "'-15000': prices cannot be negative",
            "severity": "error",
        }
        assert session.exec(select(func.count()).select_from(Product)).one() == 0
        retry_id = start_import(session, BAD_ROWS, "bad.csv", only_valid_rows=True).id
    recorded.named("import_products")[1].run()
    with session_scope() as session:
        partial = import_progress(session, retry_id)
        assert partial.status == "succeeded"
        assert (partial.summary["products_created"], partial.summary["rows_skipped"]) == (1, 4)


def test_import_job_with_an_unreadable_file_fails_cleanly(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    with session_scope() as session:
        import_id = start_import(session, b"PK\x03\x04garbage", "broken.xlsx").id
    recorded.named("import_products")[0].run()
    with session_scope() as session:
        failed = import_progress(session, import_id)
        assert failed.status == "failed"
        assert "not a readable .xlsx" in failed.error


def test_ten_thousand_rows_import(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    rows = [["handle", "title", "price", "brand", "category", "option1_name", "option1_value", "sku", "stock"]]
    for number in range(2_000):
        for size in ("S", "M", "L", "XL", "XXL"):
            rows.append(
                [f"bulk-{number}", f"Bulk Tee {number}", f"{1000 + number}.50", f"Brand {number % 30}",
                 f"Dept {number % 6} > Line {number % 24}", "Size", size, f"BULK-{number}-{size}", str(number % 9)]
            )  # fmt: skip
    result = apply_import(csv_bytes(rows), "bulk.csv")
    assert result.written and result.problems == []
    assert (result.counts.rows, result.counts.products_created, result.counts.variants_created) == (
        10_000,
        2_000,
        10_000,
    )
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Variant)).one() == 10_000
        assert session.exec(select(func.count()).select_from(VariantOptionValue)).one() == 10_000
        assert variant_by_sku(session, "BULK-1999-XXL").price == 299_950
    # above the bulk threshold, one rebuild of each index is queued instead of 4,000 product jobs
    assert sorted(job.func.__name__ for job in recorded.jobs) == ["reembed_catalog", "reindex_catalog"]


@pytest.mark.parametrize("junk", [b"\x00\x01\x02", b"PK\x03\x04" + b"\x00" * 50, b"only,headers\n"])
def test_previews_of_junk_files_never_raise(database, junk):
    result = preview(junk, "junk.xlsx" if junk.startswith(b"PK") else "junk.csv")
    assert result.errors
    assert result.counts.products_created == 0


def test_inspect_file_gives_headers_shape_and_suggestions():
    summary = product_import.inspect_file(
        csv_bytes([["Item", "Cost", "Qty", "Size"], ["Cap", "5000", "2", "M"]]), "a.csv"
    )
    assert (summary.headers, summary.shape, summary.rows, summary.first_rows) == (
        ["Item", "Cost", "Qty", "Size"],
        "mapped",
        1,
        [["Cap", "5000", "2", "M"]],
    )
    assert [(s.header, s.field) for s in summary.suggestions] == [
        ("Item", "title"),
        ("Cost", None),
        ("Qty", "stock"),
        ("Size", "option:Size"),
    ]
    shopify = product_import.inspect_file(SHOPIFY, "shopify.csv")
    assert (shopify.shape, shopify.rows) == ("shopify", 8)
