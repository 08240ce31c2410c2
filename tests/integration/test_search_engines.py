"""One behavioural suite for keyword search, run against every engine the store can use.

- tantivy: the embedded default, a real index under the test's DATA_DIR;
- Meilisearch through the official client against tests.support.fake_meilisearch, which also
  records what the adapter sent (settings, filters, document batches);
- real Meilisearch when TEST_MEILI_URL (and TEST_MEILI_MASTER_KEY) are set, skipped otherwise.

Each combination runs on SQLite and PostgreSQL, with the fixed catalog of tests.support.search_catalog.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import meilisearch
import pytest
from sqlmodel import select

from revoque.adapters.search import (
    Facet,
    SearchFilters,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    SortKey,
    get_search_engine,
    meili_settings,
)
from revoque.db import session_scope
from revoque.models import Product, Variant
from revoque.services.search import SYNONYMS, reindex_all, schedule_product_index, search_engine
from revoque.services.search import index_product as sync_product
from revoque.services.search_documents import build_document
from revoque.settings import PROJECT_ROOT, get_settings
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.fake_meilisearch import FakeMeilisearch, running_fake_meilisearch
from tests.support.recorded_jobs import RecordedJobs, record_jobs
from tests.support.search_catalog import AGES, PRICES, SearchCatalog, build_search_catalog

ENGINES = ["tantivy", "meilisearch-fake", "meilisearch-real"]
ALL_FACETS = tuple(Facet)


@pytest.fixture(scope="module")
def fake_meili() -> Iterator[FakeMeilisearch]:
    with running_fake_meilisearch() as fake:
        yield fake


@pytest.fixture(params=ENGINES)
def engine(request, database, monkeypatch) -> Iterator[str]:
    """Point the store at one engine, with an index of its own; yields the engine's kind."""
    index_name = f"test_{uuid.uuid4().hex[:12]}"
    kind = request.param
    if kind == "tantivy":
        use_settings(monkeypatch, meili_url="", search_index_name=index_name)
    elif kind == "meilisearch-fake":
        fake = request.getfixturevalue("fake_meili")
        use_settings(monkeypatch, meili_url=fake.url, meili_master_key=fake.master_key, search_index_name=index_name)
    else:
        url = os.environ.get("TEST_MEILI_URL", "")
        if not url:
            pytest.skip("TEST_MEILI_URL is not set: the contract run against a real Meilisearch is skipped")
        key = os.environ.get("TEST_MEILI_MASTER_KEY", "")
        use_settings(monkeypatch, meili_url=url, meili_master_key=key, search_index_name=index_name)
    yield kind
    if kind == "meilisearch-real":
        client = meilisearch.Client(url, key or None)
        client.wait_for_task(client.delete_index(index_name).task_uid)


@pytest.fixture
def catalog(engine) -> SearchCatalog:
    with session_scope() as session:
        built = build_search_catalog(session)
    assert reindex_all() == len(built.ids)
    return built


@pytest.fixture
def jobs(monkeypatch) -> RecordedJobs:
    return record_jobs(monkeypatch)


def search(text: str = "", **fields) -> SearchResult:
    return search_engine().search(SearchQuery(text=text, **fields))


def found(catalog: SearchCatalog, text: str = "", **fields) -> list[str]:
    """Titles of every match, in the engine's order."""
    return catalog.titles([hit.id for hit in search(text, page_size=50, **fields).hits])


def filtered(catalog: SearchCatalog, text: str = "", **filters) -> set[str]:
    return set(found(catalog, text, filters=SearchFilters(**filters)))


# --- relevance and typo tolerance -----------------------------------------------------------------


def test_exact_matches_rank_above_other_fields_and_typos(catalog):
    sneakers = found(catalog, "sneakers")
    assert set(sneakers[:2]) == {"Leather Sneakers", "Canvas Sneakers"}
    assert sneakers[2:] == ["Bluetooth Speakers"]  # one typo after the first letter
    leather = found(catalog, "leather")
    assert set(leather[:2]) == {"Leather Sneakers", "Leather Belt"}  # in the title
    assert leather[2:] == ["Canvas Tote"]  # only its brand, Kano Leather, matches


