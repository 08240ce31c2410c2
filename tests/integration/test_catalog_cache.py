"""Cached catalog reads on a real database (SQLite and PostgreSQL), with the in-process cache and with
real Redis: "a stale price after an edit is a bug".

Every test first proves the page data is really served from the cache (a change written behind
the services' back stays invisible), so a fresh price afterwards means the invalidation worked, not
that nothing was cached. Jobs are only recorded, never run: the cache must be right without them
(the tests of the search index job run it on purpose).

Product cards (search results, suggestions, wishlists, recommendations), search results pages,
suggestions and the store's identity are cached too, and follow the same rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from sqlmodel import select, update

from revoque.adapters.cache import get_cache
from revoque.adapters.search import SearchQuery, SearchUnavailable, SortKey
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import CartLine, Category, Order, Product, Role, User, Variant
from revoque.services import (
    carts,
    catalog,
    catalog_cache,
    checkout,
    orders,
    pricing,
    product_admin,
    search,
    shipping,
    store_identity,
    store_settings,
)
from revoque.services.accounts import AddressInput
from revoque.services.catalog import SortOrder
from revoque.services.catalog_cache import CATALOG, LISTINGS, POPULARITY, SEARCH, product_tag
from revoque.services.checkout import CheckoutDetails
from revoque.services.money import format_money
from revoque.services.product_import import apply_import
from tests.conftest import REDIS_URL, use_settings
from tests.factories import add_category, add_collection, add_product, variants_of
from tests.support.admin import add_user
from tests.support.recorded_jobs import RecordedJobs, record_jobs
from tests.support.sql import recorded_statements


def money(minor: int) -> str:
    """An amount as the store shows it (the tests' store keeps STORE_CURRENCY, NGN)."""
    return format_money(minor, "NGN")


OLD_PRICE = 1_250_000
NEW_PRICE = 990_000
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


@dataclass
class Shop:
    product_id: int
    variant_id: int
    staff_id: int
    jobs: RecordedJobs


@pytest.fixture(params=["memory", "redis"])
def cache_kind(request, database, monkeypatch) -> Iterator[str]:
    """The in-process cache, or real Redis under a key prefix of this test's own (deleted after)."""
    if request.param == "memory":
        use_settings(monkeypatch, redis_url="")
        yield "memory"
        return
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required for these tests and is not reachable at {REDIS_URL}: {exc}")
    prefix = f"revoque-test-cache-{uuid.uuid4().hex[:10]}"
    use_settings(monkeypatch, redis_url=REDIS_URL, redis_prefix=prefix)
    yield "redis"
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def shop(cache_kind, monkeypatch) -> Shop:
    """A featured kettle (two in stock) in Kitchen and in the Gift Ideas collection, and a mug."""
    jobs = record_jobs(monkeypatch)
    with session_scope(write=True) as session:
        kitchen = add_category(session, "Kitchen")
        kettle = add_product(session, "Steel Kettle", category=kitchen, featured=True, variants=[({}, OLD_PRICE, 2)])
        mug = add_product(session, "Clay Mug", category=kitchen, age_days=3)
        add_collection(session, "Gift Ideas", [kettle, mug])
        shipping.ensure_default_methods(session)
        pricing.get_store_config(session)
        staff = add_user(session, "sam@example.com", Role.STAFF)
        return Shop(kettle.id, variants_of(session, kettle)[0].id, staff.id, jobs)


@dataclass
class Seen:
    """What a shopper sees of one product on every cached read: price text and in-stock flag."""

    page_price: str
    page_badge: str
    cards: dict[str, tuple[str, bool]]


def seen(slug: str = "steel-kettle") -> Seen:
    with session_scope() as session:
        detail = catalog.get_product(session, slug)
        listings = {
            "category": catalog.list_products(session, category_slug="kitchen").items,
            "collection": catalog.list_products(session, collection_slug="gift-ideas", sort=SortOrder.FEATURED).items,
            "price sort": catalog.list_products(session, sort=SortOrder.PRICE_ASC).items,
            "home featured": catalog.home_sections(session).featured,
            "home new": catalog.home_sections(session).new_arrivals,
        }
    cards = {}
    for place, items in listings.items():
        card = next(card for card in items if card.slug == slug)
        cards[place] = (card.price_text, card.in_stock)
    variant = detail.variants[0]
    return Seen(variant.price_text, variant.stock_label, cards)


def everywhere(price: int, in_stock: bool = True) -> dict[str, tuple[str, bool]]:
    places = ["category", "collection", "price sort", "home featured", "home new"]
    return dict.fromkeys(places, (money(price), in_stock))


def set_price_behind_the_services_back(variant_id: int, product_id: int, price: int) -> None:
    """A raw write that calls no service: the cache cannot know, so it must keep serving the old."""
    with session_scope(write=True) as session:
        session.exec(update(Variant).where(Variant.id == variant_id).values(price=price))
        session.exec(update(Product).where(Product.id == product_id).values(price_min=price, price_max=price))


def edit_price(shop: Shop, price: int) -> None:
    """The admin product editor's path: load the editor, change the price, save."""
    with session_scope() as session:
        editor = product_admin.load_editor(session, shop.product_id)
    editor.variants[0].price = str(price // 100)
    with session_scope(write=True) as session:
        staff = session.get(User, shop.staff_id)
        product_admin.save_product(session, staff, shop.product_id, product_admin.editor_input(editor, "NGN"))


def assert_served_from_cache(shop: Shop) -> None:
    before = seen()
    set_price_behind_the_services_back(shop.variant_id, shop.product_id, 123_400)
    assert seen() == before


def test_reads_are_cached_until_their_tags_are_invalidated(shop):
    first = seen()
    assert (first.page_price, first.page_badge, first.cards) == (money(OLD_PRICE), "Only 2 left", everywhere(OLD_PRICE))
    assert_served_from_cache(shop)
    catalog_cache.invalidate_now(product_tag(shop.product_id))
    assert seen().page_price == money(123_400)  # the product page, not yet the listings
    assert seen().cards == everywhere(OLD_PRICE)
    catalog_cache.invalidate_now(LISTINGS)
    assert seen().cards == everywhere(123_400)


def test_a_price_edit_shows_on_the_product_page_listings_and_home_at_once(shop):
    seen()
    assert_served_from_cache(shop)
    shop.jobs.jobs.clear()
    edit_price(shop, NEW_PRICE)
    after = seen()
    assert after.page_price == money(NEW_PRICE)
    assert after.cards == everywhere(NEW_PRICE)
    assert [job.func.__name__ for job in shop.jobs.jobs] == ["index_product", "embed_product"]  # none ran


def selling_the_last_units(shop: Shop) -> None:
    selling(shop, units=2)


def selling(shop: Shop, units: int) -> None:
    """A checkout of ``units`` kettles (two in stock)."""
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        session.add(CartLine(cart_id=cart.id, variant_id=shop.variant_id, quantity=units))
        cart_id = cart.id
    with session_scope() as session:
        method_id = shipping.list_active_methods(session)[0].id
    address = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")
    details = CheckoutDetails(
        email="ada@example.com", address=address, shipping_method_id=method_id, payment_method="pay_on_delivery"
    )
    checkout.place_order(cart_id, details)


def test_selling_the_last_units_flips_every_stock_badge(shop):
    assert seen().page_badge == "Only 2 left"
    assert_served_from_cache(shop)
    selling_the_last_units(shop)
    after = seen()
    assert after.page_badge == "Out of stock"
    assert after.cards == everywhere(123_400, in_stock=False)


def test_an_order_that_leaves_stock_updates_the_product_page_and_keeps_the_listings(shop):
    """Listings show stock only as the in-stock flag, so an order that flips none keeps them."""
    assert seen().page_badge == "Only 2 left"
    assert_served_from_cache(shop)
    selling(shop, units=1)
    after = seen()
    assert (after.page_price, after.page_badge) == (money(123_400), "Only 1 left")  # reloaded
    assert after.cards == everywhere(OLD_PRICE)  # still cached: the price written behind its back is unseen


def test_stock_put_back_after_a_sell_out_shows_in_stock_on_every_card(shop):
    selling_the_last_units(shop)
    assert seen().cards == everywhere(OLD_PRICE, in_stock=False)
    with session_scope(write=True) as session:
        orders.restock_order(session, session.exec(select(Order)).one())
    after = seen()
    assert after.page_badge == "Only 2 left"
    assert after.cards == everywhere(OLD_PRICE)


def category_reads(sent: list[str]) -> int:
    return sum("from category" in statement.lower() for statement in sent)


def test_product_pages_and_listings_rebuild_without_reading_the_category_tree_again(shop):
    seen()
    catalog_cache.invalidate_now(product_tag(shop.product_id), LISTINGS)
    with recorded_statements() as sent:
        assert seen().page_price == money(OLD_PRICE)
    assert sent  # the product page and the listings were loaded again
    assert category_reads(sent) == 0


def test_a_reader_between_the_write_and_its_commit_cannot_keep_the_old_price(shop):
    """The invalidation runs after the commit: a page read while the edit is still uncommitted
    caches the old price, and the commit must still make the new one show."""
    assert_served_from_cache(shop)
    with session_scope() as session:
        editor = product_admin.load_editor(session, shop.product_id)
    editor.variants[0].price = str(NEW_PRICE // 100)
    with session_scope(write=True) as session:
        staff = session.get(User, shop.staff_id)
        product_admin.save_product(session, staff, shop.product_id, product_admin.editor_input(editor, "NGN"))
        session.flush()
        catalog_cache.invalidate_now(product_tag(shop.product_id), LISTINGS)  # drop what was cached so far
        assert seen().page_price == money(123_400)  # read (and cached) before the commit
    assert seen().page_price == money(NEW_PRICE)
    assert seen().cards == everywhere(NEW_PRICE)


def test_a_rolled_back_edit_invalidates_nothing(shop):
    cache = get_cache()
    probe = cache.tagged_key("probe", [LISTINGS, product_tag(shop.product_id), CATALOG])
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        catalog_cache.invalidate_products(session, shop.product_id)
        catalog_cache.invalidate_catalog_structure(session)
        raise RuntimeError("the edit failed")
    assert cache.tagged_key("probe", [LISTINGS, product_tag(shop.product_id), CATALOG]) == probe
    with session_scope(write=True) as session:
        with session.begin_nested():
            catalog_cache.invalidate_products(session, shop.product_id)
        assert cache.tagged_key("probe", [LISTINGS, product_tag(shop.product_id), CATALOG]) == probe  # not yet
    assert cache.tagged_key("probe", [LISTINGS, product_tag(shop.product_id), CATALOG]) != probe


def test_a_new_slug_or_archiving_is_never_served_from_the_old_entry(shop):
    seen()
    with session_scope() as session:
        editor = product_admin.load_editor(session, shop.product_id)
    editor.slug = "steel-kettle-2l"
    with session_scope(write=True) as session:
        staff = session.get(User, shop.staff_id)
        product_admin.save_product(session, staff, shop.product_id, product_admin.editor_input(editor, "NGN"))
    with pytest.raises(NotFound), session_scope() as session:
        catalog.get_product(session, "steel-kettle")
    assert seen("steel-kettle-2l").page_price == money(OLD_PRICE)
    with session_scope(write=True) as session:
        staff = session.get(User, shop.staff_id)
        product_admin.bulk_set_status(session, staff, [shop.product_id], "archived")
    with pytest.raises(NotFound), session_scope() as session:
        catalog.get_product(session, "steel-kettle-2l")
    with session_scope() as session:
        assert [c.title for c in catalog.list_products(session, category_slug="kitchen").items] == ["Clay Mug"]
        assert catalog.home_sections(session).featured == []


def test_category_changes_show_in_menus_breadcrumbs_and_listings(shop):
    with session_scope() as session:
        assert [t.name for t in catalog.top_categories(session)] == ["Kitchen"]
        assert catalog.get_product(session, "steel-kettle").breadcrumbs[1].label == "Kitchen"
    with session_scope(write=True) as session:
        kitchen = session.exec(select(Category).where(Category.slug == "kitchen")).one()
        kitchen.name = "Cookware"
        session.add(kitchen)
        catalog_cache.invalidate_catalog_structure(session)
    with session_scope() as session:
        assert [t.name for t in catalog.top_categories(session)] == ["Cookware"]
        assert catalog.get_category(session, "kitchen").name == "Cookware"
        assert catalog.get_product(session, "steel-kettle").breadcrumbs[1].label == "Cookware"


def test_an_import_that_adds_a_category_and_a_collection_shows_them(shop):
    with session_scope() as session:
        assert [t.name for t in catalog.top_categories(session)] == ["Kitchen"]
        assert [c.title for c in catalog.home_sections(session).collections] == ["Gift Ideas"]
    rows = "handle,title,price,status,category,collections\nrake,Garden Rake,9500,active,Garden > Tools,Outdoor Picks\n"
    result = apply_import(rows.encode(), "garden.csv")
    assert result.written, result.problems
    with session_scope() as session:
        tiles = {t.name: t.product_count for t in catalog.top_categories(session)}
        assert tiles == {"Kitchen": 2, "Garden": 1}
        assert [c.title for c in catalog.home_sections(session).collections] == ["Gift Ideas", "Outdoor Picks"]
        assert [c.title for c in catalog.list_products(session, collection_slug="outdoor-picks").items] == [
            "Garden Rake"
        ]


def test_reads_in_a_session_that_already_wrote_are_never_cached(shop):
    """A caller inside its own transaction sees its uncommitted change, and nobody else caches it."""
    seen()
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        session.exec(update(Variant).where(Variant.id == shop.variant_id).values(price=5_000))
        session.exec(update(Product).where(Product.id == shop.product_id).values(price_min=5_000, price_max=5_000))
        assert catalog.get_product(session, "steel-kettle").variants[0].price_text == money(5_000)
        raise RuntimeError("rolled back")
    assert seen().page_price == money(OLD_PRICE)


def test_with_redis_down_reads_go_to_the_database_and_edits_show(database, monkeypatch):
    jobs = record_jobs(monkeypatch)
    use_settings(monkeypatch, redis_url=DEAD_REDIS_URL)
    with session_scope(write=True) as session:
        kitchen = add_category(session, "Kitchen")
        kettle = add_product(session, "Steel Kettle", category=kitchen, featured=True, variants=[({}, OLD_PRICE, 2)])
        add_collection(session, "Gift Ideas", [kettle])
        staff = add_user(session, "sam@example.com", Role.STAFF)
        shop = Shop(kettle.id, variants_of(session, kettle)[0].id, staff.id, jobs)
    assert seen().page_price == money(OLD_PRICE)
    set_price_behind_the_services_back(shop.variant_id, shop.product_id, 123_400)
    assert seen().page_price == money(123_400)  # nothing was cached
    edit_price(shop, NEW_PRICE)
    after = seen()
    assert (after.page_price, after.cards) == (money(NEW_PRICE), everywhere(NEW_PRICE))


# --- product cards, search results and suggestions ------------------------------------------------


@pytest.fixture
def searchable(shop) -> Shop:
    """The shop with its products in the search index."""
    search.reindex_all()
    return shop


def mug_id() -> int:
    with session_scope() as session:
        return session.exec(select(Product.id).where(Product.slug == "clay-mug")).one()


def elsewhere(product_id: int) -> dict[str, Any]:
    """What a shopper sees of the kettle outside its page and the listings: its card on the search
    results page (price, in stock), its suggestion's price in the header box, and its card in a
    wishlist or a recommendation row, read (as those are) by a session already inside a
    transaction. None where it is not shown."""
    with session_scope() as session:
        found = search.search_products(session, SearchQuery(text="steel kettle"))
        suggested = search.suggest(session, "steel kett")
        session.exec(select(Product.id)).first()
        assert session.in_transaction()
        cards = catalog.cards_for_products(session, [product_id, product_id])
    result = next((card for card in found.items if card.id == product_id), None)
    suggestion = next((s for s in suggested if s.href == "/product/steel-kettle"), None)
    assert len(cards) <= 1  # asked twice, shown once
    return {
        "search": (result.price_text, result.in_stock) if result else None,
        "suggestion": suggestion.price_text if suggestion else None,
        "cards": (cards[0].price_text, cards[0].in_stock) if cards else None,
    }


def shown(price: int, in_stock: bool = True) -> dict[str, Any]:
    return {"search": (money(price), in_stock), "suggestion": money(price), "cards": (money(price), in_stock)}


def test_cards_results_and_suggestions_show_a_price_edit_at_once(searchable):
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE)
    set_price_behind_the_services_back(searchable.variant_id, searchable.product_id, 123_400)
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE)  # all three served from the cache
    with session_scope() as session:
        again = search.search_products(session, SearchQuery(text="  STEEL   Kettle"))
    assert again.query == "  STEEL   Kettle"  # the same cached page, with the shopper's own words
    assert [card.price_text for card in again.items] == [money(OLD_PRICE)]
    searchable.jobs.jobs.clear()
    edit_price(searchable, NEW_PRICE)
    assert elsewhere(searchable.product_id) == shown(NEW_PRICE)
    assert [job.func.__name__ for job in searchable.jobs.jobs] == ["index_product", "embed_product"]  # none ran


def test_selling_the_last_units_shows_out_of_stock_on_every_card(searchable):
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE)
    selling_the_last_units(searchable)
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE, in_stock=False)


