"""Small, explicit catalog builders so each test states exactly the data it relies on."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from revoque.models import (
    Brand,
    Cart,
    Category,
    Collection,
    CollectionProduct,
    Coupon,
    CouponCustomer,
    CouponKind,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    Variant,
    VariantOptionValue,
)
from revoque.models.base import utcnow
from revoque.services.catalog import refresh_price_range
from revoque.services.orders import assign_order_number
from revoque.settings import get_settings


def slugify(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def add_category(session: Session, name: str, parent: Category | None = None, position: int = 0) -> Category:
    category = Category(name=name, slug=slugify(name), parent_id=parent.id if parent else None, position=position)
    session.add(category)
    session.flush()
    return category


def add_brand(session: Session, name: str) -> Brand:
    brand = Brand(name=name, slug=slugify(name))
    session.add(brand)
    session.flush()
    return brand


def add_product(
    session: Session,
    title: str,
    *,
    category: Category | None = None,
    brand: Brand | None = None,
    status: str = "active",
    variants: list[tuple[dict[str, str], int, int]] | None = None,
    age_days: int = 0,
    featured: bool = False,
    images: int = 1,
) -> Product:
    """``variants`` are (option values, price in minor units, stock); default one ₦1,000 variant."""
    created: datetime = utcnow() - timedelta(days=age_days)
    product = Product(
        title=title,
        slug=slugify(title),
        status=status,
        category_id=category.id if category else None,
        brand_id=brand.id if brand else None,
        featured=featured,
        created_at=created,
        description=f"{title} description.",
    )
    session.add(product)
    session.flush()
    _add_variants(session, product, variants or [({}, 100_000, 10)])
    for position in range(images):
        session.add(
            ProductImage(
                product_id=product.id,
                storage_key=f"products/{product.slug}/{position}.jpg",
                alt=f"{title} {position}",
                position=position,
            )
        )
    refresh_price_range(session, product.id)
    session.flush()
    return product


def _add_variants(session: Session, product: Product, variants: list[tuple[dict[str, str], int, int]]) -> None:
    value_ids: dict[tuple[str, str], int] = {}
    for option_position, name in enumerate(variants[0][0]):
        option = ProductOption(product_id=product.id, name=name, position=option_position)
        session.add(option)
        session.flush()
        values = dict.fromkeys(v[0][name] for v in variants)
        for value_position, value in enumerate(values):
            row = ProductOptionValue(option_id=option.id, value=value, position=value_position)
            session.add(row)
            session.flush()
            value_ids[(name, value)] = row.id
    for position, (values, price, stock) in enumerate(variants):
        suffix = "-".join(values.values()) or "default"
        variant = Variant(
            product_id=product.id,
            sku=f"{product.slug}-{suffix}".upper()[:64],
            price=price,
            stock_on_hand=stock,
            position=position,
            title=" / ".join(values.values()),
        )
        session.add(variant)
        session.flush()
        for name, value in values.items():
            session.add(VariantOptionValue(variant_id=variant.id, option_value_id=value_ids[(name, value)]))


def add_collection(session: Session, title: str, products: list[Product]) -> Collection:
    collection = Collection(title=title, slug=slugify(title))
    session.add(collection)
    session.flush()
    for position, product in enumerate(products):
        session.add(CollectionProduct(collection_id=collection.id, product_id=product.id, position=position))
    session.flush()
    return collection


def variants_of(session: Session, product: Product) -> list[Variant]:
    return list(session.exec(select(Variant).where(Variant.product_id == product.id).order_by(Variant.position)))


def add_order(
    session: Session,
    lines: list[tuple[Variant, int]],
    *,
    email: str = "ada@example.com",
    status: str = OrderStatus.PENDING,
    payment_status: str = PaymentStatus.UNPAID,
    payment_method: str = PaymentMethod.BANK_TRANSFER,
    take_stock: bool = True,
) -> Order:
    """An order as checkout leaves it: its own converted cart, line snapshots, a real number and
    (``take_stock``) the ordered quantities taken off the variants' stock. No tax, discount or shipping."""
    cart = Cart(token_hash=uuid.uuid4().hex, status="converted", email=email)
    session.add(cart)
    session.flush()
    subtotal = sum(variant.price * quantity for variant, quantity in lines)
    order = Order(
        cart_id=cart.id,
        email=email,
        status=status,
        payment_status=payment_status,
        payment_method=payment_method,
        currency=get_settings().store_currency,
        subtotal=subtotal,
        total=subtotal,
    )
    assign_order_number(session, order)
    for variant, quantity in lines:
        product = session.get(Product, variant.product_id)
        session.add(
            OrderLine(
                order_id=order.id,
                variant_id=variant.id,
                product_id=variant.product_id,
                product_title=product.title,
                variant_title=variant.title,
                sku=variant.sku,
                unit_price=variant.price,
                quantity=quantity,
                line_total=variant.price * quantity,
            )
        )
        if take_stock and variant.track_inventory:
            variant.stock_on_hand -= quantity
            session.add(variant)
    session.flush()
    return order


def add_coupon(
    session: Session,
    code: str,
    *,
    kind: str = CouponKind.PERCENT,
    value: int = 1000,
    customers: list[str] | None = None,
    **fields,
) -> Coupon:
    """A coupon (``value`` in basis points for percent, minor units for fixed); ``customers`` limits
    it to those emails; other ``fields`` (min_subtotal, starts_at, usage_limit, …) go straight on."""
    coupon = Coupon(code=code.upper(), kind=kind, value=value, **fields)
    session.add(coupon)
    session.flush()
    for email in customers or []:
        session.add(CouponCustomer(coupon_id=coupon.id, email=email.lower()))
    session.flush()
    return coupon
