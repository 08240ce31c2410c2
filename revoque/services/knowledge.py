"""What the assistant knows besides the catalog: FAQs and policy pages, as passages in the vector
store's knowledge collection.

A passage is one FAQ (question and answer) or one paragraph of a policy page, so a quoted passage
is short and to the point. Every passage has a point id in the ``knowledge`` collection that encodes
where it comes from (``passage_id``), so a search hit leads straight back to the row in the
database; the vector store keeps no text, the database stays the one source of truth.

The collection is small (dozens of passages, embedded in well under a second), so it is rebuilt
whole by ``reindex_knowledge`` and checked before each search (``ensure_knowledge_index``): when
its ids differ from the passages the database holds (first start, a seed, a staff edit that added
or removed one) it is rebuilt. When the embedding model or vector store is unavailable, searching
falls back to word overlap, so the assistant still quotes the right policy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from revoque.adapters.embedder import EmbedderError, get_embedder
from revoque.adapters.search import normalize_words
from revoque.adapters.vectors import VectorPoint, VectorStoreError, get_vector_store
from revoque.models import Faq, Policy

log = logging.getLogger(__name__)

KNOWLEDGE_COLLECTION = "knowledge"
MIN_SIMILARITY = 0.25  # below this cosine similarity a passage is unrelated to the question
_PART_BITS = 10  # a policy may have up to 1,024 paragraphs
_KIND_FAQ, _KIND_POLICY = 0, 1
_PARAGRAPHS = re.compile(r"\n\s*\n")

# Words too common to say what a question is about (for the word-overlap fallback and the assistant).
_STOP_TEXT = (
    "a an and are as at be by can do does for from have how i if in is it my of on or our the to what when "
    "where which who why will with you your me we us this that there their any some please want need show "
    "looking find get buy got hi hello hey thanks thank what's whats like i'm im would could should just also "
    "something anything has got add put cart basket"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())

# The demo store's FAQs: (topic, question, answer). Staff edit them in the admin; seeding adds only
# questions that are missing, so edits to existing rows are never undone.
DEMO_FAQS: tuple[tuple[str, str, str], ...] = (
    (
        "shipping",
        "How long does delivery take?",
        "Orders in Lagos arrive in 1–2 business days and anywhere else in Nigeria in 3–5 business days. "
        "Express same-day delivery is available in Lagos for orders placed before 12:00.",
    ),
    (
        "shipping",
        "How much does delivery cost?",
        "Standard delivery costs ₦2,500 in Lagos and ₦4,500 to the rest of Nigeria; express same-day "
        "delivery in Lagos costs ₦6,000. Pick-up from our Lekki store is free.",
    ),
    (
        "shipping",
        "Can I pick up my order in store?",
        'Yes. Choose "Pick up in store (Lekki)" at checkout; your order is ready the next business day at '
        "12 Admiralty Way, Lekki Phase 1, Lagos. Bring your order number.",
    ),
    (
        "returns",
        "What is your return policy?",
        "You can return most items within 14 days of delivery if they are unused and in their original "
        "packaging. Start a return by emailing hello@revoque.ng with your order number.",
    ),
    (
        "returns",
        "How long do refunds take?",
        "Once we receive and check a returned item we refund it within 5 business days, to the card or "
        "bank account you paid with.",
    ),
    (
        "payment",
        "Which payment methods do you accept?",
        "You can pay by card (through Paystack), by bank transfer, or with cash or card on delivery.",
    ),
    (
        "payment",
        "Is it safe to pay by card?",
        "Card payments are processed by Paystack; your card details never reach our servers.",
    ),
    (
        "payment",
        "How do I pay by bank transfer?",
        "Choose bank transfer at checkout. We show our account details and your order number; use the "
        "order number as the transfer reference and we ship once the payment arrives.",
    ),
    (
        "orders",
        "How can I track my order?",
        "Sign in and open Your orders to see each order's status and timeline. Guests can open the link "
        "in their order confirmation email.",
    ),
    (
        "orders",
        "Can I cancel my order?",
        "You can cancel an order until it ships: contact us with your order number and we cancel it and "
        "refund any payment.",
    ),
    (
        "sizing",
        "How do I choose my size?",
        "Clothing follows standard sizes (XS–XXL) and shoes use EU sizes. Each product page lists the "
        "sizes in stock; if you are between sizes we suggest the larger one, and exchanges are free.",
    ),
    (
        "contact",
        "How can I contact you?",
        "Email hello@revoque.ng or call +234 803 123 4567 (Monday to Saturday, 9:00–18:00). Our store is "
        "at 12 Admiralty Way, Lekki Phase 1, Lagos.",
    ),
)

# The demo store's policy pages: (slug, title, body); paragraphs are separated by blank lines.
DEMO_POLICIES: tuple[tuple[str, str, str], ...] = (
    (
        "shipping",
        "Shipping policy",
        "We deliver across Nigeria. Orders placed before 12:00 on a business day leave our warehouse the "
        "same day.\n\n"
        "Standard delivery takes 1–2 business days in Lagos (₦2,500) and 3–5 business days elsewhere in "
        "Nigeria (₦4,500). Express same-day delivery in Lagos costs ₦6,000.\n\n"
        "You can also pick up your order for free from our Lekki store the next business day.",
    ),
    (
        "returns",
        "Returns and refunds",
        "Items can be returned within 14 days of delivery, unused and in their original packaging. "
        "Underwear, earrings and opened beauty products cannot be returned for hygiene reasons.\n\n"
        "To return an item, email hello@revoque.ng with your order number; we arrange a pick-up or you can "
        "drop it at our Lekki store.\n\n"
        "Refunds go back to the original payment method within 5 business days of the return reaching us. "
        "Exchanges for another size are free.",
    ),
    (
        "payment",
        "Payment",
        "We accept cards through Paystack, bank transfers, and payment on delivery (cash or card).\n\n"
        "Prices are in Naira and include 7.5% VAT. An order paid by bank transfer ships once the transfer "
        "arrives; use your order number as the reference.",
    ),
    (
        "privacy",
        "Privacy",
        "We use your details only to process and deliver your orders and to answer your questions. We never "
        "sell your data. You can ask us to delete your account at any time.",
    ),
)


@dataclass(frozen=True)
class Passage:
    id: int  # the point id in the knowledge collection (``passage_id``)
    kind: str  # "faq" | "policy"
    source_id: int  # the Faq or Policy row
    title: str  # the FAQ's question or the policy's title
    text: str  # the answer or one paragraph


# --- seeding --------------------------------------------------------------------------------------


def seed_knowledge(session: Session) -> int:
    """Add the demo FAQs and policies that are missing (by question / slug); returns how many rows
    were added. Safe to rerun: rows that exist are never changed, so staff edits survive a re-seed."""
    questions = set(session.exec(select(Faq.question)))
    slugs = set(session.exec(select(Policy.slug)))
    added = 0
    for position, (topic, question, answer) in enumerate(DEMO_FAQS):
        if question not in questions:
            session.add(Faq(topic=topic, question=question, answer=answer, position=position))
            added += 1
    for slug, title, body in DEMO_POLICIES:
        if slug not in slugs:
            session.add(Policy(slug=slug, title=title, body=body))
            added += 1
    session.flush()
    return added


# --- passages -------------------------------------------------------------------------------------


def passage_id(kind: str, source_id: int, part: int = 0) -> int:
    """A point id that says where a passage comes from: the row id, the paragraph and the kind."""
    kind_bit = _KIND_POLICY if kind == "policy" else _KIND_FAQ
    return (source_id << (_PART_BITS + 1)) | (part << 1) | kind_bit


def policy_paragraphs(body: str) -> list[str]:
    return [" ".join(p.split()) for p in _PARAGRAPHS.split(body) if p.strip()][: 1 << _PART_BITS]


def knowledge_passages(session: Session) -> list[Passage]:
    """Every passage the assistant may quote: active FAQs, then each paragraph of each policy."""
    passages = [
        Passage(passage_id("faq", faq.id), "faq", faq.id, faq.question, faq.answer.strip())
        for faq in session.exec(select(Faq).where(col(Faq.active).is_(True)).order_by(Faq.position, Faq.id))
    ]
    for policy in session.exec(select(Policy).order_by(Policy.id)):
        passages += [
            Passage(passage_id("policy", policy.id, part), "policy", policy.id, policy.title, text)
            for part, text in enumerate(policy_paragraphs(policy.body))
        ]
    return passages


def passage_text(passage: Passage) -> str:
    """What is embedded: the title says what the passage is about, the text says the rest."""
    return f"{passage.title} {passage.text}"


# --- the knowledge collection ---------------------------------------------------------------------


def reindex_knowledge(session: Session) -> int:
    """Embed every passage into the knowledge collection and drop points of passages that are
    gone. Returns passages written. Raises EmbedderError / VectorStoreError when either is down."""
    passages = knowledge_passages(session)
    store = get_vector_store()
    if passages:
        embedder = get_embedder()
        vectors = embedder.embed([passage_text(p) for p in passages])
        store.ensure_collection(KNOWLEDGE_COLLECTION, embedder.dimension)
        store.upsert(KNOWLEDGE_COLLECTION, [VectorPoint(p.id, v) for p, v in zip(passages, vectors, strict=True)])
    wanted = {p.id for p in passages}
    stale = sorted(store.ids(KNOWLEDGE_COLLECTION) - wanted)
    if stale:
        store.delete(KNOWLEDGE_COLLECTION, stale)
    return len(passages)


def ensure_knowledge_index(session: Session, passages: list[Passage] | None = None) -> None:
    """Rebuild the collection when its points are not exactly the passages in the database."""
    passages = knowledge_passages(session) if passages is None else passages
    if get_vector_store().ids(KNOWLEDGE_COLLECTION) != {p.id for p in passages}:
        reindex_knowledge(session)


def search_knowledge(session: Session, text: str, limit: int = 3) -> list[tuple[Passage, float]]:
    """The passages closest in meaning to ``text`` (similarity at least MIN_SIMILARITY), best
    first; by word overlap when the embedder or vector store is unavailable."""
    passages = knowledge_passages(session)
    if not text.strip() or not passages or limit <= 0:
        return []
    by_id = {p.id: p for p in passages}
    try:
        ensure_knowledge_index(session, passages)
        hits = get_vector_store().search(KNOWLEDGE_COLLECTION, get_embedder().embed_query(text), limit)
    except (EmbedderError, VectorStoreError) as exc:
        log.warning("Knowledge search falls back to word overlap: %s", exc)
        return keyword_passages(passages, text, limit)
    return [(by_id[i], score) for i, score in hits if i in by_id and score >= MIN_SIMILARITY]


def content_words(text: str) -> set[str]:
    """The words of ``text`` that say what it is about, crudely singularised ("returns" → "return")."""
    words = (w for w in normalize_words(text) if w not in STOP_WORDS and len(w) > 1)
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words}


def keyword_passages(passages: Iterable[Passage], text: str, limit: int) -> list[tuple[Passage, float]]:
    """Passages ranked by the share of the question's words they contain (title words count double)."""
    wanted = content_words(text)
    if not wanted:
        return []
    scored = []
    for passage in passages:
        title, body = content_words(passage.title), content_words(passage.text)
        score = sum(2 if w in title else 1 if w in body else 0 for w in wanted) / (2 * len(wanted))
        if score > 0:
            scored.append((passage, score))
    scored.sort(key=lambda hit: -hit[1])
    return scored[:limit]
