"""Active products flattened into the one document each keyword search engine indexes.

A document carries everything search needs so an engine answers without touching the database:
the searchable text (title, brand, category path, tags, option values, description), the keyword
fields shoppers filter and facet on (category slugs root→leaf, brand slug, sizes, colours, price
band), and the numbers results sort by (lowest price, created time, units sold). Draft, archived
and deleted products have no document, so indexing one of them means deleting it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from revoque.adapters.search import price_bucket
from revoque.models import (
    Brand,
    OrderLine,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductStatus,
    ProductTag,
    Tag,
    Variant,
)
from revoque.services.catalog import CategoryNode, category_trail, image_url, product_href, read_category_nodes

Document = dict[str, Any]

SIZE_OPTION_WORDS = ("size",)
COLOUR_OPTION_WORDS = ("colour", "color")


def iter_documents(session: Session, batch_size: int = 500) -> Iterator[list[Document]]:
    """Documents for every active product, ``batch_size`` at a time in id order; each batch costs a
    handful of queries, whatever its size."""
    categories = read_category_nodes(session)
    last_id = 0
    while True:
        products = session.exec(
            select(Product)
            .where(Product.status == ProductStatus.ACTIVE, col(Product.id) > last_id)
            .order_by(col(Product.id))
            .limit(batch_size)
        ).all()
        if not products:
            return
        yield _documents(session, products, categories)
        last_id = products[-1].id


def build_document(session: Session, product_id: int) -> Document | None:
    """The product's document, or None when it should not be in the index (gone or not active)."""
    product = session.get(Product, product_id)
    if product is None or product.status != ProductStatus.ACTIVE:
        return None
    return _documents(session, [product], read_category_nodes(session))[0]


def active_product_ids(session: Session) -> set[int]:
    """Ids of the products that belong in the index."""
    return set(session.exec(select(Product.id).where(Product.status == ProductStatus.ACTIVE)))


def _documents(session: Session, products: Sequence[Product], categories: Sequence[CategoryNode]) -> list[Document]:
    ids = [p.id for p in products]
    brand_ids = {p.brand_id for p in products if p.brand_id}
    brands = {b.id: b for b in session.exec(select(Brand).where(col(Brand.id).in_(brand_ids)))}
    tags = _tags(session, ids)
    options = _options(session, ids)
    in_stock = _in_stock(session, ids)
    popularity = _popularity(session, ids)
    images = _first_images(session, ids)
    documents = []
    for product in products:
        brand = brands.get(product.brand_id)
        trail = category_trail(categories, product.category_id)
        sizes, colours, values = options.get(product.id, ([], [], []))
        documents.append(
            {
                "id": product.id,
                "slug": product.slug,
                "title": product.title,
                "description": product.description,
                "brand": brand.name if brand else None,
                "brand_slug": brand.slug if brand else None,
                "category": trail[-1].name if trail else None,
                "category_path": [c.name for c in trail],
                "category_slugs": [c.slug for c in trail],
                "tags": tags.get(product.id, []),
                "sizes": sizes,
                "colours": colours,
                "option_values": values,
                "price_min": product.price_min,
                "price_max": product.price_max,
                "price_bucket": price_bucket(product.price_min),
                "in_stock": product.id in in_stock,
                "created_at": _unix(product.created_at),
                "popularity": popularity.get(product.id, 0),
                "image_url": image_url(images.get(product.id)),
                "href": product_href(product.slug),
            }
        )
    return documents


def _tags(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = session.exec(
        select(ProductTag.product_id, Tag.name)
        .join(Tag, col(Tag.id) == col(ProductTag.tag_id))
        .where(col(ProductTag.product_id).in_(ids))
        .order_by(Tag.name)
    )
    for product_id, name in rows:
        found[product_id].append(name)
    return found


def _options(session: Session, ids: list[int]) -> dict[int, tuple[list[str], list[str], list[str]]]:
    """Per product: its size values, its colour values and every option value, in option order.
    Options are told apart by name ("Size", "Shoe size", "Colour", "Color") so shoppers can filter
    by size and colour across products whose options were named slightly differently."""
    found: dict[int, tuple[list[str], list[str], list[str]]] = defaultdict(lambda: ([], [], []))
    rows = session.exec(
        select(ProductOption.product_id, ProductOption.name, ProductOptionValue.value)
        .join(ProductOptionValue, col(ProductOptionValue.option_id) == col(ProductOption.id))
        .where(col(ProductOption.product_id).in_(ids))
        .order_by(ProductOption.position, ProductOption.id, ProductOptionValue.position, ProductOptionValue.id)
    )
    for product_id, option_name, value in rows:
        sizes, colours, values = found[product_id]
        name = option_name.lower()
        if any(word in name for word in SIZE_OPTION_WORDS):
            sizes.append(value)
        elif any(word in name for word in COLOUR_OPTION_WORDS):
            colours.append(value)
        values.append(value)
    return found


def _in_stock(session: Session, ids: list[int]) -> set[int]:
    """Products with a variant on the shelf or one that does not track stock."""
    rows = session.exec(
        select(Variant.product_id)
        .where(col(Variant.product_id).in_(ids))
        .where(or_(col(Variant.stock_on_hand) > 0, col(Variant.track_inventory).is_(False)))
        .distinct()
    )
    return set(rows)


def _popularity(session: Session, ids: list[int]) -> dict[int, int]:
    """Units ordered per product; lines put back on the shelf (cancelled orders) do not count."""
    rows = session.exec(
        select(OrderLine.product_id, func.sum(OrderLine.quantity))
        .where(col(OrderLine.product_id).in_(ids), col(OrderLine.restocked).is_(False))
        .group_by(OrderLine.product_id)
    )
    return {product_id: int(units or 0) for product_id, units in rows}


def _first_images(session: Session, ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    rows = session.exec(
        select(ProductImage.product_id, ProductImage.storage_key)
        .where(col(ProductImage.product_id).in_(ids))
        .order_by(ProductImage.position, ProductImage.id)
    )
    for product_id, key in rows:
        found.setdefault(product_id, key)
    return found


def _unix(moment: datetime) -> int:
    """Seconds since the epoch; SQLite hands back naive datetimes, which the store writes in UTC."""
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
