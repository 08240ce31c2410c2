"""Assistant benchmark: retrieval hit@5, grounded answers and latency of the offline assistant.

It builds the demo store in a temporary SQLite database with the embedded engines (migrate, seed the
catalog and the demo store's FAQs and policies, index for keywords, embed products and passages),
adds two shoppers with orders (Ada: delivered, shipped and pending; Bola: paid), then runs every
question of ``bench/assistant_questions.json`` through ``revoque.services.assistant`` exactly as a
chat message without GEMINI_API_KEY goes: ``understand`` → ``retrieve`` (hybrid product search with
the understood filters, FAQ/policy passages, the signed-in shopper's own orders) → ``compose`` (the
offline composer). For each question it reports:

- retrieval hit@5: the question's expectation is met by what was retrieved, looking at the first 5
  of each kind (the assistant keeps at most 4 products, 3 passages and 5 orders, so in practice this
  is everything it retrieved). Products: one of the acceptable slugs; passages: one of the expected
  FAQ topics / policy slugs; orders: one of the expected orders; a guest asking about orders: asked
  to sign in and shown none; another customer's order: nothing about it; off-topic: nothing at all;
- answered from it: the answer itself uses what was expected (an acceptable product among its cards,
  an expected passage quoted, the expected order's number, the sign-in request; for another
  customer's order no status, for off-topic no card, quote or order). Retrieval can hit while the
  composer still answers from something else, so the two are reported apart;
- grounded: every product named in the answer text (any catalog title found in it) and every card
  shown was retrieved, and each price written next to a name or on a card equals the price computed
  here from the variants table (the lowest variant price, formatted in the store currency); every
  order number in the answer is the shopper's own and retrieved, with its status as the database has
  it. Checked against the database, not taken from the assistant's own facts;
- latency: retrieval (understanding + retrieval, in its own read session) and offline composition,
  per question, p50 and p95 over every run of every question (targets: retrieval p95 ≤ 100 ms,
  grounded 100 %). The embedding model is loaded before timing starts.

It asserts nothing; it exits non-zero only when the question file does not fit the demo catalog
(an unknown or inactive slug, an unknown topic or order label, fewer than 40 questions).

    python bench/assistant_eval.py [--repeats 5] [--show-answers] [--json results.json]
    BENCH_QUICK=1 python bench/assistant_eval.py     # each question once (about 30 s here)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session

from bench._demo_store import build_demo_store

QUESTIONS_FILE = Path(__file__).with_name("assistant_questions.json")
MIN_QUESTIONS = 40
HIT_DEPTH = 5
RETRIEVAL_P95_TARGET_MS = 100.0
QUESTION_TYPES = ("product", "policy", "order", "off-topic")
SHOPPERS = ("guest", "ada", "bola")
EXPECTATIONS = ("products", "topics", "orders", "sign_in", "not_found", "nothing")
TOPICS = ("shipping", "returns", "payment", "orders", "sizing", "contact", "privacy")
ORDER_NUMBER = re.compile(r"\bRVQ-\d+\b")
PASSWORD = "a long demo password 42"


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    shopper: str
    expect: dict[str, Any]


@dataclass
class Outcome:
    question: Question
    text: str  # the question as asked (order labels replaced by numbers)
    hit: bool = False
    misses: list[str] = field(default_factory=list)  # which expectations retrieval did not meet
    answered: bool = False  # the answer itself used what was expected
    problems: list[str] = field(default_factory=list)  # grounding problems
    retrieved: dict[str, list[str]] = field(default_factory=dict)
    answer: str = ""
    retrieval_ms: list[float] = field(default_factory=list)
    compose_ms: list[float] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        return not self.problems


# --- the question file ----------------------------------------------------------------------------


def load_questions(path: Path) -> list[Question]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Question(item["id"], item["type"], item["text"], item.get("shopper", "guest"), dict(item["expect"]))
        for item in raw["questions"]
    ]


def question_problems(questions: Sequence[Question], active_slugs: set[str], labels: set[str]) -> list[str]:
    """What is wrong with the question file against this catalog and the seeded orders."""
    problems = []
    if len(questions) < MIN_QUESTIONS:
        problems.append(f"only {len(questions)} questions; the set needs at least {MIN_QUESTIONS}")
    if len({q.id for q in questions}) != len(questions):
        problems.append("question ids are not unique")
    for q in questions:
        if q.type not in QUESTION_TYPES:
            problems.append(f"{q.id}: unknown type {q.type!r}")
        if q.shopper not in SHOPPERS:
            problems.append(f"{q.id}: unknown shopper {q.shopper!r}")
        if not q.expect or set(q.expect) - set(EXPECTATIONS):
            problems.append(f"{q.id}: expect must use {', '.join(EXPECTATIONS)}")
        problems += [f"{q.id}: {s} is not an active demo product" for s in q.expect.get("products", [])
                     if s not in active_slugs]  # fmt: skip
        problems += [f"{q.id}: unknown topic {t!r}" for t in q.expect.get("topics", []) if t not in TOPICS]
        named = [*q.expect.get("orders", []), *([q.expect["not_found"]] if "not_found" in q.expect else [])]
        named += re.findall(r"\{([^}]+)\}", q.text)
        problems += [f"{q.id}: unknown order label {label!r}" for label in named if label not in labels]
    return problems


# --- a fresh demo store with two shoppers --------------------------------------------------------


def build_store(data_dir: Path) -> None:
    """The demo store, plus store details, FAQs and policies and the knowledge collection."""
    build_demo_store(data_dir, "assistant.db")
    from revoque.db import session_scope
    from revoque.services.demo_commerce import ensure_demo_store
    from revoque.services.knowledge import reindex_knowledge, seed_knowledge

    with session_scope(write=True) as session:
        ensure_demo_store(session)
        seed_knowledge(session)
    with session_scope() as session:
        reindex_knowledge(session)


# (label, shopper, product slug, quantity, status, payment status, days ago), oldest first per shopper.
DEMO_ORDERS = (
    ("ada-delivered", "ada", "leather-tote-bag", 1, "delivered", "paid", 20),
    ("ada-shipped", "ada", "true-wireless-earbuds", 2, "shipped", "paid", 4),
    ("ada-pending", "ada", "floral-midi-dress", 1, "pending", "unpaid", 0),
    ("bola-paid", "bola", "volta-x5-smartphone", 1, "paid", "paid", 1),
)


def seed_shoppers(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    """Ada and Bola with the orders in DEMO_ORDERS; returns user ids by shopper and numbers by label."""
    from sqlmodel import select

    from revoque.models import Product, Variant
    from revoque.models.base import utcnow
    from revoque.services.accounts import sign_up
    from tests.factories import add_order

    users = {name: sign_up(session, f"{name}@example.com", PASSWORD, name.title()).id for name in ("ada", "bola")}
    numbers = {}
    for label, shopper, slug, quantity, status, paid, days in DEMO_ORDERS:
        product = session.exec(select(Product).where(Product.slug == slug)).one()
        variant = session.exec(
            select(Variant).where(Variant.product_id == product.id, Variant.stock_on_hand >= quantity)
        ).first()
        order = add_order(session, [(variant, quantity)], email=f"{shopper}@example.com", status=status,
                          payment_status=paid)  # fmt: skip
        order.user_id, order.created_at = users[shopper], utcnow() - timedelta(days=days, hours=1)
        session.add(order)
        session.flush()
        numbers[label] = order.number
    return users, numbers


# --- checking one question --------------------------------------------------------------------------


@dataclass
class Catalog:
    """What the database says, read once: titles and lowest variant prices of every product."""

    slugs: dict[int, str]
    titles: dict[int, str]
    prices: dict[int, int]
    active: set[str]
    currency: str


def read_catalog(session: Session) -> Catalog:
    from sqlalchemy import func
    from sqlmodel import select

    from revoque.models import Product, Variant
    from revoque.settings import get_settings

    products = session.exec(select(Product)).all()
    prices = dict(session.exec(select(Variant.product_id, func.min(Variant.price)).group_by(Variant.product_id)).all())
    return Catalog(
        slugs={p.id: p.slug for p in products},
        titles={p.id: p.title for p in products},
        prices={pid: int(price) for pid, price in prices.items()},
        active={p.slug for p in products if p.status == "active"},
        currency=get_settings().store_currency,
    )


def passage_topics(session: Session) -> dict[int, str]:
    """Knowledge passage id → its FAQ topic or policy slug."""
    from sqlmodel import select

    from revoque.models import Faq, Policy
    from revoque.services.knowledge import knowledge_passages

    faqs = {f.id: f.topic for f in session.exec(select(Faq))}
    policies = {p.id: p.slug for p in session.exec(select(Policy))}
    return {p.id: (faqs if p.kind == "faq" else policies).get(p.source_id, "?") for p in knowledge_passages(session)}


def check_hit(q: Question, retrieval, catalog: Catalog, topics: dict[int, str], numbers: dict[str, str]) -> list[str]:
    """The expectations the retrieval did not meet (empty: a hit)."""
    products = [catalog.slugs.get(p.id, f"#{p.id}") for p in retrieval.products][:HIT_DEPTH]
    passages = [topics.get(p.id, "?") for p in retrieval.passages][:HIT_DEPTH]
    orders = [o.number for o in retrieval.orders][:HIT_DEPTH]
    misses = []
    expect = q.expect
    if "products" in expect and not set(products) & set(expect["products"]):
        misses.append("products")
    if "topics" in expect and not set(passages) & set(expect["topics"]):
        misses.append("topics")
    if "orders" in expect and not set(orders) & {numbers[label] for label in expect["orders"]}:
        misses.append("orders")
    if expect.get("sign_in") and not (retrieval.needs_sign_in and not orders):
        misses.append("sign_in")
    if "not_found" in expect and (numbers[expect["not_found"]] in orders or not retrieval.unknown_order):
        misses.append("not_found")
    if expect.get("nothing") and (products or passages or orders):
        misses.append("nothing")
    return misses


def check_answer(
    q: Question, answer, retrieval, catalog: Catalog, topics: dict[int, str], numbers: dict[str, str]
) -> bool:
    """Whether the answer text and cards use what the question expects (see the module docstring)."""
    text, expect = answer.text, q.expect
    cards = {catalog.slugs.get(p.id) for p in answer.products}
    quoted = {topics.get(p.id) for p in retrieval.passages if p.text in text}
    named = set(ORDER_NUMBER.findall(text))
    checks = []
    if "products" in expect:
        checks.append(bool(cards & set(expect["products"])))
    if "topics" in expect:
        checks.append(bool(quoted & set(expect["topics"])))
    if "orders" in expect:
        checks.append(bool(named & {numbers[label] for label in expect["orders"]}))
    if expect.get("sign_in"):
        checks.append("sign in" in text.lower() and not named - set(ORDER_NUMBER.findall(q.text)))
    if "not_found" in expect:
        checks.append(re.search(rf"{numbers[expect['not_found']]}\b[^.;]*? is [a-z ]+[.;]", text) is None)
    if expect.get("nothing"):
        checks.append(not cards and not quoted and not named)
    return all(checks)


def _named_products(text: str, catalog: Catalog) -> list[tuple[int, int, int]]:
    """(product id, start, end) of every catalog title written in ``text``; a title inside a longer
    one found at the same place counts as the longer one only."""
    found = []
    for product_id, title in catalog.titles.items():
        for match in re.finditer(rf"(?<!\w){re.escape(title)}(?!\w)", text):
            found.append((product_id, match.start(), match.end()))
    return [f for f in found if not any(o != f and o[1] <= f[1] and f[2] <= o[2] for o in found)]


def grounding_problems(
    session: Session, question: str, answer, retrieval, catalog: Catalog, user_id: int | None
) -> list[str]:
    """Why the answer is not grounded in the retrieved facts and the database (empty: grounded). An
    order number the shopper wrote may be repeated back, as long as nothing is said about it."""
    from sqlmodel import select

    from revoque.models import Order
    from revoque.services.money import format_money
    from revoque.services.orders import STATE_WORDS

    retrieved = {p.id for p in retrieval.products}
    problems = []
    for card in answer.products:
        price = catalog.prices.get(card.id)
        if card.id not in retrieved:
            problems.append(f"card {card.title!r} was not retrieved")
        if card.price != price or format_money(card.price, catalog.currency) not in card.price_text:
            problems.append(f"card {card.title!r} shows {card.price_text}, the database says {price}")
    for product_id, _start, end in _named_products(answer.text, catalog):
        title = catalog.titles[product_id]
        if product_id not in retrieved:
            problems.append(f"names {title!r}, which was not retrieved")
        written = re.match(r"\s*\(([^)]*)\)", answer.text[end:])
        expected = format_money(catalog.prices.get(product_id, -1), catalog.currency)
        if written is None or expected not in written.group(1):
            problems.append(f"{title!r} is written with {written.group(1) if written else 'no price'}, not {expected}")
    own = {o.number for o in retrieval.orders}
    for number in sorted(set(ORDER_NUMBER.findall(answer.text))):
        order = session.exec(select(Order).where(Order.number == number)).first()
        status = re.search(rf"{number}\b[^.;]*? is ([a-z ]+?)[.;]", answer.text)
        mine = order is not None and user_id is not None and order.user_id == user_id and number in own
        if not mine and (status is not None or number not in question):
            problems.append(f"tells about order {number}, which is not one of the shopper's retrieved orders")
        elif mine and status is not None and status.group(1) != STATE_WORDS[order.status]:
            problems.append(f"order {number} is written as {status.group(1)!r}, the database says {order.status}")
    return problems


# --- measuring --------------------------------------------------------------------------------------


def ask_once(text: str, user_id: int | None):
    """One question through the offline path; returns (retrieval, answer, retrieval ms, compose ms)."""
    from revoque.db import session_scope
    from revoque.services import assistant

    started = time.perf_counter()
    with session_scope() as session:
        retrieval = assistant.retrieve(session, assistant.understand(session, text), user_id)
    retrieved = time.perf_counter()
    answer = assistant.compose(retrieval, "hello@revoque.ng or +234 803 123 4567")
    composed = time.perf_counter()
    return retrieval, answer, (retrieved - started) * 1000, (composed - retrieved) * 1000


def measure(
    questions: Sequence[Question], users: dict[str, int], numbers: dict[str, str], repeats: int
) -> list[Outcome]:
    from revoque.db import session_scope

    with session_scope() as session:
        catalog, topics = read_catalog(session), passage_topics(session)
    outcomes = []
    for q in questions:
        text = re.sub(r"\{([^}]+)\}", lambda m: numbers[m.group(1)], q.text)
        user_id = users.get(q.shopper)
        outcome = Outcome(q, text)
        for run in range(repeats):
            retrieval, answer, retrieval_ms, compose_ms = ask_once(text, user_id)
            outcome.retrieval_ms.append(retrieval_ms)
            outcome.compose_ms.append(compose_ms)
            if run == 0:
                outcome.misses = check_hit(q, retrieval, catalog, topics, numbers)
                outcome.hit = not outcome.misses
                outcome.answered = check_answer(q, answer, retrieval, catalog, topics, numbers)
                with session_scope() as session:
                    outcome.problems = grounding_problems(session, text, answer, retrieval, catalog, user_id)
                outcome.answer = answer.text
                outcome.retrieved = {
                    "products": [catalog.slugs.get(p.id, f"#{p.id}") for p in retrieval.products],
                    "passages": [topics.get(p.id, "?") for p in retrieval.passages],
                    "orders": [o.number for o in retrieval.orders],
                }
        outcomes.append(outcome)
    return outcomes


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0–1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


# --- reporting --------------------------------------------------------------------------------------


def print_report(outcomes: Sequence[Outcome], repeats: int, show_answers: bool) -> None:
    print(
        f"\nassistant on the demo store: {len(outcomes)} questions, offline composer, "
        f"{repeats} run{'s' if repeats != 1 else ''} each for latency"
    )
    print(
        f"{'question type':<14}{'n':>4}{'hit@5':>9}{'answered':>10}{'grounded':>10}"
        f"{'retrieval p50/p95 ms':>24}{'compose p50 ms':>16}"
    )
    for kind in (*QUESTION_TYPES, "overall"):
        group = [o for o in outcomes if kind == "overall" or o.question.type == kind]
        if not group:
            continue
        retrieval = [ms for o in group for ms in o.retrieval_ms]
        compose = [ms for o in group for ms in o.compose_ms]
        hits = sum(o.hit for o in group) / len(group)
        answered = sum(o.answered for o in group) / len(group)
        grounded = sum(o.grounded for o in group) / len(group)
        print(
            f"{kind:<14}{len(group):>4}{hits:>9.1%}{answered:>10.1%}{grounded:>10.1%}"
            f"{percentile(retrieval, 0.5):>14.1f} / {percentile(retrieval, 0.95):<7.1f}"
            f"{percentile(compose, 0.5):>14.2f}"
        )
    every = [o.retrieval_ms[i] + o.compose_ms[i] for o in outcomes for i in range(len(o.retrieval_ms))]
    retrieval = [ms for o in outcomes for ms in o.retrieval_ms]
    compose = [ms for o in outcomes for ms in o.compose_ms]
    p95 = percentile(retrieval, 0.95)
    grounded = sum(o.grounded for o in outcomes) / len(outcomes)
    print(
        f"latency ms over {len(every)} answers: retrieval p50 {percentile(retrieval, 0.5):.1f}, p95 {p95:.1f} "
        f"(target ≤ {RETRIEVAL_P95_TARGET_MS:.0f}: {'met' if p95 <= RETRIEVAL_P95_TARGET_MS else 'NOT met'}); "
        f"composition p50 {percentile(compose, 0.5):.2f}, p95 {percentile(compose, 0.95):.2f}; "
        f"retrieval + composition p50 {percentile(every, 0.5):.1f}, p95 {percentile(every, 0.95):.1f}"
    )
    print(f"grounded answers: {grounded:.1%} (target 100%: {'met' if grounded == 1 else 'NOT met'})")
    misses = [o for o in outcomes if not o.hit]
    if misses:
        print(f"\nmisses ({len(misses)}): what was expected and what was retrieved")
        for o in misses:
            print(f"  {o.question.id:<4} {o.text!r}: missed {', '.join(o.misses)}; expected {o.question.expect}")
            print(f"       retrieved {o.retrieved}")
    astray = [o for o in outcomes if o.hit and not o.answered]
    if astray:
        print(f"\nretrieved what was expected but answered from something else ({len(astray)}):")
        for o in astray:
            print(f"  {o.question.id:<4} {o.text!r}: expected {o.question.expect}")
            print(f"       answer: {o.answer}")
    ungrounded = [o for o in outcomes if not o.grounded]
    if ungrounded:
        print(f"\nanswers that are not grounded ({len(ungrounded)}):")
        for o in ungrounded:
            print(f"  {o.question.id:<4} {o.text!r}: {'; '.join(o.problems)}")
            print(f"       answer: {o.answer}")
    if show_answers:
        print("\nanswers:")
        for o in outcomes:
            print(f"  {o.question.id:<4} {o.text!r}\n       {o.answer}")


def write_json(path: Path, outcomes: Sequence[Outcome]) -> None:
    rows = [
        {
            "id": o.question.id,
            "type": o.question.type,
            "text": o.text,
            "hit": o.hit,
            "misses": o.misses,
            "answered": o.answered,
            "grounded": o.grounded,
            "problems": o.problems,
            "retrieved": o.retrieved,
            "answer": o.answer,
            "retrieval_ms": o.retrieval_ms,
            "compose_ms": o.compose_ms,
        }
        for o in outcomes
    ]
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=QUESTIONS_FILE, help="question file (JSON)")
    parser.add_argument("--repeats", type=int, help="runs per question for latency (default 5, 1 with BENCH_QUICK)")
    parser.add_argument("--show-answers", action="store_true", help="print every answer")
    parser.add_argument("--json", type=Path, help="also write every question's outcome to this file")
    args = parser.parse_args()
    repeats = args.repeats or (1 if os.environ.get("BENCH_QUICK") else 5)
    questions = load_questions(args.questions)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="revoque-assistant-", ignore_cleanup_errors=True) as tmp:
        build_store(Path(tmp))
        from revoque.db import session_scope

        with session_scope(write=True) as session:
            users, numbers = seed_shoppers(session)
        with session_scope() as session:
            problems = question_problems(questions, read_catalog(session).active, set(numbers))
        if problems:
            sys.exit("the question file does not fit the demo store:\n  " + "\n  ".join(problems))
        built = time.perf_counter()
        ask_once("warm up: sneakers", None)  # the first query fills the vocabulary cache and warms the model
        warmed = time.perf_counter()
        outcomes = measure(questions, {**users, "guest": None}, numbers, repeats)
    print(
        f"demo store built in {built - started:.1f}s, warm-up query {warmed - built:.1f}s; "
        f"{len(questions)} questions measured in {time.perf_counter() - warmed:.1f}s"
    )
    print_report(outcomes, repeats, args.show_answers)
    if args.json:
        write_json(args.json, outcomes)


if __name__ == "__main__":
    main()
