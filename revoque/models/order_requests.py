"""Refunds and returns staff ask for on an order, each kept under the one-time key of the form that
asked, and the goods each return put back on the shelf.

``OrderRequest.key`` is unique: the admin page issues a new key whenever it shows a refund or return
form, so a double click, a retried request or a second worker handling the same submit finds the
request already made and does nothing twice. ``ReturnLine`` rows say how many units of which order
line came back; their sum per line never exceeds what was ordered, which is what makes restocking a
return happen exactly once per unit."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field


class OrderRequestKind(StrEnum):
    REFUND = "refund"
    RETURN = "return"


class OrderRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)
    reason: str = Field(default="", max_length=300)
    refund_amount: int = Field(default=0, ge=0)  # minor units asked of the gateway (0: no refund)
    refund_id: int | None = Field(default=None, foreign_key="refund.id", ondelete="SET NULL")
    actor: str = Field(default="", max_length=254)  # the staff email
    created_at: datetime = created_at_field()


class ReturnLine(SQLModel, table=True):
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_returnline_quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="orderrequest.id", index=True, ondelete="CASCADE")
    order_line_id: int = Field(foreign_key="orderline.id", index=True, ondelete="CASCADE")
    quantity: int
    restocked_units: int = Field(default=0, ge=0)  # 0 when the variant is gone or not stock-tracked
