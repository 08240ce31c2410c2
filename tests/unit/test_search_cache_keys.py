"""How search results and suggestions are keyed in the cache, and that what is cached comes back as
the same objects (nested dataclasses and lists) through the catalog cache's JSON."""

from __future__ import annotations

import json

from revoque.services.catalog import ProductCard
from revoque.services.catalog_cache import decode, encode
from revoque.services.search import FacetGroup, FacetOption, Highlight, SearchPage, Suggestion, normalized_text
from revoque.services.store_identity import StoreIdentity


def test_query_text_is_keyed_as_the_engines_read_it() -> None:
    assert normalized_text("  Leather   SNEAKERS") == "leather sneakers"
    assert normalized_text("leather\tsneakers") == "leather sneakers"
    assert normalized_text("leather ") == "leather "  # a whole word, not a prefix: another search
    assert normalized_text("   ") == ""
    assert normalized_text("") == ""


def card(product_id: int) -> ProductCard:
    return ProductCard(
        id=product_id,
        slug=f"p-{product_id}",
        title=f"Product {product_id}",
        brand="Eko Threads",
        href=f"/product/p-{product_id}",
        image_url="/media/p.webp",
        image_alt="",
        price_text="₦12,500",
        compare_text="",
        discount=0,
        in_stock=True,
    )


def through_json(kind, value):
    return decode(kind, json.loads(json.dumps(encode(value))))


def test_a_search_page_round_trips() -> None:
    page = SearchPage(
        items=[card(1), card(2)],
        total=2,
        page=1,
        pages=1,
        page_size=20,
        sort="relevance",
        query="eko",
        highlights=[Highlight(1, "<mark>Eko</mark>", ""), Highlight(2, "Product 2", "")],
        facets=[FacetGroup("brand_slug", "Brand", [FacetOption("eko-threads", "Eko Threads", 2, False)])],
        suggestion="",
        price_note="Under ₦30,000",
    )
    again = through_json(SearchPage, page)
    assert again == page
    assert isinstance(again.items[0], ProductCard) and isinstance(again.facets[0].options[0], FacetOption)


def test_suggestions_cards_and_the_identity_round_trip() -> None:
    suggestions = [Suggestion("Product 1", "/product/p-1", "/media/p.webp", "₦12,500", "<mark>Pro</mark>duct 1")]
    assert through_json(list[Suggestion], suggestions) == suggestions
    assert through_json(ProductCard | None, card(3)) == card(3)
    assert through_json(ProductCard | None, None) is None
    assert through_json(StoreIdentity, StoreIdentity("Revoque", "NGN")) == StoreIdentity("Revoque", "NGN")
