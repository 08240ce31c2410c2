"""Store content and messages: store-wide settings staff edit, and the outbox of emails."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import DateTime, Text
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class StoreConfig(SQLModel, table=True):
    """The single row (id 1) of settings staff change at run time: name, currency, contact, tax,
    payment methods.

    Tax rate is in basis points (750 = 7.5 %) so it stays an integer like every amount of money."""

    id: int | None = Field(default=None, primary_key=True)
    tax_rate_bp: int = Field(default=750, ge=0, le=10000)
    prices_include_tax: bool = Field(default=True)
    bank_name: str = Field(default="", max_length=120)
    bank_account_name: str = Field(default="", max_length=120)
    bank_account_number: str = Field(default="", max_length=40)
    pay_on_delivery_enabled: bool = Field(default=True)
    bank_transfer_enabled: bool = Field(default=True)
    card_payments_enabled: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    contact_email: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    contact_phone: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    contact_address: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    store_name: str = Field(default="", max_length=60, sa_column_kwargs={"server_default": ""})  # "" → STORE_NAME
    currency: str = Field(default="", max_length=3, sa_column_kwargs={"server_default": ""})  # "" → STORE_CURRENCY
    updated_at: datetime = updated_at_field()


class OutboxEmail(SQLModel, table=True):
    """Every email the store sends. Without SMTP it stays here (readable in the admin/CLI)."""

    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    kind: str = Field(default="", max_length=40, index=True)
    status: str = Field(default="queued", max_length=16, index=True)  # queued | sent | stored | failed
    error: str = Field(default="", max_length=1000)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
