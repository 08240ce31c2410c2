"""Products admin on a real database (SQLite and PostgreSQL): the product table's search, filters,
sorts and pages; creating a product whose options make the variant grid; editing that keeps the
variants; the validation messages; images checked by content; bulk actions; and, for every change,
an audit entry and the product's re-index and re-embedding queued for after the commit."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image
from sqlmodel import select

from revoque.adapters.storage import get_storage
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import (
    AuditEntry,
    Cart,
    CartLine,
    Collection,
    Product,
    ProductImage,
    ProductOption,
    ProductTag,
    Role,
    Variant,
    VariantOptionValue,
)
from revoque.services import product_admin
from revoque.services.product_admin import (
    OptionForm,
    OptionInput,
    ProductFilters,
    ProductInput,
    ProductValidationError,
    VariantInput,
)
from tests.factories import add_brand, add_category, add_collection, add_order, add_product, variants_of
from tests.support.admin import add_user
from tests.support.recorded_jobs import record_jobs

SIZES = OptionInput("Size", ["S", "M"])
COLOURS = OptionInput("Colour", ["Red", "Blue"])


@pytest.fixture
def jobs(monkeypatch):
    return record_jobs(monkeypatch)


@pytest.fixture
def staff(database):
    with session_scope(write=True) as session:
        return add_user(session, "sam@example.com", Role.STAFF)


def _priced(grid: list[VariantInput], start: int = 1_250_000) -> list[VariantInput]:
    for index, variant in enumerate(grid):
        variant.price = start + index * 50_000
        variant.stock_on_hand = 3 + index
    return grid


def _create(staff, title: str = "Linen Shirt", **fields) -> int:
    options = fields.pop("options", [SIZES, COLOURS])
    variants = fields.pop("variants", None)
    if variants is None:
        variants = _priced(product_admin.variant_grid(options, []))
    data = ProductInput(title=title, options=options, variants=variants, **fields)
    with session_scope(write=True) as session:
        return product_admin.save_product(session, staff, None, data).id


def _variants(product_id: int) -> list[Variant]:
    with session_scope() as session:
        return list(session.exec(select(Variant).where(Variant.product_id == product_id).order_by(Variant.position)))


def _audit(action: str | None = None) -> list[AuditEntry]:
    with session_scope() as session:
        statement = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            statement = statement.where(AuditEntry.action == action)
        return list(session.exec(statement))


def _scheduled(jobs) -> list[tuple[str, tuple]]:
    return [(job.func.__name__, job.args) for job in jobs.jobs]


def _problems(call) -> list[str]:
    with pytest.raises(ProductValidationError) as raised:
        call()
    return raised.value.problems


# --- creating and editing ---------------------------------------------------------------------------


def test_two_options_make_the_variant_grid_with_generated_unique_skus(staff, jobs):
    grid = product_admin.variant_grid([SIZES, COLOURS], [])
    assert [v.values for v in grid] == [["S", "Red"], ["S", "Blue"], ["M", "Red"], ["M", "Blue"]]
    assert all(v.sku == "" and v.id is None for v in grid)

    with session_scope(write=True) as session:
        category = add_category(session, "Shirts")
        brand = add_brand(session, "Eko Threads")
        summer = add_collection(session, "Summer", [])
        category_id, brand_id, summer_id = category.id, brand.id, summer.id
    product_id = _create(
        staff,
        status="active",
        category_id=category_id,
        brand_id=brand_id,
        tags=["Linen", "Summer Wear"],
        collection_ids=[summer_id],
        description="Cool linen.",
    )

    variants = _variants(product_id)
    assert [v.sku for v in variants] == [
        "LINEN-SHIRT-S-RED",
        "LINEN-SHIRT-S-BLUE",
        "LINEN-SHIRT-M-RED",
        "LINEN-SHIRT-M-BLUE",
    ]
    assert [v.title for v in variants] == ["S / Red", "S / Blue", "M / Red", "M / Blue"]
    assert [v.price for v in variants] == [1_250_000, 1_300_000, 1_350_000, 1_400_000]
    with session_scope() as session:
        product = session.get(Product, product_id)
        assert (product.slug, product.status, product.price_min, product.price_max) == (
            "linen-shirt",
            "active",
            1_250_000,
            1_400_000,
        )
        assert [o.name for o in session.exec(select(ProductOption).order_by(ProductOption.position))] == [
            "Size",
            "Colour",
        ]
        links = session.exec(select(VariantOptionValue)).all()
        assert len(links) == 8  # two values per variant
        assert len(session.exec(select(ProductTag)).all()) == 2
        editor = product_admin.load_editor(session, product_id)
    assert editor.tags == "Linen, Summer Wear"
    assert editor.collection_ids == [summer_id]
    assert [o.values_text for o in editor.options] == ["S, M", "Red, Blue"]
    assert editor.variants[0].price == "12500"

    created = _audit("product.create")
    assert len(created) == 1 and created[0].actor_email == "sam@example.com"
    assert created[0].after["variants"][0].startswith("LINEN-SHIRT-S-RED · S / Red · ₦12,500")
    assert created[0].after["category"] == "Shirts" and created[0].after["collections"] == ["Summer"]
    assert _scheduled(jobs) == [("index_product", (product_id,)), ("embed_product", (product_id,))]
    assert {job.job_id for job in jobs.jobs} == {f"index-product-{product_id}", f"embed-product-{product_id}"}


def test_a_second_product_with_the_same_title_gets_its_own_slug_and_skus(staff, jobs):
    first = _create(staff, options=[SIZES])
    second = _create(staff, options=[SIZES])
    with session_scope() as session:
        assert session.get(Product, second).slug == "linen-shirt-2"
    assert [v.sku for v in _variants(first)] == ["LINEN-SHIRT-S", "LINEN-SHIRT-M"]
    assert [v.sku for v in _variants(second)] == ["LINEN-SHIRT-2-S", "LINEN-SHIRT-2-M"]


def test_editing_keeps_existing_variants_and_adds_or_drops_only_what_changed(staff, jobs):
    product_id = _create(staff)
    before = {tuple(v.title.split(" / ")): (v.id, v.sku, v.stock_on_hand) for v in _variants(product_id)}
    jobs.jobs.clear()

    # The editor as the page uses it: a third size and a new option, the grid regenerated.
    with session_scope() as session:
        editor = product_admin.load_editor(session, product_id)
    editor.options[0].values_text = "S, M, L"
    editor.options.append(OptionForm("Material", "Linen"))
    editor.variants = product_admin.regrid(editor.options, editor.variants)
    assert [v.key for v in editor.variants][:2] == ["S / Red / Linen", "S / Blue / Linen"]
    editor.variants[0].price = "13,000"
    with session_scope(write=True) as session:
        product_admin.save_product(session, staff, product_id, product_admin.editor_input(editor, "NGN"))

    after = {tuple(v.title.split(" / ")): v for v in _variants(product_id)}
    assert len(after) == 6
    for (size, colour), (variant_id, sku, stock) in before.items():
        kept = after[(size, colour, "Linen")]
        assert (kept.id, kept.sku, kept.stock_on_hand) == (variant_id, sku, stock)
    assert after[("S", "Red", "Linen")].price == 1_300_000
    assert after[("L", "Red", "Linen")].sku == "LINEN-SHIRT-L-RED-LINEN"
    assert after[("L", "Red", "Linen")].stock_on_hand == 0
    assert after[("L", "Blue", "Linen")].price == 1_250_000  # new rows start from the first row's price

    # Through the service alone: dropping a colour deletes just its variants; the rest keep their ids.
    kept_ids = {v.id for v in _variants(product_id) if "Blue" not in v.title}
    data = ProductInput(
        title="Linen Shirt",
        options=[
            OptionInput("Size", ["S", "M", "L"]),
            OptionInput("Colour", ["Red"]),
            OptionInput("Material", ["Linen"]),
        ],
        variants=None,
    )
    with session_scope(write=True) as session:
        product_admin.save_product(session, staff, product_id, data)
    assert {v.id for v in _variants(product_id)} == kept_ids
    assert [v.title for v in _variants(product_id)] == ["S / Red / Linen", "M / Red / Linen", "L / Red / Linen"]

    updates = _audit("product.update")
    assert len(updates) == 2
    assert "options" in updates[0].after and "Material: Linen" in updates[0].after["options"]
    assert "title" not in updates[0].after  # only what changed is recorded
    assert [name for name, _ in _scheduled(jobs)] == ["index_product", "embed_product"] * 2


def test_saving_an_unchanged_product_keeps_everything_and_records_nothing(staff, jobs):
    product_id = _create(staff)
    before = [(v.id, v.sku, v.price) for v in _variants(product_id)]
    with session_scope() as session:
        editor = product_admin.load_editor(session, product_id)
    with session_scope(write=True) as session:
        product_admin.save_product(session, staff, product_id, product_admin.editor_input(editor, "NGN"))
    assert [(v.id, v.sku, v.price) for v in _variants(product_id)] == before
    assert _audit("product.update") == []


def test_skus_can_be_typed_and_swapped_between_variants(staff, jobs):
    product_id = _create(staff, options=[SIZES])
    with session_scope() as session:
        editor = product_admin.load_editor(session, product_id)
    editor.variants[0].sku, editor.variants[1].sku = "LINEN-SHIRT-M", "LINEN-SHIRT-S"
    with session_scope(write=True) as session:
        product_admin.save_product(session, staff, product_id, product_admin.editor_input(editor, "NGN"))
    assert [(v.title, v.sku) for v in _variants(product_id)] == [("S", "LINEN-SHIRT-M"), ("M", "LINEN-SHIRT-S")]


def test_slug_and_sku_must_be_unique_with_messages_that_name_the_other_product(staff, jobs):
    _create(staff, "Kente Scarf", options=[], variants=[VariantInput(price=900_000, sku="KS-1")], slug="kente")
    jobs.jobs.clear()

    problems = _problems(
        lambda: _create(
            staff,
            "Another Scarf",
            slug="Kente",
            options=[],
            variants=[VariantInput(price=500_000, sku="ks-1")],
        )
    )
    assert problems == [
        "The URL name “kente” is already used by “Kente Scarf”. Choose another.",
        "Variant Default: SKU “ks-1” is already used by “Kente Scarf”.",
    ]

    problems = _problems(
        lambda: _create(
            staff,
            "   ",
            options=[SIZES],
            variants=[
                VariantInput(values=["S"], price=-1, sku="DUP-1"),
                VariantInput(values=["M"], price=10_000, compare_at_price=10_000, sku="dup-1"),
            ],
        )
    )
    assert problems == [
        "Give the product a title.",
        "Variant S: the price cannot be negative.",
        "Variant M: the compare-at price (₦100) must be higher than the price (₦100), or left empty.",
        "SKU “dup-1” is given to two variants (S and M).",
    ]
    assert _problems(
        lambda: _create(staff, "Odd", options=[OptionInput("Size", ["S", "s"]), OptionInput("", ["X"])])
    ) == [
        "Option 1 (Size): the value “s” is listed twice.",
        "Option 2: give the option a name, such as Size or Colour.",
    ]
    assert _problems(lambda: _create(staff, "Odd", options=[SIZES], variants=[VariantInput(values=["XL"])])) == [
        "Variant XL: its values do not match the product's options; update the variants."
    ]
    with session_scope() as session:
        assert len(session.exec(select(Product)).all()) == 1  # nothing half-written
    assert jobs.jobs == [] and len(_audit()) == 1


def test_the_editor_reports_what_cannot_be_read():
    editor = product_admin.new_editor()
    editor.title = "Plain Tee"
    editor.variants[0].price = "twelve"
    editor.variants[0].stock = "-3"
    with pytest.raises(ProductValidationError) as raised:
        product_admin.editor_input(editor, "NGN")
    assert raised.value.problems == ["Variant Default, price: 'twelve' is not an amount of money."]
    editor.variants[0].price = "1,500.50"
    with pytest.raises(ProductValidationError) as raised:
        product_admin.editor_input(editor, "NGN")
    assert raised.value.problems == ["Variant Default, stock: enter a whole number, 0 or more (not “-3”)."]
    editor.variants[0].stock = "1,200"
    data = product_admin.editor_input(editor, "NGN")
    assert (data.variants[0].price, data.variants[0].stock_on_hand) == (150_050, 1_200)


def test_options_that_make_too_many_variants_are_refused():
    options = [OptionForm("Size", ", ".join(str(n) for n in range(20))), OptionForm("Colour", "A, B, C, D, E, F")]
    with pytest.raises(ProductValidationError) as raised:
        product_admin.regrid(options, [])
    assert raised.value.problems == [
        "These options make 120 variants; a product can have at most 100. Use fewer values, or split the product."
    ]


# --- the table --------------------------------------------------------------------------------------


@pytest.fixture
def catalog(staff):
    """Products across categories, statuses and stock levels."""
    with session_scope(write=True) as session:
        clothing = add_category(session, "Clothing")
        shirts = add_category(session, "Shirts", clothing)
        shoes = add_category(session, "Shoes")
        add_product(session, "Oxford Shirt", category=shirts, variants=[({"Size": "M"}, 900_000, 30)], age_days=5)
        add_product(session, "Linen Shirt", category=shirts, variants=[({"Size": "M"}, 700_000, 2)], age_days=4)
        add_product(session, "Denim Jacket", category=clothing, variants=[({}, 2_000_000, 0)], age_days=3)
        add_product(session, "Canvas Sneakers", category=shoes, status="draft", age_days=2)
        untracked = add_product(session, "Gift Card", status="archived", variants=[({}, 500_000, 0)], age_days=1)
        variants_of(session, untracked)[0].track_inventory = False
        return {"clothing": clothing.id, "shirts": shirts.id}


def _titles(**filters) -> list[str]:
    page = filters.pop("page", 1)
    page_size = filters.pop("page_size", 25)
    with session_scope() as session:
        result = product_admin.list_products(session, ProductFilters(**filters), page, page_size)
    return [row.title for row in result.items]


def test_the_table_searches_filters_sorts_and_pages(catalog):
    assert _titles() == ["Gift Card", "Canvas Sneakers", "Denim Jacket", "Linen Shirt", "Oxford Shirt"]
    assert _titles(q="shirt") == ["Linen Shirt", "Oxford Shirt"]
    assert _titles(q="shirt ox") == ["Oxford Shirt"]
    assert _titles(q="linen-shirt-m") == ["Linen Shirt"]  # part of a SKU, any case
    assert _titles(q="100%_") == []
    assert _titles(status="draft") == ["Canvas Sneakers"]
    assert _titles(category_id=catalog["clothing"]) == ["Denim Jacket", "Linen Shirt", "Oxford Shirt"]
    assert _titles(category_id=catalog["shirts"], sort="title") == ["Linen Shirt", "Oxford Shirt"]
    assert _titles(stock="out") == ["Denim Jacket"]
    assert _titles(stock="low") == ["Linen Shirt"]
    assert _titles(stock="in") == ["Gift Card", "Canvas Sneakers", "Linen Shirt", "Oxford Shirt"]
    assert _titles(sort="price_asc")[:3] == ["Canvas Sneakers", "Gift Card", "Linen Shirt"]
    assert _titles(sort="oldest", page=2, page_size=2) == ["Denim Jacket", "Canvas Sneakers"]
    with session_scope() as session:
        last = product_admin.list_products(session, ProductFilters(), page=99, page_size=2)
        assert (last.page, last.pages, last.total, [r.title for r in last.items]) == (3, 3, 5, ["Oxford Shirt"])
        rows = {r.title: r for r in product_admin.list_products(session).items}
    assert (rows["Linen Shirt"].stock_state, rows["Linen Shirt"].stock_text) == ("low", "2 in stock")
    assert (rows["Denim Jacket"].stock_state, rows["Denim Jacket"].stock_text) == ("out", "Out of stock")
    assert (rows["Gift Card"].stock_state, rows["Gift Card"].stock_text) == ("in", "Not tracked")
    assert rows["Oxford Shirt"].category == "Shirts" and rows["Oxford Shirt"].price_text == "₦9,000"
    assert rows["Oxford Shirt"].href.startswith("/admin/products/")


def test_a_search_with_many_matches_pages_the_same_way(catalog, monkeypatch):
    """Few matches are ordered from their ids, many through the sort index: same answers."""
    expected = [_titles(q=q, sort=sort, page=page, page_size=2) for q, sort, page in CASES]
    monkeypatch.setattr(product_admin, "FEW_MATCHES", 0)
    assert [_titles(q=q, sort=sort, page=page, page_size=2) for q, sort, page in CASES] == expected
    assert expected[0] == ["Linen Shirt", "Oxford Shirt"]
    assert expected[2] == ["Gift Card", "Canvas Sneakers"]  # page 3 of 2 is the last page; SKUs match "e" too


CASES = [("shirt", "newest", 1), ("s", "title", 2), ("e", "price_desc", 3), ("linen-shirt-m", "oldest", 1)]


def test_filters_from_the_url_ignore_nonsense():
    filters = product_admin.parse_filters(
        {"status": "gone", "stock": "low", "sort": "x", "category": "-3", "q": "  a  b "}
    )
    assert filters == ProductFilters(q="a b", status="", category_id=None, stock="low", sort="newest")


# --- images -----------------------------------------------------------------------------------------


def _picture(kind: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 60)).save(buffer, kind)
    return buffer.getvalue()


def test_images_are_checked_by_content_and_stored_like_the_seeds(staff, jobs):
    product_id = _create(staff, options=[])
    jobs.jobs.clear()
    with session_scope(write=True) as session:
        png = product_admin.upload_image(session, staff, product_id, _picture("PNG"), "front.png", "Front view")
        jpeg = product_admin.upload_image(session, staff, product_id, _picture("JPEG"), "side.jpg")
        webp = product_admin.upload_image(session, staff, product_id, _picture("WEBP"), "back.webp")
    assert png.url.startswith(f"/media/products/{product_id}/") and png.url.endswith(".png")
    assert jpeg.url.endswith(".jpg") and webp.url.endswith(".webp")
    assert [png.position, jpeg.position, webp.position] == [0, 1, 2]
    with session_scope() as session:
        keys = [i.storage_key for i in session.exec(select(ProductImage).order_by(ProductImage.position))]
    assert get_storage().read(keys[0]) == _picture("PNG")

    refused = {
        "notes.png": (b"just some text, not a picture\n", "“notes.png” is not a picture the store can use"),
        "anim.png": (_picture("GIF"), "“anim.png” is a GIF image; upload a PNG, JPEG or WebP image."),
        "cut.png": (_picture("PNG", (400, 400))[:200], "“cut.png” is not a picture the store can use"),
        "empty.png": (b"", "“empty.png” is empty."),
        "huge.png": (b"\x89PNG" + b"0" * (5 * 1024 * 1024), "“huge.png” is 5.0 MB; images can be up to 5.0 MB."),
    }
    for name, (data, message) in refused.items():
        with pytest.raises(ValidationError, match=message.replace(".", r"\.")), session_scope(write=True) as session:
            product_admin.upload_image(session, staff, product_id, data, name)
    with (
        pytest.raises(ValidationError, match="already one of this product's images"),
        session_scope(write=True) as session,
    ):
        product_admin.upload_image(session, staff, product_id, _picture("PNG"), "again.png")

    ids = [png.id, jpeg.id, webp.id]
    with session_scope(write=True) as session:
        product_admin.move_image(session, staff, webp.id, -1)
        product_admin.set_image_alt(session, staff, jpeg.id, "  Side   view ")
    with session_scope() as session:
        images = product_admin.product_images(session, product_id)
    assert [i.id for i in images] == [ids[0], ids[2], ids[1]]
    assert images[2].alt == "Side view"
    with pytest.raises(ValidationError, match="reload the page"), session_scope(write=True) as session:
        product_admin.reorder_images(session, staff, product_id, ids[:2])

    jobs.jobs.clear()
    with session_scope(write=True) as session:
        product_admin.delete_image(session, staff, png.id)
    assert get_storage().exists(keys[0])  # the file goes once the job queued after the commit runs
    assert [job.args for job in jobs.named("delete_file")] == [("images", keys[0])]
    for job in jobs.named("delete_file"):
        job.run()
    assert not get_storage().exists(keys[0])
    assert get_storage().exists(keys[1])

    actions = [e.action for e in _audit() if e.action.startswith("product.image")]
    assert actions == [
        "product.image_add",
        "product.image_add",
        "product.image_add",
        "product.image_order",
        "product.image_alt",
        "product.image_delete",
    ]
    with pytest.raises(NotFound), session_scope(write=True) as session:
        product_admin.delete_image(session, staff, png.id)


# --- bulk actions -----------------------------------------------------------------------------------


def test_bulk_price_change_rounds_to_whole_units_and_never_goes_below_zero(staff, jobs):
    shirt = _create(
        staff,
        "Shirt",
        options=[SIZES],
        variants=[
            VariantInput(values=["S"], price=1_234_567, compare_at_price=1_500_000),
            VariantInput(values=["M"], price=1_000_050, compare_at_price=1_050_000),
        ],
    )
    socks = _create(staff, "Socks", options=[], variants=[VariantInput(price=99_999)])
    jobs.jobs.clear()
    with session_scope(write=True) as session:
        result = product_admin.run_bulk(session, staff, "price", [shirt, socks], percent="+10%")
    assert sorted(_scheduled(jobs)) == [
        ("embed_product", (shirt,)),
        ("embed_product", (socks,)),
        ("index_product", (shirt,)),
        ("index_product", (socks,)),
    ]
    # 12,345.67 × 1.1 = 13,580.24 → 13,580; 10,000.50 × 1.1 = 11,000.55 → 11,001; 999.99 × 1.1 = 1,099.99 → 1,100
    assert [v.price for v in _variants(shirt)] == [1_358_000, 1_100_100]
    assert [v.compare_at_price for v in _variants(shirt)] == [1_500_000, None]  # no longer above: removed
    assert [v.price for v in _variants(socks)] == [110_000]
    assert result.message == (
        "Changed the prices of 2 products by +10%. 1 compare-at price no longer above the new price was removed."
    )
    with session_scope() as session:
        assert (session.get(Product, shirt).price_min, session.get(Product, shirt).price_max) == (1_100_100, 1_358_000)
    with session_scope(write=True) as session:
        product_admin.bulk_change_price(session, staff, [socks], Decimal("-100"))
    assert [v.price for v in _variants(socks)] == [0]
    assert product_admin.changed_price(149, Decimal(-50), "NGN") == 100  # 0.745 → 1 whole naira, never 0.745
    assert product_admin.changed_price(100, Decimal("-99.6"), "NGN") == 0
    assert product_admin.changed_price(1_999, Decimal(10), "JPY") == 2_199

    entries = _audit("product.price_change")
    assert len(entries) == 3
    assert entries[0].before == {"prices": ["SHIRT-S: ₦12,345.67", "SHIRT-M: ₦10,000.50"]}
    assert entries[0].after == {"prices": ["SHIRT-S: ₦13,580", "SHIRT-M: ₦11,001"]}
    assert entries[0].summary == "Shirt (+10%)"
    for text in ("0", "abc", "-101", "2000"):
        with pytest.raises(ValidationError), session_scope(write=True) as session:
            product_admin.run_bulk(session, staff, "price", [shirt], percent=text)


def test_bulk_activate_and_archive(staff, jobs):
    draft = _create(staff, "Draft Tee", options=[], variants=[VariantInput(price=100_000)])
    active = _create(staff, "Active Tee", options=[], variants=[VariantInput(price=100_000)], status="active")
    jobs.jobs.clear()
    with session_scope(write=True) as session:
        result = product_admin.run_bulk(session, staff, "activate", [draft, active])
    assert result.message == "Activated 1 product. 1 other was already active."
    with session_scope(write=True) as session:
        result = product_admin.run_bulk(session, staff, "archive", [draft, active])
    assert result.message == "Archived 2 products."
    with session_scope() as session:
        assert {session.get(Product, i).status for i in (draft, active)} == {"archived"}
    assert [e.action for e in _audit() if e.action in ("product.activate", "product.archive")] == [
        "product.activate",
        "product.archive",
        "product.archive",
    ]
    assert [args for name, args in _scheduled(jobs) if name == "index_product"] == [(draft,), (draft,), (active,)]
    with pytest.raises(ValidationError, match="Select at least one"), session_scope(write=True) as session:
        product_admin.run_bulk(session, staff, "archive", [])


def test_delete_needs_confirmation_and_archives_products_that_have_orders(staff, jobs):
    with session_scope(write=True) as session:
        sold = add_product(session, "Sold Scarf", images=1)
        unsold = add_product(session, "Unsold Scarf", images=2)
        add_order(session, [(variants_of(session, sold)[0], 1)])
        cart_variant = variants_of(session, unsold)[0]
        cart = Cart(token_hash="a-shoppers-cart")
        session.add(cart)
        session.flush()
        session.add(CartLine(cart_id=cart.id, variant_id=cart_variant.id, quantity=1))
        session.flush()
        sold_id, unsold_id = sold.id, unsold.id
        keys = [i.storage_key for i in session.exec(select(ProductImage).where(ProductImage.product_id == unsold_id))]
    for key in keys:
        get_storage().put(key, _picture("JPEG"), "image/jpeg")
    jobs.jobs.clear()

    with pytest.raises(ValidationError, match="Confirm the deletion first"), session_scope(write=True) as session:
        product_admin.run_bulk(session, staff, "delete", [sold_id, unsold_id])
    with session_scope(write=True) as session:
        result = product_admin.run_bulk(session, staff, "delete", [sold_id, unsold_id], confirmed=True)

    assert (result.deleted, result.archived_instead) == (1, 1)
    assert result.message == (
        "Deleted 1 product. 1 product archived instead of deleted because it has orders: orders must keep "
        "pointing at what was sold, and archived products are hidden from the store."
    )
    with session_scope() as session:
        assert session.get(Product, unsold_id) is None
        assert session.exec(select(Variant).where(Variant.id == cart_variant.id)).first() is None
        assert session.exec(select(CartLine)).all() == []  # the shopper's line went with the variant
        assert session.exec(select(Cart)).all() != []
        assert session.get(Product, sold_id).status == "archived"
        assert len(variants_of(session, session.get(Product, sold_id))) == 1
    assert {e.action for e in _audit()} == {"product.delete", "product.archive"}
    deleted = _audit("product.delete")[0]
    assert deleted.before["title"] == "Unsold Scarf" and deleted.after is None
    assert sorted(_scheduled(jobs)) == [
        ("delete_file", ("images", keys[0])),
        ("delete_file", ("images", keys[1])),
        ("embed_product", (sold_id,)),
        ("embed_product", (unsold_id,)),
        ("index_product", (sold_id,)),
        ("index_product", (unsold_id,)),
    ]
    for job in jobs.named("delete_file"):
        job.run()
    assert not any(get_storage().exists(key) for key in keys)


def test_a_failed_change_leaves_no_audit_entry_and_queues_nothing(staff, jobs):
    product_id = _create(staff, options=[])
    jobs.jobs.clear()
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        product_admin.run_bulk(session, staff, "archive", [product_id])
        raise RuntimeError("the request died")
    with session_scope() as session:
        assert session.get(Product, product_id).status == "draft"
    assert _audit("product.archive") == []
    assert jobs.jobs == []


def test_collections_are_kept_in_step_from_the_product_form(staff, jobs):
    with session_scope(write=True) as session:
        first = add_collection(session, "First", [])
        second = add_collection(session, "Second", [])
        first_id, second_id = first.id, second.id
    product_id = _create(staff, options=[], variants=[VariantInput(price=1)], collection_ids=[first_id])
    with session_scope() as session:
        editor = product_admin.load_editor(session, product_id)
    editor.collection_ids = [second_id]
    with session_scope(write=True) as session:
        product_admin.save_product(session, staff, product_id, product_admin.editor_input(editor, "NGN"))
    with session_scope() as session:
        assert product_admin.load_editor(session, product_id).collection_ids == [second_id]
        assert session.get(Collection, first_id) is not None
    with pytest.raises(ProductValidationError, match="collection no longer exists"):
        _create(staff, "Other", options=[], variants=[VariantInput(price=1)], collection_ids=[999])
