"""The storefront's search service on the embedded engine: result pages with labelled facets, the
database fallback, "did you mean", suggestions, index sync from checkout and cancellations, health."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from revoque.adapters.search import PRICE_BUCKETS, Facet, SearchFilters, SearchQuery, SearchUnavailable, SortKey
from revoque.api.health import health
from revoque.db import session_scope
from revoque.models import Order, OrderStatus, Product
from revoque.services import carts, checkout, orders, pricing, shipping
from revoque.services import search as search_service
from revoque.services.accounts import AddressInput
from revoque.services.search import price_range, reindex_all, search_products, suggest
from tests.conftest import use_settings
from tests.factories import variants_of
from tests.support.recorded_jobs import RecordedJobs, record_jobs
from tests.support.search_catalog import PRICES, SearchCatalog, build_search_catalog

ALL_FACETS = tuple(Facet)


@pytest.fixture
def catalog(database, monkeypatch) -> SearchCatalog:
    use_settings(monkeypatch, meili_url="")
    with session_scope() as session:
        built = build_search_catalog(session)
    reindex_all()
    return built


@pytest.fixture
def jobs(monkeypatch) -> RecordedJobs:
    return record_jobs(monkeypatch)


class BrokenEngine:
    """An engine whose every call fails the way a crashed or unreachable engine does."""

    name = "broken"

    def __getattr__(self, _name: str):
        def fail(*_args, **_kwargs):
            raise SearchUnavailable("Search is unavailable (query failed).")

        return fail


@pytest.fixture
def broken_engine(catalog, monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(search_service, "get_search_engine", lambda: BrokenEngine())
    yield


def results(text: str = "", **fields):
    with session_scope() as session:
        return search_products(session, SearchQuery(text=text, **fields))


def titles(page) -> list[str]:
    return [card.title for card in page.items]


def options(page, facet: Facet) -> list[tuple[str, str, int, bool]]:
    [group] = [g for g in page.facets if g.facet == facet.value]
    return [(o.value, o.label, o.count, o.selected) for o in group.options]


# --- result pages -------------------------------------------------------------------------------


def test_a_page_of_cards_in_engine_order_with_highlights(catalog):
    page = results(sort=SortKey.PRICE_ASC, page_size=4)
    cheapest = sorted(PRICES, key=PRICES.get)
    assert titles(page) == cheapest[:4]
    assert (page.total, page.page, page.pages, page.sort, page.degraded) == (9, 1, 3, "price_asc", False)
    assert [h.product_id for h in page.highlights] == [card.id for card in page.items]
    assert page.items[0].price_text == "₦6,500" and page.items[0].href == "/product/feather-pillow"
    leather = results("leather belt")
    assert leather.highlights[0].title_html == "<mark>Leather</mark> <mark>Belt</mark>"


def test_a_page_past_the_end_shows_the_last_page(catalog):
    page = results(sort=SortKey.PRICE_ASC, page=99, page_size=4)
    assert (page.page, page.pages, titles(page)) == (3, 3, ["Two Tone Watch"])


def test_facets_are_labelled_and_ordered(catalog):
    page = results(facets=ALL_FACETS)
    assert [g.title for g in page.facets] == ["Category", "Brand", "Size", "Colour", "Price"]
    assert options(page, Facet.CATEGORY) == [  # top-level categories when none is chosen
        ("accessories", "Accessories", 2, False),
        ("clothing", "Clothing", 2, False),
        ("shoes", "Shoes", 2, False),
        ("bags", "Bags", 1, False),
        ("electronics", "Electronics", 1, False),
        ("home", "Home", 1, False),
    ]
    assert options(page, Facet.BRAND) == [
        ("eko-threads", "Eko Threads", 3, False),
        ("arewa-sports", "Arewa Sports", 2, False),
        ("kano-leather", "Kano Leather", 2, False),
    ]
    assert [(label, count) for _value, label, count, _selected in options(page, Facet.PRICE)] == [
        ("Under ₦10,000", 2),
        ("₦10,000 – ₦25,000", 3),
        ("₦25,000 – ₦50,000", 2),
        ("₦50,000 – ₦100,000", 1),
        ("Over ₦100,000", 1),
    ]


def test_choosing_a_category_shows_its_subcategories(catalog):
    page = results(filters=SearchFilters(categories=("shoes",)), facets=(Facet.CATEGORY,))
    assert options(page, Facet.CATEGORY) == [("shoes", "Shoes", 2, True), ("sneakers", "Sneakers", 2, False)]


def test_a_price_band_is_a_price_filter(catalog):
    band = next(b for b in PRICE_BUCKETS if b.key == "10k-25k")
    low, high = price_range(band)
    page = results(filters=SearchFilters(price_min=low, price_max=high), facets=(Facet.PRICE,))
    assert set(titles(page)) == {"Canvas Sneakers", "Canvas Tote", "Oxford Shirt"}
    assert options(page, Facet.PRICE) == [("10k-25k", "₦10,000 – ₦25,000", 3, True)]


# --- when the engine is down --------------------------------------------------------------------


def test_the_database_answers_when_the_engine_is_broken(broken_engine):
    page = results("sneakers", sort=SortKey.PRICE_DESC, facets=ALL_FACETS)
    assert page.degraded
    assert titles(page) == ["Leather Sneakers", "Canvas Sneakers"]
    assert (page.total, page.sort, page.facets, page.suggestion) == (2, "price_desc", [], "")
    assert set(titles(results(filters=SearchFilters(categories=("shirts",))))) == {"Oxford Shirt", "Linen Shirt"}
    assert results(filters=SearchFilters(categories=("no-such-category",))).total == 0
    with session_scope() as session:
        assert suggest(session, "sneak") == []


def test_the_database_answers_when_meilisearch_is_unreachable(catalog, monkeypatch):
    use_settings(monkeypatch, meili_url="http://127.0.0.1:9", meili_master_key="nothing")
    page = results("linen")
    assert page.degraded and titles(page) == ["Linen Shirt"]


# --- did you mean -------------------------------------------------------------------------------


def test_did_you_mean_offers_the_closest_catalog_words(catalog):
    assert results("sneakrz").suggestion == "sneakers"  # two typos: too many for 7 letters
    assert results("tots").suggestion == "tote"  # short words get no typos
    assert results("canvas sneakrz").suggestion == "canvas sneakers"
    assert results("sneakers").suggestion == ""  # it found something
    assert results("qwxzzy").suggestion == ""  # nothing close
    assert results("sneakrz", filters=SearchFilters(categories=("bags",))).suggestion == ""  # would find nothing


# --- suggestions while typing -------------------------------------------------------------------


def test_suggestions_while_typing(catalog):
    with session_scope() as session:
        found = suggest(session, "leath")
        assert {s.title for s in found} == {"Leather Sneakers", "Leather Belt", "Canvas Tote"}
        first = next(s for s in found if s.title == "Leather Belt")
        assert (first.href, first.price_text) == ("/product/leather-belt", "₦8,000")
        assert first.title_html == "<mark>Leather</mark> Belt" and first.image_url
        assert len(suggest(session, "leath", limit=1)) == 1
        assert {s.title for s in suggest(session, "sneekers")} == {"Leather Sneakers", "Canvas Sneakers"}
        assert suggest(session, "l") == []


# --- index sync from orders ---------------------------------------------------------------------


ADDRESS = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")


def in_stock_titles() -> set[str]:
    return set(titles(results(filters=SearchFilters(in_stock=True), page_size=50)))


def test_selling_the_last_unit_and_cancelling_update_in_stock(catalog, jobs):
    watch = catalog.ids["Two Tone Watch"]  # one left
    with session_scope(write=True) as session:
        shipping.ensure_default_methods(session)
        pricing.get_store_config(session)
        cart = carts.open_cart(session, token=carts.new_token())
        carts.add_item(session, cart, variants_of(session, session.get(Product, watch))[0].id)
        cart_id = cart.id
    with session_scope() as session:
        method_id = shipping.list_active_methods(session)[0].id
    details = checkout.CheckoutDetails(
        email="ada@example.com", address=ADDRESS, shipping_method_id=method_id, payment_method="pay_on_delivery"
    )
    order = checkout.place_order(cart_id, details)
    assert [job.args for job in jobs.named("index_product")] == [(watch,)]
    jobs.run_all()
    assert "Two Tone Watch" not in in_stock_titles()
    with session_scope(write=True) as session:
        orders.transition(session, session.get(Order, order.id), OrderStatus.CANCELLED, actor="admin@revoque.ng")
    assert [job.job_id for job in jobs.named("index_product")] == [f"index-product-{watch}"]
    jobs.run_all()
    assert "Two Tone Watch" in in_stock_titles()


# --- health -------------------------------------------------------------------------------------


def health_body() -> dict:
    app = Starlette(routes=[Route("/api/health", health)])
    with TestClient(app) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    return response.json()


def test_health_reports_the_index_document_count(catalog):
    assert health_body()["search"] == {"ok": True, "engine": "tantivy", "documents": 9}


def test_health_reports_a_search_engine_that_is_down(catalog, monkeypatch):
    use_settings(monkeypatch, meili_url="http://127.0.0.1:9", meili_master_key="nothing")
    body = health_body()
    assert body["search"] == {"ok": False, "error": "SearchUnavailable"}
    assert body["status"] == "degraded"
