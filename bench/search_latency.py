"""Search benchmark: index build, embedding throughput, keyword and hybrid search latency at 50k products.

Migrates a fresh SQLite database in a temporary DATA_DIR, fills it with generated products (bulk
inserts of the real catalog tables, see ``bench/_catalog.py``), then with the embedded engines
(tantivy keyword index, numpy vector index, the packaged all-MiniLM-L6-v2 model):

1. times ``reindex_all()`` (documents built from the database and written to tantivy);
2. embeds a random sample of real ``embedding_text`` strings and reports products/s; the rest of
   the catalog gets the sampled vectors of its own category plus a little noise, renormalised,
   because embedding 50k texts on 2 cores takes 15+ minutes and exact vector search costs the
   same whatever the vectors hold (BENCH_EMBED_ALL=1 embeds every product for real);
3. times, over distinct queries (single words, two words, typos, prefixes, brands; a third with a
   category filter, some with a price filter or in stock only), after a warm-up:
   (a) the keyword engine's search with every facet, as the results page asks for it;
   (b) ``search_products``, the results page's whole service call (hybrid: keyword + query
       embedding + vector search + fusion + facets + cards) in a fresh session per query;
   (c) the query embedding alone, (d) the vector search alone and (e) the keyword search for the
       100 candidate ids a hybrid query fuses, to explain (b). The service embeds a query on one
       torch thread and scores vectors on one BLAS thread (see the adapters), as measured here.

Targets: keyword p95 ≤ 10 ms, hybrid p95 ≤ 50 ms. It prints figures and asserts nothing.

    python bench/search_latency.py [--products 50000] [--queries 200] [--sample 2000] [--profile 100]
    BENCH_QUICK=1 python bench/search_latency.py     # 5,000 products, 50 queries, 200 embedded
    BENCH_EMBED_ALL=1 python bench/search_latency.py # embed every product for real (slow)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench._catalog import CatalogReport, Vocabulary, write_catalog
from revoque.adapters.embedder import Embedder, get_embedder
from revoque.adapters.search import PRICE_BUCKETS, Facet, SearchFilters, SearchQuery
from revoque.adapters.vectors import VectorPoint, get_vector_store
from revoque.db import get_engine, session_scope, upgrade_database
from revoque.services.search import (
    HYBRID_CANDIDATES as KEYWORD_CANDIDATES,
)
from revoque.services.search import (
    SEMANTIC_CANDIDATES as VECTOR_CANDIDATES,
)
from revoque.services.search import (
    reindex_all,
    search_engine,
    search_products,
    vector_filter,
)
from revoque.services.search_documents import Document, iter_documents
from revoque.services.vector_index import embedding_text, products_collection, vector_payload
from revoque.settings import get_settings
from tests.conftest import reset_caches

QUICK = bool(os.environ.get("BENCH_QUICK"))
EMBED_ALL = bool(os.environ.get("BENCH_EMBED_ALL"))
TARGET_KEYWORD_P95_MS = 10
TARGET_HYBRID_P95_MS = 50
EMBED_BATCH = 64  # the embedder's default batch, as reembed_all uses it
VECTOR_NOISE = 0.01  # per-dimension noise added to reused sample vectors before renormalising
UPSERT_BATCH = 10_000
WARM_UP_QUERIES = 20
CATEGORY_FILTER_SHARE, PRICE_FILTER_SHARE, IN_STOCK_SHARE = 0.3, 0.2, 0.1

T = TypeVar("T")


@dataclass
class Timing:
    label: str
    samples: list[float]  # milliseconds
    target_p95_ms: float | None = None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """The call's result and how long it took, in seconds."""
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


# --- setting up ---------------------------------------------------------------------------------


def use_fresh_store(tmp: Path) -> None:
    """Point every setting at a new SQLite file and the embedded engines under ``tmp``, whatever the
    shell's environment says, and migrate."""
    os.environ.update(
        DATA_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'search-bench.db'}",
        REDIS_URL="",
        MEILI_URL="",
        MEILI_MASTER_KEY="",
        QDRANT_URL="",
        QDRANT_API_KEY="",
    )
    reset_caches()
    upgrade_database()


def build_catalog(count: int) -> CatalogReport:
    with get_engine().begin() as connection:
        return write_catalog(connection, count)


def load_documents() -> list[Document]:
    with session_scope() as session:
        return [doc for batch in iter_documents(session) for doc in batch]


