"""Products as staff manage them: the product table, creating and editing a product with its options
and variants, its images, and bulk actions over a selection.

Rules worth knowing:

- **The table** is built for large catalogs (50,000 products and more): status, category subtree
  and sort use ``product``'s indexes; stock filters are correlated ``EXISTS``/``SUM`` subqueries on
  ``variant`` (its ``product_id`` is indexed); the count is one ``COUNT(*)`` over the same
  conditions; only the shown page's rows are read, then a handful of small queries fetch their
  images, stock, category and brand names. A text search (title words, or part of a SKU through an
  uncorrelated ``IN (SELECT …)``) reads the matching ids once, which also counts them, and orders
  just those when they are few. ``bench/admin_products.py`` measures it at 50,000 products.
- **Stock** of a product, as the table shows and filters it: *out* when no variant can be bought
  (every variant tracks stock and has none), *low* when it can but at most ``LOW_STOCK_THRESHOLD``
  units are left over all its variants (none of which is untracked), *in* otherwise.
- **Variants** are the grid of the options' values (their cartesian product). Regenerating the grid
  keeps every existing variant whose values are still there (with its SKU, price and stock); when an
  option is added, existing variants take the first combination that agrees with their values; new
  combinations get a generated, store-unique SKU (``HANDLE-M-RED``). Staff may remove combinations
  they do not sell; a saved variant that is no longer in the list is deleted (orders keep their
  snapshot of it).
- **Validation** collects every problem of a product form at once (``ProductValidationError``), each
  message naming the field and the variant it is about.
- **Images** are checked by content, not by name: Pillow must recognise the bytes as PNG, JPEG or
  WebP and decode them whole, within ``MAX_IMAGE_BYTES`` and ``MAX_IMAGE_PIXELS``. They are stored
  in the public ``images`` bucket under a content-addressed key, like the seed's pictures. A file
  is deleted from storage only after the change commits and only when no image row uses it.
- **Bulk actions** take at most ``MAX_BULK`` products. A price change by a percentage rounds each
  price to whole currency units (half up) and never below zero; a compare-at price that is no longer
  above the new price is removed. Deleting needs an explicit confirmation, and products that appear
  on orders are archived instead (an order must keep pointing at what was sold).
- **Every change** writes an audit entry and schedules the product's keyword re-index and
  re-embedding, in the caller's transaction (the jobs are queued only once it commits). Run changes
  in ``session_scope(write=True)``.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import partial
from typing import TypeVar

from PIL import Image, UnidentifiedImageError
from sqlalchemy import and_, case, delete, exists, false, func, or_
from sqlmodel import Session, col, select

from revoque.adapters.queue import enqueue_after_commit
from revoque.adapters.storage import IMAGES, content_key, get_storage
from revoque.errors import NotFound, ValidationError
from revoque.models import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    OrderLine,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductStatus,
    ProductTag,
    Tag,
    User,
    Variant,
    VariantOptionValue,
)
from revoque.models.base import utcnow
from revoque.services import admin_forms, audit, store_identity
from revoque.services.catalog import (
    LOW_STOCK_THRESHOLD,
    clamp_page,
    image_url,
    product_href,
    refresh_price_range,
)
from revoque.services.import_parsing import split_list, to_slug
from revoque.services.money import currency_info, format_money, parse_money
from revoque.services.pricing import as_utc
from revoque.services.search import schedule_product_index
from revoque.services.vector_index import schedule_product_embedding

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_SEARCH_WORDS = 8
FEW_MATCHES = 1_000  # a text search matching at most this many products orders just their ids
ADMIN_ROUTE = "/admin/products"

MAX_OPTIONS = 3
MAX_VALUES_PER_OPTION = 50
MAX_VARIANTS = 100
MAX_TAGS = 30
TITLE_LENGTH, SLUG_LENGTH, DESCRIPTION_LENGTH = 200, 160, 20_000
OPTION_LENGTH, TAG_LENGTH, SKU_LENGTH, ALT_LENGTH = 60, 80, 64, 300
MAX_STOCK = 1_000_000_000
MAX_WEIGHT_GRAMS = 1_000_000

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels: any real product photo, no decompression bombs
IMAGE_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
ALLOWED_IMAGE_TEXT = "a PNG, JPEG or WebP image"

MAX_BULK = 200
MIN_PERCENT, MAX_PERCENT = Decimal(-100), Decimal(1000)

_SKU_CHARS = re.compile(r"[^A-Z0-9]+")
_SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")

T = TypeVar("T")


class ProductSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    TITLE = "title"
    TITLE_DESC = "title_desc"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    UPDATED = "updated"


class StockFilter(StrEnum):
    IN = "in"
    LOW = "low"
    OUT = "out"


class BulkAction(StrEnum):
    ACTIVATE = "activate"
    ARCHIVE = "archive"
    PRICE = "price"
    DELETE = "delete"


@dataclass
class Option:
    value: str
    label: str


SORT_OPTIONS = [
    Option(ProductSort.NEWEST, "Newest"),
    Option(ProductSort.OLDEST, "Oldest"),
    Option(ProductSort.UPDATED, "Recently updated"),
    Option(ProductSort.TITLE, "Title A–Z"),
    Option(ProductSort.TITLE_DESC, "Title Z–A"),
    Option(ProductSort.PRICE_ASC, "Price: low to high"),
    Option(ProductSort.PRICE_DESC, "Price: high to low"),
]
STATUS_OPTIONS = [Option(s.value, s.value.capitalize()) for s in ProductStatus]
STOCK_OPTIONS = [
    Option(StockFilter.IN, "In stock"),
    Option(StockFilter.LOW, f"Low stock (≤ {LOW_STOCK_THRESHOLD} left)"),
    Option(StockFilter.OUT, "Out of stock"),
]


class ProductValidationError(ValidationError):
    """A product form with problems; ``problems`` lists each one (the message joins them)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


# ---------------------------------------------------------------------------------------------------
# The product table
# ---------------------------------------------------------------------------------------------------


@dataclass
class ProductFilters:
    q: str = ""  # words of the title, or part of a SKU
    status: str = ""
    category_id: int | None = None  # the category and everything under it
    stock: str = ""
    sort: str = ProductSort.NEWEST.value


@dataclass
class ProductRow:
    id: int
    title: str
    href: str  # the admin edit page
    store_href: str
    status: str
    status_label: str
    image_url: str
    category: str
    brand: str
    price_text: str
    variant_count: int
    stock_state: str  # in | low | out
    stock_text: str
    updated_text: str


@dataclass
class ProductRowsPage:
    items: list[ProductRow]
    total: int
    page: int
    pages: int
    page_size: int


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number and number > 0 else None


