"""Orders with line and address snapshots, coupons, shipping methods, and the order timeline.

``Order.cart_id`` is unique: one cart can become one order, which makes placing an order idempotent
(a double click, a retry or a second tab gets the existing order back)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class PaymentMethod(StrEnum):
    CARD = "card"
    PAY_ON_DELIVERY = "pay_on_delivery"
    BANK_TRANSFER = "bank_transfer"


class CouponKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class ShippingMethod(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    price: int = Field(default=0, ge=0)
    estimate: str = Field(default="", max_length=120)  # "2–4 business days"
    is_pickup: bool = Field(default=False)
    active: bool = Field(default=True, index=True)
    position: int = Field(default=0)


class Coupon(SQLModel, table=True):
    """``value`` is basis points for percent coupons (1000 = 10 %) and minor units for fixed ones."""

    __table_args__ = (CheckConstraint("value > 0", name="ck_coupon_value_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)  # stored upper-cased
    kind: str = Field(max_length=16)
    value: int
    min_subtotal: int = Field(default=0, ge=0)
    starts_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    ends_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    usage_limit: int | None = Field(default=None, ge=1)
    per_customer_limit: int | None = Field(default=None, ge=1)
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()


class CouponCustomer(SQLModel, table=True):
    """When a coupon has rows here, only these customers (by email) may use it."""

    coupon_id: int = Field(foreign_key="coupon.id", primary_key=True, ondelete="CASCADE")
    email: str = Field(primary_key=True, max_length=254)


class Order(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True, index=True)
    cart_id: int = Field(foreign_key="cart.id", unique=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    email: str = Field(max_length=254, index=True)
    status: str = Field(default=OrderStatus.PENDING.value, max_length=16, index=True)
    payment_status: str = Field(default=PaymentStatus.UNPAID.value, max_length=24, index=True)
    payment_method: str = Field(max_length=32)
    currency: str = Field(max_length=3)
    subtotal: int = Field(ge=0)
    discount: int = Field(default=0, ge=0)
    tax: int = Field(default=0, ge=0)
    shipping: int = Field(default=0, ge=0)
    total: int = Field(ge=0)
    prices_include_tax: bool = Field(default=True)
    tax_rate_bp: int = Field(default=0)
    coupon_id: int | None = Field(default=None, foreign_key="coupon.id", index=True)
    coupon_code: str = Field(default="", max_length=40)
    shipping_method_id: int | None = Field(default=None, foreign_key="shippingmethod.id")
    shipping_method_name: str = Field(default="", max_length=120)
    shipping_address: dict = Field(default_factory=dict, sa_type=JSON)
    billing_address: dict = Field(default_factory=dict, sa_type=JSON)
    customer_note: str = Field(default="", max_length=1000)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class OrderLine(SQLModel, table=True):
    """A snapshot: the order keeps its title, variant and price whatever the catalog does later."""

    __table_args__ = (CheckConstraint("quantity > 0", name="ck_orderline_quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    variant_id: int | None = Field(default=None, foreign_key="variant.id", index=True, ondelete="SET NULL")
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True, ondelete="SET NULL")
    product_title: str = Field(max_length=200)
    variant_title: str = Field(default="", max_length=200)
    sku: str = Field(max_length=64)
    unit_price: int = Field(ge=0)
    quantity: int
    line_total: int = Field(ge=0)
    restocked: bool = Field(default=False)


class OrderEvent(SQLModel, table=True):
    """The order's timeline: every status change and note, shown to the customer and staff."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)  # status | payment | note | email
    from_status: str = Field(default="", max_length=24)
    to_status: str = Field(default="", max_length=24)
    message: str = Field(default="", max_length=1000)
    actor: str = Field(default="", max_length=254)  # "customer", "system" or a staff email
    visible_to_customer: bool = Field(default=True)
    created_at: datetime = created_at_field()


class CouponRedemption(SQLModel, table=True):
    """One row per order that used a coupon: usage limits count these."""

    __table_args__ = (UniqueConstraint("order_id", name="uq_couponredemption_order"),)

    id: int | None = Field(default=None, primary_key=True)
    coupon_id: int = Field(foreign_key="coupon.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="order.id", ondelete="CASCADE")
    email: str = Field(max_length=254, index=True)
    created_at: datetime = created_at_field()
