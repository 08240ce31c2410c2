"""The packaged all-MiniLM-L6-v2 model for real, and the product vector index built on it (embedded
numpy store under each test's DATA_DIR, on SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from sqlmodel import Session

from revoque.adapters.embedder import Embedder
from revoque.adapters.vectors import VectorFilter, VectorStoreError, get_vector_store
from revoque.db import session_scope
from revoque.models import Category, Product, Variant
from revoque.services.inventory import move_stock
from revoque.services.search import schedule_stock_index
from revoque.services.vector_index import (
    SAME_CATEGORY_BOOST,
    embed_products,
    embedding_text,
    products_collection,
    reembed_all,
    related_products,
    schedule_product_embedding,
    semantic_search,
)
from tests.factories import add_category, add_product, variants_of


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))  # the vectors are unit length


def test_the_packaged_model_embeds_meaning(embedder: Embedder) -> None:
    red_dress, gown, laptop = embedder.embed(["red dress", "crimson gown", "laptop"])

    assert red_dress.shape == (384,) and red_dress.dtype == np.float32
    for vector in (red_dress, gown, laptop):
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert cosine(red_dress, gown) > cosine(red_dress, laptop) + 0.2

    query = embedder.embed_query("red dress")
    assert query.shape == (384,) and np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)
    assert cosine(query, red_dress) == pytest.approx(1.0, abs=1e-4)  # this model has no query prompt


def test_a_repeated_query_reuses_its_vector_and_nobody_can_change_it(embedder: Embedder) -> None:
    first = embedder.embed_query("linen shirt")
    assert embedder.embed_query("linen shirt") is first
    assert not first.flags.writeable
    other = embedder.embed_query("leather boots")
    assert other is not first and cosine(first, other) < 0.9


def test_embedding_nothing_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_embedding_text_leads_with_what_the_product_is() -> None:
    doc = {
        "title": "Ankara wrap dress",
        "brand": "Lagos Loom",
        "category_path": ["Fashion", "Dresses"],
        "tags": ["party", "summer"],
        "option_values": ["S", "M", "Red"],
        "description": "  Hand-printed cotton. " + "x" * 5000,
    }
    text = embedding_text(doc)
    assert text.startswith(
        "Ankara wrap dress. Brand: Lagos Loom. Category: Fashion > Dresses. Tags: party, summer. "
        "Options: S, M, Red. Hand-printed cotton."
    )
    assert len(text) < 1200  # the long description is cut where the model would stop reading anyway
    assert embedding_text({"title": "Mug", "brand": None, "category_path": [], "description": ""}) == "Mug"


# --- the product index ------------------------------------------------------------------------------


def retitle(session: Session, product: Product, title: str) -> Product:
    """Give a product the same title and description as another (slugs must stay unique)."""
    product.title, product.description = title, f"{title} description."
    session.add(product)
    session.flush()
    return product


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the embedding job did not finish in time"
        time.sleep(0.05)


def test_related_products_exclude_self_and_unavailable_and_favour_the_category(database, embedder) -> None:
    with session_scope(write=True) as session:
        fashion = add_category(session, "Fashion")
        dresses = add_category(session, "Dresses", parent=fashion)
        # Same names, other branch: its products embed exactly like those in Fashion > Dresses.
        outlet = Category(name="Fashion", slug="outlet")
        session.add(outlet)
        session.flush()
        outlet_dresses = Category(name="Dresses", slug="outlet-dresses", parent_id=outlet.id)
        session.add(outlet_dresses)
        laptops = add_category(session, "Laptops")
        session.flush()

        target = add_product(session, "Crimson evening gown", category=dresses).id
        elsewhere = retitle(session, add_product(session, "Red dress 1", category=outlet_dresses), "Red party dress").id
        same_category = retitle(session, add_product(session, "Red dress 2", category=dresses), "Red party dress").id
        sold_out = add_product(session, "Scarlet cocktail dress", category=dresses, variants=[({}, 90_000, 0)]).id
        draft = add_product(session, "Ruby ball gown", category=dresses, status="draft").id
        laptop = add_product(session, "Gaming laptop with 16GB RAM", category=laptops).id

    reports: list[tuple[int, int]] = []
    assert reembed_all(lambda done, total: reports.append((done, total))) == 5  # the draft is not embedded
    assert reports[0] == (0, 5) and reports[-1] == (5, 5)
    store = get_vector_store()
    assert store.ids(products_collection()) == {target, elsewhere, same_category, sold_out, laptop}

    twins = dict(store.search(products_collection(), store.vector(products_collection(), target), 10))
    assert twins[same_category] == pytest.approx(twins[elsewhere], abs=1e-5)  # only the category tells them apart

    with session_scope() as session:
        related = related_products(session, target)
        assert related == [same_category, elsewhere, laptop]
        assert target not in related and sold_out not in related and draft not in related
        assert related_products(session, target, limit=1) == [same_category]
        assert related_products(session, draft) == []  # not embedded: nothing to compare with
        assert related_products(session, 999_999) == []
    assert SAME_CATEGORY_BOOST > 0


def move_twin_stock(variant_id: int, units: int) -> None:
    """Stock sold (negative) or put back, the way checkout and restocks change it."""
    with session_scope(write=True) as session:
        variant = session.get(Variant, variant_id)
        schedule_stock_index(session, variant.product_id, availability_changed=move_stock(session, variant, units))


def test_related_products_are_cached_until_one_sells_out_and_never_while_the_engine_is_down(
    database, embedder, monkeypatch
) -> None:
    with session_scope(write=True) as session:
        target = add_product(session, "Crimson evening gown").id
        twin = add_product(session, "Red party dress", variants=[({}, 90_000, 1)])
        twin_id, twin_variant = twin.id, variants_of(session, twin)[0].id
    reembed_all()
    with session_scope() as session:
        assert related_products(session, target) == [twin_id]
    store = get_vector_store()
    with monkeypatch.context() as patched, session_scope() as session:
        patched.setattr(store, "search", lambda *_a, **_k: pytest.fail("not served from the cache"))
        assert related_products(session, target) == [twin_id]
    move_twin_stock(twin_variant, -1)  # the last one sold
    with session_scope() as session:
        assert related_products(session, target) == []

    def down(*_args, **_kwargs):
        raise VectorStoreError("the vector engine is down")

    move_twin_stock(twin_variant, 1)  # back in stock while the engine is down: nothing cached
    with monkeypatch.context() as patched, session_scope() as session:
        patched.setattr(store, "vector", down)
        assert related_products(session, target) == []
    with session_scope() as session:
        assert related_products(session, target) == [twin_id]


def test_semantic_search_finds_meaning_and_applies_filters(database, embedder) -> None:
    with session_scope(write=True) as session:
        dresses = add_category(session, "Dresses")
        laptops = add_category(session, "Laptops")
        gown = add_product(session, "Crimson evening gown", category=dresses, variants=[({}, 250_000, 3)]).id
        laptop = add_product(session, "Gaming laptop with 16GB RAM", category=laptops, variants=[({}, 900_000, 2)]).id
        boots = add_product(session, "Leather ankle boots", variants=[({}, 60_000, 0)]).id
        embed_products(session, [gown, laptop, boots])

    with session_scope() as session:
        hits = semantic_search(session, "red dress for a party", limit=3)
        assert hits[0][0] == gown
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)
        laptops_only = semantic_search(session, "red dress", VectorFilter(category_slugs=["laptops"]))
        assert [product_id for product_id, _ in laptops_only] == [laptop]
        in_stock = semantic_search(session, "shoes", VectorFilter(in_stock=True, price_max=500_000))
        assert [product_id for product_id, _ in in_stock] == [gown]
        assert semantic_search(session, "   ") == []

    with session_scope(write=True) as session:
        archived = session.get(Product, gown)
        archived.status = "archived"
        session.add(archived)
        session.flush()
        assert embed_products(session, [gown]) == 0  # no longer active: its point goes
    with session_scope() as session:
        assert gown not in [product_id for product_id, _ in semantic_search(session, "red dress for a party")]


def test_a_product_change_queues_its_embedding_after_commit(database, embedder) -> None:
    store, name = get_vector_store(), products_collection()
    with session_scope(write=True) as session:
        product_id = add_product(session, "Crimson evening gown").id
        schedule_product_embedding(session, product_id)
        assert store.count(name) == 0  # nothing runs before the commit
    wait_for(lambda: store.ids(name) == {product_id})

    with session_scope(write=True) as session:
        product = session.get(Product, product_id)
        product.status = "archived"
        session.add(product)
        schedule_product_embedding(session, product_id)
    wait_for(lambda: store.count(name) == 0)