def test_one_typo_is_forgiven_in_words_of_five_to_eight_letters(catalog):
    assert set(found(catalog, "sneekers")) == {"Leather Sneakers", "Canvas Sneakers"}
    assert set(found(catalog, "snaekers")) == {"Leather Sneakers", "Canvas Sneakers"}  # a swap is one typo
    assert found(catalog, "sneekerz") == []  # two typos are too many under nine letters


def test_two_typos_are_forgiven_from_nine_letters(catalog):
    assert found(catalog, "bluetoooth speakerz") == ["Bluetooth Speakers"]
    assert found(catalog, "blooetooth") == ["Bluetooth Speakers"]
    assert found(catalog, "blooetoothh") == []


def test_short_words_and_first_letters_allow_no_typos(catalog):
    assert found(catalog, "tote") == ["Canvas Tote"]
    assert found(catalog, "tone") == ["Two Tone Watch"]
    assert "Feather Pillow" not in found(catalog, "leather")  # a typo on the first letter counts two


def test_the_last_word_matches_as_a_prefix(catalog):
    assert set(found(catalog, "lea")) == {"Leather Sneakers", "Leather Belt", "Canvas Tote"}
    assert found(catalog, "leather snea") == ["Leather Sneakers"]
    assert found(catalog, "lea ") == []  # a space ends the word
    assert found(catalog, "snea leather") == []  # only the last word is a prefix


def test_every_word_must_match(catalog):
    assert found(catalog, "linen shirt") == ["Linen Shirt"]
    assert found(catalog, "linen sneakers") == []


def test_synonyms_find_each_other(catalog):
    assert set(found(catalog, "trainers")) == {"Leather Sneakers", "Canvas Sneakers"}


def test_highlights_mark_matched_words_and_escape_the_rest(catalog):
    [hit] = search("leather sneekers").hits
    assert hit.title_html == "<mark>Leather</mark> <mark>Sneakers</mark>"
    assert hit.description_html == "<mark>Leather</mark> <mark>Sneakers</mark> description."
    with session_scope() as session:
        product_id = add_product(session, "Tote <b>Bold</b> Edition").id
    sync_product(product_id)
    [hit] = search("bold").hits
    assert hit.title_html == "Tote &lt;b&gt;<mark>Bold</mark>&lt;/b&gt; Edition"


# --- filters and facets ---------------------------------------------------------------------------


def test_filters(catalog):
    assert filtered(catalog, categories=("shoes",)) == {"Leather Sneakers", "Canvas Sneakers"}  # via Sneakers
    assert filtered(catalog, categories=("shirts", "bags")) == {"Oxford Shirt", "Linen Shirt", "Canvas Tote"}
    assert filtered(catalog, brands=("kano-leather",)) == {"Leather Belt", "Canvas Tote"}
    assert filtered(catalog, sizes=("42",)) == {"Leather Sneakers", "Canvas Sneakers"}
    assert filtered(catalog, colours=("White",)) == {"Leather Sneakers", "Oxford Shirt", "Linen Shirt"}
    assert filtered(catalog, in_stock=True) == set(catalog.ids) - {"Canvas Sneakers"}
    assert filtered(catalog, price_min=10_000_00, price_max=25_000_00) == {
        "Canvas Sneakers",
        "Canvas Tote",
        "Oxford Shirt",
        "Leather Sneakers",
    }
    assert filtered(catalog, "sneakers", in_stock=True) == {"Leather Sneakers", "Bluetooth Speakers"}
    assert filtered(catalog, categories=("shoes",), colours=("Red",)) == {"Canvas Sneakers"}
    assert filtered(catalog, brands=("arewa-sports",), sizes=("S",)) == set()


def test_an_id_filter_restricts_results_and_facet_counts(catalog):
    chosen = (catalog.ids["Canvas Tote"], catalog.ids["Leather Belt"], catalog.ids["Oxford Shirt"])
    assert filtered(catalog, ids=chosen) == {"Canvas Tote", "Leather Belt", "Oxford Shirt"}
    assert filtered(catalog, "belt", ids=chosen) == {"Leather Belt"}
    assert filtered(catalog, "leather", ids=chosen) == {"Leather Belt", "Canvas Tote"}  # Kano Leather's tote
    assert filtered(catalog, ids=chosen, brands=("kano-leather",)) == {"Canvas Tote", "Leather Belt"}
    counted = search(filters=SearchFilters(ids=chosen), facets=(Facet.BRAND,))
    assert counted.total == 3
    assert counted.facets == {"brand_slug": {"kano-leather": 2, "eko-threads": 1}}


