"""Catalog services on a real database: the same tests run on SQLite and on PostgreSQL."""

import pytest
from sqlalchemy.exc import IntegrityError

from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import Variant
from revoque.services import catalog
from revoque.services.catalog import SortOrder
from tests.factories import add_brand, add_category, add_collection, add_product

SIZES_COLOURS = [
    ({"Size": "M", "Colour": "Red"}, 500_000, 3),
    ({"Size": "M", "Colour": "Blue"}, 500_000, 0),
    ({"Size": "L", "Colour": "Red"}, 550_000, 12),
]


@pytest.fixture
def shop(database):
    """A small shop: a category tree, 30 active products, one draft and one archived."""
    with session_scope() as session:
        clothing = add_category(session, "Clothing")
        dresses = add_category(session, "Dresses", parent=clothing)
        shoes = add_category(session, "Shoes", position=1)
        brand = add_brand(session, "Adire Co")
        for i in range(25):
            add_product(
                session,
                f"Dress {i:02d}",
                category=dresses,
                brand=brand,
                age_days=i,
                variants=[({}, 100_000 * (i + 1), i % 3)],
            )
        for i in range(5):
            add_product(session, f"Sneaker {i}", category=shoes, age_days=30 + i)
        add_product(session, "Wrap Dress", category=dresses, brand=brand, variants=SIZES_COLOURS, age_days=60)
        add_product(session, "Secret Draft", category=dresses, status="draft")
        add_product(session, "Old Archived", category=dresses, status="archived")
        featured = add_product(session, "Featured Tote", category=shoes, featured=True, age_days=90)
        add_collection(session, "Gift Ideas", [featured])
    return database


def test_category_listing_includes_subcategories_and_hides_drafts(shop):
    with session_scope() as session:
        page = catalog.list_products(session, category_slug="clothing", page_size=100)
    titles = [card.title for card in page.items]
    assert page.total == 26
    assert "Wrap Dress" in titles and "Dress 00" in titles
    assert "Secret Draft" not in titles and "Old Archived" not in titles


def test_listing_paginates_and_clamps_out_of_range_pages(shop):
    with session_scope() as session:
        first = catalog.list_products(session, category_slug="dresses", page=1, page_size=10)
        third = catalog.list_products(session, category_slug="dresses", page=3, page_size=10)
        beyond = catalog.list_products(session, category_slug="dresses", page=99, page_size=10)
        below = catalog.list_products(session, category_slug="dresses", page=-4, page_size=10)
    assert (first.total, first.pages, len(first.items)) == (26, 3, 10)
    assert (third.page, len(third.items)) == (3, 6)
    assert beyond.page == 3 and [c.id for c in beyond.items] == [c.id for c in third.items]
    assert below.page == 1 and [c.id for c in below.items] == [c.id for c in first.items]
    seen = {c.id for p in (1, 2, 3) for c in _page(p).items}
    assert len(seen) == 26


def _page(number: int):
    with session_scope() as session:
        return catalog.list_products(session, category_slug="dresses", page=number, page_size=10)


@pytest.mark.parametrize(
    ("sort", "expected_first"),
    [(SortOrder.NEWEST, "Dress 00"), (SortOrder.PRICE_ASC, "Dress 00"), (SortOrder.PRICE_DESC, "Dress 24")],
)
def test_listing_sorts(shop, sort, expected_first):
    with session_scope() as session:
        page = catalog.list_products(session, category_slug="dresses", sort=sort, page_size=5)
    assert page.items[0].title == expected_first
    prices = [c.price_text for c in page.items]
    assert len(prices) == 5


def test_price_sort_orders_by_lowest_variant_price(shop):
    with session_scope() as session:
        ascending = catalog.list_products(session, category_slug="dresses", sort=SortOrder.PRICE_ASC, page_size=100)
    order = [c.title for c in ascending.items]
    assert order.index("Dress 03") < order.index("Wrap Dress") < order.index("Dress 05")


def test_cards_show_price_range_sale_and_stock(shop):
    with session_scope() as session:
        page = catalog.list_products(session, query="wrap")
        cheap = catalog.list_products(session, query="dress 00")
    wrap = page.items[0]
    assert wrap.price_text == "From ₦5,000" and wrap.in_stock and wrap.brand == "Adire Co"
    assert wrap.image_url == "/media/products/wrap-dress/0.jpg"
    assert cheap.items[0].in_stock is False


def test_title_search_matches_all_words_case_insensitively(shop):
    with session_scope() as session:
        assert [c.title for c in catalog.list_products(session, query="WRAP dress").items] == ["Wrap Dress"]
        assert catalog.list_products(session, query="100%_").total == 0


def test_collection_listing_keeps_merchant_order(shop):
    with session_scope() as session:
        page = catalog.list_products(session, collection_slug="gift-ideas", sort=SortOrder.FEATURED)
        info = catalog.get_collection(session, "gift-ideas")
    assert [c.title for c in page.items] == ["Featured Tote"]
    assert info.title == "Gift Ideas"


def test_unknown_slugs_raise_not_found(shop):
    with session_scope() as session:
        for call in (
            lambda: catalog.get_product(session, "no-such-thing"),
            lambda: catalog.get_product(session, "secret-draft"),
            lambda: catalog.get_category(session, "nope"),
            lambda: catalog.get_collection(session, "nope"),
            lambda: catalog.list_products(session, category_slug="nope"),
        ):
            with pytest.raises(NotFound):
                call()


def test_product_detail_has_options_variants_and_breadcrumbs(shop):
    with session_scope() as session:
        detail = catalog.get_product(session, "wrap-dress")
    assert [o.name for o in detail.options] == ["Size", "Colour"]
    assert [o.values for o in detail.options] == [["M", "L"], ["Red", "Blue"]]
    assert [c.label for c in detail.breadcrumbs] == ["Home", "Clothing", "Dresses", "Wrap Dress"]
    assert detail.price_range_text == "₦5,000 – ₦5,500"
    blue = catalog.find_variant(detail, ["M", "Blue"])
    assert blue.stock_label == "Out of stock" and not blue.in_stock
    assert catalog.find_variant(detail, ["M", "Red"]).stock_label == "Only 3 left"
    assert catalog.find_variant(detail, ["L", "Blue"]) is None
    assert catalog.default_selection(detail) == ["M", "Red"]


def test_home_sections(shop):
    with session_scope() as session:
        home = catalog.home_sections(session)
    assert [c.title for c in home.featured] == ["Featured Tote"]
    assert home.new_arrivals[0].title == "Dress 00" and len(home.new_arrivals) == 8
    tiles = {t.name: t.product_count for t in home.categories}
    assert tiles == {"Clothing": 26, "Shoes": 6}


def test_database_refuses_negative_stock(shop):
    with pytest.raises(IntegrityError), session_scope() as session:
        variant = session.exec(Variant.__table__.select().limit(1)).first()
        session.execute(Variant.__table__.update().where(Variant.id == variant.id).values(stock_on_hand=-1))
        session.flush()