# --- vectors ------------------------------------------------------------------------------------


def embed_texts(docs: Sequence[Document]) -> np.ndarray:
    return get_embedder().embed([embedding_text(doc) for doc in docs], batch_size=EMBED_BATCH)


def stand_in_vectors(
    docs: Sequence[Document], sampled: Sequence[Document], vectors: np.ndarray, seed: int
) -> np.ndarray:
    """For each doc, the vector of a random sampled product of the same leaf category (any sampled
    product if its category was not sampled) plus Gaussian noise, renormalised to unit length."""
    pick, noise = random.Random(seed), np.random.default_rng(seed)
    by_category: dict[str, list[int]] = defaultdict(list)
    for row, doc in enumerate(sampled):
        by_category[_leaf(doc)].append(row)
    everything = range(len(sampled))
    rows = np.array([pick.choice(by_category.get(_leaf(doc)) or everything) for doc in docs], dtype=np.int64)
    filled = vectors[rows] + noise.normal(0.0, VECTOR_NOISE, (len(docs), vectors.shape[1])).astype(np.float32)
    return filled / np.linalg.norm(filled, axis=1, keepdims=True)


def _leaf(doc: Document) -> str:
    return (doc.get("category_slugs") or [""])[-1]


def store_vectors(docs: Sequence[Document], vectors: np.ndarray) -> None:
    store, name = get_vector_store(), products_collection()
    store.ensure_collection(name, vectors.shape[1])
    for start in range(0, len(docs), UPSERT_BATCH):
        points = [
            VectorPoint(doc["id"], vector, vector_payload(doc))
            for doc, vector in zip(
                docs[start : start + UPSERT_BATCH], vectors[start : start + UPSERT_BATCH], strict=True
            )
        ]
        store.upsert(name, points)


# --- queries ------------------------------------------------------------------------------------


class QueryMaker:
    """Distinct, realistic queries over the generated catalog's own words: each is about one kind of
    product, and its filters (category, price band) are ones a shopper looking for it might set."""

    def __init__(self, vocabulary: Vocabulary, page_size: int, seed: int = 11) -> None:
        self.nouns = vocabulary.nouns
        self.page_size = page_size
        self.rng = random.Random(seed)

    def make(self, count: int) -> list[SearchQuery]:
        seen: set[str] = set()
        queries: list[SearchQuery] = []
        for _attempt in range(count * 50):
            noun = self.rng.choice(sorted(self.nouns))
            text = self._text(noun)
            if text in seen:
                continue
            seen.add(text)
            queries.append(
                SearchQuery(text=text, filters=self._filters(noun), facets=tuple(Facet), page_size=self.page_size)
            )
            if len(queries) == count:
                break
        return queries

    def _text(self, noun: str) -> str:
        """Words about ``noun``: the noun, a qualifier and its last word, a typo, a prefix, a brand."""
        rng, facts = self.rng, self.nouns[noun]
        head = noun.split()[-1].lower()
        words = [word.lower() for word in noun.split() if word.isalpha()] or [head]
        long_words = [word for word in words if len(word) >= 6] or [max(words, key=len)]
        kind = rng.choice(("single", "single", "two", "two", "typo", "prefix", "brand"))
        if kind == "single":
            return rng.choice((head, noun.lower()))
        if kind == "two":
            return f"{rng.choice(facts.qualifiers).lower()} {head}"
        if kind == "typo":
            return _typo(rng, rng.choice(long_words))
        if kind == "prefix":
            word = rng.choice(long_words)
            prefix = word[: rng.randint(min(3, len(word) - 1), len(word) - 1)]
            return f"{rng.choice(facts.qualifiers).lower()} {prefix}" if rng.random() < 0.3 else prefix
        brand = rng.choice(facts.brands).lower()
        return f"{brand} {head}" if rng.random() < 0.5 else brand

    def _filters(self, noun: str) -> SearchFilters:
        rng, facts = self.rng, self.nouns[noun]
        categories: tuple[str, ...] = ()
        if rng.random() < CATEGORY_FILTER_SHARE:
            categories = (rng.choice((facts.category, facts.department)),)
        price_min = price_max = None
        if rng.random() < PRICE_FILTER_SHARE:
            low, high = facts.naira[0] * 100, facts.naira[1] * 100
            bands = [b for b in PRICE_BUCKETS if (b.low or 0) <= high and (b.high is None or b.high > low)]
            band = rng.choice(bands)
            price_min, price_max = band.low, (band.high - 1 if band.high is not None else None)
        return SearchFilters(
            categories=categories, price_min=price_min, price_max=price_max, in_stock=rng.random() < IN_STOCK_SHARE
        )


