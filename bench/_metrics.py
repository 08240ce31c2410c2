"""Ranking-quality measures for ``bench/relevance.py``: NDCG@k with graded gains and recall@k.

Judgements map a product slug to a grade: 3 = exactly what was asked, 2 = a good match, 1 = related
or acceptable; anything not listed is 0. Kept free of the store's code so the arithmetic is tested on
its own (tests/unit/test_relevance_metrics.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

RELEVANT_GRADE = 1  # recall counts products graded at least this


def gain(grade: int) -> float:
    """Graded gain 2^g − 1: an exact match (3) is worth 7, a good one (2) 3, a related one (1) 1."""
    return float(2**grade - 1)


def dcg(grades: Sequence[int]) -> float:
    """Discounted cumulative gain of grades in rank order (rank 1 is not discounted: log2(1 + 1) = 1)."""
    return sum(gain(grade) / math.log2(rank + 2) for rank, grade in enumerate(grades))


def ndcg_at_k(ranked: Sequence[str], judgements: Mapping[str, int], k: int = 10) -> float:
    """DCG of the first ``k`` results over the DCG of the best possible first ``k`` (the judged
    products in grade order). A query with nothing judged relevant scores 1.0 when it is empty-handed
    anyway: there is nothing it could have ranked better. Duplicates count once, at their first rank."""
    ideal = dcg(sorted((g for g in judgements.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 1.0
    return dcg([judgements.get(slug, 0) for slug in _unique(ranked)[:k]]) / ideal


def recall_at_k(
    ranked: Sequence[str], judgements: Mapping[str, int], k: int = 20, min_grade: int = RELEVANT_GRADE
) -> float:
    """Share of the products graded ≥ ``min_grade`` that appear in the first ``k`` results (1.0 when
    none is judged that relevant)."""
    relevant = {slug for slug, grade in judgements.items() if grade >= min_grade}
    if not relevant:
        return 1.0
    return len(relevant.intersection(_unique(ranked)[:k])) / len(relevant)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _unique(ranked: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranked))
