"""The catalog's structure on a real database (SQLite and PostgreSQL): the category tree (add, rename,
move without ever making a loop, reorder), collections and their products, brands; each change is
audited, and the products whose search documents change are re-indexed once it commits."""

from __future__ import annotations

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import AuditEntry, Category, CollectionProduct, Role
from revoque.services import catalog_admin
from tests.factories import add_brand, add_category, add_product
from tests.support.admin import add_user
from tests.support.recorded_jobs import record_jobs


@pytest.fixture
def jobs(monkeypatch):
    return record_jobs(monkeypatch)


@pytest.fixture
def staff(database):
    with session_scope(write=True) as session:
        return add_user(session, "sam@example.com", Role.STAFF)


def _tree() -> list[tuple[int, str]]:
    with session_scope() as session:
        return [(node.depth, node.name) for node in catalog_admin.category_tree(session)]


def _ids() -> dict[str, int]:
    with session_scope() as session:
        return {c.name: c.id for c in session.exec(select(Category))}


def _actions() -> list[str]:
    with session_scope() as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]


def _change(change, *args):
    with session_scope(write=True) as session:
        return change(session, *args)


def test_categories_are_added_renamed_and_reordered_as_a_tree(staff, jobs):
    clothing = _change(catalog_admin.add_category, staff, "Clothing").id
    _change(catalog_admin.add_category, staff, "Shoes")
    shirts = _change(catalog_admin.add_category, staff, "Shirts", clothing).id
    _change(catalog_admin.add_category, staff, "Dresses", clothing)
    assert _tree() == [(0, "Clothing"), (1, "Shirts"), (1, "Dresses"), (0, "Shoes")]
    with session_scope() as session:
        nodes = {n.name: n for n in catalog_admin.category_tree(session)}
    assert nodes["Shirts"].path == "Clothing › Shirts"
    assert (nodes["Shirts"].is_first, nodes["Shirts"].is_last) == (True, False)
    assert nodes["Clothing"].child_count == 2

    again = _change(catalog_admin.add_category, staff, "Shirts!", None)
    assert again.slug == "shirts-2"  # the slug is free even though the name is alike
    _change(catalog_admin.reorder_category, staff, again.id, -1)
    _change(catalog_admin.reorder_category, staff, again.id, -5)  # clamped to the first place
    assert _tree()[0] == (0, "Shirts!")
    _change(catalog_admin.reorder_category, staff, shirts, 1)
    assert [name for depth, name in _tree() if depth == 1] == ["Dresses", "Shirts"]

    with session_scope(write=True) as session:
        add_product(session, "Oxford Shirt", category=session.get(Category, shirts))
    jobs.jobs.clear()
    renamed = _change(catalog_admin.rename_category, staff, shirts, "  Men's   Shirts ")
    assert (renamed.name, renamed.slug) == ("Men's Shirts", "shirts")  # the address stays
    assert [job.func.__name__ for job in jobs.jobs] == ["index_product", "embed_product"]

    for bad in ("", "   ", "!!!", "x" * 121):
        with pytest.raises(ValidationError):
            _change(catalog_admin.add_category, staff, bad)
    with pytest.raises(NotFound):
        _change(catalog_admin.add_category, staff, "Orphan", 9999)
    assert _actions() == [
        "category.create",
        "category.create",
        "category.create",
        "category.create",
        "category.create",
        "category.reorder",
        "category.reorder",
        "category.reorder",
        "category.rename",
    ]


def test_a_move_that_would_make_a_loop_is_refused_and_a_good_move_reindexes_the_subtree(staff, jobs):
    with session_scope(write=True) as session:
        clothing = add_category(session, "Clothing")
        men = add_category(session, "Men", clothing)
        shirts = add_category(session, "Shirts", men)
        sale = add_category(session, "Sale", position=1)
        shirt = add_product(session, "Oxford Shirt", category=shirts)
        coat = add_product(session, "Wool Coat", category=men)
        add_product(session, "Sale Socks", category=sale)
        ids = {"clothing": clothing.id, "men": men.id, "shirts": shirts.id, "sale": sale.id}
        shirt_id, coat_id = shirt.id, coat.id

    with pytest.raises(ValidationError) as raised:
        _change(catalog_admin.move_category, staff, ids["clothing"], ids["shirts"])
    assert str(raised.value) == "“Clothing” can't be moved under “Shirts”, which is inside it. Choose another place."
    with pytest.raises(ValidationError, match="can't be moved under itself"):
        _change(catalog_admin.move_category, staff, ids["men"], ids["men"])
    assert _tree() == [(0, "Clothing"), (1, "Men"), (2, "Shirts"), (0, "Sale")]
    assert jobs.jobs == [] and _actions() == []

    _change(catalog_admin.move_category, staff, ids["men"], ids["sale"])
    assert _tree() == [(0, "Clothing"), (0, "Sale"), (1, "Men"), (2, "Shirts")]
    assert sorted((job.func.__name__, job.args) for job in jobs.jobs) == [
        ("embed_product", (shirt_id,)),
        ("embed_product", (coat_id,)),
        ("index_product", (shirt_id,)),
        ("index_product", (coat_id,)),
    ]
    _change(catalog_admin.move_category, staff, ids["shirts"], None)
    assert _tree() == [(0, "Clothing"), (0, "Sale"), (1, "Men"), (0, "Shirts")]
    with session_scope() as session:
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.action == "category.move")))
    assert [(e.before, e.after) for e in entries] == [
        ({"parent": "Clothing"}, {"parent": "Sale"}),
        ({"parent": "Men"}, {"parent": "(top level)"}),
    ]