def _typo(rng: random.Random, word: str) -> str:
    """One edit (drop, swap or replace a letter, never the first) that search should forgive."""
    at = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "swap", "replace"))
    if edit == "drop":
        return word[:at] + word[at + 1 :]
    if edit == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word[:at] + rng.choice("aeioustrnl".replace(word[at], "")) + word[at + 1 :]


def _priced(filters: SearchFilters) -> bool:
    return filters.price_min is not None or filters.price_max is not None


# --- measuring ----------------------------------------------------------------------------------


def measure(items: Sequence[T], call: Callable[[T], object]) -> list[float]:
    samples = []
    for item in items:
        started = time.perf_counter()
        call(item)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def keyword(query: SearchQuery) -> object:
    return search_engine().search(query)


def hybrid(query: SearchQuery) -> object:
    """What the results page does per request: a session, then the service call."""
    with session_scope() as session:
        return search_products(session, query)


def profile(queries: Sequence[SearchQuery], top: int) -> str:
    """cProfile of ``hybrid`` over ``queries``: the ``top`` entries by cumulative time, then the
    project's own functions among them (which part of the service the time goes to)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        hybrid(query)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    print("--- the project's functions only:", file=out)
    stats.print_stats(r"/revoque/", top)
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return out.getvalue().replace(root, "").replace(sys.prefix + "/", "")


def report_latencies(timings: list[Timing]) -> None:
    print(f"\n{'measurement':<38}{'queries':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  verdict")
    for timing in timings:
        samples = timing.samples
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        verdict = ""
        if timing.target_p95_ms is not None:
            met = "target met" if p95 <= timing.target_p95_ms else "target missed"
            verdict = f"p95 ≤ {timing.target_p95_ms:g} ms: {met}"
        print(f"{timing.label:<38}{len(samples):>8}{p50:>9.1f}{p95:>9.1f}{max(samples):>9.1f}  {verdict}")


# --- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace, tmp: Path) -> None:
    use_fresh_store(tmp)
    vocabulary = prepare(args)
    maker = QueryMaker(vocabulary, get_settings().page_size)
    queries = maker.make(WARM_UP_QUERIES + args.queries)
    warm_up, measured = queries[:WARM_UP_QUERIES], queries[WARM_UP_QUERIES:]
    filtered = sum(bool(q.filters.categories) or _priced(q.filters) for q in measured)
    print(
        f"\nqueries: {len(measured)} distinct, {filtered} with a category or price filter, after {len(warm_up)} "
        f"warm-up; load average before: {_load()}"
    )
    print(f"threads by default: {_threads()}")
    timings = measure_queries(warm_up, measured)
    print(f"load average after: {_load()} (2 cores; figures above 2 mean other work competed for the CPU)")
    report_latencies(timings)
    if args.profile:
        print(f"\ncProfile of (b) over {min(args.profile, len(measured))} of the queries, by cumulative time:")
        print(profile(measured[: args.profile], top=25))


def prepare(args: argparse.Namespace) -> Vocabulary:
    """Catalog, keyword index and vector index, each step timed and printed."""
    catalog, seconds = timed(lambda: build_catalog(args.products))
    print(
        f"catalog: {catalog.products:,} products ({catalog.active:,} active), {catalog.variants:,} variants, "
        f"{catalog.categories} categories, {catalog.brands} brands, generated in {seconds:.1f} s"
    )
    written, seconds = timed(reindex_all)
    print(
        f"index build (reindex_all, tantivy): {written:,} documents in {seconds:.1f} s, "
        f"{written / seconds:,.0f} documents/s"
    )
    docs, seconds = timed(load_documents)
    print(f"documents read back for the vector index: {len(docs):,} in {seconds:.1f} s")
    _, seconds = timed(lambda: get_embedder().embed(["warm up the model"]))
    print(f"embedding model {getattr(get_embedder(), 'model_name', '?')} loaded in {seconds:.1f} s")
    sample = docs if EMBED_ALL else random.Random(3).sample(docs, min(args.sample, len(docs)))
    vectors, seconds = timed(lambda: embed_texts(sample))
    print(
        f"embedding throughput: {len(sample):,} products in {seconds:.1f} s, {len(sample) / seconds:.1f} products/s "
        f"(batch {EMBED_BATCH}, real embedding_text of each product, {_threads()})"
    )
    _, seconds = timed(lambda: fill_vector_index(docs, sample, vectors))
    print(f"vector index filled in {seconds:.1f} s ({len(docs):,} points)")
    return catalog.vocabulary


def model_embedding(embedder: Embedder, text: str) -> np.ndarray:
    """(c) times the model itself: the embedder keeps the vectors of recent queries, and (b) has
    just asked for these, so the query's kept vector is dropped first."""
    getattr(embedder, "_recent_queries", {}).pop(text, None)
    return embedder.embed_query(text)