def set_status(shop: Shop, status: str) -> None:
    with session_scope(write=True) as session:
        product_admin.bulk_set_status(session, session.get(User, shop.staff_id), [shop.product_id], status)


def test_an_archived_product_leaves_results_suggestions_and_cards_at_once(searchable):
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE)
    set_status(searchable, "archived")  # the index job has not run: the engine still finds it
    gone = {"search": None, "suggestion": None, "cards": None}
    assert elsewhere(searchable.product_id) == gone
    assert elsewhere(searchable.product_id) == gone  # and "not shown" is what was cached
    with session_scope() as session:
        assert [c.title for c in catalog.cards_for_products(session, [searchable.product_id, mug_id()])] == ["Clay Mug"]
    set_status(searchable, "active")
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE)


def test_an_image_change_shows_on_cached_cards(searchable):
    with session_scope() as session:
        [image] = product_admin.product_images(session, searchable.product_id)
        [card] = catalog.cards_for_products(session, [searchable.product_id])
    assert card.image_url == image.url != "/placeholder.svg"
    with session_scope(write=True) as session:
        product_admin.delete_image(session, session.get(User, searchable.staff_id), image.id)
    with session_scope() as session:
        [card] = catalog.cards_for_products(session, [searchable.product_id])
    assert card.image_url == "/placeholder.svg"


