"""SQLModel tables, one module per domain. Importing this package registers every table."""

from revoque.models.catalog import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductStatus,
    ProductTag,
    Tag,
    Variant,
    VariantOptionValue,
)

__all__ = [
    "Brand",
    "Category",
    "Collection",
    "CollectionProduct",
    "Product",
    "ProductImage",
    "ProductOption",
    "ProductOptionValue",
    "ProductStatus",
    "ProductTag",
    "Tag",
    "Variant",
    "VariantOptionValue",
]
