"""The products, product and catalog pages' handlers run as Reflex runs them, for a signed-in member of
staff against a real database: the table from the URL and its bulk actions, a product built field by
field (the variant grid following the options), saved, given images and deleted, and the catalog's
tree, collections and brands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import reflex as rx
from PIL import Image
from sqlmodel import select

from revoque.db import session_scope
from revoque.models import AuditEntry, Category, Product, Variant
from revoque.pages.admin.catalog import CatalogState
from revoque.pages.admin.product_edit import ProductEditState
from revoque.pages.admin.products import AdminProductsState, products_query
from tests.factories import add_category, add_product
from tests.support.admin import event_text, page_state, run, token_for
from tests.support.recorded_jobs import record_jobs

BASE = "http://localhost:3000"


@pytest.fixture
def jobs(monkeypatch):
    return record_jobs(monkeypatch)


@pytest.fixture
def token(database) -> str:
    return token_for("staff")


def _upload(name: str, data: bytes) -> rx.UploadFile:
    return rx.UploadFile(file=io.BytesIO(data), path=Path(name), size=len(data))


def said(response) -> str:
    """What the returned events say, with the curly quotes that JSON escaped put back."""
    return event_text(response).replace("\\u201c", "“").replace("\\u201d", "”")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_query_string_leaves_out_empty_filters_and_the_default_sort():
    assert products_query("  linen  shirt ", "any", "", "low", "newest") == "q=linen+shirt&stock=low"
    assert products_query(sort="title") == "sort=title"


def test_staff_filter_the_table_and_run_bulk_actions(token, jobs):
    with session_scope(write=True) as session:
        shirts = add_category(session, "Shirts")
        for n in range(3):
            add_product(session, f"Linen Shirt {n}", category=shirts, status="draft", age_days=n)
        add_product(session, "Wool Coat")
        shirts_id = shirts.id
    state = page_state(AdminProductsState, token, f"{BASE}/admin/products?q=linen&category={shirts_id}&sort=title")
    assert run(AdminProductsState.load, state) is None
    assert [row.title for row in state.rows] == ["Linen Shirt 0", "Linen Shirt 1", "Linen Shirt 2"]
    assert (state.total, state.q, state.category, state.sort) == (3, "linen", str(shirts_id), "title")
    assert [c.label for c in state.categories] == ["Shirts"]

    response = run(AdminProductsState.apply_filters, state, {"q": "coat", "status": "any", "stock": "out"})
    assert event_text(response).startswith('"/admin/products?q=coat&stock=out"')

    ids = [row.id for row in state.rows]
    run(AdminProductsState.toggle, state, ids[0], True)
    run(AdminProductsState.toggle, state, 99_999, True)  # not on the page: ignored
    assert state.selected == [ids[0]]
    run(AdminProductsState.toggle_all, state, True)
    assert sorted(state.selected) == sorted(ids) and state.all_selected
    response = run(AdminProductsState.activate, state)
    assert "Activated 3 products." in said(response)
    assert state.selected == [] and {row.status for row in state.rows} == {"active"}

    run(AdminProductsState.toggle, state, ids[1], True)
    response = run(AdminProductsState.change_prices, state, {"percent": "abc"})
    assert "is not a percentage" in said(response)
    response = run(AdminProductsState.change_prices, state, {"percent": "-50"})
    assert "Changed the prices of 1 product by -50%." in said(response)
    with session_scope() as session:
        assert session.exec(select(Variant).where(Variant.product_id == ids[1])).one().price == 50_000

    run(AdminProductsState.toggle, state, ids[2], True)
    response = run(AdminProductsState.delete_selected, state)
    assert "Deleted 1 product." in said(response)
    assert [row.id for row in state.rows] == ids[:2]
    response = run(AdminProductsState.archive, state)
    assert "Tick at least one product first." in said(response)


def test_staff_build_a_product_field_by_field_and_save_it(token, jobs):
    with session_scope(write=True) as session:
        category_id = add_category(session, "Shirts").id
    state = page_state(ProductEditState, token, f"{BASE}/admin/products/new")
    assert run(ProductEditState.load, state) is None
    assert (state.is_new, state.heading, len(state.variants)) == (True, "New product", 1)

    run(ProductEditState.set_text, state, "title", "Adire Shirt")
    run(ProductEditState.set_text, state, "secret_field", "ignored")
    run(ProductEditState.set_choice, state, "category_id", str(category_id))
    run(ProductEditState.set_choice, state, "status", "active")
    run(ProductEditState.add_option, state)
    run(ProductEditState.set_option, state, 0, "name", "Size")
    assert [v.key for v in state.variants] == ["Default"]  # no values yet: the grid waits
    run(ProductEditState.set_option, state, 0, "values_text", "M, L")
    assert [v.key for v in state.variants] == ["M", "L"]
    run(ProductEditState.add_option, state)
    run(ProductEditState.set_option, state, 1, "name", "Size")
    run(ProductEditState.set_option, state, 1, "values_text", "Blue")
    assert state.option_problems == ["Option 2 (Size): there are two options called “Size”."]
    run(ProductEditState.set_option, state, 1, "name", "Colour")
    assert state.option_problems == [] and [v.key for v in state.variants] == ["M / Blue", "L / Blue"]

    run(ProductEditState.set_variant, state, 0, "price", "12,500")
    run(ProductEditState.set_variant, state, 1, "price", "-4")
    response = run(ProductEditState.save, state)
    assert "not saved" in said(response)
    assert state.problems == ["Variant L / Blue, price: Amounts cannot be negative."]

    run(ProductEditState.set_variant, state, 1, "price", "13500")
    run(ProductEditState.set_variant, state, 1, "stock", "7")
    run(ProductEditState.set_tracking, state, 0, False)
    response = run(ProductEditState.save, state)
    with session_scope() as session:
        product = session.exec(select(Product)).one()
        variants = session.exec(select(Variant).order_by(Variant.position)).all()
    assert f'"/admin/products/{product.id}"' in said(response) and state.problems == []
    assert (product.title, product.status, product.category_id) == ("Adire Shirt", "active", category_id)
    assert [(v.sku, v.price, v.stock_on_hand, v.track_inventory) for v in variants] == [
        ("ADIRE-SHIRT-M-BLUE", 1_250_000, 0, False),
        ("ADIRE-SHIRT-L-BLUE", 1_350_000, 7, True),
    ]

    page = page_state(ProductEditState, token, f"{BASE}/admin/products/{product.id}")
    run(ProductEditState.load, page)
    assert (page.is_new, page.title, page.category_id) == (False, "Adire Shirt", str(category_id))
    assert [v.sku for v in page.variants] == ["ADIRE-SHIRT-M-BLUE", "ADIRE-SHIRT-L-BLUE"]

    response = run(ProductEditState.upload_images, page, [_upload("front.png", _png()), _upload("notes.png", b"hi")])
    assert "“notes.png” is not a picture the store can use" in said(response)
    assert "Image added." in said(response)
    assert len(page.images) == 1 and page.images[0].url.endswith(".png")
    run(ProductEditState.set_alt, page, page.images[0].id, "Front of the shirt")
    assert page.images[0].alt == "Front of the shirt"
    run(ProductEditState.remove_variant, page, 1)
    run(ProductEditState.save, page)
    with session_scope() as session:
        assert [v.sku for v in session.exec(select(Variant))] == ["ADIRE-SHIRT-M-BLUE"]
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["product.create", "product.image_add", "product.image_alt", "product.update"]

    response = run(ProductEditState.delete_product, page)
    assert "Deleted 1 product." in said(response)
    with session_scope() as session:
        assert session.exec(select(Product)).all() == []


def test_an_unknown_product_number_is_not_found(token):
    state = page_state(ProductEditState, token, f"{BASE}/admin/products/424242")
    assert run(ProductEditState.load, state) is None
    assert state.not_found and state.loaded


def test_the_catalog_page_shows_one_tab_and_changes_the_tree(token, jobs):
    with session_scope(write=True) as session:
        clothing = add_category(session, "Clothing")
        shirts = add_category(session, "Shirts", clothing)
        clothing_id, shirts_id = clothing.id, shirts.id
    state = page_state(CatalogState, token, f"{BASE}/admin/catalog")
    run(CatalogState.load, state)
    assert state.tab == "categories" and [n.name for n in state.nodes] == ["Clothing", "Shirts"]
    assert state.brands == [] and state.collections == []  # other tabs are not loaded

    response = run(CatalogState.add_category, state, {"name": "Dresses", "parent": str(clothing_id)})
    assert "Category “Dresses” added." in said(response)
    assert [(n.depth, n.name) for n in state.nodes] == [(0, "Clothing"), (1, "Shirts"), (1, "Dresses")]

    run(CatalogState.open_dialog, state, "move_category", clothing_id)
    assert state.dialog == "move_category" and state.parent_choices == []  # nowhere inside itself
    response = run(CatalogState.submit_dialog, state, {"parent": str(shirts_id)})
    assert "can't be moved under “Shirts”" in said(response)
    assert state.dialog == "move_category"  # the dialog stays open to choose again

    run(CatalogState.open_dialog, state, "rename_category", shirts_id)
    response = run(CatalogState.submit_dialog, state, {"name": "Men's Shirts"})
    assert "Category renamed." in said(response) and state.dialog == ""
    with session_scope() as session:
        assert session.get(Category, shirts_id).name == "Men's Shirts"

    collections = page_state(CatalogState, token, f"{BASE}/admin/catalog?tab=collections")
    run(CatalogState.load, collections)
    run(CatalogState.create_collection, collections, {"title": "New in"})
    assert [c.title for c in collections.collections] == ["New in"]
    collection_id = collections.collections[0].id
    with session_scope(write=True) as session:
        product_id = add_product(session, "Kente Scarf").id
    members = page_state(CatalogState, token, f"{BASE}/admin/catalog?tab=collections&collection={collection_id}")
    run(CatalogState.load, members)
    assert members.collection_title == "New in" and members.members_total == 0
    run(CatalogState.find_products, members, {"q": "kente"})
    assert [p.title for p in members.picks] == ["Kente Scarf"]
    run(CatalogState.add_member, members, product_id)
    assert [m.title for m in members.members] == ["Kente Scarf"] and members.picks == []
    run(CatalogState.remove_member, members, product_id)
    assert members.members_total == 0

    brands = page_state(CatalogState, token, f"{BASE}/admin/catalog?tab=brands")
    run(CatalogState.load, brands)
    run(CatalogState.create_brand, brands, {"name": "Eko Threads"})
    response = run(CatalogState.create_brand, brands, {"name": "eko threads"})
    assert "There is already a brand called" in said(response)
    assert [b.name for b in brands.brands] == ["Eko Threads"] and brands.total == 1