SETTINGS_FORM = {  # the admin settings form as saved unchanged, apart from what a test sets
    "store_name": "Revoque",
    "contact_email": "hello@shop.ng",
    "contact_phone": "+234 803 123 4567",
    "contact_address": "12 Admiralty Way, Lekki",
    "tax_mode": "inclusive",
    "tax_rate": "7.5",
    "card_payments_enabled": "on",
    "pay_on_delivery_enabled": "on",
    "bank_transfer_enabled": "",
}


def save_settings(staff_email: str, **changes: str) -> None:
    data = store_settings.parse_settings_form({**SETTINGS_FORM, **changes}, "NGN")
    with session_scope(write=True) as session:
        admin = add_user(session, staff_email, Role.ADMIN)
        store_settings.update_settings(session, admin, data)


def test_a_currency_change_relabels_cached_cards_results_and_suggestions(searchable):
    assert elsewhere(searchable.product_id) == shown(OLD_PRICE)
    save_settings("boss@example.com", currency="USD")
    usd = format_money(OLD_PRICE, "USD")
    assert elsewhere(searchable.product_id) == {"search": (usd, True), "suggestion": usd, "cards": (usd, True)}


def titles_found(text: str) -> list[str]:
    with session_scope() as session:
        return [card.title for card in search.search_products(session, SearchQuery(text=text)).items]


