"""Accounts: users with roles, server-side sessions, password resets, sign-in throttling, addresses,
wishlists and reviews. Secrets (session and reset tokens) are stored only as SHA-256 hashes."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-cased
    password_hash: str = Field(max_length=255)
    name: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=40)
    role: str = Field(default=Role.CUSTOMER.value, max_length=16, index=True)
    is_active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class AuthSession(SQLModel, table=True):
    """A signed-in browser. The browser holds the random token; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class PasswordResetToken(SQLModel, table=True):
    """One-time, expiring; ``used_at`` makes it single-use."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per key ("email:<address>" or "ip:<address>"), for exponential back-off."""

    key: str = Field(primary_key=True, max_length=300)
    failures: int = Field(default=0)
    last_failure_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Address(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    phone: str = Field(default="", max_length=40)
    line1: str = Field(max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(max_length=100)
    state: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(default="NG", max_length=2)
    is_default_shipping: bool = Field(default=False)
    is_default_billing: bool = Field(default=False)
    created_at: datetime = created_at_field()


class WishlistItem(SQLModel, table=True):
    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", primary_key=True, ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()


class Review(SQLModel, table=True):
    """One per customer and product, only from customers with a delivered order of it."""

    __table_args__ = (
        UniqueConstraint("product_id", "user_id", name="uq_review_product_user"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_review_rating_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    rating: int
    title: str = Field(default="", max_length=120)
    body: str = Field(default="", max_length=4000)
    created_at: datetime = created_at_field()
