"""Catalog reads for the storefront: listings with pagination and sort, product detail, home sections.

Only active products are visible to shoppers. Results are plain dataclasses so pages hold exactly the
page of data they show, and every price is already formatted in the store currency (so a change of
currency drops every cached read: ``store_identity.invalidate_prices``).

The public reads are cached (``revoque.services.catalog_cache``: tagged, dropped after the commit of
every write that changes them); each ``_load_*`` function below is the uncached read. Product cards
are also cached one by one (``cards_for_products``), so search results, suggestions, wishlists,
recommendations and rebuilt listings read them in one cache round trip instead of four queries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque.adapters.cache import get_cache
from revoque.adapters.storage import get_storage
from revoque.errors import NotFound
from revoque.models import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductStatus,
    Variant,
    VariantOptionValue,
)
from revoque.services import catalog_cache, store_identity
from revoque.services.catalog_cache import CATALOG, HOME, LISTINGS, cache_key, cached, product_tag
from revoque.services.money import discount_percent, format_money
from revoque.settings import get_settings

LOW_STOCK_THRESHOLD = 5


class SortOrder(StrEnum):
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    FEATURED = "featured"


SORT_LABELS: dict[str, str] = {
    SortOrder.NEWEST: "Newest",
    SortOrder.PRICE_ASC: "Price: low to high",
    SortOrder.PRICE_DESC: "Price: high to low",
    SortOrder.FEATURED: "Featured",
}


@dataclass
class Crumb:
    label: str
    href: str


@dataclass
class ProductCard:
    id: int
    slug: str
    title: str
    brand: str
    href: str
    image_url: str
    image_alt: str
    price_text: str
    compare_text: str
    discount: int
    in_stock: bool


@dataclass
class ProductPage:
    items: list[ProductCard]
    total: int
    page: int
    pages: int
    page_size: int
    sort: str


@dataclass
class CategoryTile:
    slug: str
    name: str
    href: str
    image_url: str
    product_count: int


@dataclass
class CollectionInfo:
    slug: str
    title: str
    description: str
    href: str
    image_url: str


@dataclass
class CategoryInfo:
    slug: str
    name: str
    description: str
    breadcrumbs: list[Crumb]
    children: list[CategoryTile]


@dataclass
class VariantInfo:
    id: int
    sku: str
    title: str
    values: list[str]
    price_text: str
    compare_text: str
    discount: int
    stock: int
    stock_label: str
    in_stock: bool


@dataclass
class OptionInfo:
    name: str
    values: list[str]


@dataclass
class ImageInfo:
    url: str
    alt: str


@dataclass
class ProductDetail:
    id: int
    slug: str
    title: str
    description: str
    brand: str
    breadcrumbs: list[Crumb]
    images: list[ImageInfo]
    options: list[OptionInfo]
    variants: list[VariantInfo]
    price_range_text: str


@dataclass
class HomeSections:
    featured: list[ProductCard] = field(default_factory=list)
    new_arrivals: list[ProductCard] = field(default_factory=list)
    categories: list[CategoryTile] = field(default_factory=list)
    collections: list[CollectionInfo] = field(default_factory=list)


def image_url(key: str | None) -> str:
    return get_storage().public_url(key) if key else "/placeholder.svg"


def product_href(slug: str) -> str:
    return f"/product/{slug}"


def category_href(slug: str) -> str:
    return f"/category/{slug}"


def collection_href(slug: str) -> str:
    return f"/collection/{slug}"


def stock_label(stock: int, track_inventory: bool = True) -> str:
    """What a shopper reads next to the price; low stock nudges without lying."""
    if not track_inventory:
        return "In stock"
    if stock <= 0:
        return "Out of stock"
    if stock <= LOW_STOCK_THRESHOLD:
        return f"Only {stock} left"
    return "In stock"


def clamp_page(page: int, total: int, page_size: int) -> tuple[int, int]:
    """Out-of-range page numbers land on the nearest real page; an empty listing has one page."""
    pages = max(1, math.ceil(total / page_size))
    return min(max(1, page), pages), pages


# --- categories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryNode:
    """A category as the storefront reads it: plain data, cached once for every page that walks the tree."""

    id: int
    parent_id: int | None
    slug: str
    name: str
    description: str
    image_key: str | None


def category_nodes(session: Session) -> list[CategoryNode]:
    """Every category in menu order. Product pages, listings and tiles all walk the tree, and
    loading it row by row cost more than the rest of those pages; only category changes alter it
    (``invalidate_catalog_structure``), so it is one cache entry whatever transaction asks."""
    return cached(
        session,
        cache_key("categories"),
        (CATALOG,),
        list[CategoryNode],
        read_category_nodes,
        transaction_independent=True,
    )


def read_category_nodes(session: Session) -> list[CategoryNode]:
    """``category_nodes`` read through ``session`` itself, uncached: the search documents use it,
    built in jobs and imports, sometimes in the very transaction that added the categories."""
    rows = session.exec(
        select(
            Category.id, Category.parent_id, Category.slug, Category.name, Category.description, Category.image_key
        ).order_by(Category.position, Category.name)
    )
    return [CategoryNode(*row) for row in rows]


def _descendant_ids(categories: Sequence[CategoryNode], root_id: int) -> list[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for category in categories:
        children[category.parent_id].append(category.id)
    found, stack = [], [root_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children[current])
    return found


def category_trail(categories: Sequence[CategoryNode], category_id: int | None) -> list[CategoryNode]:
    """The category and its ancestors, root first (breadcrumbs, search documents); the walk stops
    at a missing parent and at 20 levels, so bad data cannot loop."""
    by_id = {c.id: c for c in categories}
    trail: list[Category] = []
    while category_id is not None and category_id in by_id and len(trail) < 20:
        category = by_id[category_id]
        trail.append(category)
        category_id = category.parent_id
    return trail[::-1]


def _breadcrumbs(categories: Sequence[CategoryNode], category_id: int | None) -> list[Crumb]:
    trail = category_trail(categories, category_id)
    return [Crumb("Home", "/"), *(Crumb(c.name, category_href(c.slug)) for c in trail)]


def _active_counts_by_category(session: Session) -> dict[int, int]:
    rows = session.exec(
        select(Product.category_id, func.count())
        .where(Product.status == ProductStatus.ACTIVE)
        .group_by(Product.category_id)
    )
    return {category_id: count for category_id, count in rows if category_id is not None}


def _tiles(
    categories: Sequence[CategoryNode], wanted: Iterable[CategoryNode], counts: dict[int, int]
) -> list[CategoryTile]:
    return [
        CategoryTile(
            slug=c.slug,
            name=c.name,
            href=category_href(c.slug),
            image_url=image_url(c.image_key),
            product_count=sum(counts.get(i, 0) for i in _descendant_ids(categories, c.id)),
        )
        for c in wanted
    ]


def top_categories(session: Session) -> list[CategoryTile]:
    """Top-level categories for the header menu and home tiles, with their visible product counts."""
    return cached(session, cache_key("top-categories"), (CATALOG, LISTINGS), list[CategoryTile], _load_top_categories)


def _load_top_categories(session: Session) -> list[CategoryTile]:
    categories = category_nodes(session)
    roots = [c for c in categories if c.parent_id is None]
    return _tiles(categories, roots, _active_counts_by_category(session))


def get_category(session: Session, slug: str) -> CategoryInfo:
    """The category's heading, breadcrumbs and sub-category tiles (with counts); NotFound if none."""
    return cached(
        session, cache_key("category", slug), (CATALOG, LISTINGS), CategoryInfo, lambda s: _load_category(s, slug)
    )