def test_results_cached_from_the_old_index_are_dropped_when_the_index_job_runs(searchable):
    assert titles_found("teapot") == []
    with session_scope() as session:
        editor = product_admin.load_editor(session, searchable.product_id)
    editor.title = "Steel Teapot"
    searchable.jobs.jobs.clear()
    with session_scope(write=True) as session:
        staff = session.get(User, searchable.staff_id)
        product_admin.save_product(session, staff, searchable.product_id, product_admin.editor_input(editor, "NGN"))
    assert titles_found("teapot") == []  # searched after the commit, before the job: the old index
    with session_scope() as session:
        assert search.suggest(session, "teapo") == []
    for job in searchable.jobs.named("index_product"):
        job.run()
    assert titles_found("teapot") == ["Steel Teapot"]
    with session_scope() as session:
        assert [s.title for s in search.suggest(session, "teapo")] == ["Steel Teapot"]


def test_an_orders_index_job_drops_only_the_results_ordered_by_units_sold(searchable):
    """At a few orders a second, dropping every cached search on each order's index job left search
    uncached; an order changes a document's units sold alone, which only the popular sort shows."""
    cache = get_cache()

    def versions() -> tuple[str | None, str | None]:
        return cache.tagged_key("probe", [SEARCH]), cache.tagged_key("probe", [POPULARITY])

    search.index_product(searchable.product_id)  # the engine's document is current
    searchable.jobs.jobs.clear()
    selling(searchable, units=1)
    before = versions()
    for job in searchable.jobs.named("index_product"):
        job.run()
    after = versions()
    assert after[0] == before[0] and after[1] != before[1]
    with session_scope() as session:
        popular = search.search_products(session, SearchQuery(text="", sort=SortKey.POPULAR)).items
    assert popular[0].title == "Steel Kettle"  # the one sold

    searchable.jobs.jobs.clear()
    edit_price(searchable, NEW_PRICE)  # anything else in the document: every search goes
    for job in searchable.jobs.named("index_product"):
        job.run()
    assert versions()[0] != after[0]


