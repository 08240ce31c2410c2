"""Small, explicit catalog builders so each test states exactly the data it relies on."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from revoque.models import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    Variant,
    VariantOptionValue,
)
from revoque.models.base import utcnow
from revoque.services.catalog import refresh_price_range


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