def parse_filters(params: Mapping[str, str]) -> ProductFilters:
    """Filters from query parameters; unknown values are ignored rather than failing the page."""
    status = params.get("status", "")
    stock = params.get("stock", "")
    sort = params.get("sort", "")
    return ProductFilters(
        q=" ".join(params.get("q", "").split())[:100],
        status=status if status in {s.value for s in ProductStatus} else "",
        category_id=_int_or_none(params.get("category")),
        stock=stock if stock in {s.value for s in StockFilter} else "",
        sort=sort if sort in {s.value for s in ProductSort} else ProductSort.NEWEST.value,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _buyable():
    return or_(col(Variant.track_inventory).is_(False), col(Variant.stock_on_hand) > 0)


def _variant_exists(*conditions):
    """``EXISTS (a variant of this product such that …)``, correlated to the outer product row."""
    return exists().where(col(Variant.product_id) == col(Product.id), *conditions)


def _tracked_units():
    return (
        select(func.coalesce(func.sum(Variant.stock_on_hand), 0))
        .where(col(Variant.product_id) == col(Product.id))
        .correlate(Product)
        .scalar_subquery()
    )


def _stock_condition(stock: str):
    if stock == StockFilter.IN:
        return _variant_exists(_buyable())
    if stock == StockFilter.OUT:
        return ~_variant_exists(_buyable())
    return and_(
        _variant_exists(_buyable()),
        ~_variant_exists(col(Variant.track_inventory).is_(False)),
        _tracked_units() <= LOW_STOCK_THRESHOLD,
    )


def _contains(column, text: str, dialect: str):
    """``column`` contains ``text``, ignoring case. SQLite's LIKE already ignores ASCII case (and its
    lower() knows no other letters), so plain LIKE is used there, sparing a function call per row;
    elsewhere ILIKE for titles, and upper() LIKE for SKUs (measured faster on PostgreSQL: SKUs are
    ASCII)."""
    if dialect == "sqlite":
        return col(column).like(f"%{_escape_like(text)}%", escape="\\")
    if column is Variant.sku:
        return func.upper(column).like(f"%{_escape_like(text.upper())}%", escape="\\")
    return col(column).ilike(f"%{_escape_like(text)}%", escape="\\")


def _search_condition(text: str, dialect: str):
    """Every word in the title, or (for text without spaces, as SKUs are) the text inside a SKU.
    The SKU part is an uncorrelated ``IN (SELECT …)``: the database reads the matching variants once
    per query instead of probing each product's variants in turn."""
    words = text.split()[:MAX_SEARCH_WORDS]
    title = and_(*(_contains(Product.title, word, dialect) for word in words))
    if len(words) > 1:
        return title
    return or_(title, col(Product.id).in_(select(Variant.product_id).where(_contains(Variant.sku, text, dialect))))


def _conditions(session: Session, filters: ProductFilters) -> list:
    conditions = []
    if filters.status:
        conditions.append(col(Product.status) == filters.status)
    if filters.category_id:
        conditions.append(col(Product.category_id).in_(category_subtree(session, filters.category_id)))
    if filters.q.strip():
        conditions.append(_search_condition(filters.q.strip(), session.get_bind().dialect.name))
    if filters.stock:
        conditions.append(_stock_condition(filters.stock))
    return conditions


def category_subtree(session: Session, category_id: int) -> list[int]:
    """The category and all its descendants (the category table is small: read it whole)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for child_id, parent_id in session.exec(select(Category.id, Category.parent_id)):
        children[parent_id].append(child_id)
    found, stack, seen = [], [category_id], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        found.append(current)
        stack.extend(children[current])
    return found


def _ordering(sort: str) -> tuple:
    orders = {
        ProductSort.NEWEST: (col(Product.created_at).desc(), col(Product.id).desc()),
        ProductSort.OLDEST: (col(Product.created_at).asc(), col(Product.id).asc()),
        ProductSort.TITLE: (col(Product.title).asc(), col(Product.id).asc()),
        ProductSort.TITLE_DESC: (col(Product.title).desc(), col(Product.id).desc()),
        ProductSort.PRICE_ASC: (col(Product.price_min).asc(), col(Product.id).asc()),
        ProductSort.PRICE_DESC: (col(Product.price_min).desc(), col(Product.id).desc()),
        ProductSort.UPDATED: (col(Product.updated_at).desc(), col(Product.id).desc()),
    }
    return orders.get(sort, orders[ProductSort.NEWEST])


_ROW_COLUMNS = (
    Product.id,
    Product.title,
    Product.slug,
    Product.status,
    Product.category_id,
    Product.brand_id,
    Product.price_min,
    Product.price_max,
    Product.updated_at,
)


def list_products(
    session: Session, filters: ProductFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> ProductRowsPage:
    """One page of the product table; a page past the end gives the last page.

    Without a text search the count and the page are two indexed queries. A text search must read
    every title (and matching SKUs) whatever the plan, so it reads the matching ids once, in table
    order (a plain scan, which also gives the count); when they are few, the page is then ordered
    from just those ids, instead of walking the whole sort index looking for them."""
    filters = filters or ProductFilters()
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    conditions = _conditions(session, filters)
    ordering = _ordering(filters.sort)
    if filters.q.strip():
        ids = list(session.exec(select(Product.id).where(*conditions)))
        total = len(ids)
        if total <= FEW_MATCHES:
            conditions = [col(Product.id).in_(ids)] if ids else [false()]
    else:
        total = session.exec(select(func.count()).select_from(Product).where(*conditions)).one()
    page, pages = clamp_page(page, total, page_size)
    rows = session.exec(
        select(*_ROW_COLUMNS).where(*conditions).order_by(*ordering).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return ProductRowsPage(_rows(session, rows), total, page, pages, page_size)


@dataclass
class _StockFacts:
    variants: int = 0
    units: int = 0  # on hand over tracked variants
    untracked: int = 0
    buyable: int = 0


def _stock_facts(session: Session, ids: list[int]) -> dict[int, _StockFacts]:
    tracked = col(Variant.track_inventory).is_(True)
    rows = session.exec(
        select(
            Variant.product_id,
            func.count(),
            func.sum(case((tracked, Variant.stock_on_hand), else_=0)),
            func.sum(case((tracked, 0), else_=1)),
            func.sum(case((_buyable(), 1), else_=0)),
        )
        .where(col(Variant.product_id).in_(ids))
        .group_by(Variant.product_id)
    )
    return {pid: _StockFacts(int(n), int(u or 0), int(x or 0), int(b or 0)) for pid, n, u, x, b in rows}


def stock_state(facts: _StockFacts) -> str:
    if facts.buyable == 0:
        return StockFilter.OUT.value
    if facts.untracked == 0 and facts.units <= LOW_STOCK_THRESHOLD:
        return StockFilter.LOW.value
    return StockFilter.IN.value


def _stock_text(facts: _StockFacts) -> str:
    if facts.variants == 0:
        return "No variants"
    if facts.untracked == facts.variants:
        text = "Not tracked"
    else:
        text = "Out of stock" if facts.buyable == 0 else f"{facts.units:,} in stock"
    return f"{text} · {facts.variants} variants" if facts.variants > 1 else text


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


def _names(session: Session, model, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    label = model.title if model is Collection else model.name
    return dict(session.exec(select(model.id, label).where(col(model.id).in_(wanted))).all())


def _day(moment) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y}"


def price_text(low: int, high: int, currency: str) -> str:
    low_text = format_money(low, currency)
    return low_text if low == high else f"{low_text} – {format_money(high, currency)}"


def _rows(session: Session, rows: Sequence) -> list[ProductRow]:
    ids = [row.id for row in rows]
    if not ids:
        return []
    facts = _stock_facts(session, ids)
    images = _first_images(session, ids)
    categories = _names(session, Category, (row.category_id for row in rows))
    brands = _names(session, Brand, (row.brand_id for row in rows))
    currency = store_identity.currency(session)
    items = []
    for row in rows:
        stock = facts.get(row.id, _StockFacts())
        items.append(
            ProductRow(
                id=row.id,
                title=row.title,
                href=f"{ADMIN_ROUTE}/{row.id}",
                store_href=product_href(row.slug),
                status=row.status,
                status_label=row.status.capitalize(),
                image_url=image_url(images.get(row.id)),
                category=categories.get(row.category_id, "—"),
                brand=brands.get(row.brand_id, "—"),
                price_text=price_text(row.price_min, row.price_max, currency),
                variant_count=stock.variants,
                stock_state=stock_state(stock),
                stock_text=_stock_text(stock),
                updated_text=_day(row.updated_at),
            )
        )
    return items


# ---------------------------------------------------------------------------------------------------
# Product input, the variant grid and validation
# ---------------------------------------------------------------------------------------------------


@dataclass
class OptionInput:
    name: str
    values: list[str]


@dataclass
class VariantInput:
    values: list[str] = field(default_factory=list)  # one per option, in option order
    price: int = 0
    compare_at_price: int | None = None
    stock_on_hand: int = 0
    weight_grams: int = 0
    track_inventory: bool = True
    sku: str = ""  # blank: keep the variant's SKU, or generate one for a new variant
    id: int | None = None  # the saved variant this row edits, when known


@dataclass
class ProductInput:
    title: str
    slug: str = ""  # blank: made from the title
    description: str = ""
    status: str = ProductStatus.DRAFT.value
    category_id: int | None = None
    brand_id: int | None = None
    featured: bool = False
    tags: list[str] = field(default_factory=list)
    collection_ids: list[int] = field(default_factory=list)
    options: list[OptionInput] = field(default_factory=list)
    variants: list[VariantInput] | None = None  # None: the grid of the options, existing variants kept


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def variant_label(values: Sequence[str]) -> str:
    return " / ".join(values) if values else "Default"


def grid(
    options: Sequence[tuple[str, Sequence[str]]],
    existing: Sequence[T],
    values_of: Callable[[T], Mapping[str, str]],
    make: Callable[[list[str], T | None], T],
) -> list[T]:
    """The variant grid of ``options`` ((name, values) pairs): one item per combination of values, in
    option order. An existing item whose values (by option name, case-insensitive) equal a
    combination is kept for it; then each remaining combination takes the first remaining item that
    agrees with it on every option both have (so adding an option keeps the old variants). ``make``
    builds the result from the combination's values and the kept item (None for a new one)."""
    names = [_fold(name) for name, _ in options]
    combos = [list(values) for values in itertools.product(*(values for _, values in options))]
    folded = [{n: _fold(v) for n, v in zip(names, combo, strict=True)} for combo in combos]
    known = [{_fold(k): _fold(v) for k, v in values_of(item).items()} for item in existing]
    chosen: dict[int, int] = {}
    free = list(range(len(existing)))
    for index, wanted in enumerate(folded):
        match = next((i for i in free if known[i] == wanted), None)
        if match is not None:
            chosen[index] = match
            free.remove(match)
    for index, wanted in enumerate(folded):
        if index in chosen:
            continue
        match = next((i for i in free if all(wanted.get(k, v) == v for k, v in known[i].items())), None)
        if match is not None:
            chosen[index] = match
            free.remove(match)
    return [make(combo, existing[chosen[i]] if i in chosen else None) for i, combo in enumerate(combos)]


def variant_grid(
    options: Sequence[OptionInput], existing: Sequence[VariantInput], existing_names: Sequence[str] | None = None
) -> list[VariantInput]:
    """The grid for typed options: kept variants keep their id, SKU, prices and stock; new ones copy
    the first existing variant's price and weight (a sensible start) with no stock and no SKU yet.
    ``existing_names`` are the option names the existing variants' values belong to (by default the
    new options' names, position by position)."""
    names = list(existing_names) if existing_names is not None else [option.name for option in options]
    template = existing[0] if existing else VariantInput()

    def values_of(variant: VariantInput) -> dict[str, str]:
        return dict(zip(names, variant.values, strict=False))

    def make(values: list[str], kept: VariantInput | None) -> VariantInput:
        if kept is not None:
            return VariantInput(
                values=values,
                price=kept.price,
                compare_at_price=kept.compare_at_price,
                stock_on_hand=kept.stock_on_hand,
                weight_grams=kept.weight_grams,
                track_inventory=kept.track_inventory,
                sku=kept.sku,
                id=kept.id,
            )
        return VariantInput(values=values, price=template.price, weight_grams=template.weight_grams)

    return grid([(o.name, o.values) for o in options], existing, values_of, make)


def _check_options(options: Sequence[OptionInput], problems: list[str]) -> list[OptionInput]:
    """Options with whitespace tidied; problems appended for anything unusable."""
    if len(options) > MAX_OPTIONS:
        problems.append(f"A product can have at most {MAX_OPTIONS} options (such as Size, Colour, Material).")
    cleaned: list[OptionInput] = []
    seen: set[str] = set()
    for position, option in enumerate(options[:MAX_OPTIONS], start=1):
        name = " ".join(option.name.split())
        label = f"Option {position}" + (f" ({name})" if name else "")
        if not name:
            problems.append(f"{label}: give the option a name, such as Size or Colour.")
        elif len(name) > OPTION_LENGTH:
            problems.append(f"{label}: the name is longer than {OPTION_LENGTH} characters.")
        elif _fold(name) in seen:
            problems.append(f"{label}: there are two options called “{name}”.")
        seen.add(_fold(name))
        values, seen_values = [], set()
        for value in (" ".join(v.split()) for v in option.values):
            if not value:
                continue
            if len(value) > OPTION_LENGTH:
                problems.append(f"{label}: the value “{value[:20]}…” is longer than {OPTION_LENGTH} characters.")
            elif _fold(value) in seen_values:
                problems.append(f"{label}: the value “{value}” is listed twice.")
            else:
                seen_values.add(_fold(value))
                values.append(value)
        if not values:
            problems.append(f"{label}: give at least one value, such as S, M, L.")
        elif len(values) > MAX_VALUES_PER_OPTION:
            problems.append(f"{label}: at most {MAX_VALUES_PER_OPTION} values.")
        cleaned.append(OptionInput(name, values))
    combinations = math.prod(len(o.values) for o in cleaned) if cleaned else 1
    if combinations > MAX_VARIANTS:
        problems.append(
            f"These options make {combinations:,} variants; a product can have at most {MAX_VARIANTS}. "
            "Use fewer values, or split the product."
        )
    return cleaned


def _check_variants(
    options: Sequence[OptionInput], variants: Sequence[VariantInput], problems: list[str], currency: str
) -> list[VariantInput]:
    """Variants with their values spelled as the options spell them; problems appended."""
    if not variants:
        problems.append("A product needs at least one variant: add option values or keep the default variant.")
    if len(variants) > MAX_VARIANTS:
        problems.append(f"A product can have at most {MAX_VARIANTS} variants.")
    spelled = [{_fold(v): v for v in option.values} for option in options]
    cleaned: list[VariantInput] = []
    seen: dict[tuple[str, ...], str] = {}
    skus: dict[str, str] = {}
    for variant in variants:
        label = variant_label(variant.values)
        if len(variant.values) != len(options) or any(
            _fold(value) not in spelled[i] for i, value in enumerate(variant.values)
        ):
            problems.append(f"Variant {label}: its values do not match the product's options; update the variants.")
            continue
        values = [spelled[i][_fold(value)] for i, value in enumerate(variant.values)]
        key = tuple(_fold(v) for v in values)
        if key in seen:
            problems.append(f"Variant {label} is listed twice.")
            continue
        seen[key] = label
        _check_numbers(variant, label, problems, currency)
        sku = variant.sku.strip()
        if sku:
            if len(sku) > SKU_LENGTH or not _SKU_PATTERN.fullmatch(sku):
                problems.append(
                    f"Variant {label}: the SKU “{sku[:70]}” may only use letters, digits, '-', '_', '.' and '/' "
                    f"(at most {SKU_LENGTH} characters)."
                )
            elif sku.upper() in skus:
                problems.append(f"SKU “{sku}” is given to two variants ({skus[sku.upper()]} and {label}).")
            skus[sku.upper()] = label
        cleaned.append(
            VariantInput(
                values=values,
                price=variant.price,
                compare_at_price=variant.compare_at_price,
                stock_on_hand=variant.stock_on_hand,
                weight_grams=variant.weight_grams,
                track_inventory=variant.track_inventory,
                sku=sku,
                id=variant.id,
            )
        )
    return cleaned


def _check_numbers(variant: VariantInput, label: str, problems: list[str], currency: str) -> None:
    if variant.price < 0:
        problems.append(f"Variant {label}: the price cannot be negative.")
    if variant.compare_at_price is not None and variant.compare_at_price <= variant.price:
        compare_at, price = format_money(variant.compare_at_price, currency), format_money(variant.price, currency)
        problems.append(
            f"Variant {label}: the compare-at price ({compare_at}) must be higher than the price ({price}), "
            "or left empty."
        )
    if not 0 <= variant.stock_on_hand <= MAX_STOCK:
        problems.append(f"Variant {label}: stock must be a whole number, 0 or more.")
    if not 0 <= variant.weight_grams <= MAX_WEIGHT_GRAMS:
        problems.append(f"Variant {label}: the weight must be between 0 and {MAX_WEIGHT_GRAMS:,} grams.")


def _check_product(session: Session, product_id: int | None, data: ProductInput, problems: list[str]) -> str:
    """Checks of the product's own fields; returns the slug it will have."""
    title = " ".join(data.title.split())
    if not title:
        problems.append("Give the product a title.")
    elif len(title) > TITLE_LENGTH:
        problems.append(f"The title is longer than {TITLE_LENGTH} characters.")
    if len(data.description) > DESCRIPTION_LENGTH:
        problems.append(f"The description is longer than {DESCRIPTION_LENGTH:,} characters.")
    if data.status not in {s.value for s in ProductStatus}:
        problems.append(f"“{data.status}” is not a product status (draft, active or archived).")
    if data.category_id is not None and session.get(Category, data.category_id) is None:
        problems.append("The chosen category no longer exists; choose another.")
    if data.brand_id is not None and session.get(Brand, data.brand_id) is None:
        problems.append("The chosen brand no longer exists; choose another.")
    wanted = set(data.collection_ids)
    if wanted:
        found = set(session.exec(select(Collection.id).where(col(Collection.id).in_(wanted))))
        if wanted - found:
            problems.append("A chosen collection no longer exists; reload the page.")
    if len(data.tags) > MAX_TAGS:
        problems.append(f"A product can have at most {MAX_TAGS} tags.")
    for tag in data.tags:
        if len(tag) > TAG_LENGTH:
            problems.append(f"The tag “{tag[:30]}…” is longer than {TAG_LENGTH} characters.")
    return _product_slug(session, product_id, data.slug, title, problems)


def _product_slug(session: Session, product_id: int | None, given: str, title: str, problems: list[str]) -> str:
    """The slug typed (normalised to letters, digits and dashes), which must be free; or one made
    from the title, with a number added when another product has it."""
    if given.strip():
        slug = to_slug(given, SLUG_LENGTH)
        if not slug:
            problems.append("The URL name needs letters or digits.")
            return ""
        owner = _slug_owner(session, slug, product_id)
        if owner is not None:
            problems.append(f"The URL name “{slug}” is already used by “{owner}”. Choose another.")
        return slug
    base = to_slug(title, SLUG_LENGTH - 6) or "product"
    slug, number = base, 2
    while _slug_owner(session, slug, product_id) is not None:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _slug_owner(session: Session, slug: str, product_id: int | None) -> str | None:
    statement = select(Product.title).where(Product.slug == slug)
    if product_id is not None:
        statement = statement.where(col(Product.id) != product_id)
    return session.exec(statement.limit(1)).first()


def _sku_owners(session: Session, skus: Iterable[str], product_id: int | None) -> dict[str, str]:
    """Upper-cased SKU -> title of another product that has it (SKUs are compared case-insensitively,
    so "ab-1" and "AB-1" cannot both exist)."""
    wanted = sorted({s.upper() for s in skus if s})
    owners: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        statement = (
            select(Variant.sku, Product.title)
            .join(Product, col(Product.id) == col(Variant.product_id))
            .where(func.upper(Variant.sku).in_(wanted[start : start + 500]))
        )
        if product_id is not None:
            statement = statement.where(col(Variant.product_id) != product_id)
        owners.update({sku.upper(): title for sku, title in session.exec(statement)})
    return owners


def _validate(
    session: Session,
    product_id: int | None,
    data: ProductInput,
    existing_options: list[OptionInput],
    existing: list[VariantInput],
):
    """Every problem of the form at once; the variants are checked only when the options are usable."""
    problems: list[str] = []
    slug = _check_product(session, product_id, data, problems)
    option_problems: list[str] = []
    options = _check_options(data.options, option_problems)
    problems += option_problems
    variants: list[VariantInput] = []
    if not option_problems:
        given = data.variants
        if given is None:
            given = variant_grid(options, existing, [o.name for o in existing_options])
        variants = _check_variants(options, given, problems, store_identity.currency(session))
        _check_skus(session, product_id, variants, existing, problems)
    if problems:
        raise ProductValidationError(problems)
    return slug, options, variants


def _check_skus(
    session: Session,
    product_id: int | None,
    variants: Sequence[VariantInput],
    existing: Sequence[VariantInput],
    problems: list[str],
) -> None:
    """A typed SKU must not belong to another product, nor to a variant of this one that keeps its
    own SKU (a blank SKU on a saved variant means "keep it")."""
    owners = _sku_owners(session, (v.sku for v in variants), product_id)
    for variant in variants:
        if variant.sku and variant.sku.upper() in owners:
            problems.append(
                f"Variant {variant_label(variant.values)}: SKU “{variant.sku}” is already used by "
                f"“{owners[variant.sku.upper()]}”."
            )
    saved = {v.id: v.sku for v in existing}
    kept = {saved[v.id].upper() for v in variants if not v.sku and v.id in saved}
    for variant in variants:
        if variant.sku and variant.sku.upper() in kept:
            problems.append(f"Variant {variant_label(variant.values)}: SKU “{variant.sku}” belongs to another variant.")


# --- parsing what staff type -----------------------------------------------------------------------


def parse_amount(text: str, what: str, currency: str, *, optional: bool = False) -> int | None:
    """A money amount typed by staff ("12,500", "₦12500.50") in minor units of ``currency`` (the
    store's); blank is None when ``optional``. The error names the field."""
    text = (text or "").strip()
    if not text:
        if optional:
            return None
        raise ValidationError(f"{what}: enter an amount.")
    try:
        return parse_money(text, currency)
    except ValidationError as exc:
        raise ValidationError(f"{what}: {exc}.") from exc


def parse_count(text: str, what: str, default: int = 0) -> int:
    """A whole number 0 or more ("1,200" is fine); blank is ``default``."""
    text = (text or "").strip().replace(",", "").replace(" ", "")
    if not text:
        return default
    if not text.isdigit():
        raise ValidationError(f"{what}: enter a whole number, 0 or more (not “{text[:20]}”).")
    return int(text)


def parse_percent(text: str) -> Decimal:
    """ "10", "-12.5", "+5%" → a percentage change between −100 and +1000, not zero."""
    cleaned = (text or "").strip().replace("%", "").replace(" ", "").replace("−", "-")
    try:
        percent = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationError(f"“{text}” is not a percentage: enter a number such as 10 or -15.") from exc
    if not percent.is_finite() or percent == 0:
        raise ValidationError("Enter a percentage other than 0, such as 10 to raise prices or -15 to lower them.")
    if not MIN_PERCENT <= percent <= MAX_PERCENT:
        raise ValidationError("The change must be between -100% and +1000%.")
    return percent


def split_values(text: str) -> list[str]:
    """Option values typed as "S, M, L" (duplicates and blanks are dealt with by validation)."""
    return [" ".join(part.split()) for part in text.split(",") if part.strip()]


# ---------------------------------------------------------------------------------------------------
# The editor: what the product page edits, as text fields
# ---------------------------------------------------------------------------------------------------


@dataclass
class OptionForm:
    name: str = ""
    values_text: str = ""  # "S, M, L"


@dataclass
class VariantForm:
    key: str = ""  # the values' label, unique within the product: the row's identity on the page
    values: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # the option names ``values`` were chosen under
    id: int = 0  # 0: not saved yet
    sku: str = ""
    price: str = ""
    compare_at: str = ""
    stock: str = "0"
    weight: str = "0"
    track_inventory: bool = True


@dataclass
class ImageView:
    id: int
    url: str
    alt: str
    position: int


@dataclass
class Choice:
    value: str
    label: str


@dataclass
class ProductEditor:
    id: int = 0  # 0: a new product
    title: str = ""
    slug: str = ""
    description: str = ""
    status: str = ProductStatus.DRAFT.value
    category_id: str = ""
    brand_id: str = ""
    featured: bool = False
    tags: str = ""
    collection_ids: list[int] = field(default_factory=list)
    options: list[OptionForm] = field(default_factory=list)
    variants: list[VariantForm] = field(default_factory=list)
    images: list[ImageView] = field(default_factory=list)
    store_href: str = ""
    updated_text: str = ""
    has_orders: bool = False


@dataclass
class EditorChoices:
    """What the product form's menus offer."""

    categories: list[Choice] = field(default_factory=list)
    brands: list[Choice] = field(default_factory=list)
    collections: list[Choice] = field(default_factory=list)


def _amount_text(minor: int | None, currency: str) -> str:
    return "" if minor is None else admin_forms.major_text(minor, currency)


def _variant_form(variant: VariantInput, names: Sequence[str], currency: str) -> VariantForm:
    return VariantForm(
        key=variant_label(variant.values),
        values=list(variant.values),
        names=list(names),
        id=variant.id or 0,
        sku=variant.sku,
        price=_amount_text(variant.price, currency),
        compare_at=_amount_text(variant.compare_at_price, currency),
        stock=str(variant.stock_on_hand),
        weight=str(variant.weight_grams),
        track_inventory=variant.track_inventory,
    )


def new_editor() -> ProductEditor:
    """A blank product: no options, one default variant."""
    return ProductEditor(variants=[VariantForm(key=variant_label([]), price="")])


def editor_choices(session: Session) -> EditorChoices:
    from revoque.services.catalog_admin import category_tree

    return EditorChoices(
        categories=[Choice(str(node.id), node.path) for node in category_tree(session, with_counts=False)],
        brands=[Choice(str(b.id), b.name) for b in session.exec(select(Brand).order_by(Brand.name))],
        collections=[Choice(str(c.id), c.title) for c in session.exec(select(Collection).order_by(Collection.title))],
    )


def load_editor(session: Session, product_id: int) -> ProductEditor:
    currency = store_identity.currency(session)
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("There is no product with that number; it may have been deleted.")
    options, variants = _saved_options_and_variants(session, product_id)
    tags = session.exec(
        select(Tag.name)
        .join(ProductTag, col(ProductTag.tag_id) == col(Tag.id))
        .where(ProductTag.product_id == product_id)
        .order_by(Tag.name)
    ).all()
    collections = session.exec(
        select(CollectionProduct.collection_id).where(CollectionProduct.product_id == product_id)
    ).all()
    return ProductEditor(
        id=product.id,
        title=product.title,
        slug=product.slug,
        description=product.description,
        status=product.status,
        category_id=str(product.category_id or ""),
        brand_id=str(product.brand_id or ""),
        featured=product.featured,
        tags=", ".join(tags),
        collection_ids=sorted(collections),
        options=[OptionForm(o.name, ", ".join(o.values)) for o in options],
        variants=[_variant_form(v, [o.name for o in options], currency) for v in variants],
        images=product_images(session, product_id),
        store_href=product_href(product.slug),
        updated_text=_day(product.updated_at),
        has_orders=_has_orders(session, [product_id]) != set(),
    )


def editor_options(forms: Sequence[OptionForm]) -> list[OptionInput]:
    """Typed options from the form, with rows left completely blank ignored."""
    return [OptionInput(f.name, split_values(f.values_text)) for f in forms if f.name.strip() or f.values_text.strip()]


def regrid(options: Sequence[OptionForm], variants: Sequence[VariantForm]) -> list[VariantForm]:
    """The editor's variant rows for its options (see ``grid``); what staff typed in kept rows stays
    as typed, new rows start with the first row's price and weight. Raises ProductValidationError when
    the options themselves are unusable."""
    problems: list[str] = []
    typed = _check_options(editor_options(options), problems)
    if problems:
        raise ProductValidationError(problems)
    names = [option.name for option in typed]
    template = variants[0] if variants else VariantForm()

    def values_of(row: VariantForm) -> dict[str, str]:
        return dict(zip(row.names or names, row.values, strict=False))

    def make(values: list[str], kept: VariantForm | None) -> VariantForm:
        if kept is not None:
            return VariantForm(
                key=variant_label(values),
                values=values,
                names=names,
                id=kept.id,
                sku=kept.sku,
                price=kept.price,
                compare_at=kept.compare_at,
                stock=kept.stock,
                weight=kept.weight,
                track_inventory=kept.track_inventory,
            )
        return VariantForm(
            key=variant_label(values), values=values, names=names, price=template.price, weight=template.weight
        )

    return grid([(o.name, o.values) for o in typed], list(variants), values_of, make)


def editor_input(editor: ProductEditor, currency: str) -> ProductInput:
    """The editor's text fields as a ProductInput (amounts read in ``currency``, the store's); every
    field that cannot be read is reported."""
    problems: list[str] = []
    variants = []
    for row in editor.variants:
        label = f"Variant {variant_label(row.values)}"
        try:
            variant = VariantInput(
                values=list(row.values),
                price=parse_amount(row.price, f"{label}, price", currency) or 0,
                compare_at_price=parse_amount(row.compare_at, f"{label}, compare-at price", currency, optional=True),
                stock_on_hand=parse_count(row.stock, f"{label}, stock"),
                weight_grams=parse_count(row.weight, f"{label}, weight"),
                track_inventory=row.track_inventory,
                sku=row.sku.strip(),
                id=row.id or None,
            )
        except ValidationError as exc:
            problems.append(str(exc))
            continue
        variants.append(variant)
    if problems:
        raise ProductValidationError(problems)
    return ProductInput(
        title=editor.title,
        slug=editor.slug,
        description=editor.description.strip(),
        status=editor.status,
        category_id=_int_or_none(editor.category_id),
        brand_id=_int_or_none(editor.brand_id),
        featured=editor.featured,
        tags=split_list(editor.tags),
        collection_ids=list(editor.collection_ids),
        options=editor_options(editor.options),
        variants=variants,
    )


# ---------------------------------------------------------------------------------------------------
# Saving a product
# ---------------------------------------------------------------------------------------------------


def _saved_options_and_variants(session: Session, product_id: int) -> tuple[list[OptionInput], list[VariantInput]]:
    option_rows = session.exec(
        select(ProductOption, ProductOptionValue)
        .join(ProductOptionValue, col(ProductOptionValue.option_id) == col(ProductOption.id))
        .where(ProductOption.product_id == product_id)
        .order_by(ProductOption.position, ProductOption.id, ProductOptionValue.position, ProductOptionValue.id)
    ).all()
    options: dict[int, OptionInput] = {}
    value_of: dict[int, tuple[int, str]] = {}
    for option, value in option_rows:
        options.setdefault(option.id, OptionInput(option.name, [])).values.append(value.value)
        value_of[value.id] = (list(options).index(option.id), value.value)
    variants = session.exec(
        select(Variant).where(Variant.product_id == product_id).order_by(Variant.position, Variant.id)
    ).all()
    links: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if variants:
        for link in session.exec(
            select(VariantOptionValue).where(col(VariantOptionValue.variant_id).in_([v.id for v in variants]))
        ):
            if link.option_value_id in value_of:
                links[link.variant_id].append(value_of[link.option_value_id])
    return list(options.values()), [
        VariantInput(
            values=[text for _, text in sorted(links[v.id])],
            price=v.price,
            compare_at_price=v.compare_at_price,
            stock_on_hand=v.stock_on_hand,
            weight_grams=v.weight_grams,
            track_inventory=v.track_inventory,
            sku=v.sku,
            id=v.id,
        )
        for v in variants
    ]


def _lock_product(session: Session, product_id: int) -> Product:
    product = session.exec(select(Product).where(Product.id == product_id).with_for_update()).first()
    if product is None:
        raise NotFound("There is no product with that number; it may have been deleted.")
    return product


def save_product(session: Session, actor: User | None, product_id: int | None, data: ProductInput) -> Product:
    """Create (``product_id`` None) or update a product with its options, variants, tags and
    collections, after checking everything (ProductValidationError lists every problem). Audited
    and re-indexed in the caller's transaction."""
    product = _lock_product(session, product_id) if product_id is not None else None
    existing_options, existing = _saved_options_and_variants(session, product_id) if product else ([], [])
    slug, options, variants = _validate(session, product_id, data, existing_options, existing)
    before = _snapshot(session, product) if product else None
    if product is None:
        product = Product(slug=slug, title="")
    product.title = " ".join(data.title.split())
    product.slug = slug
    product.description = data.description.strip()
    product.status = data.status
    product.category_id = data.category_id
    product.brand_id = data.brand_id
    product.featured = data.featured
    product.updated_at = utcnow()
    session.add(product)
    session.flush()
    # Links go first, through the session, so no stale link or value rows linger in it afterwards.
    saved_ids = [v.id for v in existing]
    if saved_ids:
        session.exec(delete(VariantOptionValue).where(col(VariantOptionValue.variant_id).in_(saved_ids)))
    value_ids = _sync_options(session, product.id, options)
    _sync_variants(session, product, options, variants, existing, value_ids)
    _sync_tags(session, product.id, data.tags)
    _sync_collections(session, product.id, data.collection_ids)
    refresh_price_range(session, product.id)
    session.flush()
    action = "product.update" if before is not None else "product.create"
    audit.record(session, actor, action, product, before, _snapshot(session, product), summary=product.title)
    schedule_reindex(session, [product.id])
    return product


def _sync_options(session: Session, product_id: int, options: Sequence[OptionInput]) -> dict[tuple[str, str], int]:
    """Make the product's options and values exactly ``options`` (rows kept where names match);
    returns (folded option name, folded value) -> option value id."""
    saved = {
        _fold(o.name): o for o in session.exec(select(ProductOption).where(ProductOption.product_id == product_id))
    }
    wanted = {_fold(o.name) for o in options}
    dropped = [option.id for name, option in saved.items() if name not in wanted]
    if dropped:
        session.exec(delete(ProductOptionValue).where(col(ProductOptionValue.option_id).in_(dropped)))
        session.exec(delete(ProductOption).where(col(ProductOption.id).in_(dropped)))
    session.flush()
    value_ids: dict[tuple[str, str], int] = {}
    for position, option in enumerate(options):
        row = saved.get(_fold(option.name)) or ProductOption(product_id=product_id, name=option.name)
        row.name, row.position = option.name, position
        session.add(row)
        session.flush()
        values = {
            _fold(v.value): v
            for v in session.exec(select(ProductOptionValue).where(ProductOptionValue.option_id == row.id))
        }
        keep = {_fold(v) for v in option.values}
        unused = [value.id for text, value in values.items() if text not in keep]
        if unused:
            session.exec(delete(ProductOptionValue).where(col(ProductOptionValue.id).in_(unused)))
        session.flush()
        for value_position, text in enumerate(option.values):
            value = values.get(_fold(text)) or ProductOptionValue(option_id=row.id, value=text)
            value.value, value.position = text, value_position
            session.add(value)
            session.flush()
            value_ids[(_fold(option.name), _fold(text))] = value.id
    return value_ids


def _sync_variants(
    session: Session,
    product: Product,
    options: Sequence[OptionInput],
    variants: Sequence[VariantInput],
    existing: Sequence[VariantInput],
    value_ids: dict[tuple[str, str], int],
) -> None:
    """Update the variants that are kept (matched by id, else by values), delete the rest, create
    the new ones with generated SKUs where none was typed, and link each to its option values."""
    saved = {v.id: v for v in session.exec(select(Variant).where(Variant.product_id == product.id))}
    by_values = {tuple(_fold(x) for x in v.values): v.id for v in existing}
    claimed: dict[int, int] = {}  # index in ``variants`` -> saved variant id
    for index, variant in enumerate(variants):
        if variant.id in saved and variant.id not in claimed.values():
            claimed[index] = variant.id
    for index, variant in enumerate(variants):
        match = by_values.get(tuple(_fold(x) for x in variant.values))
        if index not in claimed and match is not None and match not in claimed.values():
            claimed[index] = match
    gone = [vid for vid in saved if vid not in claimed.values()]
    if gone:
        session.exec(delete(Variant).where(col(Variant.id).in_(gone)))  # their cart lines cascade
    session.flush()
    # SKUs may move between kept variants (a swap): park the changing ones on unique temporary SKUs.
    for index, vid in claimed.items():
        if variants[index].sku and variants[index].sku != saved[vid].sku:
            saved[vid].sku = f"~{vid}"
            session.add(saved[vid])
    session.flush()
    reserved = {v.sku.upper() for v in variants if v.sku} | {
        saved[vid].sku.upper() for i, vid in claimed.items() if not variants[i].sku
    }
    names = [_fold(o.name) for o in options]
    for position, variant in enumerate(variants):
        row = saved[claimed[position]] if position in claimed else Variant(product_id=product.id, sku="", price=0)
        sku = variant.sku or (row.sku if position in claimed else "")
        if not sku:
            sku = _new_sku(session, product.slug, variant.values, reserved)
            reserved.add(sku.upper())
        row.sku = sku
        row.title = " / ".join(variant.values)
        row.price = variant.price
        row.compare_at_price = variant.compare_at_price
        row.stock_on_hand = variant.stock_on_hand
        row.weight_grams = variant.weight_grams
        row.track_inventory = variant.track_inventory
        row.position = position
        session.add(row)
        session.flush()
        for name, value in zip(names, variant.values, strict=True):
            session.add(VariantOptionValue(variant_id=row.id, option_value_id=value_ids[(name, _fold(value))]))
    session.flush()


def _new_sku(session: Session, slug: str, values: Sequence[str], reserved: set[str]) -> str:
    """``LINEN-SHIRT-M-RED``: the handle and the values, made unique in the store (``-2``, ``-3``…)."""
    parts = [_SKU_CHARS.sub("-", slug.upper()).strip("-")[:40] or "ITEM"]
    parts += [_SKU_CHARS.sub("", value.upper())[:10] or "X" for value in values]
    base = "-".join(parts)[: SKU_LENGTH - 4].strip("-")
    candidate, number = base, 2
    while candidate.upper() in reserved or _sku_owners(session, [candidate], None):
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _sync_tags(session: Session, product_id: int, names: Sequence[str]) -> None:
    wanted = {to_slug(name, TAG_LENGTH): name for name in names if to_slug(name, TAG_LENGTH)}
    tags = {t.slug: t for t in session.exec(select(Tag).where(col(Tag.slug).in_(list(wanted))))} if wanted else {}
    for slug, name in wanted.items():
        if slug not in tags:
            tags[slug] = Tag(slug=slug, name=name)
            session.add(tags[slug])
    session.flush()
    session.exec(delete(ProductTag).where(col(ProductTag.product_id) == product_id))
    session.add_all(ProductTag(product_id=product_id, tag_id=tag.id) for tag in tags.values())
    session.flush()


def _sync_collections(session: Session, product_id: int, collection_ids: Sequence[int]) -> None:
    """Membership only changes where it differs, so a product keeps its place in a collection."""
    current = set(
        session.exec(select(CollectionProduct.collection_id).where(CollectionProduct.product_id == product_id))
    )
    wanted = set(collection_ids)
    if current - wanted:
        session.exec(
            delete(CollectionProduct).where(
                col(CollectionProduct.product_id) == product_id,
                col(CollectionProduct.collection_id).in_(current - wanted),
            )
        )
    for collection_id in sorted(wanted - current):
        session.add(
            CollectionProduct(
                collection_id=collection_id, product_id=product_id, position=next_position(session, collection_id)
            )
        )
    session.flush()


def next_position(session: Session, collection_id: int) -> int:
    """After the collection's last product."""
    last = session.exec(
        select(func.max(CollectionProduct.position)).where(CollectionProduct.collection_id == collection_id)
    ).one()
    return 0 if last is None else last + 1


def _snapshot(session: Session, product: Product) -> dict:
    """What the audit log shows of a product: its fields with names instead of ids, and one line per
    option and per variant."""
    currency = store_identity.currency(session)
    options, variants = _saved_options_and_variants(session, product.id)
    tags = session.exec(
        select(Tag.name)
        .join(ProductTag, col(ProductTag.tag_id) == col(Tag.id))
        .where(ProductTag.product_id == product.id)
        .order_by(Tag.name)
    ).all()
    collections = session.exec(
        select(Collection.title)
        .join(CollectionProduct, col(CollectionProduct.collection_id) == col(Collection.id))
        .where(CollectionProduct.product_id == product.id)
        .order_by(Collection.title)
    ).all()
    category = session.get(Category, product.category_id) if product.category_id else None
    brand = session.get(Brand, product.brand_id) if product.brand_id else None
    return {
        "title": product.title,
        "slug": product.slug,
        "status": product.status,
        "category": category.name if category else None,
        "brand": brand.name if brand else None,
        "featured": product.featured,
        "description": product.description,
        "tags": list(tags),
        "collections": list(collections),
        "options": [f"{o.name}: {', '.join(o.values)}" for o in options],
        "variants": [_variant_line(v, currency) for v in variants],
    }


def _variant_line(variant: VariantInput, currency: str) -> str:
    price = format_money(variant.price, currency)
    if variant.compare_at_price:
        price += f" (was {format_money(variant.compare_at_price, currency)})"
    stock = f"{variant.stock_on_hand} in stock" if variant.track_inventory else "stock not tracked"
    return f"{variant.sku} · {variant_label(variant.values)} · {price} · {stock} · {variant.weight_grams} g"


def schedule_reindex(session: Session, product_ids: Iterable[int]) -> None:
    """Keyword re-index and re-embedding of each product once the caller's transaction commits."""
    ids = sorted(set(product_ids))
    schedule_product_index(session, *ids)
    for product_id in ids:
        schedule_product_embedding(session, product_id)


def _has_orders(session: Session, product_ids: Sequence[int]) -> set[int]:
    if not product_ids:
        return set()
    return set(
        session.exec(select(OrderLine.product_id).where(col(OrderLine.product_id).in_(list(product_ids))).distinct())
    )


# ---------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------


def product_images(session: Session, product_id: int) -> list[ImageView]:
    rows = session.exec(
        select(ProductImage)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
    ).all()
    return [ImageView(i.id, image_url(i.storage_key), i.alt, position) for position, i in enumerate(rows)]


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def check_image(data: bytes, filename: str = "") -> tuple[str, str]:
    """(extension, content type) of an uploaded picture, judged by its bytes only: the name and the
    browser's claimed type are ignored, so a text file renamed to .png is refused. The whole image is
    decoded, so a truncated or corrupt file is refused too."""
    name = f"“{filename}”" if filename else "The file"
    if not data:
        raise ValidationError(f"{name} is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError(
            f"{name} is {_megabytes(len(data))}; images can be up to {_megabytes(MAX_IMAGE_BYTES)}. "
            "Save it smaller (2000 pixels across is plenty) and try again."
        )
    not_an_image = ValidationError(f"{name} is not a picture the store can use: upload {ALLOWED_IMAGE_TEXT}.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            if kind in IMAGE_FORMATS and width * height <= MAX_IMAGE_PIXELS:
                image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise not_an_image from exc
    if kind not in IMAGE_FORMATS:
        raise ValidationError(f"{name} is a {kind} image; upload {ALLOWED_IMAGE_TEXT}.")
    if width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(f"{name} is {width}×{height} pixels, too large; make it smaller than 6000×6000.")
    return IMAGE_FORMATS[kind]


def upload_image(
    session: Session, actor: User | None, product_id: int, data: bytes, filename: str = "", alt: str = ""
) -> ImageView:
    """Check and store a picture for the product (after its current ones). The file is written to
    storage before the row: if the transaction then fails, an unused file is left, never a row
    pointing at nothing."""
    product = _lock_product(session, product_id)
    extension, content_type = check_image(data, filename)
    key = content_key(f"products/{product.id}", data, extension)
    if session.exec(
        select(ProductImage.id).where(ProductImage.product_id == product.id, ProductImage.storage_key == key)
    ).first():
        raise ValidationError(f"“{filename or 'This picture'}” is already one of this product's images.")
    get_storage().put(key, data, content_type)
    last = session.exec(select(func.max(ProductImage.position)).where(ProductImage.product_id == product.id)).one()
    image = ProductImage(
        product_id=product.id,
        storage_key=key,
        alt=" ".join(alt.split())[:ALT_LENGTH],
        position=0 if last is None else last + 1,
    )
    session.add(image)
    _touch(session, product)
    session.flush()
    after = {"image": key, "file": filename[:120], "bytes": len(data)}
    audit.record(session, actor, "product.image_add", product, None, after, summary=product.title)
    schedule_reindex(session, [product.id])
    return next(view for view in product_images(session, product.id) if view.id == image.id)


def _image(session: Session, image_id: int) -> tuple[ProductImage, Product]:
    image = session.get(ProductImage, image_id)
    if image is None:
        raise NotFound("That image is gone; it may have been deleted already.")
    return image, _lock_product(session, image.product_id)


def _touch(session: Session, product: Product) -> None:
    product.updated_at = utcnow()
    session.add(product)


def set_image_alt(session: Session, actor: User | None, image_id: int, alt: str) -> None:
    """The text read out in place of the picture; blank means the product title is used."""
    image, product = _image(session, image_id)
    alt = " ".join(alt.split())
    if len(alt) > ALT_LENGTH:
        raise ValidationError(f"Alt text can be at most {ALT_LENGTH} characters.")
    before = {"alt": image.alt}
    image.alt = alt
    session.add(image)
    if audit.record(session, actor, "product.image_alt", product, before, {"alt": alt}, summary=product.title):
        _touch(session, product)
        schedule_reindex(session, [product.id])


def reorder_images(session: Session, actor: User | None, product_id: int, image_ids: Sequence[int]) -> None:
    """Put the product's images in exactly this order (the first is the one listings show)."""
    product = _lock_product(session, product_id)
    images = {
        i.id: i
        for i in session.exec(
            select(ProductImage).where(ProductImage.product_id == product.id).order_by(ProductImage.position)
        )
    }
    if sorted(image_ids) != sorted(images) or len(set(image_ids)) != len(image_ids):
        raise ValidationError("The images changed meanwhile; reload the page and try again.")
    before = {"order": [images[i].storage_key for i in images]}
    for position, image_id in enumerate(image_ids):
        images[image_id].position = position
        session.add(images[image_id])
    after = {"order": [images[i].storage_key for i in image_ids]}
    if audit.record(session, actor, "product.image_order", product, before, after, summary=product.title):
        _touch(session, product)
        schedule_reindex(session, [product.id])


def move_image(session: Session, actor: User | None, image_id: int, offset: int) -> None:
    """Move one image earlier (-1) or later (+1); at either end nothing changes."""
    image, product = _image(session, image_id)
    order = [view.id for view in product_images(session, product.id)]
    index = order.index(image.id)
    target = max(0, min(len(order) - 1, index + offset))
    if target != index:
        order.insert(target, order.pop(index))
        reorder_images(session, actor, product.id, order)


def delete_image(session: Session, actor: User | None, image_id: int) -> None:
    """Remove the image; its file goes once the change commits, unless another image uses it."""
    image, product = _image(session, image_id)
    key = image.storage_key
    session.delete(image)
    session.flush()
    _forget_files(session, [key])
    _touch(session, product)
    audit.record(session, actor, "product.image_delete", product, {"image": key}, None, summary=product.title)
    schedule_reindex(session, [product.id])


def _forget_files(session: Session, keys: Iterable[str]) -> None:
    """Delete these stored images after commit when no image row refers to them any more."""
    from revoque import jobs  # jobs import services: import here to avoid a cycle

    keys = sorted(set(keys))
    if not keys:
        return
    used = set(session.exec(select(ProductImage.storage_key).where(col(ProductImage.storage_key).in_(keys))))
    for key in keys:
        if key not in used:
            enqueue_after_commit(session, jobs.delete_file, IMAGES, key)


# ---------------------------------------------------------------------------------------------------
# Bulk actions
# ---------------------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    message: str
    changed: int = 0
    deleted: int = 0
    archived_instead: int = 0


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _selected(session: Session, product_ids: Sequence[int], lock: bool = True) -> list[Product]:
    ids = sorted({int(i) for i in product_ids})
    if not ids:
        raise ValidationError("Select at least one product first.")
    if len(ids) > MAX_BULK:
        raise ValidationError(f"Select at most {MAX_BULK} products at a time.")
    statement = select(Product).where(col(Product.id).in_(ids)).order_by(Product.id)
    products = list(session.exec(statement.with_for_update() if lock else statement))
    if not products:
        raise NotFound("None of the selected products exists any more; reload the page.")
    return products


def bulk_set_status(session: Session, actor: User | None, product_ids: Sequence[int], status: str) -> BulkResult:
    """Activate or archive (or return to draft) the selected products."""
    if status not in {s.value for s in ProductStatus}:
        raise ValidationError(f"“{status}” is not a product status.")
    changed = []
    products = _selected(session, product_ids)
    for product in products:
        if product.status == status:
            continue
        before = {"status": product.status}
        product.status = status
        _touch(session, product)
        action = f"product.{_status_verb(status)}"
        audit.record(session, actor, action, product, before, {"status": status}, product.title)
        changed.append(product.id)
    schedule_reindex(session, changed)
    verb = {"active": "Activated", "archived": "Archived", "draft": "Moved to draft"}[status]
    unchanged = len(products) - len(changed)
    message = f"{verb} {_plural(len(changed), 'product')}."
    if unchanged > 0 and changed:
        message += f" {_plural(unchanged, 'other')} {'were' if unchanged > 1 else 'was'} already {status}."
    elif not changed:
        message = f"Nothing to change: the selected products are already {status}."
    return BulkResult(message, changed=len(changed))


def _status_verb(status: str) -> str:
    return {"active": "activate", "archived": "archive", "draft": "draft"}[status]


def changed_price(price: int, percent: Decimal, currency: str) -> int:
    """``price`` changed by ``percent``, rounded half up to whole units of ``currency``, never below 0."""
    unit = 10 ** currency_info(currency).exponent
    scaled = Decimal(price) * (Decimal(100) + percent) / Decimal(100) / Decimal(unit)
    return max(0, int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * unit)


def bulk_change_price(
    session: Session, actor: User | None, product_ids: Sequence[int], percent: Decimal | str
) -> BulkResult:
    """Change every variant price of the selected products by ``percent`` (see ``changed_price``).
    Compare-at prices stay, unless no longer above the new price: then they are removed."""
    percent = parse_percent(str(percent)) if not isinstance(percent, Decimal) else percent
    if not MIN_PERCENT <= percent <= MAX_PERCENT or percent == 0:
        raise ValidationError("The change must be between -100% and +1000%, and not 0.")
    products = _selected(session, product_ids)
    currency = store_identity.currency(session)
    money = partial(format_money, currency=currency)
    variants: dict[int, list[Variant]] = defaultdict(list)
    for variant in session.exec(
        select(Variant)
        .where(col(Variant.product_id).in_([p.id for p in products]))
        .order_by(Variant.product_id, Variant.id)
        .with_for_update()
    ):
        variants[variant.product_id].append(variant)
    cleared = 0
    changed = []
    for product in products:
        before = {"prices": [f"{v.sku}: {money(v.price)}" for v in variants[product.id]]}
        for variant in variants[product.id]:
            variant.price = changed_price(variant.price, percent, currency)
            if variant.compare_at_price is not None and variant.compare_at_price <= variant.price:
                variant.compare_at_price = None
                cleared += 1
            session.add(variant)
        after = {"prices": [f"{v.sku}: {money(v.price)}" for v in variants[product.id]]}
        session.flush()
        refresh_price_range(session, product.id)
        summary = f"{product.title} ({percent:+}%)"
        if audit.record(session, actor, "product.price_change", product, before, after, summary):
            _touch(session, product)
            changed.append(product.id)
    schedule_reindex(session, changed)
    message = f"Changed the prices of {_plural(len(changed), 'product')} by {percent:+}%."
    if cleared:
        were = "were" if cleared > 1 else "was"
        message += f" {_plural(cleared, 'compare-at price')} no longer above the new price {were} removed."
    return BulkResult(message, changed=len(changed))


def bulk_delete(
    session: Session, actor: User | None, product_ids: Sequence[int], confirmed: bool = False
) -> BulkResult:
    """Delete the selected products, with their variants, images and links. Products that appear on
    orders are archived instead (orders point at them), and the message says so."""
    if not confirmed:
        raise ValidationError("Confirm the deletion first: deleted products cannot be brought back.")
    products = _selected(session, product_ids)
    ordered = _has_orders(session, [p.id for p in products])
    keep = [p for p in products if p.id in ordered]
    remove = [p for p in products if p.id not in ordered]
    for product in keep:
        if product.status != ProductStatus.ARCHIVED:
            before = {"status": product.status}
            product.status = ProductStatus.ARCHIVED.value
            _touch(session, product)
            audit.record(
                session, actor, "product.archive", product, before, {"status": "archived"},
                f"{product.title} (has orders, so archived instead of deleted)",
            )  # fmt: skip
    keys = list(
        session.exec(select(ProductImage.storage_key).where(col(ProductImage.product_id).in_([p.id for p in remove])))
    )
    for product in remove:
        audit.record(session, actor, "product.delete", product, _snapshot(session, product), None, product.title)
    if remove:
        session.exec(delete(Product).where(col(Product.id).in_([p.id for p in remove])))  # the rest cascades
        session.flush()
        _forget_files(session, keys)
    schedule_reindex(session, [p.id for p in products])
    parts = [f"Deleted {_plural(len(remove), 'product')}."] if remove else []
    if keep:
        were = "they have" if len(keep) > 1 else "it has"
        parts.append(
            f"{_plural(len(keep), 'product')} archived instead of deleted because {were} orders: "
            "orders must keep pointing at what was sold, and archived products are hidden from the store."
        )
    return BulkResult(" ".join(parts), changed=len(products), deleted=len(remove), archived_instead=len(keep))


def run_bulk(
    session: Session,
    actor: User | None,
    action: str,
    product_ids: Sequence[int],
    percent: str = "",
    confirmed: bool = False,
) -> BulkResult:
    """One entry point for the table's bulk bar."""
    if action == BulkAction.ACTIVATE:
        return bulk_set_status(session, actor, product_ids, ProductStatus.ACTIVE.value)
    if action == BulkAction.ARCHIVE:
        return bulk_set_status(session, actor, product_ids, ProductStatus.ARCHIVED.value)
    if action == BulkAction.PRICE:
        return bulk_change_price(session, actor, product_ids, parse_percent(percent))
    if action == BulkAction.DELETE:
        return bulk_delete(session, actor, product_ids, confirmed)
    raise ValidationError(f"“{action}” is not something the product table can do.")
