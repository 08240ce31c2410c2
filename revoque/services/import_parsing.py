"""Spreadsheet rows to product drafts, without the database: shapes, column mapping, cell parsers.

This is step 1 of a product import (see ``revoque.services.product_import``): the sheet's shape is
detected (our template, Shopify's product CSV, or any sheet through a column mapping), every cell is
parsed (prices written as text, yes/no, weights with units, HTML descriptions), and rows are grouped
into products by handle. Problems name the spreadsheet row, the file's own column header and the
reason; bad input never raises.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

from revoque.errors import ValidationError
from revoque.models import ProductStatus
from revoque.services.html_clean import clean_description
from revoque.services.money import parse_money
from revoque.services.sheets import Sheet, column_letter

# ---------------------------------------------------------------------------------------------------
# Fields, the template and the shapes
# ---------------------------------------------------------------------------------------------------

MAX_OPTIONS = 3
INT_MAX = 2_147_483_647  # prices, stock and weights are 32-bit integer columns
MAPPING_THRESHOLD = 0.6  # suggestions at least this confident are used when no mapping is given

PRODUCT_FIELDS = ("handle", "title", "description", "status", "featured", "brand", "category", "collections", "tags")
OPTION_FIELDS = tuple(f"option{i}_{part}" for i in range(1, MAX_OPTIONS + 1) for part in ("name", "value"))
VARIANT_FIELDS = ("sku", "price", "compare_at_price", "stock", "track_inventory", "weight_grams")
IMAGE_FIELDS = ("images", "image_alts")
TEMPLATE_COLUMNS: tuple[str, ...] = (*PRODUCT_FIELDS, *OPTION_FIELDS, *VARIANT_FIELDS, *IMAGE_FIELDS)
FIELDS = frozenset(TEMPLATE_COLUMNS)

TEMPLATE_HELP: dict[str, str] = {
    "handle": "The product's address (/product/<handle>): letters, digits and dashes. Rows with the same handle "
    "are one product. Blank: made from the title.",
    "title": "Product name. Needed for new products; blank leaves an existing title as it is.",
    "description": "Plain text (HTML is accepted and turned into text).",
    "status": "active, draft or archived. Blank: draft for new products, unchanged otherwise.",
    "featured": "yes/no: shown in the home page's featured list.",
    "brand": "Brand name; created if the store does not have it.",
    "category": 'Category path such as "Fashion > Shirts"; missing categories are created.',
    "collections": "Collection names separated by commas; missing ones are created.",
    "tags": "Tags separated by commas.",
    "option1_name": "First option, e.g. Size (up to three options).",
    "option1_value": "This variant's value of option 1, e.g. M.",
    "sku": "Unique stock-keeping unit; rows are matched to existing variants by SKU.",
    "price": 'Selling price in the store currency: "12500", "12,500.00" or "₦12,500".',
    "compare_at_price": "Previous price, shown struck through. Blank: not on sale.",
    "stock": "Units on hand (whole number). Blank: 0 for new variants, unchanged otherwise.",
    "track_inventory": "yes/no: whether stock is counted. Blank: yes for new variants.",
    "weight_grams": 'Weight in grams ("250", or with a unit: "1.2 kg", "8 oz").',
    "images": "Images already in the store (storage keys from an export), one per line or separated by |.",
    "image_alts": "Alt text of each image, one per line, in the same order.",
}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "handle": ("handle", "slug", "url handle", "product handle", "url key", "permalink"),
    "title": ("title", "name", "product name", "product title", "product", "item name", "item"),
    "description": (
        "description",
        "body",
        "body html",
        "details",
        "product description",
        "long description",
        "summary",
    ),
    "status": ("status", "state", "product status", "visibility", "published"),
    "featured": ("featured", "is featured", "highlight"),
    "brand": ("brand", "vendor", "manufacturer", "maker", "make", "brand name", "supplier"),
    "category": ("category", "category path", "type", "product type", "department", "product category", "section"),
    "collections": ("collections", "collection"),
    "tags": ("tags", "tag", "keywords", "labels"),
    "sku": ("sku", "variant sku", "item code", "product code", "code", "article number", "item number", "part number"),
    "price": ("price", "variant price", "selling price", "sale price", "unit price", "retail price", "amount"),
    "compare_at_price": (
        "compare at price",
        "variant compare at price",
        "compare price",
        "was price",
        "original price",
        "old price",
        "regular price",
        "list price",
        "rrp",
        "msrp",
    ),
    "stock": (
        "stock",
        "quantity",
        "qty",
        "inventory",
        "variant inventory qty",
        "stock quantity",
        "on hand",
        "stock on hand",
        "in stock",
        "stock level",
        "available",
        "inventory quantity",
    ),
    "track_inventory": ("track inventory", "track stock", "manage stock", "variant inventory tracker"),
    "weight_grams": ("weight grams", "weight", "grams", "variant grams", "weight g", "weight kg", "mass"),
    "images": ("images", "image", "image src", "image url", "image urls", "picture", "photo", "photos", "pictures"),
    "image_alts": ("image alts", "image alt", "image alt text", "alt text", "alt"),
    **{
        f"option{i}_{part}": (f"option{i} {part}", f"option {i} {part}")
        for i in range(1, MAX_OPTIONS + 1)
        for part in ("name", "value")
    },
}
# Headers that usually hold an option's values: mapped to ``option:<header>`` (the header names it).
OPTION_HEADERS = frozenset(
    {"size", "colour", "color", "material", "style", "storage", "capacity", "volume", "flavour", "flavor", "finish"}
)
OPTION_TARGET = "option:"

SHOPIFY_COLUMNS: dict[str, str] = {
    "handle": "handle",
    "title": "title",
    "body html": "description",
    "vendor": "brand",
    "type": "category",
    "product category": "shopify_category",
    "tags": "tags",
    "published": "published",
    "status": "status",
    **{f"option{i} {part}": f"option{i}_{part}" for i in range(1, MAX_OPTIONS + 1) for part in ("name", "value")},
    "variant sku": "sku",
    "variant price": "price",
    "variant compare at price": "compare_at_price",
    "variant inventory qty": "stock",
    "variant inventory tracker": "track_inventory",
    "variant grams": "weight_grams",
    "image src": "images",
    "image position": "image_position",
    "image alt text": "image_alts",
    "variant image": "variant_image",
}
SHOPIFY_MARKERS = frozenset({"variant price", "variant sku", "body html", "variant inventory qty", "image src"})
SHOPIFY_DEFAULT_OPTION = ("title", "default title")


class Shape(StrEnum):
    TEMPLATE = "template"
    SHOPIFY = "shopify"
    MAPPED = "mapped"


def normalise_header(header: str) -> str:
    """``"Variant Compare At Price"``, ``"compare_at_price"`` and ``"Compare-at price "`` all read
    ``"compare at price"``; ``"Body (HTML)"`` reads ``"body html"``."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_TEMPLATE_BY_HEADER = {normalise_header(name): name for name in TEMPLATE_COLUMNS}


