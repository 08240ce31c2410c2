"""The assistant benchmark's own checks, on made-up answers: a product named with a wrong price or
one that was not retrieved makes an answer ungrounded, and hits are judged per expectation."""

from __future__ import annotations

from types import SimpleNamespace

from bench.assistant_eval import Catalog, Question, check_hit, grounding_problems, percentile

CATALOG = Catalog(
    slugs={1: "leather-tote-bag", 2: "cotton-polo-shirt", 3: "striped-cotton-polo"},
    titles={1: "Leather Tote Bag", 2: "Cotton Polo Shirt", 3: "Striped Cotton Polo"},
    prices={1: 4_800_000, 2: 1_400_000, 3: 400_000},
    active={"leather-tote-bag", "cotton-polo-shirt", "striped-cotton-polo"},
    currency="NGN",
)


def fact(product_id: int, price: int, price_text: str) -> SimpleNamespace:
    return SimpleNamespace(id=product_id, title=CATALOG.titles[product_id], price=price, price_text=price_text, text="")


def retrieval(*products, passages=(), orders=(), needs_sign_in=False, unknown_order=""):
    return SimpleNamespace(
        products=list(products),
        passages=list(passages),
        orders=list(orders),
        needs_sign_in=needs_sign_in,
        unknown_order=unknown_order,
    )


def problems(text: str, cards: list, found) -> list[str]:
    return grounding_problems(None, "question", SimpleNamespace(text=text, products=cards), found, CATALOG, None)


def test_an_answer_naming_retrieved_products_at_their_database_prices_is_grounded():
    tote, polo = fact(1, 4_800_000, "₦48,000"), fact(3, 400_000, "₦4,000")
    text = "Here are 2 matches: Leather Tote Bag (₦48,000); Striped Cotton Polo (From ₦4,000)."
    assert problems(text, [tote, polo], retrieval(tote, polo)) == []


def test_a_wrong_price_or_a_product_that_was_not_retrieved_is_caught():
    tote = fact(1, 4_800_000, "₦48,000")
    assert problems("Leather Tote Bag (₦45,000).", [tote], retrieval(tote)) == [
        "'Leather Tote Bag' is written with ₦45,000, not ₦48,000"
    ]
    assert problems("Try the Cotton Polo Shirt (₦14,000).", [], retrieval(tote)) == [
        "names 'Cotton Polo Shirt', which was not retrieved"
    ]
    cheap = fact(1, 100, "₦1")
    assert problems("", [cheap], retrieval()) == [
        "card 'Leather Tote Bag' was not retrieved",
        "card 'Leather Tote Bag' shows ₦1, the database says 4800000",
    ]


def test_a_title_inside_a_longer_title_counts_once_as_the_longer_one():
    polo = fact(3, 400_000, "₦4,000")
    assert problems("Striped Cotton Polo (₦4,000).", [polo], retrieval(polo)) == []


def test_hits_are_judged_per_expectation():
    tote = fact(1, 4_800_000, "₦48,000")
    found = retrieval(tote, passages=[SimpleNamespace(id=7)])
    topics = {7: "returns"}
    question = Question(
        "m1", "product", "tote and returns", "guest", {"products": ["leather-tote-bag"], "topics": ["returns"]}
    )
    assert check_hit(question, found, CATALOG, topics, {}) == []
    wrong = Question("m2", "product", "polo", "guest", {"products": ["cotton-polo-shirt"], "topics": ["shipping"]})
    assert check_hit(wrong, found, CATALOG, topics, {}) == ["products", "topics"]
    off_topic = Question("x1", "off-topic", "joke", "guest", {"nothing": True})
    assert check_hit(off_topic, found, CATALOG, topics, {}) == ["nothing"]
    assert check_hit(off_topic, retrieval(), CATALOG, topics, {}) == []
    guest = Question("o1", "order", "my order", "guest", {"sign_in": True})
    assert check_hit(guest, retrieval(needs_sign_in=True), CATALOG, topics, {}) == []


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([3.0], 0.95)) == (50, 95, 3.0)