def _load_category(session: Session, slug: str) -> CategoryInfo:
    categories = category_nodes(session)
    category = next((c for c in categories if c.slug == slug), None)
    if category is None:
        raise NotFound(f"There is no category called “{slug}”.")
    children = [c for c in categories if c.parent_id == category.id]
    return CategoryInfo(
        slug=category.slug,
        name=category.name,
        description=category.description,
        breadcrumbs=_breadcrumbs(categories, category.id),
        children=_tiles(categories, children, _active_counts_by_category(session)),
    )


# --- collections ------------------------------------------------------------------------------


def _collection_info(collection: Collection) -> CollectionInfo:
    return CollectionInfo(
        slug=collection.slug,
        title=collection.title,
        description=collection.description,
        href=collection_href(collection.slug),
        image_url=image_url(collection.image_key),
    )


def list_collections(session: Session) -> list[CollectionInfo]:
    return cached(session, cache_key("collections"), (CATALOG,), list[CollectionInfo], _load_collections)


def _load_collections(session: Session) -> list[CollectionInfo]:
    rows = session.exec(select(Collection).order_by(Collection.position, Collection.title))
    return [_collection_info(c) for c in rows]


def get_collection(session: Session, slug: str) -> CollectionInfo:
    key = cache_key("collection", slug)
    return cached(session, key, (CATALOG,), CollectionInfo, lambda s: _load_collection(s, slug))