def detect_shape(headers: Sequence[str]) -> Shape:
    """Shopify when its variant/body columns are there with a Handle; our template when its handle,
    title and price columns are; anything else needs a column mapping."""
    names = {normalise_header(header) for header in headers}
    if "handle" in names and names & SHOPIFY_MARKERS:
        return Shape.SHOPIFY
    known = {name for name in names if name in _TEMPLATE_BY_HEADER}
    if {"handle", "title", "price"} <= known and len(known) >= len([n for n in names if n]) * 0.8:
        return Shape.TEMPLATE
    return Shape.MAPPED


# --- mapping suggestions -------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingSuggestion:
    """``field`` is one of TEMPLATE_COLUMNS, ``option:<Name>`` or None (ignore the column)."""

    header: str
    field: str | None
    confidence: float


def _score(name: str, field_name: str) -> float:
    synonyms = SYNONYMS.get(field_name, ())
    if name == normalise_header(field_name) or (synonyms and name == synonyms[0]):
        return 1.0
    if name in synonyms:
        return 0.9
    words = set(name.split())
    best = 0.0
    for synonym in synonyms:
        if len(synonym) > 2 and set(synonym.split()) <= words:
            best = max(best, 0.75)  # "Retail Price (NGN)" contains "retail price"
        best = max(best, difflib.SequenceMatcher(None, name, synonym).ratio() * 0.8)
    return best


def suggest_mapping(headers: Sequence[str]) -> list[MappingSuggestion]:
    """For each header, the field it most likely holds, with a confidence from 0 to 1. Each field is
    given to at most one column (the most confident); option-like headers (Size, Colour…) become
    options named after the header, up to three."""
    names = [normalise_header(header) for header in headers]
    candidates = sorted(
        (
            (_score(name, field_name), index, field_name)
            for index, name in enumerate(names)
            if name
            for field_name in SYNONYMS
        ),
        key=lambda item: (-item[0], item[1]),
    )
    chosen: dict[int, tuple[str, float]] = {}
    taken: set[str] = set()
    for score, index, field_name in candidates:
        if score < 0.5 or index in chosen or field_name in taken:
            continue
        chosen[index] = (field_name, round(score, 2))
        taken.add(field_name)
    options = 0
    for index, name in enumerate(names):
        if index not in chosen and name in OPTION_HEADERS and options < MAX_OPTIONS:
            chosen[index] = (OPTION_TARGET + headers[index].strip(), 0.8)
            options += 1
    return [MappingSuggestion(header, *chosen.get(index, (None, 0.0))) for index, header in enumerate(headers)]


