"""Card payments, gateway events, refunds and invoices.

A ``Payment`` is one attempt to pay an order through a gateway; its ``reference`` is unique per
attempt. Webhook events are stored under a unique key before they are processed, so a replayed
event is recognised and acknowledged without doing anything twice."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class Payment(SQLModel, table=True):
    __table_args__ = (CheckConstraint("amount >= 0", name="ck_payment_amount_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=20)  # paystack | sandbox
    reference: str = Field(max_length=100, unique=True, index=True)
    amount: int  # minor units, what we asked the gateway to charge
    currency: str = Field(max_length=3)
    # initialized | succeeded | failed | abandoned | flagged (amount, currency or order state disagreed)
    status: str = Field(default="initialized", max_length=20, index=True)
    authorization_url: str = Field(default="", max_length=500)
    gateway_response: str = Field(default="", max_length=300)
    flagged_reason: str = Field(default="", max_length=500)  # set when the gateway's amount/currency disagree
    paid_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class PaymentEvent(SQLModel, table=True):
    """Every webhook delivery that passed the signature check, keyed so replays are no-ops."""

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    event_key: str = Field(max_length=200, unique=True, index=True)
    event_type: str = Field(max_length=60, index=True)
    payload: dict = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="received", max_length=20, index=True)  # received|processed|ignored|failed
    error: str = Field(default="", max_length=1000)
    received_at: datetime = created_at_field()
    processed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Refund(SQLModel, table=True):
    __table_args__ = (CheckConstraint("amount > 0", name="ck_refund_amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    payment_id: int = Field(foreign_key="payment.id", index=True, ondelete="CASCADE")
    amount: int
    currency: str = Field(max_length=3)
    status: str = Field(default="pending", max_length=20, index=True)  # pending | processed | failed
    provider_reference: str = Field(default="", max_length=100, index=True)
    reason: str = Field(default="", max_length=300)
    requested_by: str = Field(default="", max_length=254)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Invoice(SQLModel, table=True):
    """The current PDF of an order's invoice; regenerating bumps ``version`` and replaces the file."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", unique=True, ondelete="CASCADE")
    number: str = Field(max_length=30, unique=True)
    storage_key: str = Field(default="", max_length=300)
    version: int = Field(default=0)
    generated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = created_at_field()
