"""Hybrid search on the results page: keyword matches and products close in meaning, fused by
reciprocal rank, counted once, filtered alike, sorted together; price words read as filters. Runs
the real packaged model and the embedded engines on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from revoque.adapters.search import Facet, SearchFilters, SearchQuery, SortKey
from revoque.adapters.vectors import VectorStoreError
from revoque.db import session_scope
from revoque.services import search as search_service
from revoque.services import vector_index
from revoque.services.search import (
    hybrid_ranking,
    keyword_ranking,
    reciprocal_rank_fusion,
    reindex_all,
    search_products,
    vector_ranking,
)
from revoque.services.vector_index import reembed_all
from tests.conftest import use_settings
from tests.support.search_catalog import PRICES, SearchCatalog, build_search_catalog


@pytest.fixture
def catalog(database, embedder, monkeypatch) -> SearchCatalog:
    """The fixed search catalog, indexed and embedded. Its products are bare titles, so similarity
    runs higher than on described products: the floor is pinned where it separates them here."""
    use_settings(monkeypatch, meili_url="")
    monkeypatch.setattr(search_service, "SEMANTIC_MIN_SCORE", 0.35)
    with session_scope(write=True) as session:
        built = build_search_catalog(session)
    reindex_all()
    reembed_all()
    return built


def results(text: str, **fields):
    with session_scope() as session:
        return search_products(session, SearchQuery(text=text, facets=tuple(Facet), **fields))


def titles(page) -> list[str]:
    return [card.title for card in page.items]


def counts(page, facet: Facet) -> dict[str, int]:
    [group] = [g for g in page.facets if g.facet == facet.value]
    return {option.value: option.count for option in group.options}


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    assert reciprocal_rank_fusion([[1, 2, 3], [2, 4, 1]]) == [2, 1, 4, 3]
    assert reciprocal_rank_fusion([[5, 6], []]) == [5, 6]
    assert reciprocal_rank_fusion([]) == []


def test_meaning_finds_what_no_keyword_matches(catalog) -> None:
    page = results("footwear")
    assert sorted(titles(page)) == ["Canvas Sneakers", "Leather Sneakers"]
    assert page.total == 2
    assert counts(page, Facet.CATEGORY) == {"shoes": 2}
    assert [h.title_html for h in page.highlights] == titles(page)  # nothing to mark: matched by meaning


def test_keyword_and_meaning_matches_are_counted_once(catalog) -> None:
    page = results("shirt")
    assert titles(page)[:2] == ["Oxford Shirt", "Linen Shirt"]
    assert len(set(titles(page))) == len(titles(page)) == page.total
    assert "Oxford <mark>Shirt</mark>" in [h.title_html for h in page.highlights]
    assert sum(counts(page, Facet.PRICE).values()) == page.total


def test_a_price_limit_in_the_words_is_a_filter(catalog) -> None:
    page = results("sneakers under 20000")
    assert titles(page) == ["Canvas Sneakers"]
    assert page.price_note == "Under ₦20,000"
    assert page.query == "sneakers"
    narrowed = results("sneakers under 30000", filters=SearchFilters(price_min=20_000_00))  # a band chosen too
    assert titles(narrowed) == ["Leather Sneakers"]


def test_filters_apply_to_meaning_matches_too(catalog) -> None:
    assert titles(results("footwear", filters=SearchFilters(colours=("Red",)))) == ["Canvas Sneakers"]
    assert titles(results("footwear", filters=SearchFilters(in_stock=True))) == ["Leather Sneakers"]
    assert titles(results("footwear", filters=SearchFilters(brands=("kano-leather",)))) == []


def test_a_chosen_sort_orders_keyword_and_meaning_matches_together(catalog) -> None:
    assert titles(results("footwear", sort=SortKey.PRICE_DESC)) == ["Leather Sneakers", "Canvas Sneakers"]
    assert titles(results("footwear", sort=SortKey.PRICE_ASC)) == ["Canvas Sneakers", "Leather Sneakers"]
    shirts = results("shirt", sort=SortKey.PRICE_ASC)
    prices = [PRICES[title] for title in titles(shirts)]
    assert prices == sorted(prices) and len(prices) == shirts.total


@pytest.mark.parametrize("keyword_candidates", [100, 1])  # 1: deeper pages continue the keyword order
def test_pages_cut_the_fused_order_without_repeats(catalog, monkeypatch, keyword_candidates) -> None:
    monkeypatch.setattr(search_service, "SEMANTIC_MIN_SCORE", 0.2)  # loosely related products join in
    monkeypatch.setattr(search_service, "HYBRID_CANDIDATES", keyword_candidates)
    whole = results("shirt", page_size=20)
    assert whole.total == len(titles(whole)) > 3
    paged = [
        title for number in range(1, whole.total + 1) for title in titles(results("shirt", page=number, page_size=1))
    ]
    assert paged == titles(whole)
    assert set(titles(whole)[:2]) == {"Oxford Shirt", "Linen Shirt"}


def test_the_three_rankings_for_the_benchmarks(catalog) -> None:
    with session_scope() as session:
        query = SearchQuery(text="footwear")
        assert keyword_ranking(session, query) == []
        assert set(vector_ranking(session, query, limit=2)) == {
            catalog.ids["Leather Sneakers"],
            catalog.ids["Canvas Sneakers"],
        }
        assert len(vector_ranking(session, query, limit=50)) == len(catalog.ids)  # no similarity floor
        assert set(hybrid_ranking(session, query)) == {catalog.ids["Leather Sneakers"], catalog.ids["Canvas Sneakers"]}
        cheap = SearchQuery(text="sneakers under 20000")
        assert keyword_ranking(session, cheap) == hybrid_ranking(session, cheap) == [catalog.ids["Canvas Sneakers"]]


def test_keywords_answer_alone_when_the_vector_store_is_down(catalog, monkeypatch) -> None:
    class DownStore:
        def count(self, _name: str) -> int:
            raise VectorStoreError("Qdrant cannot be reached")

    monkeypatch.setattr(vector_index, "get_vector_store", lambda: DownStore())
    assert titles(results("shirt")) == ["Oxford Shirt", "Linen Shirt"]
    assert titles(results("footwear")) == []


def test_the_admin_sees_how_far_each_index_is_behind(catalog) -> None:
    status = search_service.index_status()
    assert (status.active_products, status.documents, status.vectors) == (9, 9, 9)
    assert status.summary == "Search index: 9 of 9 products, up to date · Meaning index: 9 of 9 products, up to date"
    search_service.search_engine().delete_documents([catalog.ids["Canvas Tote"]])
    assert search_service.index_status().summary.startswith("Search index: 8 of 9 products (+1 behind, being updated)")
