"""What the admin records: the audit log of staff changes, and the shopping funnel's events.

``AuditEntry`` keeps the actor's email as well as their id, so the log still says who did something
after the account is deleted. ``before`` and ``after`` are JSON snapshots of the changed fields.

``StoreEvent`` rows are small and append-only (one per product view, add to cart, checkout start
and order), counted per period by the dashboard; ``visitor`` is an opaque key (a hash, never a
token) that lets the funnel count people rather than clicks.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field


class StoreEventKind(StrEnum):
    PRODUCT_VIEW = "product_view"
    ADD_TO_CART = "add_to_cart"
    CHECKOUT_STARTED = "checkout_started"
    ORDER_PLACED = "order_placed"


class AuditEntry(SQLModel, table=True):
    __table_args__ = (Index("ix_auditentry_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    actor_email: str = Field(default="", max_length=254)  # "" for the system
    action: str = Field(max_length=60, index=True)  # "order.status", "product.update", ...
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(default="", max_length=64)
    summary: str = Field(default="", max_length=300)  # "RVQ-100042", a product title: what a reader recognises
    before: dict | None = Field(default=None, sa_type=JSON)
    after: dict | None = Field(default=None, sa_type=JSON)
    created_at: datetime = created_at_field()


class StoreEvent(SQLModel, table=True):
    __table_args__ = (Index("ix_storeevent_kind_created", "kind", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True, ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    visitor: str = Field(default="", max_length=64)
    created_at: datetime = created_at_field()