def _load_collection(session: Session, slug: str) -> CollectionInfo:
    collection = session.exec(select(Collection).where(Collection.slug == slug)).first()
    if collection is None:
        raise NotFound(f"There is no collection called “{slug}”.")
    return _collection_info(collection)


# --- listings ---------------------------------------------------------------------------------


def _cards(session: Session, products: Sequence[Product]) -> list[ProductCard]:
    """Build cards for these products with three small queries (brands, images, variants): the
    uncached read behind ``cards_for_products``."""
    ids = [p.id for p in products]
    if not ids:
        return []
    brand_ids = {p.brand_id for p in products if p.brand_id}
    brands = {b.id: b.name for b in session.exec(select(Brand).where(col(Brand.id).in_(brand_ids)))}
    first_images: dict[int, ProductImage] = {}
    for image in session.exec(
        select(ProductImage).where(col(ProductImage.product_id).in_(ids)).order_by(ProductImage.position)
    ):
        first_images.setdefault(image.product_id, image)
    variants: dict[int, list[Variant]] = defaultdict(list)
    for variant in session.exec(select(Variant).where(col(Variant.product_id).in_(ids))):
        variants[variant.product_id].append(variant)
    currency = store_identity.currency(session)
    return [_card(p, brands.get(p.brand_id, ""), first_images.get(p.id), variants[p.id], currency) for p in products]


def cards_for_products(session: Session, product_ids: Sequence[int]) -> list[ProductCard]:
    """Cards for the given products in the given order, each product once (search results,
    suggestions, wishlists, recommendations, order lines); products that are gone or no longer
    active are left out.

    Each card is cached under its product's tag (and ``catalog``, for the brand's name), all of
    them read in one cache round trip, even by a caller inside a transaction: every write that
    changes what a card shows, its status included, drops the product's tag after its commit
    (``search.schedule_product_index``). "Not shown" is cached too, so an archived product costs no
    query either, and is built again as soon as the product changes."""
    wanted = list(dict.fromkeys(product_ids))
    entries = {i: (cache_key("card", i), (CATALOG, product_tag(i))) for i in wanted}
    cards = catalog_cache.cached_many(session, entries, ProductCard | None, _load_cards)
    return [card for i in wanted if (card := cards[i]) is not None]


def _load_cards(session: Session, product_ids: list[int]) -> dict[int, ProductCard | None]:
    """Each product's card, or None when it is gone or not active."""
    rows = session.exec(
        select(Product).where(col(Product.id).in_(product_ids), Product.status == ProductStatus.ACTIVE)
    ).all()
    cards = {card.id: card for card in _cards(session, rows)}
    return {i: cards.get(i) for i in product_ids}