class BrokenEngine:
    """An engine whose every call fails as an unreachable one does."""

    def __getattr__(self, _name: str):
        def fail(*_args, **_kwargs):
            raise SearchUnavailable("Search is unavailable (query failed).")

        return fail


def test_answers_given_while_the_engine_is_down_are_not_cached(searchable, monkeypatch):
    working = search.get_search_engine
    monkeypatch.setattr(search, "get_search_engine", BrokenEngine)
    with session_scope() as session:
        degraded = search.search_products(session, SearchQuery(text="kettle"))
        assert search.suggest(session, "kettle") == []
    assert degraded.degraded and [c.title for c in degraded.items] == ["Steel Kettle"]
    monkeypatch.setattr(search, "get_search_engine", working)
    with session_scope() as session:
        page = search.search_products(session, SearchQuery(text="kettle"))
        assert [s.title for s in search.suggest(session, "kettle")] == ["Steel Kettle"]
    assert not page.degraded and page.highlights[0].title_html == "Steel <mark>Kettle</mark>"


def settings_reads(sent: list[str]) -> int:
    return sum("from storeconfig" in statement.lower() for statement in sent)


def test_the_store_identity_is_served_from_the_cache_inside_a_transaction(shop):
    with session_scope() as session:
        assert store_identity.store_name(session) == "Revoque"  # cached
    with recorded_statements() as sent, session_scope() as session:
        session.exec(select(Product.id)).first()
        assert session.in_transaction()
        assert [store_identity.currency(session) for _ in range(3)] == ["NGN"] * 3
        assert catalog.cards_for_products(session, [shop.product_id])[0].price_text == money(OLD_PRICE)
    assert settings_reads(sent) == 0
    catalog_cache.invalidate_now(store_identity.STORE)
    with recorded_statements() as sent, session_scope() as session:
        session.exec(select(Product.id)).first()
        assert [store_identity.store_name(session) for _ in range(3)] == ["Revoque"] * 3
    assert settings_reads(sent) == 1  # the miss, loaded once and stored