def test_facet_counts_follow_the_filters(catalog):
    shoes = search(filters=SearchFilters(categories=("shoes",)), facets=ALL_FACETS)
    assert shoes.total == 2
    assert shoes.facets == {
        "category_slugs": {"shoes": 2, "sneakers": 2},
        "brand_slug": {"arewa-sports": 2},
        "sizes": {"40": 1, "41": 2, "42": 2},
        "colours": {"White": 1, "Black": 1, "Red": 1},
        "price_bucket": {"10k-25k": 1, "25k-50k": 1},
    }
    leather = search("leather", facets=(Facet.BRAND, Facet.PRICE))
    assert leather.facets == {
        "brand_slug": {"arewa-sports": 1, "kano-leather": 2},
        "price_bucket": {"under-10k": 1, "10k-25k": 1, "25k-50k": 1},
    }
    in_stock = search(filters=SearchFilters(in_stock=True, sizes=("41", "42")), facets=(Facet.SIZE,))
    assert in_stock.facets == {"sizes": {"40": 1, "41": 1, "42": 1}}  # only Leather Sneakers has stock
    assert search(facets=()).facets == {}


# --- sorting and pages ----------------------------------------------------------------------------


def test_sorts(catalog):
    by_price = sorted(PRICES, key=PRICES.get)
    assert found(catalog, sort=SortKey.PRICE_ASC) == by_price
    assert found(catalog, sort=SortKey.PRICE_DESC) == by_price[::-1]
    assert found(catalog, sort=SortKey.NEWEST) == sorted(AGES, key=AGES.get)
    assert found(catalog, "shirt", sort=SortKey.PRICE_DESC) == ["Linen Shirt", "Oxford Shirt"]
    assert found(catalog, "shirt", sort=SortKey.PRICE_ASC) == ["Oxford Shirt", "Linen Shirt"]


def test_popular_sorts_by_units_ordered(catalog):
    with session_scope() as session:
        linen = variants_of(session, session.get(Product, catalog.ids["Linen Shirt"]))[0]
        tote = variants_of(session, session.get(Product, catalog.ids["Canvas Tote"]))[0]
        add_order(session, [(linen, 1), (tote, 1)], take_stock=False)
        add_order(session, [(linen, 1)], take_stock=False)
    reindex_all()
    assert found(catalog, sort=SortKey.POPULAR)[:2] == ["Linen Shirt", "Canvas Tote"]
    assert found(catalog)[:2] == ["Linen Shirt", "Canvas Tote"]  # browsing without words: popular first


def test_pages(catalog):
    pages = [search(sort=SortKey.PRICE_ASC, page=page, page_size=4) for page in (1, 2, 3, 4)]
    assert [result.total for result in pages] == [9, 9, 9, 9]
    assert [len(result.hits) for result in pages] == [4, 4, 1, 0]
    ids = [hit.id for result in pages for hit in result.hits]
    assert catalog.titles(ids) == sorted(PRICES, key=PRICES.get)


# --- keeping the index in step --------------------------------------------------------------------


def test_archived_and_deleted_products_leave_the_index(catalog):
    assert catalog.archived_id not in search_engine().document_ids()
    with session_scope() as session:
        product = session.get(Product, catalog.ids["Canvas Tote"])
        product.status = "archived"
        session.add(product)
    assert sync_product(catalog.ids["Canvas Tote"]) is False
    assert found(catalog, "tote") == []
    with session_scope() as session:
        session.delete(session.get(Product, catalog.ids["Two Tone Watch"]))
    sync_product(catalog.ids["Two Tone Watch"])
    assert found(catalog, "tone") == []
    search_engine().delete_documents([catalog.ids["Linen Shirt"]])
    assert found(catalog, "linen") == []
    assert search_engine().count() == len(catalog.ids) - 3