def _listed_cards(session: Session, products: Sequence[Product]) -> list[ProductCard]:
    """Cards for a listing's page of (active) products, through the card cache."""
    return cards_for_products(session, [p.id for p in products])


def _card(
    product: Product, brand: str, image: ProductImage | None, variants: list[Variant], currency: str
) -> ProductCard:
    cheapest = min(variants, key=lambda v: v.price, default=None)
    compare_at = cheapest.compare_at_price if cheapest else None
    price = format_money(product.price_min, currency)
    price_text = price if product.price_min == product.price_max else f"From {price}"
    saving = discount_percent(product.price_min, compare_at)
    return ProductCard(
        id=product.id,
        slug=product.slug,
        title=product.title,
        brand=brand,
        href=product_href(product.slug),
        image_url=image_url(image.storage_key if image else None),
        image_alt=image.alt if image else product.title,
        price_text=price_text,
        compare_text=format_money(compare_at, currency) if saving else "",
        discount=saving,
        in_stock=any(v.stock_on_hand > 0 or not v.track_inventory for v in variants),
    )


def _order_by(sort: SortOrder):
    if sort is SortOrder.PRICE_ASC:
        return (col(Product.price_min).asc(), col(Product.id).asc())
    if sort is SortOrder.PRICE_DESC:
        return (col(Product.price_min).desc(), col(Product.id).desc())
    return (col(Product.created_at).desc(), col(Product.id).desc())


def parse_sort(value: str | None, default: SortOrder = SortOrder.NEWEST) -> SortOrder:
    """Unknown sort names fall back to the default instead of failing a shopper's page."""
    try:
        return SortOrder(value) if value else default
    except ValueError:
        return default


def list_products(
    session: Session,
    *,
    category_slug: str | None = None,
    collection_slug: str | None = None,
    query: str | None = None,
    sort: SortOrder = SortOrder.NEWEST,
    page: int = 1,
    page_size: int | None = None,
) -> ProductPage:
    """One page of active products, filtered by category subtree, collection or title words. Pages
    without title words are cached (words are too varied to be worth keeping)."""
    page_size = page_size or get_settings().page_size

    def load(s: Session) -> ProductPage:
        return _load_products(s, category_slug, collection_slug, query, sort, page, page_size)

    if (query or "").strip():
        return load(session)
    key = cache_key("list", category_slug or "", collection_slug or "", sort.value, page, page_size)
    return cached(session, key, (CATALOG, LISTINGS), ProductPage, load)


def _load_products(
    session: Session,
    category_slug: str | None,
    collection_slug: str | None,
    query: str | None,
    sort: SortOrder,
    page: int,
    page_size: int,
) -> ProductPage:
    statement = select(Product).where(Product.status == ProductStatus.ACTIVE)
    if category_slug:
        categories = category_nodes(session)
        root = next((c for c in categories if c.slug == category_slug), None)
        if root is None:
            raise NotFound(f"There is no category called “{category_slug}”.")
        statement = statement.where(col(Product.category_id).in_(_descendant_ids(categories, root.id)))
    if collection_slug:
        collection = session.exec(select(Collection).where(Collection.slug == collection_slug)).first()
        if collection is None:
            raise NotFound(f"There is no collection called “{collection_slug}”.")
        statement = statement.join(CollectionProduct, CollectionProduct.product_id == Product.id).where(
            CollectionProduct.collection_id == collection.id
        )
    for word in (query or "").split()[:8]:
        statement = statement.where(col(Product.title).ilike(f"%{_escape_like(word)}%", escape="\\"))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page, pages = clamp_page(page, total, page_size)
    if sort is SortOrder.FEATURED and collection_slug:
        ordering = (col(CollectionProduct.position).asc(), col(Product.id).asc())
    elif sort is SortOrder.FEATURED:
        ordering = (col(Product.featured).desc(), *_order_by(SortOrder.NEWEST))
    else:
        ordering = _order_by(sort)
    products = session.exec(statement.order_by(*ordering).offset((page - 1) * page_size).limit(page_size)).all()
    return ProductPage(_listed_cards(session, products), total, page, pages, page_size, sort.value)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def home_sections(session: Session, limit: int = 8) -> HomeSections:
    return cached(
        session, cache_key("home", limit), (CATALOG, LISTINGS, HOME), HomeSections, lambda s: _load_home(s, limit)
    )