def test_the_transaction_that_renames_the_store_reads_its_own_new_name(shop):
    data = store_settings.parse_settings_form({**SETTINGS_FORM, "store_name": "Lagos Looms"}, "NGN")
    with session_scope(write=True) as session:
        admin = add_user(session, "boss@example.com", Role.ADMIN)
        with session_scope() as other:
            assert store_identity.store_name(other) == "Revoque"
        store_settings.update_settings(session, admin, data)
        assert store_identity.store_name(session) == "Lagos Looms"
        with session_scope() as other:  # not committed yet: everyone else still sees the old name
            other.exec(select(Product.id)).first()
            assert store_identity.store_name(other) == "Revoque"
    with session_scope() as session:
        session.exec(select(Product.id)).first()
        assert store_identity.store_name(session) == "Lagos Looms"


@pytest.mark.parametrize("cache_kind", ["redis"], indirect=True)
def test_cached_cards_cost_one_redis_command_and_no_query(shop, monkeypatch):
    ids = [mug_id(), shop.product_id]
    with session_scope() as session:
        first = catalog.cards_for_products(session, ids)
    client = get_cache()._client
    sent_to_redis: list[tuple] = []
    execute = client.execute_command

    def counting(*args: Any, **options: Any) -> Any:
        sent_to_redis.append(args)
        return execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    with recorded_statements() as sent, session_scope() as session:
        assert catalog.cards_for_products(session, ids) == first
    assert [command[0] for command in sent_to_redis] == ["EVALSHA"]
    assert sent == []


def test_with_redis_down_cards_results_and_suggestions_come_from_the_database(database, monkeypatch):
    jobs = record_jobs(monkeypatch)
    use_settings(monkeypatch, redis_url=DEAD_REDIS_URL)
    with session_scope(write=True) as session:
        kettle = add_product(session, "Steel Kettle", variants=[({}, OLD_PRICE, 2)])
        staff = add_user(session, "sam@example.com", Role.STAFF)
        shop = Shop(kettle.id, variants_of(session, kettle)[0].id, staff.id, jobs)
    search.reindex_all()
    assert elsewhere(shop.product_id) == shown(OLD_PRICE)
    set_price_behind_the_services_back(shop.variant_id, shop.product_id, 123_400)
    assert elsewhere(shop.product_id) == shown(123_400)  # nothing was cached
    edit_price(shop, NEW_PRICE)
    assert elsewhere(shop.product_id) == shown(NEW_PRICE)
