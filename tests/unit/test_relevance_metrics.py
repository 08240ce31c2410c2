import math

import pytest

from bench._metrics import dcg, gain, mean, ndcg_at_k, recall_at_k

JUDGED = {"exact": 3, "good": 2, "related": 1}


def test_gains_grow_exponentially_with_the_grade():
    assert [gain(g) for g in (0, 1, 2, 3)] == [0.0, 1.0, 3.0, 7.0]


def test_dcg_discounts_by_log2_of_rank_plus_one():
    assert dcg([3, 2, 0, 1]) == pytest.approx(7 + 3 / math.log2(3) + 0 + 1 / math.log2(5))


def test_ideal_order_scores_one_and_reversed_order_less():
    assert ndcg_at_k(["exact", "good", "related"], JUDGED) == pytest.approx(1.0)
    reversed_score = ndcg_at_k(["related", "good", "exact"], JUDGED)
    expected = (1 + 3 / math.log2(3) + 7 / 2) / (7 + 3 / math.log2(3) + 1 / 2)
    assert reversed_score == pytest.approx(expected)


def test_unjudged_results_count_as_zero_and_push_relevant_ones_down():
    assert ndcg_at_k(["noise", "exact"], {"exact": 3}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["noise", "other"], {"exact": 3}) == 0.0


def test_ndcg_only_looks_at_the_first_k_results():
    ranked = [f"noise-{i}" for i in range(10)] + ["exact"]
    assert ndcg_at_k(ranked, {"exact": 3}, k=10) == 0.0
    assert ndcg_at_k(ranked, {"exact": 3}, k=11) == pytest.approx(1 / math.log2(12))


def test_ideal_is_capped_at_k_so_a_perfect_top_k_scores_one():
    judged = {f"p{i}": 3 for i in range(15)}
    assert ndcg_at_k([f"p{i}" for i in range(10)], judged, k=10) == pytest.approx(1.0)


def test_a_repeated_product_is_counted_once():
    assert ndcg_at_k(["exact", "exact", "good"], JUDGED) == pytest.approx(
        (7 + 3 / math.log2(3)) / (7 + 3 / math.log2(3) + 1 / 2)
    )
    assert recall_at_k(["exact", "exact"], JUDGED) == pytest.approx(1 / 3)


def test_recall_counts_products_graded_at_least_one_within_k():
    ranked = ["good", "noise", "related"]
    assert recall_at_k(ranked, JUDGED, k=20) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, JUDGED, k=1) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, JUDGED, k=20, min_grade=2) == pytest.approx(1 / 2)


def test_a_query_with_nothing_relevant_scores_full_marks():
    assert ndcg_at_k(["anything"], {"zero": 0}) == 1.0
    assert recall_at_k([], {}) == 1.0


def test_mean_of_nothing_is_zero():
    assert mean([]) == 0.0
    assert mean([0.5, 1.0]) == pytest.approx(0.75)


# --- the labelled query set of bench/relevance.py -------------------------------------------------


def demo_prices() -> dict[str, int]:
    """Active demo products' slug → lowest price, from the seed's plan (no database needed)."""
    from datetime import UTC, datetime

    from revoque.services.seed import plan_catalog

    return {plan.slug: plan.price_range[0] for plan in plan_catalog(datetime.now(UTC)) if plan.status == "active"}


def test_the_labelled_queries_fit_the_demo_catalog():
    from bench.relevance import QUERIES_FILE, QUERY_TYPES, judgement_problems, load_queries

    queries = load_queries(QUERIES_FILE)
    assert judgement_problems(queries, demo_prices()) == []
    per_type = {kind: sum(q.type == kind for q in queries) for kind in QUERY_TYPES}
    assert min(per_type.values()) >= 12, per_type
    assert all(q.price_min is not None or q.price_max is not None for q in queries if q.type == "price")


def test_judgement_problems_name_unknown_slugs_and_grades_over_the_price_limit():
    from bench.relevance import LabelledQuery, judgement_problems

    queries = [
        LabelledQuery("a", "price", "bag under 20k", {"cheap-bag": 3, "dear-bag": 2, "ghost": 1}, price_max=2_000_000),
        LabelledQuery("a", "vague", "anything", {"cheap-bag": 0}),
    ]
    problems = judgement_problems(queries, {"cheap-bag": 1_500_000, "dear-bag": 2_850_000})
    assert any("at least 60" in p for p in problems)
    assert "query ids are not unique" in problems
    assert any(p.startswith("a: dear-bag costs 2850000") for p in problems)
    assert "a: ghost is not an active product of the demo catalog" in problems
    assert "a: unknown type 'vague'" in problems
    assert "a: nothing graded above 0" in problems
    assert not any("cheap-bag" in p for p in problems)
