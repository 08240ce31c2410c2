"""Relevance benchmark: keyword, vector and hybrid search judged against labelled queries.

It builds the demo catalog in a temporary SQLite database (migrate, seed, index for keywords, embed
for vectors, all embedded engines), then runs every query in ``bench/relevance_queries.json`` through
``keyword_ranking``, ``vector_ranking`` and ``hybrid_ranking`` from ``revoque.services.search``
(price words such as "under 30000" are read inside those functions, the same way for all three).
Each ranking is scored against hand-made graded judgements (3 exact, 2 good, 1 related, unlisted 0):

- NDCG@10: DCG of the first 10 results with gains 2^grade − 1 and a log2(rank + 1) discount, over
  the DCG of the ideal order of the judged products;
- recall@20: share of the products graded ≥ 1 that are among the first 20 results.

It prints both per query type and overall, the queries where hybrid falls furthest below the better
of the other two, and whether hybrid beats both on mean NDCG@10. It asserts nothing; it exits
non-zero only when the query file itself is wrong (an unknown or inactive slug, a graded product
outside the query's own price limit, fewer than 60 queries).

    python bench/relevance.py [--worst 10] [--per-query] [--json results.json]
    BENCH_QUICK=1 python bench/relevance.py      # the same full run: the catalog is small (40–90 s here)

The embedding model is EMBEDDING_MODEL if set (default: the packaged all-MiniLM-L6-v2).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session

from bench._demo_store import build_demo_store
from bench._metrics import mean, ndcg_at_k, recall_at_k

QUERIES_FILE = Path(__file__).with_name("relevance_queries.json")
NDCG_DEPTH = 10
RECALL_DEPTH = 20
MIN_QUERIES = 60
QUERY_TYPES = ("exact", "misspelled", "synonym", "descriptive", "price")
SYSTEMS = ("keyword", "vector", "hybrid")
SHOWN_RESULTS = 5  # results listed for each of the worst queries

Ranking = Callable[..., list[int]]


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    type: str
    text: str
    judgements: dict[str, int]
    price_min: int | None = None  # the limit the text states, minor units (for checking the judgements)
    price_max: int | None = None


@dataclass
class QueryResult:
    query: LabelledQuery
    ranked: dict[str, list[str]] = field(default_factory=dict)  # system → slugs, best first
    ndcg: dict[str, float] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)

    @property
    def hybrid_shortfall(self) -> float:
        """How far hybrid's NDCG@10 is below the better of keyword and vector (negative: above)."""
        return max(self.ndcg["keyword"], self.ndcg["vector"]) - self.ndcg["hybrid"]


# --- the labelled queries -------------------------------------------------------------------------


def load_queries(path: Path) -> list[LabelledQuery]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        LabelledQuery(
            id=item["id"],
            type=item["type"],
            text=item["text"],
            judgements={slug: int(grade) for slug, grade in item["judgements"].items()},
            price_min=item.get("price_min_kobo"),
            price_max=item.get("price_max_kobo"),
        )
        for item in raw["queries"]
    ]


def judgement_problems(queries: Sequence[LabelledQuery], prices: dict[str, int]) -> list[str]:
    """What is wrong with the query file against this catalog (``prices``: active slug → lowest
    price). A slug that is not an active product could never be found and would drag every system
    down alike; a graded product outside the stated price limit contradicts the rule that such
    products are worth 0."""
    problems = []
    if len(queries) < MIN_QUERIES:
        problems.append(f"only {len(queries)} queries; the set needs at least {MIN_QUERIES}")
    if len({q.id for q in queries}) != len(queries):
        problems.append("query ids are not unique")
    for q in queries:
        if q.type not in QUERY_TYPES:
            problems.append(f"{q.id}: unknown type {q.type!r}")
        if not any(grade > 0 for grade in q.judgements.values()):
            problems.append(f"{q.id}: nothing graded above 0")
        for slug, grade in q.judgements.items():
            if slug not in prices:
                problems.append(f"{q.id}: {slug} is not an active product of the demo catalog")
            elif grade not in (0, 1, 2, 3):
                problems.append(f"{q.id}: {slug} has grade {grade}; grades are 0–3")
            elif grade and not _within(prices[slug], q.price_min, q.price_max):
                problems.append(f"{q.id}: {slug} costs {prices[slug]} (minor units), outside the query's limit")
    return problems