# ---------------------------------------------------------------------------------------------------
# Problems, previews and results
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file. ``row`` is the spreadsheet's row number (None for the whole
    file), ``column`` the file's own header. Errors stop the import; warnings do not."""

    row: int | None
    column: str
    message: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "severity": self.severity}


@dataclass
class Counts:
    rows: int = 0
    rows_skipped: int = 0
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            if name not in ("rows", "rows_skipped"):
                setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Preview:
    """What an import would do: counts (of what the valid rows would write), every problem, which
    column feeds which field, and a sample of products with their action."""

    shape: Shape
    counts: Counts
    problems: list[Problem]
    columns: dict[str, str]  # field -> the file's header
    ignored_columns: list[str]
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.is_error]

    def can_apply(self, only_valid_rows: bool = False) -> bool:
        return not self.errors or (only_valid_rows and not any(p.row is None for p in self.errors))


@dataclass
class ImportResult:
    written: bool
    counts: Counts
    problems: list[Problem]
    product_ids: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        errors = sum(problem.is_error for problem in self.problems)
        return {**self.counts.as_dict(), "errors": errors, "warnings": len(self.problems) - errors}


# ---------------------------------------------------------------------------------------------------
# Cell parsers (pure)
# ---------------------------------------------------------------------------------------------------

