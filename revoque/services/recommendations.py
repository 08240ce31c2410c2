"""Frequently bought together: the products that shared the most orders with this one.

Co-occurrence is counted in distinct orders (an order holding two sizes of one shirt counts once),
from orders that went ahead: cancelled orders and card orders whose payment window ran out (the
sweep in ``payments.cancel_unpaid_card_orders`` cancels those a little later) do not count, so an
abandoned checkout never shapes what the store suggests. Only products a shopper can buy now are
offered: active, with stock (or untracked stock), never the product itself. Ties go to the product
bought together most recently, then the lower id, so the row is stable between page views.

The ranking is one grouped query over the order lines of this product's orders; it is cached, keyed
by the newest order holding this product (so a new order of it means a fresh answer; keyed by the
newest order anywhere, every order emptied every product page's entry), for
``BOUGHT_TOGETHER_TTL_SECONDS`` (never longer than CACHE_TTL_SECONDS, so 0 still turns caching off).
A product that sells out inside that window may stay in the row a little longer; the card then says
"Sold out", which is honest, and the next refresh drops it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, exists, func, not_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from revoque.adapters.cache import get_cache
from revoque.models import Order, OrderLine, OrderStatus, PaymentMethod, PaymentStatus, Product, ProductStatus, Variant
from revoque.models.base import utcnow
from revoque.settings import get_settings

BOUGHT_TOGETHER_LIMIT = 4
BOUGHT_TOGETHER_TTL_SECONDS = 120  # short: new orders and stock changes show within minutes


def bought_together_cache_key(product_id: int, limit: int, latest_order_id: int) -> str:
    """Keyed by the newest order holding the product too: a new one is a fresh answer."""
    return f"recommendations:bought-together:{product_id}:{limit}:{latest_order_id}"


def frequently_bought_together(session: Session, product_id: int, limit: int = BOUGHT_TOGETHER_LIMIT) -> list[int]:
    """Ids of the active, in-stock products that appear in the most orders with ``product_id``
    (best first, at most ``limit``); empty when it has never been ordered with anything."""
    if limit <= 0:
        return []
    ttl = min(BOUGHT_TOGETHER_TTL_SECONDS, get_settings().cache_ttl_seconds)
    latest_order_id = session.exec(select(func.max(OrderLine.order_id)).where(OrderLine.product_id == product_id)).one()
    return get_cache().get_or_set(
        bought_together_cache_key(product_id, limit, latest_order_id or 0),
        ttl,
        lambda: _bought_together(session, product_id, limit),
    )


def _bought_together(session: Session, product_id: int, limit: int) -> list[int]:
    mine, other = aliased(OrderLine), aliased(OrderLine)
    orders = func.count(func.distinct(other.order_id))
    statement = (
        select(other.product_id, orders)
        .select_from(mine)
        .join(other, and_(other.order_id == mine.order_id, other.product_id != mine.product_id))
        .join(Order, col(Order.id) == mine.order_id)
        .join(Product, col(Product.id) == other.product_id)
        .where(mine.product_id == product_id, _counted_order(), Product.status == ProductStatus.ACTIVE, _on_shelf())
        .group_by(other.product_id)
        .order_by(orders.desc(), func.max(other.order_id).desc(), other.product_id)
        .limit(limit)
    )
    return [int(other_id) for other_id, _count in session.exec(statement)]


def _counted_order():
    """Orders that went ahead: not cancelled, and not a card order still unpaid after the payment
    window (those are about to be cancelled by the sweep)."""
    cutoff = utcnow() - timedelta(minutes=get_settings().reservation_minutes)
    expired_unpaid = and_(
        Order.payment_method == PaymentMethod.CARD,
        Order.status == OrderStatus.PENDING,
        Order.payment_status == PaymentStatus.UNPAID,
        col(Order.created_at) < cutoff,
    )
    return and_(Order.status != OrderStatus.CANCELLED, not_(expired_unpaid))


def _on_shelf():
    """The product has a variant with stock, or one that does not track stock."""
    available = or_(col(Variant.stock_on_hand) > 0, col(Variant.track_inventory).is_(False))
    return exists().where(col(Variant.product_id) == col(Product.id), available)