def measure_queries(warm_up: Sequence[SearchQuery], measured: Sequence[SearchQuery]) -> list[Timing]:
    """(a)–(e) over the same queries, each after the warm-up queries."""
    embedder, store, name = get_embedder(), get_vector_store(), products_collection()
    for query in warm_up:
        keyword(query)
        hybrid(query)
        embedder.embed_query(query.text)
    keyword_ms = measure(measured, keyword)
    candidates_ms = measure(
        measured, lambda query: search_engine().search(replace(query, page_size=KEYWORD_CANDIDATES, ids_only=True))
    )
    hybrid_ms = measure(measured, hybrid)
    vectors: list[np.ndarray] = []
    embed_ms = measure(measured, lambda query: vectors.append(model_embedding(embedder, query.text)))
    pairs = list(zip(vectors, measured, strict=True))
    vector_ms = measure(
        pairs, lambda pair: store.search(name, pair[0], VECTOR_CANDIDATES, vector_filter(pair[1].filters))
    )
    totals = [search_engine().search(replace(query, facets=(), page_size=1)).total for query in measured]
    print(
        f"keyword matches per query: median {statistics.median(totals):,.0f}, "
        f"{sum(total == 0 for total in totals)} of {len(totals)} queries matched nothing"
    )
    return [
        Timing("(a) keyword + all facets (engine)", keyword_ms, TARGET_KEYWORD_P95_MS),
        Timing("(b) search_products (service)", hybrid_ms, TARGET_HYBRID_P95_MS),
        Timing("(c) query embedding alone", embed_ms),
        Timing(f"(d) vector search alone, top {VECTOR_CANDIDATES}", vector_ms),
        Timing(f"(e) keyword + facets, top {KEYWORD_CANDIDATES} ids", candidates_ms),
    ]


def _threads() -> str:
    """Threads torch and numpy's BLAS use by default here."""
    import torch  # already imported by the embedder

    try:
        from threadpoolctl import threadpool_info

        blas = max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=0)
    except ImportError:
        blas = 0
    return f"{torch.get_num_threads()} torch / {blas or '?'} BLAS threads"


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def fill_vector_index(docs: list[Document], sample: list[Document], vectors: np.ndarray) -> None:
    """Real vectors for the sample; the other products get stand-ins (and the run says so)."""
    sampled_ids = {doc["id"] for doc in sample}
    rest = [doc for doc in docs if doc["id"] not in sampled_ids]
    store_vectors(sample, vectors)
    if rest:
        store_vectors(rest, stand_in_vectors(rest, sample, vectors, seed=5))
        print(
            f"NOTE: {len(sample):,} products embedded for real; the other {len(rest):,} got a sampled vector of "
            f"their category plus noise (σ={VECTOR_NOISE}), renormalised: exact search costs the same whatever "
            "the vectors hold. BENCH_EMBED_ALL=1 embeds every product."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5_000 if QUICK else 50_000)
    parser.add_argument("--queries", type=int, default=50 if QUICK else 200, help="measured queries per kind")
    parser.add_argument("--sample", type=int, default=200 if QUICK else 2_000, help="products embedded for real")
    parser.add_argument("--profile", type=int, default=0, help="profile the service call over this many queries")
    args = parser.parse_args()
    print(
        "search benchmark, embedded engines (SQLite, tantivy, numpy vectors, sentence-transformers); "
        f"targets: keyword p95 ≤ {TARGET_KEYWORD_P95_MS} ms, hybrid p95 ≤ {TARGET_HYBRID_P95_MS} ms"
    )
    with tempfile.TemporaryDirectory(prefix="revoque-bench-", ignore_cleanup_errors=True) as tmp:
        try:
            run(args, Path(tmp))
        finally:
            reset_caches()


if __name__ == "__main__":
    main()