def _load_home(session: Session, limit: int) -> HomeSections:
    active = select(Product).where(Product.status == ProductStatus.ACTIVE)
    featured = session.exec(
        active.where(col(Product.featured).is_(True)).order_by(col(Product.created_at).desc()).limit(limit)
    ).all()
    newest = session.exec(active.order_by(*_order_by(SortOrder.NEWEST)).limit(limit)).all()
    return HomeSections(
        featured=_listed_cards(session, featured),
        new_arrivals=_listed_cards(session, newest),
        categories=_load_top_categories(session),
        collections=_load_collections(session),
    )


# --- product detail ---------------------------------------------------------------------------


def get_product(session: Session, slug: str) -> ProductDetail:
    """Everything the product page shows; drafts and archived products are not found.

    Cached by product id (tag ``product:<id>``, dropped by every change to the product, its stock
    included). The slug → id hint is only a hint: the cached detail must still carry the slug asked
    for, so a renamed, hidden or replaced product is looked up again, never served from the hint."""
    if not catalog_cache.can_cache(session):
        return _load_product(session, _active_product_id(session, slug), slug)
    hint_key = cache_key("product-slug", slug)
    hinted = get_cache().get(hint_key)
    if isinstance(hinted, int):
        detail = _cached_product(session, hinted)
        if detail is not None and detail.slug == slug:
            return detail
    with catalog_cache.fresh_session(session) as fresh:
        product_id = _active_product_id(fresh, slug)
    if product_id is None:
        raise NotFound(f"There is no product called “{slug}”.")
    get_cache().set(hint_key, product_id)
    detail = _cached_product(session, product_id)
    if detail is None or detail.slug != slug:  # changed since the lookup a moment ago
        raise NotFound(f"There is no product called “{slug}”.")
    return detail


def _active_product_id(session: Session, slug: str) -> int | None:
    return session.exec(select(Product.id).where(Product.slug == slug, Product.status == ProductStatus.ACTIVE)).first()


def _cached_product(session: Session, product_id: int) -> ProductDetail | None:
    tags = (CATALOG, product_tag(product_id))
    return cached(
        session, cache_key("product", product_id), tags, ProductDetail | None, lambda s: _load_product(s, product_id)
    )


def _load_product(session: Session, product_id: int | None, slug: str = "") -> ProductDetail | None:
    """The product page data, or None when the product is not active; with ``slug``, NotFound instead."""
    product = session.get(Product, product_id) if product_id is not None else None
    if product is None or product.status != ProductStatus.ACTIVE:
        if slug:
            raise NotFound(f"There is no product called “{slug}”.")
        return None
    brand = session.get(Brand, product.brand_id) if product.brand_id else None
    images = session.exec(
        select(ProductImage).where(ProductImage.product_id == product.id).order_by(ProductImage.position)
    ).all()
    options, value_names = _options(session, product.id)
    variants = session.exec(
        select(Variant).where(Variant.product_id == product.id).order_by(Variant.position, Variant.id)
    ).all()
    values_by_variant = _variant_values(session, [v.id for v in variants], value_names)
    currency = store_identity.currency(session)
    price_range = format_money(product.price_min, currency)
    if product.price_max != product.price_min:
        price_range += f" – {format_money(product.price_max, currency)}"
    return ProductDetail(
        id=product.id,
        slug=product.slug,
        title=product.title,
        description=product.description,
        brand=brand.name if brand else "",
        breadcrumbs=[*_breadcrumbs(category_nodes(session), product.category_id), Crumb(product.title, "")],
        images=[ImageInfo(image_url(i.storage_key), i.alt or product.title) for i in images]
        or [ImageInfo(image_url(None), product.title)],
        options=options,
        variants=[_variant_info(v, values_by_variant.get(v.id, []), options, currency) for v in variants],
        price_range_text=price_range,
    )


