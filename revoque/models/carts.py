"""Carts and stock reservations.

A guest cart is found by a random token kept in the browser (only its hash is stored); a customer's
open cart by user id. Entering checkout reserves the cart's quantities for a limited time: stock
available to others = on hand − active reservations of other carts."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class Cart(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    status: str = Field(default="open", max_length=16, index=True)  # open | converted | merged
    email: str = Field(default="", max_length=254)
    coupon_code: str = Field(default="", max_length=40)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class CartLine(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id", name="uq_cartline_cart_variant"),
        CheckConstraint("quantity > 0", name="ck_cartline_quantity_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(foreign_key="cart.id", index=True, ondelete="CASCADE")
    variant_id: int = Field(foreign_key="variant.id", index=True, ondelete="CASCADE")
    quantity: int
    created_at: datetime = created_at_field()


class Reservation(SQLModel, table=True):
    """Stock held for a cart in checkout until ``expires_at``; one row per cart and variant."""

    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id", name="uq_reservation_cart_variant"),
        CheckConstraint("quantity > 0", name="ck_reservation_quantity_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(foreign_key="cart.id", index=True, ondelete="CASCADE")
    variant_id: int = Field(foreign_key="variant.id", index=True, ondelete="CASCADE")
    quantity: int
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False, index=True)