def _within(price: int, low: int | None, high: int | None) -> bool:
    return (low is None or price >= low) and (high is None or price <= high)


# --- a fresh demo store ---------------------------------------------------------------------------


def catalog_prices(session: Session) -> dict[str, int]:
    """Active product slug → lowest price, from the same documents both indexes are built from."""
    from revoque.services.search_documents import iter_documents

    return {doc["slug"]: int(doc["price_min"]) for batch in iter_documents(session) for doc in batch}


def catalog_slugs(session: Session) -> dict[int, str]:
    from sqlmodel import select

    from revoque.models import Product

    return dict(session.exec(select(Product.id, Product.slug)).all())


# --- measuring ------------------------------------------------------------------------------------


def rankings() -> dict[str, Ranking]:
    from revoque.services.search import hybrid_ranking, keyword_ranking, vector_ranking

    return {"keyword": keyword_ranking, "vector": vector_ranking, "hybrid": hybrid_ranking}


def tuning() -> str:
    """The fusion constants in force, so figures from different runs can be told apart."""
    from revoque.services import search

    names = ("RRF_K", "SEMANTIC_MIN_SCORE", "SEMANTIC_CANDIDATES", "HYBRID_CANDIDATES")
    return ", ".join(f"{name}={getattr(search, name, '?')}" for name in names)


def measure(
    session: Session, queries: Sequence[LabelledQuery], slugs: dict[int, str]
) -> tuple[list[QueryResult], dict[str, float]]:
    """Every query through every system; returns the scored results and mean ms per query per system."""
    from revoque.adapters.search import SearchQuery

    systems = rankings()
    elapsed = dict.fromkeys(systems, 0.0)
    results = []
    for q in queries:
        result = QueryResult(q)
        for name, ranking in systems.items():
            started = time.perf_counter()
            ids = ranking(session, SearchQuery(text=q.text), RECALL_DEPTH)
            elapsed[name] += time.perf_counter() - started
            result.ranked[name] = [slugs.get(product_id, f"#{product_id}") for product_id in ids]
            result.ndcg[name] = ndcg_at_k(result.ranked[name], q.judgements, NDCG_DEPTH)
            result.recall[name] = recall_at_k(result.ranked[name], q.judgements, RECALL_DEPTH)
        results.append(result)
    return results, {name: total * 1000 / max(len(queries), 1) for name, total in elapsed.items()}


# --- reporting ------------------------------------------------------------------------------------


def summary_rows(results: Sequence[QueryResult]) -> list[tuple[str, int, dict[str, float], dict[str, float]]]:
    """(label, queries, mean NDCG@10 per system, mean recall@20 per system) per type, then overall."""
    groups = [(kind, [r for r in results if r.query.type == kind]) for kind in QUERY_TYPES]
    groups.append(("overall", list(results)))
    return [
        (
            label,
            len(group),
            {s: mean([r.ndcg[s] for r in group]) for s in SYSTEMS},
            {s: mean([r.recall[s] for r in group]) for s in SYSTEMS},
        )
        for label, group in groups
        if group
    ]