def test_an_edit_is_searchable_after_its_index_job_runs(catalog, jobs):
    pillow = catalog.ids["Feather Pillow"]
    with session_scope() as session:
        product = session.get(Product, pillow)
        product.title, product.description = "Goose Down Pillow", "Soft goose down."
        session.add(product)
        schedule_product_index(session, pillow)
    assert found(catalog, "goose") == []
    [job] = jobs.jobs
    assert job.job_id == f"index-product-{pillow}"
    assert job.run() is True
    assert catalog.titles([hit.id for hit in search("goose").hits]) == ["Feather Pillow"]  # same id, new title
    assert search("goose").hits[0].title_html == "<mark>Goose</mark> Down Pillow"
    assert search_engine().count() == len(catalog.ids)  # replaced, not added twice


def test_a_rolled_back_change_schedules_no_index_job(catalog, jobs):
    with pytest.raises(RuntimeError), session_scope() as session:
        schedule_product_index(session, catalog.ids["Feather Pillow"])
        raise RuntimeError("the edit failed")
    assert jobs.jobs == []


def test_stock_changes_reach_the_in_stock_filter(catalog, jobs):
    with session_scope() as session:
        for variant in session.exec(select(Variant).where(Variant.product_id == catalog.ids["Canvas Sneakers"])):
            variant.stock_on_hand = 4
            session.add(variant)
        schedule_product_index(session, catalog.ids["Canvas Sneakers"])
    jobs.run_all()
    assert "Canvas Sneakers" in filtered(catalog, in_stock=True)


def test_reindexing_while_searching_keeps_every_result(catalog):
    engine = search_engine()
    with session_scope() as session:
        ghost = build_document(session, catalog.ids["Oxford Shirt"]) | {"id": 999_999, "title": "Ghost Shirt"}
    engine.replace_documents([ghost])
    totals: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def keep_searching() -> None:
        while not done.is_set():
            try:
                totals.append(engine.search(SearchQuery(text="shirt")).total)
            except Exception as exc:  # collected for the assertion below
                errors.append(exc)

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        written = reindex_all(batch_size=2)
    finally:
        done.set()
        reader.join(timeout=10)
    assert errors == []
    assert totals and set(totals) <= {2, 3}  # Oxford + Linen, plus the ghost until the final clean-up
    assert written == len(catalog.ids)
    assert engine.document_ids() == set(catalog.ids.values())
    assert search("shirt").total == 2


def test_clearing_empties_the_index(catalog):
    search_engine().clear()
    assert search_engine().count() == 0
    assert found(catalog) == []
    reindex_all()
    assert search("tote").total == 1


def test_a_fresh_engine_object_finds_the_existing_index(catalog):
    get_search_engine.cache_clear()
    assert search_engine().count() == len(catalog.ids)
    assert found(catalog, "tote") == ["Canvas Tote"]


# --- tantivy only: one writer across processes ----------------------------------------------------


@pytest.fixture
def tantivy_catalog(database, monkeypatch) -> SearchCatalog:
    use_settings(monkeypatch, meili_url="", search_index_name="products")
    with session_scope() as session:
        built = build_search_catalog(session)
    reindex_all()
    return built


