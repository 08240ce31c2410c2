"""Cached catalog reads on a real database (SQLite and PostgreSQL), with the in-process cache and with
real Redis: "a stale price after an edit is a bug".

Every test first proves the page data is really served from the cache (a change written behind
the services' back stays invisible), so a fresh price afterwards means the invalidation worked, not
that nothing was cached. Jobs are only recorded, never run: the cache must be right without them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from sqlmodel import select, update

from revoque.adapters.cache import get_cache
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import CartLine, Category, Product, Role, User, Variant
from revoque.services import carts, catalog, catalog_cache, checkout, pricing, product_admin, shipping
from revoque.services.accounts import AddressInput
from revoque.services.catalog import SortOrder
from revoque.services.catalog_cache import CATALOG, LISTINGS, product_tag
from revoque.services.checkout import CheckoutDetails
from revoque.services.money import format_money
from revoque.services.product_import import apply_import
from tests.conftest import REDIS_URL, use_settings
from tests.factories import add_category, add_collection, add_product, variants_of
from tests.support.admin import add_user
from tests.support.recorded_jobs import RecordedJobs, record_jobs


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
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        session.add(CartLine(cart_id=cart.id, variant_id=shop.variant_id, quantity=2))
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
