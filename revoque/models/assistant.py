"""The shopping assistant: FAQs and policy pages it answers from, and the conversations it had.

FAQs and policies are store content staff edit; their passages are embedded into the vector
store's knowledge collection (``revoque.services.knowledge``). Conversations are found by a random
browser token of which only the hash is stored (like carts), so a leaked database row cannot be
used to read someone's chat. Each message keeps what the answer was grounded on (product ids and
passage/order sources) and which engine wrote it, so staff can audit answers later.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class ChatRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class Faq(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(default="general", max_length=40, index=True)  # shipping, returns, payment, sizing…
    question: str = Field(max_length=300, unique=True)
    answer: str = Field(sa_type=Text)
    position: int = Field(default=0)
    active: bool = Field(default=True, index=True)
    updated_at: datetime = updated_at_field()


class Policy(SQLModel, table=True):
    """A policy page (shipping, returns, payment…); its body is plain paragraphs separated by blank
    lines, and each paragraph is one passage the assistant can quote."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    updated_at: datetime = updated_at_field()


class Conversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 of the browser's token
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ChatMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=16)  # ChatRole
    text: str = Field(sa_type=Text)
    product_ids: list = Field(default_factory=list, sa_type=JSON)  # the product cards shown with the answer
    sources: list = Field(default_factory=list, sa_type=JSON)  # what was retrieved: {"kind", "id", "title"}
    engine: str = Field(default="", max_length=32)  # "basic", "gemini", "…+cache"; empty for the shopper's
    created_at: datetime = created_at_field()