def test_moving_a_big_category_rebuilds_the_indexes_once(staff, jobs, monkeypatch):
    monkeypatch.setattr(catalog_admin, "REINDEX_EACH_LIMIT", 2)
    with session_scope(write=True) as session:
        shoes = add_category(session, "Shoes")
        sale = add_category(session, "Sale")
        for n in range(3):
            add_product(session, f"Sneaker {n}", category=shoes)
        shoes_id, sale_id = shoes.id, sale.id
    _change(catalog_admin.move_category, staff, shoes_id, sale_id)
    assert [(job.func.__name__, job.job_id) for job in jobs.jobs] == [
        ("reindex_catalog", "reindex-catalog"),
        ("reembed_catalog", "reembed-catalog"),
    ]


def test_collections_are_created_renamed_and_filled(staff, jobs):
    with session_scope(write=True) as session:
        products = [add_product(session, title).id for title in ("Kente Scarf", "Adire Tote", "Beaded Anklet")]
    summer = _change(catalog_admin.create_collection, staff, "Summer picks")
    assert summer.slug == "summer-picks"
    assert _change(catalog_admin.add_to_collection, staff, summer.id, [products[1], products[0]]) == 2
    assert _change(catalog_admin.add_to_collection, staff, summer.id, [products[0], products[2]]) == 1
    with session_scope() as session:
        members = catalog_admin.collection_members(session, summer.id)
        assert [m.title for m in members.items] == ["Adire Tote", "Kente Scarf", "Beaded Anklet"]
        assert members.total == 3 and members.items[0].href == f"/admin/products/{products[1]}"
        second_page = catalog_admin.collection_members(session, summer.id, page=2, page_size=2)
        assert [m.title for m in second_page.items] == ["Beaded Anklet"]
    assert _change(catalog_admin.remove_from_collection, staff, summer.id, [products[1]]) == 1
    assert _change(catalog_admin.remove_from_collection, staff, summer.id, [products[1]]) == 0
    _change(catalog_admin.rename_collection, staff, summer.id, "Summer favourites")
    with session_scope() as session:
        rows = catalog_admin.list_collections(session)
        assert [(r.title, r.slug, r.product_count) for r in rows] == [("Summer favourites", "summer-picks", 2)]
        links = session.exec(select(CollectionProduct).order_by(CollectionProduct.position))
        positions = [link.position for link in links]
        assert positions == [1, 2]
        found = catalog_admin.find_products(session, "scarf")
        assert [p.title for p in found] == ["Kente Scarf"]
        by_sku = catalog_admin.find_products(session, "adire-tote")
        assert [p.title for p in by_sku] == ["Adire Tote"]
        assert catalog_admin.find_products(session, "a") == []
    assert _actions() == [
        "collection.create",
        "collection.add_products",
        "collection.add_products",
        "collection.remove_products",
        "collection.rename",
    ]
    assert jobs.jobs == []  # collections are not part of the search documents
    with pytest.raises(NotFound):
        _change(catalog_admin.add_to_collection, staff, 9999, products)
    with pytest.raises(ValidationError, match="Choose at least one product"):
        _change(catalog_admin.add_to_collection, staff, summer.id, [])


def test_brands_are_created_and_renamed_and_their_products_reindexed(staff, jobs):
    eko = _change(catalog_admin.create_brand, staff, "Eko Threads")
    with pytest.raises(ValidationError) as raised:
        _change(catalog_admin.create_brand, staff, "eko threads")
    assert str(raised.value) == "There is already a brand called “eko threads”."
    with session_scope(write=True) as session:
        lagos = add_brand(session, "Lagos Leather")
        product = add_product(session, "Tote", brand=lagos)
        lagos_id, product_id = lagos.id, product.id
    with pytest.raises(ValidationError, match="already a brand called"):
        _change(catalog_admin.rename_brand, staff, lagos_id, "EKO THREADS")
    _change(catalog_admin.rename_brand, staff, lagos_id, "Lagos Leatherworks")
    assert sorted((job.func.__name__, job.args) for job in jobs.jobs) == [
        ("embed_product", (product_id,)),
        ("index_product", (product_id,)),
    ]
    with session_scope() as session:
        page = catalog_admin.list_brands(session)
    assert [(b.name, b.slug, b.product_count) for b in page.items] == [
        ("Eko Threads", eko.slug, 0),
        ("Lagos Leatherworks", "lagos-leather", 1),
    ]
    assert (page.total, page.pages) == (2, 1)
    assert _actions() == ["brand.create", "brand.rename"]


def test_a_renamed_category_shows_at_once_in_the_cached_menu(staff, jobs):
    from revoque.services import catalog

    with session_scope(write=True) as session:
        shoes = add_category(session, "Shoes")
        add_product(session, "Canvas Sneakers", category=shoes)
    with session_scope() as session:
        assert [c.name for c in catalog.top_categories(session)] == ["Shoes"]  # cached now
    _change(catalog_admin.rename_category, staff, shoes.id, "Footwear")
    with session_scope() as session:
        assert [c.name for c in catalog.top_categories(session)] == ["Footwear"]
