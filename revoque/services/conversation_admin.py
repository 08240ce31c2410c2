"""The shopping assistant's conversations as staff read them: the list (latest activity first, who
asked — a signed-in shopper or a guest —, how many messages, which engines answered) and one
conversation with every answer's engine, the product cards it showed and the sources it was
grounded on (``ChatMessage.sources``), so staff can check what the assistant said and why.

Reading only: nothing here changes a conversation. Conversations are found by id; the browser's
token (only its hash is stored) never leaves the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from revoque.errors import NotFound
from revoque.models import ChatMessage, ChatRole, Conversation, Order, Product, User
from revoque.services import store_identity
from revoque.services.assistant import CACHED_SUFFIX, ENGINE_BASIC, ENGINE_GEMINI
from revoque.services.catalog import clamp_page
from revoque.services.money import format_money
from revoque.services.pricing import as_utc

PAGE_SIZE = 20
PREVIEW_LENGTH = 90
WHO_FILTERS = ("customer", "guest")
SOURCE_LABELS = {"product": "Product", "faq": "FAQ", "policy": "Policy", "order": "Order"}


@dataclass
class ConversationFilters:
    who: str = ""  # "customer" (signed in), "guest" or "" for both
    engine: str = ""  # "basic", "gemini" (cached answers count as their engine) or ""
    q: str = ""  # words in any message


@dataclass
class ConversationRow:
    id: int
    started_text: str
    last_text: str
    who: str  # the shopper's name or "Guest"
    email: str  # "" for a guest
    signed_in: bool
    messages: int
    engines: list[str]
    first_question: str


@dataclass
class ConversationPage:
    items: list[ConversationRow]
    total: int
    page: int
    pages: int


@dataclass
class SourceView:
    kind: str
    kind_label: str
    text: str
    href: str  # "" when there is nothing to open


@dataclass
class MessageRow:
    id: int
    role: str
    text: str
    created_text: str
    engine: str
    cached: bool
    products: list[SourceView] = field(default_factory=list)
    sources: list[SourceView] = field(default_factory=list)


@dataclass
class ConversationView:
    id: int
    who: str
    email: str
    signed_in: bool
    started_text: str
    last_text: str
    engines: list[str]
    messages: list[MessageRow] = field(default_factory=list)


def _when(moment: datetime) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_LENGTH else flat[: PREVIEW_LENGTH - 1].rstrip() + "…"


def engine_family(engine: str) -> str:
    """ "gemini+cache" → "gemini": a cached answer was written by the same engine earlier."""
    return engine.removesuffix(CACHED_SUFFIX)


def engine_options(session: Session) -> list[str]:
    """The engines the filter offers: the two the store has and any other that answered."""
    seen = session.exec(select(ChatMessage.engine).where(ChatMessage.engine != "").distinct()).all()
    families = {engine_family(engine) for engine in seen}
    return [ENGINE_BASIC, ENGINE_GEMINI, *sorted(families - {ENGINE_BASIC, ENGINE_GEMINI})]


def parse_filters(params: dict[str, str]) -> ConversationFilters:
    who, engine = params.get("who", ""), params.get("engine", "").strip()
    return ConversationFilters(
        who=who if who in WHO_FILTERS else "",
        engine=engine[:32] if engine.replace("-", "").replace("_", "").isalnum() else "",
        q=params.get("q", "").strip()[:100],
    )


def _filtered(statement, filters: ConversationFilters):
    if filters.who == "customer":
        statement = statement.where(col(Conversation.user_id).is_not(None))
    elif filters.who == "guest":
        statement = statement.where(col(Conversation.user_id).is_(None))
    if filters.engine:
        answered = select(ChatMessage.conversation_id).where(
            or_(ChatMessage.engine == filters.engine, ChatMessage.engine == filters.engine + CACHED_SUFFIX)
        )
        statement = statement.where(col(Conversation.id).in_(answered))
    if filters.q:
        said = select(ChatMessage.conversation_id).where(
            func.lower(ChatMessage.text).contains(filters.q.lower(), autoescape=True)
        )
        statement = statement.where(col(Conversation.id).in_(said))
    return statement


def list_conversations(
    session: Session, filters: ConversationFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> ConversationPage:
    """Latest activity first, a page at a time."""
    filters = filters or ConversationFilters()
    total = session.exec(_filtered(select(func.count()).select_from(Conversation), filters)).one()
    page, pages = clamp_page(page, total, page_size)
    conversations = session.exec(
        _filtered(select(Conversation), filters)
        .order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    ids = [c.id for c in conversations]
    counts = dict(
        session.exec(
            select(ChatMessage.conversation_id, func.count())
            .where(col(ChatMessage.conversation_id).in_(ids))
            .group_by(ChatMessage.conversation_id)
        ).all()
    )
    engines: dict[int, set[str]] = {}
    for conversation_id, engine in session.exec(
        select(ChatMessage.conversation_id, ChatMessage.engine)
        .where(col(ChatMessage.conversation_id).in_(ids), ChatMessage.engine != "")
        .distinct()
    ):
        engines.setdefault(conversation_id, set()).add(engine_family(engine))
    first_ids = select(func.min(ChatMessage.id)).where(
        col(ChatMessage.conversation_id).in_(ids), ChatMessage.role == ChatRole.USER
    )
    firsts = {
        m.conversation_id: m.text
        for m in session.exec(
            select(ChatMessage).where(col(ChatMessage.id).in_(first_ids.group_by(ChatMessage.conversation_id)))
        )
    }
    users = _users(session, [c.user_id for c in conversations if c.user_id is not None])
    rows = []
    for c in conversations:
        user = users.get(c.user_id) if c.user_id is not None else None
        rows.append(
            ConversationRow(
                id=c.id,
                started_text=_when(c.created_at),
                last_text=_when(c.updated_at),
                who=(user.name or user.email) if user else "Guest",
                email=user.email if user else "",
                signed_in=user is not None,
                messages=int(counts.get(c.id, 0)),
                engines=sorted(engines.get(c.id, set())),
                first_question=_preview(firsts.get(c.id, "")),
            )
        )
    return ConversationPage(rows, total, page, pages)


def _users(session: Session, user_ids: list[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(set(user_ids))))}


# --- one conversation ---------------------------------------------------------------------------


def conversation_view(session: Session, conversation_id: int) -> ConversationView:
    currency = store_identity.currency(session)
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("There is no such conversation.")
    messages = session.exec(
        select(ChatMessage).where(ChatMessage.conversation_id == conversation.id).order_by(col(ChatMessage.id))
    ).all()
    product_ids = {int(i) for m in messages for i in (m.product_ids or [])}
    product_ids |= {int(s["id"]) for m in messages for s in (m.sources or []) if _is_product(s)}
    slugs = _product_slugs(session, product_ids)
    titles = dict(session.exec(select(Product.id, Product.title).where(col(Product.id).in_(product_ids))).all())
    numbers = {str(s.get("number")) for m in messages for s in (m.sources or []) if s.get("kind") == "order"}
    known_orders = set(session.exec(select(Order.number).where(col(Order.number).in_(numbers)))) if numbers else set()
    user = session.get(User, conversation.user_id) if conversation.user_id is not None else None
    rows = [
        MessageRow(
            id=m.id,
            role=m.role,
            text=m.text,
            created_text=_when(m.created_at),
            engine=engine_family(m.engine),
            cached=m.engine.endswith(CACHED_SUFFIX),
            products=[
                SourceView("product", "Product", titles.get(int(i), f"Product #{i}"), _product_href(slugs, int(i)))
                for i in (m.product_ids or [])
            ],
            sources=[_source(s, slugs, known_orders, currency) for s in (m.sources or [])],
        )
        for m in messages
    ]
    return ConversationView(
        id=conversation.id,
        who=(user.name or user.email) if user else "Guest",
        email=user.email if user else "",
        signed_in=user is not None,
        started_text=_when(conversation.created_at),
        last_text=_when(conversation.updated_at),
        engines=sorted({r.engine for r in rows if r.engine}),
        messages=rows,
    )


def _is_product(source: dict) -> bool:
    return source.get("kind") == "product" and str(source.get("id", "")).isdigit()


def _product_slugs(session: Session, product_ids: set[int]) -> dict[int, str]:
    if not product_ids:
        return {}
    return dict(session.exec(select(Product.id, Product.slug).where(col(Product.id).in_(product_ids))).all())


def _product_href(slugs: dict[int, str], product_id: int) -> str:
    slug = slugs.get(product_id)
    return f"/product/{slug}" if slug else ""


def _source(source: dict, slugs: dict[int, str], known_orders: set[str], currency: str) -> SourceView:
    """One stored source in words, with a link where staff can open what it points at (a product's
    price in ``currency``, the store's: sources keep only the amount)."""
    kind = str(source.get("kind", ""))
    label = SOURCE_LABELS.get(kind, kind.capitalize() or "Source")
    if kind == "product":
        price = source.get("price")
        price_text = f" · {format_money(price, currency)}" if isinstance(price, int) else ""
        href = _product_href(slugs, int(source["id"])) if _is_product(source) else ""
        return SourceView(kind, label, f"{source.get('title', '')}{price_text}", href)
    if kind == "order":
        number = str(source.get("number", ""))
        status = str(source.get("status", ""))
        href = f"/admin/orders/{number}" if number in known_orders else ""
        return SourceView(kind, label, f"{number} ({status})" if status else number, href)
    href = "/admin/content" if kind in ("faq", "policy") else ""
    return SourceView(kind, label, str(source.get("title", "")), href)