_CURRENCY_MARKS = frozenset({"₦", "$", "€", "£", "¥", "gh₵", "ksh", "r", "n", "us$", "ngn", "naira"})
_PRICE_NUMBER = re.compile(r"\d[\d,  ]*(?:\.\d+)?|\.\d+")
_TRUE = frozenset({"true", "yes", "y", "1", "on", "t", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f", ""})
_STATUSES = {
    "active": ProductStatus.ACTIVE,
    "published": ProductStatus.ACTIVE,
    "live": ProductStatus.ACTIVE,
    "enabled": ProductStatus.ACTIVE,
    "visible": ProductStatus.ACTIVE,
    "draft": ProductStatus.DRAFT,
    "unpublished": ProductStatus.DRAFT,
    "hidden": ProductStatus.DRAFT,
    "disabled": ProductStatus.DRAFT,
    "inactive": ProductStatus.DRAFT,
    "archived": ProductStatus.ARCHIVED,
    "archive": ProductStatus.ARCHIVED,
}
_WEIGHT_UNITS = {"g": 1, "gr": 1, "gram": 1, "grams": 1, "kg": 1000, "kgs": 1000, "lb": 453.59237}
_WEIGHT_UNITS |= {"lbs": 453.59237, "oz": 28.349523125}
_clean_description = lru_cache(maxsize=1024)(clean_description)  # template rows repeat it per variant
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,159}")  # a handle already in slug form is kept exactly
_WEIGHT = re.compile(r"(\d[\d,]*(?:\.\d+)?|\.\d+)\s*([a-z]*)")


def parse_price(text: str, currency: str) -> int:
    """A price as people write it, in minor units: ``"$1,299.00"``, ``"₦ 12,500"``, ``"N12500"``,
    ``"12500 NGN"`` and ``"12500"`` all work. Currency marks are read and dropped (the amount is
    taken in the store's currency); negative, ambiguous ("1.299,00") or non-numeric text is refused."""
    compact = text.replace("\xa0", " ").replace("\u202f", " ").strip()
    if not compact:
        raise ValidationError("A price is needed")
    first_digit = re.search(r"\d", compact)
    lead = compact[: first_digit.start()] if first_digit else compact
    if "-" in lead or "−" in lead or (compact.startswith("(") and compact.endswith(")")):
        raise ValidationError(f"{text!r}: prices cannot be negative")
    match = _PRICE_NUMBER.search(compact)
    if match is None:
        raise ValidationError(f"{text!r} is not a price")
    prefix, suffix = compact[: match.start()].strip(" +").lower(), compact[match.end() :].strip().lower()
    if (prefix and prefix not in _CURRENCY_MARKS and not re.fullmatch(r"[a-z]{3}", prefix)) or (
        suffix and suffix not in _CURRENCY_MARKS and not re.fullmatch(r"[a-z]{3}", suffix)
    ):
        raise ValidationError(f"{text!r} is not a price")
    try:
        amount = parse_money(match.group().replace(" ", "").replace(" ", ""), currency)
    except ValidationError as exc:
        raise ValidationError(f"{text!r} is not a price: {exc}") from exc
    if amount > INT_MAX:
        raise ValidationError(f"{text!r} is larger than the store can hold")
    return amount


def parse_count(text: str) -> int:
    """A whole, non-negative number of units: ``"12"``, ``"1,200"``, ``"12.0"`` (how Excel may store 12)."""
    cleaned = text.replace(",", "").replace(" ", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationError(f"{text!r} is not a whole number") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise ValidationError(f"{text!r} is not a whole number")
    if number < 0:
        raise ValidationError(f"{text!r} cannot be negative")
    if number > INT_MAX:
        raise ValidationError(f"{text!r} is too large")
    return int(number)


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(f"{text!r} is not yes or no")


def parse_status(text: str) -> str:
    status = _STATUSES.get(text.strip().lower())
    if status is None:
        raise ValidationError(f"{text!r} is not a status (use active, draft or archived)")
    return status.value


def parse_weight(text: str, default_unit: str = "g") -> int:
    """Grams from ``"250"``, ``"250 g"``, ``"1.2kg"``, ``"8 oz"``; bare numbers are in ``default_unit``."""
    match = _WEIGHT.fullmatch(text.strip().lower())
    if match is None:
        raise ValidationError(f"{text!r} is not a weight (use grams, or add a unit: g, kg, lb, oz)")
    number, unit = Decimal(match.group(1).replace(",", "")), match.group(2) or default_unit
    if unit not in _WEIGHT_UNITS:
        raise ValidationError(f"{text!r}: unknown weight unit {unit!r} (use g, kg, lb or oz)")
    grams = int((number * Decimal(str(_WEIGHT_UNITS[unit]))).to_integral_value())
    if grams > INT_MAX:
        raise ValidationError(f"{text!r} is too heavy to store")
    return grams


@lru_cache(maxsize=16_384)
def to_slug(text: str, max_length: int = 160) -> str:
    """``"Ankara Midi Dress — Ọ̀ṣun"`` → ``"ankara-midi-dress-osun"``: accents folded, '&' read as
    'and', anything else that is not a letter or digit becomes a dash."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ").replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:max_length].strip("-")


def split_list(text: str) -> list[str]:
    """Comma-separated names (tags, collections), blanks dropped, duplicates (by slug) dropped."""
    seen: set[str] = set()
    items = []
    for item in text.split(","):
        name = " ".join(item.split())
        if name and to_slug(name) not in seen:
            seen.add(to_slug(name))
            items.append(name)
    return items


def split_images(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n|]", text) if part.strip()]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")]


def split_path(text: str) -> list[str]:
    return [" ".join(part.split()) for part in text.split(">") if part.strip()]


# ---------------------------------------------------------------------------------------------------
# Step 1: rows to product drafts (pure)
# ---------------------------------------------------------------------------------------------------


@dataclass
class VariantDraft:
    row: int
    sku: str
    option_values: dict[int, str]  # option index (0-based) -> value, as given
    fields: dict[str, Any]  # price, compare_at_price, stock, track_inventory, weight_grams (given ones)
    values: tuple[str, ...] = ()  # in the product's option order, set when the product is checked


@dataclass
class ProductDraft:
    """One product as the file describes it. ``fields`` holds only fields whose column is present;
    ``options`` is None when the rows name no option, ``images`` None when there is no image column."""

    handle: str
    first_row: int
    rows: list[int] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    field_rows: dict[str, int] = field(default_factory=dict)
    options: list[str] | None = None
    variants: list[VariantDraft] = field(default_factory=list)
    images: list[tuple[str, str, int]] | None = None  # (reference, alt, row)
    from_sku: bool = False  # rows had no handle: the product is found through their SKUs


@dataclass
class ParsedFile:
    shape: Shape
    columns: dict[str, str]
    ignored_columns: list[str]
    drafts: list[ProductDraft]
    problems: list[Problem]
    rows: int
    bad_product_rows: dict[str, list[int]] = field(default_factory=dict)  # handle -> rows of a skipped product
    skipped_rows: set[int] = field(default_factory=set)


@dataclass
class _Row:
    number: int
    values: dict[str, str]  # field -> cell text, for the fields the file has


class _Collector:
    """Problems of one parse, with the row sets they make invalid."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = columns
        self.problems: list[Problem] = []

    def column(self, field_name: str) -> str:
        return self.columns.get(field_name, field_name)

    def error(self, row: int | None, field_name: str, message: str) -> None:
        self.problems.append(Problem(row, self.column(field_name) if field_name else "", message))

    def warning(self, row: int | None, field_name: str, message: str) -> None:
        self.problems.append(Problem(row, self.column(field_name) if field_name else "", message, "warning"))


def _template_columns(headers: Sequence[str]) -> dict[int, str]:
    return {
        i: _TEMPLATE_BY_HEADER[normalise_header(h)]
        for i, h in enumerate(headers)
        if normalise_header(h) in _TEMPLATE_BY_HEADER
    }


def _shopify_columns(headers: Sequence[str]) -> dict[int, str]:
    return {
        i: SHOPIFY_COLUMNS[normalise_header(h)] for i, h in enumerate(headers) if normalise_header(h) in SHOPIFY_COLUMNS
    }


def _mapped_columns(headers: Sequence[str], mapping: dict[str, str] | None, problems: _Collector) -> dict[int, str]:
    """Header -> field from the caller's mapping (or the confident suggestions). ``option:<Name>``
    targets take the next free option slot."""
    if mapping is None:
        mapping = {s.header: s.field for s in suggest_mapping(headers) if s.field and s.confidence >= MAPPING_THRESHOLD}
    result: dict[int, str] = {}
    used: dict[str, str] = {}
    option_slot = 0
    for index, header in enumerate(headers):
        target = (mapping.get(header) or "").strip()
        if not target:
            continue
        if target.startswith(OPTION_TARGET):
            name = target[len(OPTION_TARGET) :].strip() or header
            if option_slot >= MAX_OPTIONS:
                problems.error(None, "", f"Column {header!r}: at most {MAX_OPTIONS} options can be mapped")
                continue
            result[index] = f"option{option_slot + 1}_value"
            result[-(index + 1)] = f"{OPTION_TARGET}{name}"  # the option's name rides along (see _rows)
            option_slot += 1
            continue
        if target not in FIELDS:
            problems.error(None, "", f"Column {header!r} is mapped to {target!r}, which is not a field")
            continue
        if target in used:
            problems.error(None, "", f"Columns {used[target]!r} and {header!r} are both mapped to {target}")
            continue
        used[target] = header
        result[index] = target
    return result


def _column_fields(sheet: Sheet, shape: Shape, mapping: dict[str, str] | None, problems: _Collector) -> dict[int, str]:
    if shape == Shape.TEMPLATE:
        return _template_columns(sheet.headers)
    if shape == Shape.SHOPIFY:
        return _shopify_columns(sheet.headers)
    return _mapped_columns(sheet.headers, mapping, problems)


def _rows(sheet: Sheet, column_fields: dict[int, str]) -> Iterable[_Row]:
    plain = [(i, name) for i, name in column_fields.items() if i >= 0]
    option_names = {
        name: column_fields[-(i + 1)][len(OPTION_TARGET) :] for i, name in plain if -(i + 1) in column_fields
    }
    for number, cells in sheet.rows:
        values = {name: cells[i] for i, name in plain}
        for value_field, option_name in option_names.items():
            if values.get(value_field):
                values[value_field.replace("_value", "_name")] = option_name
        yield _Row(number, values)


def _header_unit(header: str) -> str:
    words = set(normalise_header(header).split())
    return next((unit for unit in ("kg", "lb", "lbs", "oz") if unit in words), "g")


def _shopify_row(row: _Row) -> _Row:
    """Shopify's columns in our terms: Published/Status to one status, the tracker to yes/no,
    Type (or the standard Product Category) to the category, Variant Image to an image."""
    values = dict(row.values)
    published = values.pop("published", "").strip()
    if not values.get("status", "").strip() and published:
        values["status"] = "active" if published.lower() in _TRUE else "draft"
    shopify_category = values.pop("shopify_category", "")
    if not values.get("category") and shopify_category:
        values["category"] = shopify_category
    if "track_inventory" in values:  # Shopify names the tracker ("shopify"); blank means not tracked
        values["track_inventory"] = "yes" if values["track_inventory"].strip() else "no"
    variant_image = values.pop("variant_image", "")
    if variant_image:
        values["images"] = "\n".join(filter(None, (values.get("images", ""), variant_image)))
    return _Row(row.number, values)


def _present_fields(column_fields: dict[int, str], shape: Shape) -> set[str]:
    present = {name for i, name in column_fields.items() if i >= 0}
    if shape == Shape.SHOPIFY:
        if "published" in present:
            present.add("status")
        if "shopify_category" in present:
            present.add("category")
        if "variant_image" in present:
            present.add("images")
        present -= {"published", "shopify_category", "variant_image"}
    for i in range(1, MAX_OPTIONS + 1):
        if f"option{i}_value" in present:
            present.add(f"option{i}_name")
    return present


_SHOPIFY_ALIASES = {"published": "status", "shopify_category": "category", "variant_image": "images"}


def _field_columns(sheet: Sheet, column_fields: dict[int, str]) -> dict[str, str]:
    """Field -> the header that feeds it, for problem reports; Shopify's Status, Type and Image Src
    win over the Published, Product Category and Variant Image columns that stand in for them."""
    columns: dict[str, str] = {}
    for index, name in sorted(column_fields.items(), key=lambda item: item[1] in _SHOPIFY_ALIASES):
        if index >= 0:
            columns.setdefault(_SHOPIFY_ALIASES.get(name, name), sheet.headers[index])
    for index in column_fields:
        if index < 0:
            header = sheet.headers[-index - 1]
            columns[column_fields[-index - 1].replace("_value", "_name")] = header
    return columns


_STRONG_VARIANT_FIELDS = ("sku", "price", "compare_at_price", "stock", "weight_grams")


@dataclass
class _ParsedRow:
    number: int
    handle: str
    product: dict[str, Any]
    product_ok: bool
    option_names: dict[int, str]
    variant: VariantDraft | None
    variant_ok: bool
    images: list[tuple[str, str, int | None]]


def _parse_row(row: _Row, present: set[str], currency: str, problems: _Collector, units: str) -> _ParsedRow | None:
    values = row.values
    n = row.number

    def given(name: str) -> str:
        return values.get(name, "").strip()

    if not any(v.strip() for v in values.values()):
        return None
    product_ok = True
    product: dict[str, Any] = {}
    title = " ".join(given("title").split())
    if title:
        if len(title) > 200:
            problems.error(n, "title", "The title is longer than 200 characters")
            product_ok = False
        product["title"] = title
    handle_text = given("handle")
    handle = handle_text if _SLUG.fullmatch(handle_text) else to_slug(handle_text or title)
    if (handle_text or title) and not handle:
        problems.error(n, "handle" if handle_text else "title", "No handle can be made from this: give a handle")
        product_ok = False
    if "description" in values and given("description"):
        description = _clean_description(values["description"])
        if len(description) > 20_000:
            problems.error(n, "description", "The description is longer than 20,000 characters")
            product_ok = False
        product["description"] = description
    for name, parse in (("status", parse_status), ("featured", parse_bool)):
        if given(name):
            try:
                product[name] = parse(given(name))
            except ValidationError as exc:
                problems.error(n, name, str(exc))
                product_ok = False
    if given("brand"):
        brand = " ".join(given("brand").split())
        if len(brand) > 120 or not to_slug(brand):
            problems.error(n, "brand", "A brand name needs letters or digits and at most 120 characters")
            product_ok = False
        product["brand"] = brand
    if given("category"):
        path = split_path(given("category"))
        bad = next((part for part in path if len(part) > 120 or not to_slug(part)), None)
        if bad is not None or len(path) > 6:
            problems.error(n, "category", f'{given("category")!r} is not a category path like "Fashion > Shirts"')
            product_ok = False
        product["category"] = path
    for name, limit in (("collections", 160), ("tags", 80)):
        if given(name):
            items = split_list(given(name))
            too_long = next((item for item in items if len(item) > limit or not to_slug(item)), None)
            if too_long is not None:
                problems.error(n, name, f"{too_long[:40]!r} is not a usable name (letters or digits, {limit} at most)")
                product_ok = False
            product[name] = items

    option_names: dict[int, str] = {}
    option_values: dict[int, str] = {}
    variant_ok = True
    for i in range(MAX_OPTIONS):
        name = " ".join(given(f"option{i + 1}_name").split())
        value = " ".join(given(f"option{i + 1}_value").split())
        if name:
            if len(name) > 60:
                problems.error(n, f"option{i + 1}_name", "Option names are at most 60 characters")
                product_ok = False
            option_names[i] = name
        if value:
            if len(value) > 60:
                problems.error(n, f"option{i + 1}_value", "Option values are at most 60 characters")
                variant_ok = False
            option_values[i] = value

    variant: VariantDraft | None = None
    if option_values or any(given(name) for name in _STRONG_VARIANT_FIELDS):
        variant_fields: dict[str, Any] = {}
        sku = given("sku")
        if len(sku) > 64:
            problems.error(n, "sku", "A SKU is at most 64 characters")
            variant_ok = False
        try:
            variant_fields["price"] = parse_price(given("price"), currency)
        except ValidationError as exc:
            problems.error(n, "price", str(exc))
            variant_ok = False
        if "compare_at_price" in present:
            try:
                variant_fields["compare_at_price"] = (
                    parse_price(given("compare_at_price"), currency) if given("compare_at_price") else None
                )
            except ValidationError as exc:
                problems.error(n, "compare_at_price", str(exc))
                variant_ok = False
        for name, parse in (
            ("stock", parse_count),
            ("track_inventory", parse_bool),
            ("weight_grams", lambda text: parse_weight(text, units)),
        ):
            if given(name):
                try:
                    variant_fields[name] = parse(given(name))
                except ValidationError as exc:
                    problems.error(n, name, str(exc))
                    variant_ok = False
        variant = VariantDraft(n, sku, option_values, variant_fields)

    images: list[tuple[str, str, int | None]] = []
    if given("images"):
        alts = split_lines(values.get("image_alts", ""))
        position_text = given("image_position")
        try:
            position = parse_count(position_text) if position_text else None
        except ValidationError:
            problems.warning(n, "image_position", f"{position_text!r} is not an image position; order kept")
            position = None
        for index, reference in enumerate(split_images(values["images"])):
            images.append((reference, alts[index] if index < len(alts) else "", position))
    return _ParsedRow(n, handle, product, product_ok, option_names, variant, variant_ok, images)


def parse_products(
    sheet: Sheet, *, currency: str, shape: Shape | None = None, mapping: dict[str, str] | None = None
) -> ParsedFile:
    """Turn a sheet into product drafts and problems, without touching the database; prices are read
    in ``currency`` (the store's)."""
    shape = shape or detect_shape(sheet.headers)
    probe = _Collector({})
    column_fields = _column_fields(sheet, shape, mapping, probe)
    columns = _field_columns(sheet, column_fields)
    problems = _Collector(columns)
    problems.problems.extend(probe.problems)
    present = _present_fields(column_fields, shape)
    used = {i for i in column_fields if i >= 0}
    ignored = [h for i, h in enumerate(sheet.headers) if i not in used and h]
    for column in sheet.extra_columns:
        problems.warning(None, "", f"Column {column_letter(column - 1)} has values but no header: it is ignored")
    if "price" not in present and "sku" not in present:
        problems.error(None, "", "The sheet needs a price column (or a SKU column to update existing variants)")
    if not {"handle", "title", "sku"} & present:
        problems.error(None, "", "The sheet needs a handle, title or SKU column to know which product a row is")
    units = _header_unit(columns.get("weight_grams", ""))
    parsed_rows: list[_ParsedRow] = []
    for row in _rows(sheet, column_fields):
        if shape == Shape.SHOPIFY:
            row = _shopify_row(row)
        parsed = _parse_row(row, present, currency, problems, units)
        if parsed is not None:
            parsed_rows.append(parsed)
    result = ParsedFile(shape, columns, ignored, [], problems.problems, len(sheet.rows))
    result.drafts = _group(parsed_rows, present, shape, problems, result)
    return result


def _group(
    rows: list[_ParsedRow], present: set[str], shape: Shape, problems: _Collector, result: ParsedFile
) -> list[ProductDraft]:
    drafts: dict[str, ProductDraft] = {}
    bad_products: set[str] = set()
    seen_skus: dict[str, int] = {}
    for row in rows:
        key = row.handle
        if not key:
            if row.variant is not None and row.variant.sku:
                key = f"sku:{row.variant.sku}"
            else:
                if row.variant is not None or row.product or row.images:
                    problems.error(
                        row.number, "handle", "The row has no handle, title or SKU to tell which product it is"
                    )
                    result.skipped_rows.add(row.number)
                continue
        draft = drafts.get(key)
        if draft is None:
            draft = drafts[key] = ProductDraft(handle=key, first_row=row.number, from_sku=key.startswith("sku:"))
        draft.rows.append(row.number)
        if not row.product_ok:
            bad_products.add(key)
        _merge_product_fields(draft, row, present, problems, bad_products)
        _merge_options(draft, row, problems, bad_products)
        if row.images:
            draft.images = (draft.images or []) + [(ref, alt, row.number) for ref, alt, _ in row.images]
            draft.fields.setdefault("_image_positions", []).extend(pos for _, _, pos in row.images)
        if row.variant is not None:
            sku = row.variant.sku
            if sku and sku in seen_skus:
                problems.error(row.number, "sku", f"SKU {sku!r} is already used on row {seen_skus[sku]}")
                result.skipped_rows.add(row.number)
            elif row.variant_ok:
                if sku:
                    seen_skus[sku] = row.number
                draft.variants.append(row.variant)
            else:
                result.skipped_rows.add(row.number)
    for draft in drafts.values():
        if "images" in present and draft.images is None and not draft.from_sku and shape != Shape.SHOPIFY:
            draft.images = []  # our template's blank images cell clears them; Shopify's URLs never could set them
        _order_images(draft)
        if draft.handle not in bad_products:
            _check_options(draft, problems, result, bad_products)
        if draft.handle not in bad_products and not draft.from_sku and len(draft.handle) > 160:
            problems.error(draft.first_row, "handle", "A handle is at most 160 characters")
            bad_products.add(draft.handle)
    for handle in bad_products:
        result.bad_product_rows[handle] = drafts[handle].rows
        result.skipped_rows.update(drafts[handle].rows)
    return [draft for key, draft in drafts.items() if key not in bad_products]


def _merge_product_fields(
    draft: ProductDraft, row: _ParsedRow, present: set[str], problems: _Collector, bad: set[str]
) -> None:
    """The first row that gives a product field sets it; a later row giving another value is an
    error (blank cells on later rows are fine: continuation rows)."""
    for name in PRODUCT_FIELDS:
        if name == "handle" or name not in present:
            continue
        if name not in row.product:
            continue
        value = row.product[name]
        if name not in draft.field_rows:
            draft.fields[name] = value
            draft.field_rows[name] = row.number
        elif draft.fields[name] != value:
            shown = " > ".join(value) if name == "category" else ", ".join(value) if isinstance(value, list) else value
            problems.error(
                row.number,
                name,
                f"{str(shown)[:60]!r} differs from row {draft.field_rows[name]} of the same product; "
                "give it once or the same on every row",
            )
            bad.add(draft.handle)


def _merge_options(draft: ProductDraft, row: _ParsedRow, problems: _Collector, bad: set[str]) -> None:
    if not row.option_names:
        return
    names = draft.options or []
    for index, name in sorted(row.option_names.items()):
        while len(names) <= index:
            names.append("")
        if not names[index]:
            names[index] = name
        elif names[index].lower() != name.lower():
            problems.error(
                row.number,
                f"option{index + 1}_name",
                f"Option {index + 1} is {names[index]!r} on an earlier row, not {name!r}",
            )
            bad.add(draft.handle)
    draft.options = names


def _order_images(draft: ProductDraft) -> None:
    """Shopify's Image Position orders images; without positions the file's order is kept. The same
    image listed on several rows (our template repeats them) is kept once."""
    positions = draft.fields.pop("_image_positions", [])
    if not draft.images:
        return
    indexed = list(enumerate(draft.images))
    if any(position is not None for position in positions):
        indexed.sort(key=lambda item: (positions[item[0]] if positions[item[0]] is not None else 10**9, item[0]))
    seen: set[str] = set()
    ordered = []
    for _, (reference, alt, row) in indexed:
        if reference not in seen:
            seen.add(reference)
            ordered.append((reference, alt, row))
    draft.images = ordered


def _check_options(draft: ProductDraft, problems: _Collector, result: ParsedFile, bad: set[str]) -> None:
    """Every variant gives a value for each of the product's options and none for an option the
    product does not have; no two variants share the same values. Shopify's "Title: Default Title"
    means no options."""
    names = draft.options
    if (
        names
        and len(names) == 1
        and names[0].lower() == SHOPIFY_DEFAULT_OPTION[0]
        and all(v.option_values.get(0, "").lower() in ("", SHOPIFY_DEFAULT_OPTION[1]) for v in draft.variants)
    ):
        draft.options = names = None
        for variant in draft.variants:
            variant.option_values = {}
    if names is not None:
        missing_name = next((i for i, name in enumerate(names) if not name), None)
        if missing_name is not None:
            problems.error(draft.first_row, f"option{missing_name + 1}_name", f"Option {missing_name + 1} has no name")
            bad.add(draft.handle)
            return
        lowered = [name.lower() for name in names]
        if len(set(lowered)) != len(lowered):
            problems.error(draft.first_row, "option1_name", f"Options {', '.join(names)} repeat a name")
            bad.add(draft.handle)
            return
    count = len(names or [])
    combos: dict[tuple[str, ...], int] = {}
    kept: list[VariantDraft] = []
    for variant in draft.variants:
        unknown = next((i for i in variant.option_values if i >= count), None)
        if unknown is not None:
            problems.error(
                variant.row,
                f"option{unknown + 1}_value",
                f"Unknown option: {variant.option_values[unknown]!r} is given for option {unknown + 1}, "
                f"but the product has {'only ' + str(count) if count else 'no'} option{'s' if count != 1 else ''}",
            )
            result.skipped_rows.add(variant.row)
            continue
        if names and variant.option_values:
            missing = [i for i in range(count) if i not in variant.option_values]
            if missing:
                problems.error(
                    variant.row,
                    f"option{missing[0] + 1}_value",
                    f"No value for option {', '.join(names[i] for i in missing)}",
                )
                result.skipped_rows.add(variant.row)
                continue
        variant.values = tuple(variant.option_values[i] for i in range(count)) if variant.option_values else ()
        if variant.values:
            key = tuple(value.lower() for value in variant.values)
            if key in combos:
                problems.error(
                    variant.row,
                    "option1_value",
                    f"{' / '.join(variant.values)} is already a variant on row {combos[key]}",
                )
                result.skipped_rows.add(variant.row)
                continue
            combos[key] = variant.row
        kept.append(variant)
    draft.variants = kept