def print_summary(results: Sequence[QueryResult], timings: dict[str, float]) -> bool:
    print(
        f"\nrelevance on the demo catalog: {len(results)} labelled queries; "
        f"NDCG@{NDCG_DEPTH} (gain 2^grade−1, ideal = judged products in grade order) and "
        f"recall@{RECALL_DEPTH} (share of products graded ≥1 in the first {RECALL_DEPTH})"
    )
    header = "".join(f"{s:>9}" for s in SYSTEMS)
    print(f"{'query type':<13}{'n':>4}  NDCG@{NDCG_DEPTH}:{header}   recall@{RECALL_DEPTH}:{header}")
    rows = summary_rows(results)
    for label, count, ndcg, recall in rows:
        ndcg_cells = "".join(f"{ndcg[s]:>9.3f}" for s in SYSTEMS)
        recall_cells = "".join(f"{recall[s]:>9.3f}" for s in SYSTEMS)
        print(f"{label:<13}{count:>4}  {'':>8}{ndcg_cells}   {'':>10}{recall_cells}")
    print("mean ms/query " + ", ".join(f"{s} {timings[s]:.1f}" for s in SYSTEMS))
    _, _, overall, _ = rows[-1]
    wins = sum(r.ndcg["hybrid"] >= max(r.ndcg["keyword"], r.ndcg["vector"]) for r in results)
    print(f"queries where hybrid's NDCG@{NDCG_DEPTH} is at least the better of the other two: {wins}/{len(results)}")
    beats = overall["hybrid"] > overall["keyword"] and overall["hybrid"] > overall["vector"]
    print(f"hybrid beats both on NDCG@{NDCG_DEPTH}: {'yes' if beats else 'no'}")
    return beats


def print_worst(results: Sequence[QueryResult], count: int) -> None:
    if count <= 0:
        return
    worst = sorted(results, key=lambda r: r.hybrid_shortfall, reverse=True)[:count]
    print(f"\nqueries where hybrid is furthest below the better of keyword and vector (NDCG@{NDCG_DEPTH}):")
    for r in worst:
        scores = "  ".join(f"{s} {r.ndcg[s]:.3f}" for s in SYSTEMS)
        print(f"  {r.query.id:<9} {r.query.text!r}: {scores}  (shortfall {r.hybrid_shortfall:+.3f})")
        for system in SYSTEMS:
            print(f"      {system:<8} {_graded(r.ranked[system][:SHOWN_RESULTS], r.query.judgements)}")


def print_per_query(results: Sequence[QueryResult]) -> None:
    print(f"\nper query NDCG@{NDCG_DEPTH} / recall@{RECALL_DEPTH}:")
    for r in results:
        cells = "  ".join(f"{s} {r.ndcg[s]:.2f}/{r.recall[s]:.2f}" for s in SYSTEMS)
        print(f"  {r.query.id:<9} {r.query.text[:40]!r:<44} {cells}")


def _graded(slugs: Sequence[str], judgements: dict[str, int]) -> str:
    return ", ".join(f"{slug}({judgements.get(slug, 0)})" for slug in slugs) or "(nothing)"


def write_json(path: Path, results: Sequence[QueryResult]) -> None:
    """Every query's rankings and scores, for comparing runs (e.g. before and after a tuning change)."""
    rows = [
        {
            "id": r.query.id,
            "type": r.query.type,
            "text": r.query.text,
            "ranked": r.ranked,
            "ndcg": r.ndcg,
            "recall": r.recall,
        }
        for r in results
    ]
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE, help="labelled query file (JSON)")
    parser.add_argument("--worst", type=int, default=10, help="how many of hybrid's worst queries to show")
    parser.add_argument("--per-query", action="store_true", help="print every query's scores")
    parser.add_argument("--json", type=Path, help="also write every ranking and score to this file")
    args = parser.parse_args()
    queries = load_queries(args.queries)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="revoque-relevance-", ignore_cleanup_errors=True) as tmp:
        build_demo_store(Path(tmp), "relevance.db")
        from revoque.db import session_scope

        with session_scope() as session:
            problems = judgement_problems(queries, catalog_prices(session))
            if problems:
                sys.exit("the labelled query file does not fit the demo catalog:\n  " + "\n  ".join(problems))
            setup_seconds = time.perf_counter() - started
            results, timings = measure(session, queries, catalog_slugs(session))
    print(f"demo store built in {setup_seconds:.1f}s; {len(queries)} queries × {len(SYSTEMS)} systems measured")
    print(f"hybrid settings (revoque.services.search): {tuning()}")
    print_summary(results, timings)
    print_worst(results, args.worst)
    if args.per_query:
        print_per_query(results)
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
