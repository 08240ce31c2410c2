"""Assistant conversations admin on a real database (SQLite and PostgreSQL): the list (latest activity
first, signed-in shopper or guest, message count, engines) with its filters, and one conversation
with each answer's engine, product cards and sources; the page handlers for staff."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from revoque.db import session_scope
from revoque.models import ChatMessage, Conversation, Role
from revoque.models.base import utcnow
from revoque.pages.admin.conversations import AdminConversationsState, AdminConversationState
from revoque.services import conversation_admin
from revoque.services.conversation_admin import ConversationFilters
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, page_state, run, token_for

URL = "http://localhost:3000/admin/conversations"


def _conversation(session, user_id, age_minutes: int, messages: list[tuple]) -> int:
    """A conversation last active ``age_minutes`` ago; messages are (role, text, engine, products, sources)."""
    moment = utcnow() - timedelta(minutes=age_minutes)
    conversation = Conversation(token_hash=uuid.uuid4().hex, user_id=user_id, created_at=moment - timedelta(minutes=5))
    conversation.updated_at = moment
    session.add(conversation)
    session.flush()
    for role, text, engine, products, sources in messages:
        session.add(
            ChatMessage(
                conversation_id=conversation.id,
                role=role,
                text=text,
                engine=engine,
                product_ids=products,
                sources=sources,
            )
        )
    session.flush()
    return conversation.id


@pytest.fixture
def chats(database) -> dict[str, int]:
    with session_scope(write=True) as session:
        ada = add_user(session, "ada@example.com", Role.CUSTOMER, name="Ada Obi")
        product = add_product(session, "Kente Scarf", variants=[({}, 1_500_000, 5)])
        order = add_order(session, [(variants_of(session, product)[0], 1)], email="ada@example.com")
        product_source = {"kind": "product", "id": product.id, "title": "Kente Scarf", "price": 1_500_000}
        ids = {
            "guest": _conversation(
                session,
                None,
                30,
                [
                    ("user", "Do you deliver to Abuja?", "", [], []),
                    (
                        "assistant",
                        "Yes, in 3–5 days.",
                        "basic",
                        [],
                        [{"kind": "faq", "id": 2048, "title": "How long does delivery take?"}],
                    ),
                    ("user", "Do you deliver to Abuja?", "", [], []),
                    ("assistant", "Yes, in 3–5 days.", "basic+cache", [], []),
                ],
            ),
            "ada": _conversation(
                session,
                ada.id,
                5,
                [
                    ("user", "A scarf under 20k, and where is my order?", "", [], []),
                    (
                        "assistant",
                        "The Kente Scarf is ₦15,000. Your order is pending.",
                        "gemini",
                        [product.id],
                        [
                            product_source,
                            {"kind": "order", "number": order.number, "status": "pending"},
                            {"kind": "order", "number": "RVQ-999999", "status": "paid"},
                        ],
                    ),
                ],
            ),
            "empty": _conversation(session, None, 60, []),
        }
        ids["order"] = order.number
        ids["product_slug"] = product.slug
        return ids


def test_the_list_shows_who_how_many_messages_and_which_engines(chats):
    with session_scope() as session:
        rows = conversation_admin.list_conversations(session).items
    assert [r.id for r in rows] == [chats["ada"], chats["guest"], chats["empty"]]  # latest activity first
    ada, guest, empty = rows
    assert (ada.who, ada.email, ada.signed_in, ada.messages, ada.engines) == (
        "Ada Obi",
        "ada@example.com",
        True,
        2,
        ["gemini"],
    )
    assert ada.first_question == "A scarf under 20k, and where is my order?"
    assert (guest.who, guest.signed_in, guest.messages, guest.engines) == ("Guest", False, 4, ["basic"])
    assert (empty.messages, empty.engines, empty.first_question) == (0, [], "")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ConversationFilters(who="customer"), ["ada"]),
        (ConversationFilters(who="guest"), ["guest", "empty"]),
        (ConversationFilters(engine="basic"), ["guest"]),
        (ConversationFilters(engine="gemini"), ["ada"]),
        (ConversationFilters(q="ABUJA"), ["guest"]),
        (ConversationFilters(q="scarf", who="guest"), []),
    ],
)
def test_the_list_filters(chats, filters, expected):
    with session_scope() as session:
        rows = conversation_admin.list_conversations(session, filters).items
    assert [r.id for r in rows] == [chats[name] for name in expected]


def test_one_conversation_shows_each_answers_engine_cards_and_sources(chats):
    with session_scope() as session:
        view = conversation_admin.conversation_view(session, chats["ada"])
        guest = conversation_admin.conversation_view(session, chats["guest"])
    assert (view.who, view.signed_in, view.engines) == ("Ada Obi", True, ["gemini"])
    question, answer = view.messages
    assert (question.role, question.engine, question.sources) == ("user", "", [])
    assert (answer.engine, answer.cached) == ("gemini", False)
    assert [(p.text, p.href) for p in answer.products] == [("Kente Scarf", f"/product/{chats['product_slug']}")]
    assert [(s.kind_label, s.text, s.href) for s in answer.sources] == [
        ("Product", "Kente Scarf · ₦15,000", f"/product/{chats['product_slug']}"),
        ("Order", f"{chats['order']} (pending)", f"/admin/orders/{chats['order']}"),
        ("Order", "RVQ-999999 (paid)", ""),  # no such order any more: nothing to open
    ]
    assert [(m.engine, m.cached) for m in guest.messages if m.role == "assistant"] == [
        ("basic", False),
        ("basic", True),
    ]
    assert [(s.kind_label, s.text, s.href) for s in guest.messages[1].sources] == [
        ("FAQ", "How long does delivery take?", "/admin/content")
    ]


def test_staff_read_conversations_through_the_pages(chats):
    token = token_for(Role.STAFF.value)
    listing = page_state(AdminConversationsState, token, f"{URL}?who=guest&engine=basic")
    run(AdminConversationsState.load, listing)
    assert [r.id for r in listing.rows] == [chats["guest"]]
    assert (listing.who, listing.engine, listing.engines) == ("guest", "basic", ["basic", "gemini"])
    response = run(AdminConversationsState.apply_filters, listing, {"who": "any", "engine": "gemini", "q": " scarf "})
    assert "/admin/conversations?engine=gemini&q=scarf" in event_text(response)

    detail = page_state(AdminConversationState, token, f"{URL}/{chats['ada']}")
    run(AdminConversationState.load, detail)
    assert detail.conversation.id == chats["ada"] and len(detail.conversation.messages) == 2
    for key in ("999999", "junk"):
        missing = page_state(AdminConversationState, token, f"{URL}/{key}")
        run(AdminConversationState.load, missing)
        assert missing.not_found and missing.conversation is None