def test_tantivy_writers_wait_for_the_file_lock(tantivy_catalog):
    lock_path = get_settings().data_dir / "search" / "products.lock"
    with lock_path.open("a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX)
        writer = threading.Thread(target=sync_product, args=(tantivy_catalog.ids["Canvas Tote"],))
        started = time.monotonic()
        writer.start()
        time.sleep(0.3)
        assert writer.is_alive()  # waiting for the lock
        fcntl.flock(other_process, fcntl.LOCK_UN)
    writer.join(timeout=10)
    assert time.monotonic() - started >= 0.3
    assert search_engine().count() == len(tantivy_catalog.ids)


def test_tantivy_reindex_cli_runs_beside_a_serving_process(tantivy_catalog, tmp_path):
    """The CLI rebuilds in another process while this one keeps writing and reading; afterwards this
    process's reader picks up the other's commits by itself."""
    settings = get_settings()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir), "MEILI_URL": ""}
    with session_scope() as session:
        extra_id = add_product(session, "Cli Added Lamp").id  # only the CLI indexes this one
    cli = subprocess.Popen(
        [sys.executable, "-m", "revoque.cli", "reindex"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while cli.poll() is None:
        sync_product(tantivy_catalog.ids["Canvas Tote"])
        assert search("tote").total == 1
    out, err = cli.communicate()
    assert cli.returncode == 0, err
    assert f"indexed {len(tantivy_catalog.ids) + 1} products" in out
    assert "indexing [" in err
    deadline = time.monotonic() + 5
    while not search("lamp").total and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [hit.id for hit in search("lamp").hits] == [extra_id]


# --- Meilisearch only: what the adapter sends -----------------------------------------------------


@pytest.fixture
def fake_catalog(database, fake_meili, monkeypatch) -> SearchCatalog:
    index_name = f"test_{uuid.uuid4().hex[:12]}"
    use_settings(
        monkeypatch, meili_url=fake_meili.url, meili_master_key=fake_meili.master_key, search_index_name=index_name
    )
    with session_scope() as session:
        built = build_search_catalog(session)
    reindex_all()
    return built


def test_meilisearch_gets_the_index_settings(fake_catalog, fake_meili):
    sent = fake_meili.settings_updates[-1]
    assert sent == meili_settings(SYNONYMS)
    assert sent["searchableAttributes"] == ["title", "brand", "category_path", "tags", "option_values", "description"]
    assert sent["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert set(sent["filterableAttributes"]) >= {"category_slugs", "brand_slug", "sizes", "colours", "in_stock"}
    assert set(sent["sortableAttributes"]) == {"price_min", "created_at", "popularity"}
    assert sent["faceting"] == {"maxValuesPerFacet": 100}
    assert sent["rankingRules"][0] == "sort"
    assert "trainers" in sent["synonyms"]["sneakers"]


def test_meilisearch_gets_filters_facets_sort_and_page(fake_catalog, fake_meili):
    filters = SearchFilters(
        categories=("shoes",), brands=('arewa "sports"',), in_stock=True, price_min=10_000_00, price_max=30_000_00
    )
    search("sneakers", filters=filters, facets=(Facet.SIZE, Facet.PRICE), sort=SortKey.PRICE_ASC, page=2, page_size=5)
    sent = fake_meili.searches[-1]
    assert sent["q"] == "sneakers"
    assert sent["filter"] == [
        'category_slugs IN ["shoes"]',
        'brand_slug IN ["arewa \\"sports\\""]',
        "in_stock = true",
        "price_min >= 1000000",
        "price_min <= 3000000",
    ]
    assert sent["facets"] == ["sizes", "price_bucket"]
    assert sent["sort"] == ["price_min:asc"]
    assert (sent["page"], sent["hitsPerPage"], sent["matchingStrategy"]) == (2, 5, "all")
    assert sent["attributesToRetrieve"] == ["id"]


def test_meilisearch_documents_go_in_batches_and_their_tasks_are_awaited(fake_catalog, fake_meili):
    engine = search_engine()
    with session_scope() as session:
        template = build_document(session, fake_catalog.ids["Canvas Tote"])
    before = len(fake_meili.document_batches)
    engine.replace_documents([template | {"id": 10_000 + i} for i in range(2_500)])
    assert [len(batch) for batch in fake_meili.document_batches[before:]] == [1_000, 1_000, 500]
    assert engine.count() == len(fake_catalog.ids) + 2_500  # visible as soon as the call returns
    engine.delete_documents(range(10_000, 12_500))
    assert [sent.split(",")[0] for sent in fake_meili.deletion_filters[-3:]] == [
        "id IN [10000",
        "id IN [11000",
        "id IN [12000",
    ]
    assert engine.count() == len(fake_catalog.ids)


def test_an_unreachable_meilisearch_raises_search_unavailable(database, monkeypatch):
    use_settings(monkeypatch, meili_url="http://127.0.0.1:9", meili_master_key="nothing")
    with pytest.raises(SearchUnavailable):
        search_engine()
    with pytest.raises(SearchUnavailable):
        get_search_engine().search(SearchQuery(text="tote"))
    with pytest.raises(SearchUnavailable):
        get_search_engine().count()