def _options(session: Session, product_id: int) -> tuple[list[OptionInfo], dict[int, tuple[int, str]]]:
    """The product's options in order, and each option value's (option position, text) by id."""
    rows = session.exec(
        select(ProductOption, ProductOptionValue)
        .join(ProductOptionValue, ProductOptionValue.option_id == ProductOption.id)
        .where(ProductOption.product_id == product_id)
        .order_by(ProductOption.position, ProductOption.id, ProductOptionValue.position, ProductOptionValue.id)
    ).all()
    options: dict[int, OptionInfo] = {}
    value_names: dict[int, tuple[int, str]] = {}
    for option, value in rows:
        info = options.setdefault(option.id, OptionInfo(option.name, []))
        info.values.append(value.value)
        value_names[value.id] = (list(options).index(option.id), value.value)
    return list(options.values()), value_names


def _variant_values(
    session: Session, variant_ids: list[int], value_names: dict[int, tuple[int, str]]
) -> dict[int, list[str]]:
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for link in session.exec(select(VariantOptionValue).where(col(VariantOptionValue.variant_id).in_(variant_ids))):
        if link.option_value_id in value_names:
            found[link.variant_id].append(value_names[link.option_value_id])
    return {vid: [text for _, text in sorted(pairs)] for vid, pairs in found.items()}


def _variant_info(variant: Variant, values: list[str], options: list[OptionInfo], currency: str) -> VariantInfo:
    saving = discount_percent(variant.price, variant.compare_at_price)
    in_stock = variant.stock_on_hand > 0 or not variant.track_inventory
    return VariantInfo(
        id=variant.id,
        sku=variant.sku,
        title=variant.title or " / ".join(values),
        values=values if len(values) == len(options) else [],
        price_text=format_money(variant.price, currency),
        compare_text=format_money(variant.compare_at_price, currency) if saving else "",
        discount=saving,
        stock=variant.stock_on_hand,
        stock_label=stock_label(variant.stock_on_hand, variant.track_inventory),
        in_stock=in_stock,
    )


def find_variant(detail: ProductDetail, selection: Sequence[str]) -> VariantInfo | None:
    """The variant whose option values equal the shopper's selection (None for an impossible combo)."""
    if not detail.options:
        return detail.variants[0] if detail.variants else None
    return next((v for v in detail.variants if v.values == list(selection)), None)


def default_selection(detail: ProductDetail) -> list[str]:
    """Start on the first variant in stock so the page opens on something buyable."""
    variant = next((v for v in detail.variants if v.in_stock and v.values), None) or next(
        (v for v in detail.variants if v.values), None
    )
    return list(variant.values) if variant else [o.values[0] for o in detail.options if o.values]


def refresh_price_range(session: Session, product_id: int) -> None:
    """Keep the denormalised price range in step after variants change (listings sort by it)."""
    low, high = session.exec(
        select(func.min(Variant.price), func.max(Variant.price)).where(Variant.product_id == product_id)
    ).one()
    product = session.get(Product, product_id)
    if product is not None:
        product.price_min, product.price_max = low or 0, high or 0
        session.add(product)


def slug_exists(session: Session, kind: str, slug: str) -> bool:
    """Whether /<kind>/<slug> names something a shopper can see (drives the HTTP 404 status)."""
    if kind == "product":
        statement = select(Product.id).where(Product.slug == slug, Product.status == ProductStatus.ACTIVE)
    elif kind == "category":
        statement = select(Category.id).where(Category.slug == slug)
    elif kind == "collection":
        statement = select(Collection.id).where(Collection.slug == slug)
    else:
        return False
    return session.exec(statement.limit(1)).first() is not None
