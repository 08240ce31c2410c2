"""Catalog tables: products with options and variants, images, categories, collections, brands, tags.

Prices are integers in the store currency's minor unit (kobo for NGN). ``Product.price_min`` and
``price_max`` are kept in step with the variants by ``services.catalog.refresh_price_range`` so
listings can sort by price without aggregating variants on every page view.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Brand(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    name: str = Field(max_length=120)


class Category(SQLModel, table=True):
    """A node of the category tree; ``position`` orders siblings."""

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    position: int = Field(default=0)
    image_key: str | None = Field(default=None, max_length=300)


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=80)


class Collection(SQLModel, table=True):
    """A hand-picked set of products (manual collections)."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    title: str = Field(max_length=160)
    description: str = Field(default="", max_length=2000)
    position: int = Field(default=0)
    image_key: str | None = Field(default=None, max_length=300)


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=160, unique=True, index=True)
    title: str = Field(max_length=200, index=True)
    description: str = Field(default="", max_length=20000)
    status: str = Field(default=ProductStatus.DRAFT.value, max_length=16, index=True)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    featured: bool = Field(default=False, index=True)
    price_min: int = Field(default=0, ge=0, index=True)
    price_max: int = Field(default=0, ge=0)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ProductTag(SQLModel, table=True):
    product_id: int = Field(foreign_key="product.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE")


class CollectionProduct(SQLModel, table=True):
    collection_id: int = Field(foreign_key="collection.id", primary_key=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", primary_key=True, ondelete="CASCADE", index=True)
    position: int = Field(default=0)


class ProductOption(SQLModel, table=True):
    """A dimension a product varies by, such as Size or Colour."""

    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=60)
    position: int = Field(default=0)


class ProductOptionValue(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("option_id", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    option_id: int = Field(foreign_key="productoption.id", index=True, ondelete="CASCADE")
    value: str = Field(max_length=60)
    position: int = Field(default=0)


class Variant(SQLModel, table=True):
    """A purchasable SKU: one value of each of its product's options."""

    __table_args__ = (
        CheckConstraint("stock_on_hand >= 0", name="ck_variant_stock_not_negative"),
        CheckConstraint("price >= 0", name="ck_variant_price_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    sku: str = Field(max_length=64, unique=True, index=True)
    title: str = Field(default="", max_length=200)
    price: int = Field(ge=0)
    compare_at_price: int | None = Field(default=None, ge=0)
    stock_on_hand: int = Field(default=0, ge=0)
    track_inventory: bool = Field(default=True)
    weight_grams: int = Field(default=0, ge=0)
    position: int = Field(default=0)


class VariantOptionValue(SQLModel, table=True):
    variant_id: int = Field(foreign_key="variant.id", primary_key=True, ondelete="CASCADE")
    option_value_id: int = Field(foreign_key="productoptionvalue.id", primary_key=True, ondelete="CASCADE", index=True)


class ProductImage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    storage_key: str = Field(max_length=300)
    alt: str = Field(default="", max_length=300)
    position: int = Field(default=0)
