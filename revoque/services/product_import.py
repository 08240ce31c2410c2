"""Product import from spreadsheets: our template, Shopify's product CSV, or any sheet with a mapping.

The import runs in three steps, so staff always see what will happen before anything is written:

1. **Read and parse** (no database): the file becomes text rows (``sheets.read_sheet``), its shape is
   detected, every row is turned into typed values, and rows are grouped into products by handle.
   Every problem names its row (as the spreadsheet shows it), its column (the file's own header) and
   the reason. Nothing here raises on bad input except an unreadable file.
2. **Plan** (read-only): each product is matched with the store by handle, each variant by SKU (or
   by its option values), and the changes are worked out; the preview counts products and variants
   to create, update and leave unchanged.
3. **Apply**: batches of products are written in one transaction each (a crash leaves no partial
   product), then re-indexing is scheduled. While errors remain nothing is written, unless the caller
   chose ``only_valid_rows``: then rows with a variant problem are skipped and products with a
   product problem are skipped whole.

Rules worth knowing (they are also in the README):

- A column that is not in the file leaves that field as it is. A blank cell in a column that is there
  clears descriptions, brand, category, collections, tags, images and compare-at prices; blank status,
  featured, stock, weight and track-inventory leave an existing value as it is (defaults for new ones).
- Product columns may be repeated on every variant row or given once (Shopify's continuation rows);
  two rows of one product that disagree are an error.
- Rows without a handle or title update the variant with that SKU (a price-and-stock sheet works).
- Variants are never deleted or reordered by an import; new ones go after the existing ones.
- Descriptions are stored as plain text (the storefront, search and assistant read them as text):
  HTML is reduced to an allow-list (``html_clean.sanitize_html``) and rendered to text.
- Images: storage keys of files already in the store (what our export writes) or the store's own
  image URLs are attached; other URLs are reported and not downloaded (the store never fetches from
  the internet on staff's behalf); upload those pictures in the admin.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from revoque.adapters import queue as job_queue
from revoque.adapters.queue import enqueue_after_commit
from revoque.adapters.storage import EXPORTS, Storage, get_storage, validate_key
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductTag,
    Tag,
    Variant,
    VariantOptionValue,
)
from revoque.models.base import utcnow
from revoque.models.transfers import DataImport, TransferStatus
from revoque.services import store_identity
from revoque.services.catalog_cache import invalidate_catalog_structure
from revoque.services.import_parsing import (
    PRODUCT_FIELDS,
    TEMPLATE_COLUMNS,
    TEMPLATE_HELP,
    Counts,
    ImportResult,
    MappingSuggestion,
    ParsedFile,
    Preview,
    Problem,
    ProductDraft,
    Shape,
    VariantDraft,
    detect_shape,
    parse_price,
    parse_products,
    suggest_mapping,
    to_slug,
)
from revoque.services.sheets import XLSX_MAGIC, read_sheet

__all__ = [
    "TEMPLATE_COLUMNS",
    "TEMPLATE_HELP",
    "FileSummary",
    "ImportProgress",
    "ImportResult",
    "MappingSuggestion",
    "Preview",
    "Problem",
    "Shape",
    "apply_import",
    "detect_shape",
    "import_progress",
    "inspect_file",
    "list_imports",
    "parse_price",
    "preview_import",
    "run_import",
    "start_import",
    "suggest_mapping",
]

log = logging.getLogger(__name__)

MAX_PROBLEMS_KEPT = 1000
BATCH_PRODUCTS = 200
BULK_REINDEX_PRODUCTS = 500  # above this many changed products, one catalog rebuild beats per-product jobs
PREVIEW_SAMPLE = 50

# ---------------------------------------------------------------------------------------------------
# Step 2: plans against the store (read-only)
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Existing:
    product: Product
    options: list[ProductOption]
    values: dict[int, list[ProductOptionValue]]
    variants: list[Variant]
    variant_values: dict[int, dict[int, int]]  # variant id -> {option id: value id}
    tag_ids: set[int]
    collection_ids: set[int]
    images: list[ProductImage]

    def value_text(self, variant: Variant) -> tuple[str, ...]:
        by_id = {value.id: value.value for values in self.values.values() for value in values}
        chosen = self.variant_values.get(variant.id, {})
        return tuple(by_id.get(chosen.get(option.id, -1), "") for option in self.options)


@dataclass
class VariantPlan:
    draft: VariantDraft
    existing: Variant | None
    sku: str
    values: tuple[str, ...]  # in the product's (existing) option order; () when not given
    changes: dict[str, Any]
    action: str  # create | update | unchanged


@dataclass
class ProductPlan:
    draft: ProductDraft
    existing: _Existing | None
    handle: str
    option_names: list[str]  # the product's options after the import, in order
    changes: dict[str, Any]  # product columns to set (title, description, status, featured)
    # For each relation, None leaves it as it is; "" / [] clears it.
    brand: str | None
    category: list[str] | None
    tags: list[str] | None
    collections: list[str] | None
    images: list[tuple[str, str]] | None  # (storage key, alt); None: leave
    variants: list[VariantPlan]
    relations_changed: bool
    action: str  # create | update | unchanged


class _Lookups:
    """Brands, categories, tags and collections by slug and name, loaded once per plan/batch; the
    writer adds the ones it creates, so later products in the batch reuse them."""

    def __init__(self, session: Session, drafts: Sequence[ProductDraft]) -> None:
        brand_slugs = {to_slug(d.fields["brand"], 120) for d in drafts if d.fields.get("brand")}
        tag_slugs = {to_slug(t, 80) for d in drafts for t in d.fields.get("tags") or []}
        collection_slugs = {to_slug(c, 120) for d in drafts for c in d.fields.get("collections") or []}
        collection_titles = {c.lower() for d in drafts for c in d.fields.get("collections") or []}
        self.brands = {b.slug: b for b in _in_chunks(session, Brand, Brand.slug, brand_slugs)}
        self.tags = {t.slug: t for t in _in_chunks(session, Tag, Tag.slug, tag_slugs)}
        self.collections: dict[str, Collection] = {
            c.slug: c for c in _in_chunks(session, Collection, Collection.slug, collection_slugs)
        }
        if collection_titles - {c.title.lower() for c in self.collections.values()}:
            for collection in session.exec(
                select(Collection).where(func.lower(Collection.title).in_(collection_titles))
            ):
                self.collections.setdefault(collection.slug, collection)
        self.categories: list[Category] = list(session.exec(select(Category)))
        self.category_slugs = {c.slug for c in self.categories}

    def brand(self, name: str) -> Brand | None:
        return self.brands.get(to_slug(name, 120))

    def tag(self, name: str) -> Tag | None:
        return self.tags.get(to_slug(name, 80))

    def collection(self, name: str) -> Collection | None:
        found = self.collections.get(to_slug(name, 120))
        if found is None:
            found = next((c for c in self.collections.values() if c.title.lower() == name.lower()), None)
        return found

    def category(self, path: Sequence[str]) -> Category | None:
        """The category at this path of names (slugs accepted too), or None if any step is missing."""
        parent_id: int | None = None
        found: Category | None = None
        for name in path:
            found = next(
                (
                    c
                    for c in self.categories
                    if c.parent_id == parent_id and (c.name.lower() == name.lower() or c.slug == to_slug(name, 120))
                ),
                None,
            )
            if found is None:
                return None
            parent_id = found.id
        return found


def _in_chunks(
    session: Session, model: Any, column: Any, keys: Iterable[Any], size: int = 500, lock: bool = False
) -> list[Any]:
    keys = list(dict.fromkeys(keys))
    rows: list[Any] = []
    for start in range(0, len(keys), size):
        statement = select(model).where(column.in_(keys[start : start + size]))
        if lock:
            statement = statement.order_by(model.id).with_for_update()
        rows.extend(session.exec(statement))
    return rows


def _grouped(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


def _load_existing(session: Session, handles: Sequence[str], lock: bool = False) -> dict[str, _Existing]:
    """Everything the planner compares for these products, in one query per table (per 500). With
    ``lock`` (a write batch on PostgreSQL) the variant rows are locked in id order, as checkout locks
    them, so stock set by the import and stock taken by an order never overwrite each other unseen."""
    products = _in_chunks(session, Product, Product.slug, handles)
    if not products:
        return {}
    ids = [p.id for p in products]
    by_order = attrgetter("position", "id")
    options = sorted(_in_chunks(session, ProductOption, ProductOption.product_id, ids), key=by_order)
    values = sorted(
        _in_chunks(session, ProductOptionValue, ProductOptionValue.option_id, [o.id for o in options]), key=by_order
    )
    variants = sorted(_in_chunks(session, Variant, Variant.product_id, ids, lock=lock), key=by_order)
    links = _in_chunks(session, VariantOptionValue, VariantOptionValue.variant_id, [v.id for v in variants])
    options_of, values_of = _grouped(options, "product_id"), _grouped(values, "option_id")
    variants_of, images_of = (
        _grouped(variants, "product_id"),
        _grouped(sorted(_in_chunks(session, ProductImage, ProductImage.product_id, ids), key=by_order), "product_id"),
    )
    tags_of = _grouped(_in_chunks(session, ProductTag, ProductTag.product_id, ids), "product_id")
    collections_of = _grouped(_in_chunks(session, CollectionProduct, CollectionProduct.product_id, ids), "product_id")
    by_id = {
        product.id: _Existing(
            product=product,
            options=options_of[product.id],
            values={o.id: values_of[o.id] for o in options_of[product.id]},
            variants=variants_of[product.id],
            variant_values={},
            tag_ids={t.tag_id for t in tags_of[product.id]},
            collection_ids={c.collection_id for c in collections_of[product.id]},
            images=images_of[product.id],
        )
        for product in products
    }
    option_of_value = {v.id: v.option_id for v in values}
    variant_product = {v.id: v.product_id for v in variants}
    for link in links:
        chosen = by_id[variant_product[link.variant_id]].variant_values.setdefault(link.variant_id, {})
        chosen[option_of_value[link.option_value_id]] = link.option_value_id
    return {existing.product.slug: existing for existing in by_id.values()}


def _sku_owners(session: Session, skus: Iterable[str]) -> dict[str, str]:
    """SKU -> the handle of the product that has it."""
    skus = [s for s in dict.fromkeys(skus) if s]
    owners: dict[str, str] = {}
    for start in range(0, len(skus), 500):
        chunk = skus[start : start + 500]
        for sku, slug in session.exec(
            select(Variant.sku, Product.slug)
            .join(Product, Product.id == Variant.product_id)
            .where(col(Variant.sku).in_(chunk))
        ):
            owners[sku] = slug
    return owners


class _Planner:
    """Works out, for each draft, what the store has and what must change. Problems found against
    the store (a SKU of another product, options that do not match) are collected in ``problems``
    and the rows they make unusable in ``skipped``."""

    def __init__(self, session: Session, storage: Storage | None, columns: dict[str, str], lock: bool = False) -> None:
        self.session = session
        self.lock = lock
        self.storage = storage
        self.columns = columns
        self.problems: list[Problem] = []
        self.skipped: set[int] = set()
        self.reserved_skus: set[str] = set()
        self.image_checks: dict[str, bool] = {}
        self.public_prefix = storage.public_url("probe")[: -len("probe")] if storage is not None else ""
        self.lookups: _Lookups | None = None

    def error(self, row: int | None, name: str, message: str) -> None:
        self.problems.append(Problem(row, self.columns.get(name, name) if name else "", message))

    def warning(self, row: int | None, name: str, message: str) -> None:
        self.problems.append(Problem(row, self.columns.get(name, name) if name else "", message, "warning"))

    def plan(self, drafts: Sequence[ProductDraft]) -> list[ProductPlan]:
        with self.session.no_autoflush:
            attached = self._attach_sku_rows(drafts)
            existing = _load_existing(self.session, [d.handle for d in attached], lock=self.lock)
            owners = _sku_owners(self.session, (v.sku for d in attached for v in d.variants))
            self.lookups = _Lookups(self.session, attached)
            plans = []
            for draft in attached:
                plan = self._plan_product(draft, existing.get(draft.handle), owners)
                if plan is None:
                    self.skipped.update(draft.rows)
                else:
                    plans.append(plan)
        return plans

    def _attach_sku_rows(self, drafts: Sequence[ProductDraft]) -> list[ProductDraft]:
        """Rows without a handle join the product that owns their SKU (or are reported)."""
        orphans = [d for d in drafts if d.handle.startswith("sku:")]
        by_handle = {d.handle: d for d in drafts if not d.handle.startswith("sku:")}
        if not orphans:
            return list(by_handle.values())
        owners = _sku_owners(self.session, (v.sku for d in orphans for v in d.variants))
        for orphan in orphans:
            for variant in orphan.variants:
                owner = owners.get(variant.sku)
                if owner is None:
                    self.error(
                        variant.row,
                        "sku",
                        f"SKU {variant.sku!r} is not in the store and the row has no handle or title",
                    )
                    self.skipped.add(variant.row)
                    continue
                target = by_handle.get(owner)
                if target is None:
                    target = by_handle[owner] = ProductDraft(handle=owner, first_row=variant.row, from_sku=True)
                target.rows.append(variant.row)
                target.variants.append(variant)
        return list(by_handle.values())

    def _present(self, draft: ProductDraft) -> set[str]:
        """Product fields this draft speaks for: the file's product columns, unless the rows reached
        the product only through SKUs (a price list says nothing about descriptions)."""
        if draft.from_sku:
            return set()
        return {name for name in self.columns if name in PRODUCT_FIELDS}

    def _plan_product(
        self, draft: ProductDraft, existing: _Existing | None, owners: dict[str, str]
    ) -> ProductPlan | None:
        assert self.lookups is not None
        fields, present = draft.fields, self._present(draft)
        if existing is None and not fields.get("title"):
            self.error(draft.first_row, "title", f"A title is needed to create product {draft.handle!r}")
            return None
        option_names = self._option_names(draft, existing)
        if option_names is None:
            return None
        product = existing.product if existing else None
        changes: dict[str, Any] = {}
        for name in ("title", "description", "status", "featured"):
            if name in fields or (name == "description" and name in present):
                value = fields.get(name, "")
                if product is None or getattr(product, name) != value:
                    changes[name] = value
        brand = self._brand_change(fields, present, product)
        category = self._category_change(fields, present, product)
        tags = self._list_change("tags", fields, present, existing)
        collections = self._list_change("collections", fields, present, existing)
        images = self._images(draft, existing)
        variants = self._plan_variants(draft, existing, option_names, owners)
        if existing is None and not variants:
            self.error(
                draft.first_row, "price", f"Product {draft.handle!r} has no valid variant row (a row with a price)"
            )
            return None
        relations_changed = any(change is not None for change in (brand, category, tags, collections, images))
        if existing is None:
            action = "create"
        elif changes or relations_changed or any(v.action != "unchanged" for v in variants):
            action = "update"
        else:
            action = "unchanged"
        return ProductPlan(
            draft=draft,
            existing=existing,
            handle=draft.handle,
            option_names=option_names,
            changes=changes,
            brand=brand,
            category=category,
            tags=tags,
            collections=collections,
            images=images,
            variants=variants,
            relations_changed=relations_changed,
            action=action,
        )

    def _brand_change(self, fields: dict[str, Any], present: set[str], product: Product | None) -> str | None:
        """None: leave the brand; "": clear it; a name: set it (created if the store lacks it)."""
        if "brand" not in present:
            return None
        name = fields.get("brand") or ""
        target = self.lookups.brand(name) if name else None
        unchanged = (target.id if target else None) == (product.brand_id if product else None)
        return None if product is not None and (not name or target) and unchanged else name

    def _category_change(self, fields: dict[str, Any], present: set[str], product: Product | None) -> list[str] | None:
        """None: leave the category; []: clear it; a path: set it (missing steps created)."""
        if "category" not in present:
            return None
        path = fields.get("category") or []
        target = self.lookups.category(path) if path else None
        unchanged = (target.id if target else None) == (product.category_id if product else None)
        return None if product is not None and (not path or target) and unchanged else path

    def _list_change(
        self, name: str, fields: dict[str, Any], present: set[str], existing: _Existing | None
    ) -> list[str] | None:
        """The full new list of tags/collections, or None to leave them as they are."""
        if name not in present:
            return None
        wanted = fields.get(name) or []
        if existing is None:
            return wanted
        find = self.lookups.tag if name == "tags" else self.lookups.collection
        found = [find(item) for item in wanted]
        current = existing.tag_ids if name == "tags" else existing.collection_ids
        if all(found) and {item.id for item in found} == current:
            return None
        return wanted

    def _option_names(self, draft: ProductDraft, existing: _Existing | None) -> list[str] | None:
        """The product's options after the import. A new product takes the file's; an existing one
        keeps its own, and the file must name the same ones (in any order and letter case)."""
        given = draft.options
        if existing is None:
            return list(given or [])
        current = [o.name for o in existing.options]
        if given is None:
            return current
        if sorted(n.lower() for n in given) != sorted(n.lower() for n in current):
            self.error(
                draft.first_row,
                "option1_name",
                f"Product {draft.handle!r} has the options {' / '.join(current) or '(none)'} in the store; "
                f"the file gives {' / '.join(given) or '(none)'}",
            )
            return None
        return current

    def _plan_variants(
        self, draft: ProductDraft, existing: _Existing | None, option_names: list[str], owners: dict[str, str]
    ) -> list[VariantPlan]:
        given = [name.lower() for name in draft.options or []]
        order = [given.index(name.lower()) for name in option_names] if given else []
        by_sku = {v.sku: v for v in existing.variants} if existing else {}
        by_values = {_fold(existing.value_text(v)): v for v in existing.variants} if existing else {}
        used: set[int] = set()
        plans: list[VariantPlan] = []
        for variant in draft.variants:
            values = tuple(variant.values[i] for i in order) if variant.values else ()
            match: Variant | None = None
            if variant.sku and variant.sku in owners:
                if owners[variant.sku] != draft.handle:
                    self._skip(
                        variant.row, "sku", f"SKU {variant.sku!r} belongs to another product ({owners[variant.sku]!r})"
                    )
                    continue
                match = by_sku.get(variant.sku)
            elif not variant.sku and existing is not None:
                if values:
                    match = by_values.get(_fold(values))
                elif not option_names and len(existing.variants) == 1:
                    match = existing.variants[0]
            if match is not None and match.id in used:
                self._skip(variant.row, "sku", "Another row of this file already describes this variant")
                continue
            if match is None and option_names and not values:
                self._skip(variant.row, "option1_value", f"A new variant needs a value for {' / '.join(option_names)}")
                continue
            if match is not None:
                used.add(match.id)
            plans.append(self._variant_plan(draft.handle, variant, match, values, existing))
        untouched = (
            {_fold(existing.value_text(v)) for v in existing.variants if v.id not in used} if existing else set()
        )
        kept = []
        for plan in plans:
            if plan.values and (plan.existing is None or "values" in plan.changes) and _fold(plan.values) in untouched:
                self._skip(
                    plan.draft.row, "option1_value", f"{' / '.join(plan.values)} is already a variant of this product"
                )
                continue
            kept.append(plan)
        return kept

    def _skip(self, row: int, name: str, message: str) -> None:
        self.error(row, name, message)
        self.skipped.add(row)

    def _variant_plan(
        self,
        handle: str,
        draft: VariantDraft,
        match: Variant | None,
        values: tuple[str, ...],
        existing: _Existing | None,
    ) -> VariantPlan:
        sku = draft.sku or (match.sku if match else self._new_sku(handle, values))
        wanted: dict[str, Any] = {"sku": sku, **draft.fields}
        if values or match is None:
            wanted["title"] = " / ".join(values)
        if match is None:
            return VariantPlan(draft, None, sku, values, wanted, "create")
        changes = {
            name: value for name, value in wanted.items() if getattr(match, _VARIANT_COLUMNS.get(name, name)) != value
        }
        if values and existing is not None and tuple(values) != existing.value_text(match):
            changes["values"] = values
        return VariantPlan(draft, match, sku, values, changes, "update" if changes else "unchanged")

    def _new_sku(self, handle: str, values: tuple[str, ...]) -> str:
        """A SKU for a row without one: HANDLE-VALUE-VALUE, made unique in the store and the file."""
        base = re.sub(r"[^A-Z0-9]+", "-", "-".join([handle, *values]).upper()).strip("-")[:58] or "ITEM"
        candidate, suffix = base, 2
        while candidate in self.reserved_skus or self._sku_taken(candidate):
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        self.reserved_skus.add(candidate)
        return candidate

    def _sku_taken(self, sku: str) -> bool:
        return self.session.exec(select(Variant.id).where(Variant.sku == sku).limit(1)).first() is not None

    def _images(self, draft: ProductDraft, existing: _Existing | None) -> list[tuple[str, str]] | None:
        """The product's images after the import, or None to leave them. When every image the file
        gives is unusable (web addresses), the product's images stay as they are."""
        if draft.images is None or draft.from_sku:
            return None
        known = {image.storage_key: image for image in existing.images} if existing else {}
        usable: list[tuple[str, str]] = []
        for reference, alt, row in draft.images:
            key = self._image_key(reference, row, known)
            if key is not None:
                usable.append((key, (alt or (known[key].alt if key in known and not alt else ""))[:300]))
        if not usable and draft.images:
            return None
        current = [(image.storage_key, image.alt) for image in existing.images] if existing else []
        return None if existing is not None and usable == current else usable

    def _image_key(self, reference: str, row: int, known: dict[str, ProductImage]) -> str | None:
        key = reference
        if self.public_prefix and reference.startswith(self.public_prefix):
            key = reference[len(self.public_prefix) :]
        elif reference.lower().startswith(("http://", "https://", "//")):
            self.warning(
                row,
                "images",
                f"{reference[:80]!r} is a web address: the import does not download images; "
                "upload the picture on the product page",
            )
            return None
        try:
            validate_key(key)
        except ValidationError:
            self.warning(row, "images", f"{reference[:80]!r} is not an image of the store; it is skipped")
            return None
        if key not in known and key not in self.image_checks:
            self.image_checks[key] = bool(self.storage is not None and self.storage.exists(key))
        if key not in known and not self.image_checks[key]:
            self.warning(row, "images", f"Image {key!r} is not in the store's files; it is skipped")
            return None
        return key


_VARIANT_COLUMNS = {"stock": "stock_on_hand"}


def _fold(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(value.lower() for value in values)


# ---------------------------------------------------------------------------------------------------
# Step 3: writing a batch
# ---------------------------------------------------------------------------------------------------


class _Writer:
    """Writes the plans of one batch in a few flushes (products, options, values, variants, links),
    creating brands, categories, tags and collections on first use."""

    def __init__(self, session: Session, lookups: _Lookups) -> None:
        self.session = session
        self.lookups = lookups
        self.collection_tail: dict[int, int] = {}
        self.new_tags: list[dict[str, Any]] = []
        self.new_members: list[dict[str, Any]] = []
        self.new_images: list[dict[str, Any]] = []

    def write(self, plans: Sequence[ProductPlan]) -> list[int]:
        """Apply the plans that change something; returns the ids of the products written. Rows
        nothing reads back (variants, links, images) go in as multi-row INSERTs: building an ORM
        object per row would cost more than the database does."""
        changed = [plan for plan in plans if plan.action != "unchanged"]
        if not changed:
            return []
        products = {plan.handle: self._product(plan) for plan in changed}
        self.session.add_all(products.values())
        self.session.flush()
        options = {plan.handle: self._options(plan, products[plan.handle]) for plan in changed}
        self.session.flush()
        values = self._values(changed, options)
        self.session.flush()
        stale_values = self._variants(changed, products, options, values)
        for plan in changed:
            self._relations(plan, products[plan.handle])
            self._price_range(plan, products[plan.handle])
        self._insert(ProductTag, self.new_tags)
        self._insert(CollectionProduct, self.new_members)
        self._insert(ProductImage, self.new_images)
        self.session.flush()
        self._drop_unused_values(stale_values)
        return [product.id for product in products.values()]

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(model), rows)
            rows.clear()

    def _price_range(self, plan: ProductPlan, product: Product) -> None:
        """What services.catalog.refresh_price_range computes, from the rows already in hand."""
        prices = [v.price for v in plan.existing.variants] if plan.existing else []
        prices += [v.changes["price"] for v in plan.variants if v.action == "create"]
        product.price_min, product.price_max = min(prices, default=0), max(prices, default=0)
        self.session.add(product)

    def _product(self, plan: ProductPlan) -> Product:
        if plan.existing is None:
            product = Product(slug=plan.handle, title=plan.changes["title"])
        else:
            product = plan.existing.product
            product.updated_at = utcnow()
        for name, value in plan.changes.items():
            setattr(product, name, value)
        if plan.brand is not None:
            product.brand_id = self._brand_id(plan.brand)
        if plan.category is not None:
            product.category_id = self._category_id(plan.category)
        return product

    def _brand_id(self, name: str) -> int | None:
        if not name:
            return None
        brand = self.lookups.brand(name)
        if brand is None:
            brand = Brand(slug=to_slug(name, 120), name=name)
            self.session.add(brand)
            self.session.flush()
            self.lookups.brands[brand.slug] = brand
        return brand.id

    def _category_id(self, path: list[str]) -> int | None:
        """The category at ``path``, creating the missing steps (each after its siblings)."""
        if not path:
            return None
        parent: Category | None = None
        for depth, name in enumerate(path):
            found = self.lookups.category(path[: depth + 1])
            if found is None:
                parent_id = parent.id if parent else None
                siblings = [c.position for c in self.lookups.categories if c.parent_id == parent_id]
                found = Category(
                    parent_id=parent_id,
                    name=name,
                    slug=self._category_slug(name, parent),
                    position=max(siblings, default=-1) + 1,
                )
                self.session.add(found)
                self.session.flush()
                self.lookups.categories.append(found)
                self.lookups.category_slugs.add(found.slug)
            parent = found
        return parent.id if parent else None

    def _category_slug(self, name: str, parent: Category | None) -> str:
        """Category slugs are unique store-wide, so a second "Shoes" under another parent becomes
        ``women-shoes``, and a numbered one if even that is taken."""
        taken = self.lookups.category_slugs
        slug = to_slug(name, 120)
        if slug in taken and parent is not None:
            slug = to_slug(f"{parent.slug} {name}", 120)
        base, number = slug, 2
        while slug in taken:
            slug, number = f"{base[:114]}-{number}", number + 1
        return slug

    def _options(self, plan: ProductPlan, product: Product) -> list[ProductOption]:
        if plan.existing is not None:
            return plan.existing.options
        options = [
            ProductOption(product_id=product.id, name=name, position=i) for i, name in enumerate(plan.option_names)
        ]
        self.session.add_all(options)
        return options

    def _values(
        self, plans: Sequence[ProductPlan], options: dict[str, list[ProductOption]]
    ) -> dict[tuple[int, str], ProductOptionValue]:
        """Every option value the plans use, by (option id, lower-cased value); new ones are added
        after the option's existing values in the order the file first uses them."""
        found: dict[tuple[int, str], ProductOptionValue] = {}
        positions: dict[int, int] = {}
        for plan in plans:
            if plan.existing is not None:
                for option_id, option_values in plan.existing.values.items():
                    for value in option_values:
                        found.setdefault((option_id, value.value.lower()), value)
                    positions[option_id] = max((v.position for v in option_values), default=-1) + 1
            for variant in plan.variants:
                if not variant.values or (variant.action != "create" and "values" not in variant.changes):
                    continue
                for option, text in zip(options[plan.handle], variant.values, strict=True):
                    key = (option.id, text.lower())
                    if key not in found:
                        position = positions.get(option.id, 0)
                        found[key] = ProductOptionValue(option_id=option.id, value=text, position=position)
                        positions[option.id] = position + 1
                        self.session.add(found[key])
        return found

    def _variants(
        self,
        plans: Sequence[ProductPlan],
        products: dict[str, Product],
        options: dict[str, list[ProductOption]],
        values: dict[tuple[int, str], ProductOptionValue],
    ) -> set[int]:
        """Create and update variants, then link their option values. Returns the value ids that
        variants stopped using (removed afterwards if nothing else uses them)."""
        new_rows: list[dict[str, Any]] = []
        new_plans: list[tuple[VariantPlan, str]] = []
        relinked: list[tuple[int, VariantPlan, str]] = []
        stale: set[int] = set()
        for plan in plans:
            product_id = products[plan.handle].id
            position = max((v.position for v in plan.existing.variants), default=-1) + 1 if plan.existing else 0
            for variant_plan in plan.variants:
                if variant_plan.action == "create":
                    fields = variant_plan.changes
                    new_rows.append(
                        {
                            "product_id": product_id,
                            "sku": variant_plan.sku,
                            "title": fields.get("title", ""),
                            "price": fields["price"],
                            "compare_at_price": fields.get("compare_at_price"),
                            "stock_on_hand": fields.get("stock", 0),
                            "track_inventory": fields.get("track_inventory", True),
                            "weight_grams": fields.get("weight_grams", 0),
                            "position": position,
                        }
                    )
                    new_plans.append((variant_plan, plan.handle))
                    position += 1
                elif variant_plan.action == "update" and variant_plan.existing is not None:
                    variant = variant_plan.existing
                    for name, value in variant_plan.changes.items():
                        if name != "values":
                            setattr(variant, _VARIANT_COLUMNS.get(name, name), value)
                    self.session.add(variant)
                    if "values" in variant_plan.changes and plan.existing is not None:
                        relinked.append((variant.id, variant_plan, plan.handle))
                        stale.update(plan.existing.variant_values.get(variant.id, {}).values())
        self.session.flush()
        new_ids = (
            list(self.session.scalars(insert(Variant).returning(Variant.id, sort_by_parameter_order=True), new_rows))
            if new_rows
            else []
        )
        if relinked:
            self.session.execute(
                delete(VariantOptionValue).where(col(VariantOptionValue.variant_id).in_([i for i, _, _ in relinked]))
            )
        links = [
            {"variant_id": variant_id, "option_value_id": values[(option.id, text.lower())].id}
            for variant_id, variant_plan, handle in [
                *((i, vp, h) for i, (vp, h) in zip(new_ids, new_plans, strict=True)),
                *relinked,
            ]
            for option, text in zip(options[handle], variant_plan.values, strict=False)
        ]
        self._insert(VariantOptionValue, links)
        return stale

    def _drop_unused_values(self, value_ids: set[int]) -> None:
        if value_ids:
            in_use = select(VariantOptionValue.option_value_id).where(
                col(VariantOptionValue.option_value_id).in_(value_ids)
            )
            used = set(self.session.exec(in_use))
            unused = value_ids - used
            if unused:
                self.session.exec(delete(ProductOptionValue).where(col(ProductOptionValue.id).in_(unused)))

    def _relations(self, plan: ProductPlan, product: Product) -> None:
        product_id = product.id
        existing = plan.existing
        if plan.tags is not None:
            wanted = {self._tag(name).id for name in plan.tags}
            current = existing.tag_ids if existing else set()
            if current - wanted:
                self.session.exec(
                    delete(ProductTag).where(
                        ProductTag.product_id == product_id, col(ProductTag.tag_id).in_(current - wanted)
                    )
                )
            self.new_tags.extend({"product_id": product_id, "tag_id": tag_id} for tag_id in sorted(wanted - current))
        if plan.collections is not None:
            wanted_collections = [self._collection(name) for name in plan.collections]
            current = existing.collection_ids if existing else set()
            removed = current - {c.id for c in wanted_collections}
            if removed:
                self.session.exec(
                    delete(CollectionProduct).where(
                        CollectionProduct.product_id == product_id, col(CollectionProduct.collection_id).in_(removed)
                    )
                )
            for collection in wanted_collections:
                if collection.id not in current:
                    self.new_members.append(
                        {
                            "collection_id": collection.id,
                            "product_id": product_id,
                            "position": self._tail(collection.id),
                        }
                    )
        if plan.images is not None:
            self._images(plan, product_id)

    def _tag(self, name: str) -> Tag:
        tag = self.lookups.tag(name)
        if tag is None:
            tag = Tag(slug=to_slug(name, 80), name=name)
            self.session.add(tag)
            self.session.flush()
            self.lookups.tags[tag.slug] = tag
        return tag

    def _collection(self, name: str) -> Collection:
        collection = self.lookups.collection(name)
        if collection is None:
            collection = Collection(slug=to_slug(name, 120), title=name)
            self.session.add(collection)
            self.session.flush()
            self.lookups.collections[collection.slug] = collection
        return collection

    def _tail(self, collection_id: int) -> int:
        """Next position at the end of a collection (new members go last)."""
        if collection_id not in self.collection_tail:
            last = self.session.exec(
                select(func.max(CollectionProduct.position)).where(CollectionProduct.collection_id == collection_id)
            ).one()
            self.collection_tail[collection_id] = -1 if last is None else last
        self.collection_tail[collection_id] += 1
        return self.collection_tail[collection_id]

    def _images(self, plan: ProductPlan, product_id: int) -> None:
        """Make the product's images exactly the planned list: same-key rows are kept (alt text and
        position updated), the rest removed. Files are not deleted: other rows may use them."""
        current: dict[str, ProductImage] = {}
        for image in plan.existing.images if plan.existing else []:
            if image.storage_key in current:
                self.session.delete(image)
            else:
                current[image.storage_key] = image
        wanted = dict(plan.images or [])
        for key, image in current.items():
            if key not in wanted:
                self.session.delete(image)
        for position, (key, alt) in enumerate(plan.images or []):
            image = current.get(key)
            if image is None:
                self.new_images.append({"product_id": product_id, "storage_key": key, "alt": alt, "position": position})
            elif (image.alt, image.position) != (alt, position):
                image.alt, image.position = alt, position
                self.session.add(image)


# ---------------------------------------------------------------------------------------------------
# Preview and apply
# ---------------------------------------------------------------------------------------------------

_PAST = {"create": "created", "update": "updated", "unchanged": "unchanged"}


def _counts(plans: Iterable[ProductPlan]) -> Counts:
    counts = Counts()
    for plan in plans:
        name = f"products_{_PAST[plan.action]}"
        setattr(counts, name, getattr(counts, name) + 1)
        for variant in plan.variants:
            name = f"variants_{_PAST[variant.action]}"
            setattr(counts, name, getattr(counts, name) + 1)
    return counts


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    """File-level problems first, then by row; errors before warnings on the same row."""
    return sorted(problems, key=lambda p: (p.row is not None, p.row or 0, not p.is_error))


def _plan_file(session: Session, parsed: ParsedFile, storage: Storage | None) -> tuple[list[ProductPlan], _Planner]:
    planner = _Planner(session, storage, parsed.columns)
    return planner.plan(parsed.drafts), planner


def _sample(plans: Sequence[ProductPlan]) -> list[dict[str, Any]]:
    return [
        {
            "row": plan.draft.first_row,
            "handle": plan.handle,
            "title": plan.draft.fields.get("title") or (plan.existing.product.title if plan.existing else ""),
            "action": plan.action,
            "variants": len(plan.variants),
        }
        for plan in plans[:PREVIEW_SAMPLE]
    ]


@dataclass
class FileSummary:
    """What the mapping step shows before any checking: the file's headers, its detected shape, the
    suggested field for each header and the first rows as they read."""

    headers: list[str]
    shape: Shape
    suggestions: list[MappingSuggestion]
    rows: int
    first_rows: list[list[str]]


def inspect_file(data: bytes, filename: str, sample: int = 5) -> FileSummary:
    """Read the file's headers and first rows; raises ValidationError (with the reason) when the file
    cannot be read at all."""
    sheet = read_sheet(data, filename)
    return FileSummary(
        headers=sheet.headers,
        shape=detect_shape(sheet.headers),
        suggestions=suggest_mapping(sheet.headers),
        rows=len(sheet.rows),
        first_rows=[cells for _, cells in sheet.rows[:sample]],
    )


def preview_import(
    session: Session,
    data: bytes,
    filename: str,
    *,
    shape: Shape | str | None = None,
    mapping: dict[str, str] | None = None,
    storage: Storage | None = None,
) -> Preview:
    """The dry run: read, check and plan the whole file, write nothing. A file that cannot be read
    comes back as a preview with one file-level error, never as an exception."""
    try:
        sheet = read_sheet(data, filename)
    except ValidationError as exc:
        return Preview(Shape(shape) if shape else Shape.MAPPED, Counts(), [Problem(None, "", str(exc))], {}, [])
    parsed = parse_products(
        sheet, currency=store_identity.currency(session), shape=Shape(shape) if shape else None, mapping=mapping
    )
    plans, planner = _plan_file(session, parsed, storage or get_storage())
    counts = _counts(plans)
    counts.rows, counts.rows_skipped = parsed.rows, len(parsed.skipped_rows | planner.skipped)
    problems = _sorted([*parsed.problems, *planner.problems])
    return Preview(parsed.shape, counts, problems, parsed.columns, parsed.ignored_columns, _sample(plans))


Stage = Callable[[str], None]
BatchDone = Callable[[Session, int, int], None]


def _no_stage(_stage: str) -> None:
    """The default stage report: none."""


def _no_batch(_session: Session, _done: int, _total: int) -> None:
    """The default progress report: none."""


def apply_import(
    data: bytes,
    filename: str,
    *,
    shape: Shape | str | None = None,
    mapping: dict[str, str] | None = None,
    only_valid_rows: bool = False,
    batch_size: int | None = None,
    on_stage: Stage = _no_stage,
    on_batch: BatchDone = _no_batch,
) -> ImportResult:
    """Import the file: check everything first, then write batches of ``batch_size`` products, one
    transaction each (``on_batch(session, rows_done, rows_total)`` runs inside it, so progress
    recorded there is exactly what is committed). While errors remain nothing is written, unless
    ``only_valid_rows``; problems with the file itself (unreadable, no price column) always stop it.
    Raises ValidationError only when the file cannot be read."""
    batch_size = batch_size or BATCH_PRODUCTS
    on_stage("reading")
    sheet = read_sheet(data, filename)
    with session_scope() as session:
        currency = store_identity.currency(session)
    parsed = parse_products(sheet, currency=currency, shape=Shape(shape) if shape else None, mapping=mapping)
    on_stage("checking")
    storage = get_storage()
    with session_scope() as session:
        plans, planner = _plan_file(session, parsed, storage)
    problems = _sorted([*parsed.problems, *planner.problems])
    skipped = parsed.skipped_rows | planner.skipped
    counts = _counts(plans)
    counts.rows, counts.rows_skipped = parsed.rows, len(skipped)
    errors = [p for p in problems if p.is_error]
    if any(p.row is None for p in errors) or (errors and not only_valid_rows):
        return ImportResult(False, counts, problems)

    on_stage("writing")
    pending = [plan.draft for plan in plans if plan.action != "unchanged"]
    written = _counts(plan for plan in plans if plan.action == "unchanged")
    bulk = len(pending) > BULK_REINDEX_PRODUCTS
    rows_done = parsed.rows - sum(len(d.rows) for d in pending)
    product_ids: list[int] = []
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        with session_scope(write=True) as session:
            batch_planner = _Planner(session, storage, parsed.columns, lock=True)
            batch_plans = batch_planner.plan(batch)
            ids = _Writer(session, batch_planner.lookups).write(batch_plans)
            # The batch may add categories, collections and brands, and a bulk import skips the
            # per-product indexing that would drop cached pages: drop the cached catalog on commit.
            invalidate_catalog_structure(session)
            if not bulk:
                _schedule_indexing(session, ids)
            rows_done += sum(len(d.rows) for d in batch)
            on_batch(session, min(rows_done, parsed.rows), parsed.rows)
        written.add(_counts(batch_plans))
        product_ids.extend(ids)
        known = set(problems)
        problems.extend(p for p in batch_planner.problems if p not in known)
        skipped |= batch_planner.skipped
    if bulk:
        _schedule_catalog_rebuild()
    on_stage("done")
    written.rows, written.rows_skipped = parsed.rows, len(skipped)
    return ImportResult(True, written, _sorted(problems), product_ids)


def _schedule_indexing(session: Session, product_ids: Sequence[int]) -> None:
    """Keyword and vector re-indexing of each product once the batch commits."""
    from revoque.services.search import schedule_product_index
    from revoque.services.vector_index import schedule_product_embedding

    schedule_product_index(session, *product_ids)
    for product_id in product_ids:
        schedule_product_embedding(session, product_id)


def _schedule_catalog_rebuild() -> None:
    """After a large import, one rebuild of each index instead of thousands of per-product jobs.
    Called after the last commit; a queue that is down is logged, and ``cli reindex`` repairs it."""
    from revoque import jobs

    try:
        queue = job_queue.get_queue()  # looked up on the module, so tests can stand in a recorder
        queue.enqueue(jobs.reindex_catalog, job_id="reindex-catalog")
        queue.enqueue(jobs.reembed_catalog, job_id="reembed-catalog")
    except Exception:
        log.exception("Could not queue the catalog re-index after an import; run `python -m revoque.cli reindex`")


# ---------------------------------------------------------------------------------------------------
# Imports as jobs, with progress on a DataImport row
# ---------------------------------------------------------------------------------------------------

IMPORT_KEY_PREFIX = "imports"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


@dataclass
class ImportProgress:
    """What the import page polls: where the job is, how far, and (when done) what it did."""

    id: int
    filename: str
    status: str
    stage: str
    rows_done: int
    rows_total: int
    percent: int
    summary: dict[str, Any]
    problems: list[dict[str, Any]]
    error: str
    finished: bool


def start_import(
    session: Session,
    data: bytes,
    filename: str,
    *,
    shape: Shape | str | None = None,
    mapping: dict[str, str] | None = None,
    only_valid_rows: bool = False,
    requested_by: str = "",
) -> DataImport:
    """Keep the uploaded file in private storage (any worker can read it), record the import and
    queue the job once ``session`` commits. The caller has shown the preview already."""
    if not data:
        raise ValidationError("The file is empty")
    extension = "xlsx" if data[:4] == XLSX_MAGIC else "csv"
    key = f"{IMPORT_KEY_PREFIX}/{uuid.uuid4().hex}.{extension}"
    get_storage().put(key, data, CONTENT_TYPES[extension], bucket=EXPORTS)
    record = DataImport(
        filename=(filename or f"import.{extension}")[:255],
        file_key=key,
        shape=str(shape or ""),
        mapping=dict(mapping or {}),
        only_valid_rows=only_valid_rows,
        requested_by=requested_by[:254],
    )
    session.add(record)
    session.flush()
    from revoque import jobs

    enqueue_after_commit(session, jobs.import_products, record.id, job_id=f"import-products-{record.id}")
    return record


def run_import(import_id: int) -> dict[str, Any]:
    """The job: read the stored file, import it with progress on the row, record the outcome.
    Returns the summary. An import that already succeeded is not run again."""
    with session_scope(write=True) as session:
        record = session.get(DataImport, import_id)
        if record is None:
            raise NotFound(f"Import {import_id} does not exist")
        if record.status == TransferStatus.SUCCEEDED:
            return dict(record.summary)
        record.status, record.stage, record.error = TransferStatus.RUNNING.value, "reading", ""
        record.rows_done, record.finished_at = 0, None
        session.add(record)
        key, filename, only_valid_rows = record.file_key, record.filename, record.only_valid_rows
        shape, mapping = record.shape or None, record.mapping or None
    try:
        data = get_storage().read(key, EXPORTS)
        result = apply_import(
            data,
            filename,
            shape=shape,
            mapping=mapping,
            only_valid_rows=only_valid_rows,
            on_stage=lambda stage: _record_stage(import_id, stage),
            on_batch=lambda session, done, total: _record_progress(session, import_id, done, total),
        )
    except ValidationError as exc:  # the file cannot be read: nothing to retry
        _finish_import(import_id, TransferStatus.FAILED, error=str(exc))
        return {"errors": 1}
    except Exception as exc:
        _finish_import(
            import_id, TransferStatus.FAILED, error=f"The import stopped unexpectedly ({exc.__class__.__name__})"
        )
        raise
    summary = result.summary()
    if result.written:
        _finish_import(import_id, TransferStatus.SUCCEEDED, summary=summary, problems=result.problems)
    else:
        message = (
            f"{summary['errors']} problem{'s' if summary['errors'] != 1 else ''} in the file: nothing was imported. "
            "Fix them, or import only the valid rows."
        )
        _finish_import(import_id, TransferStatus.FAILED, summary=summary, problems=result.problems, error=message)
    return summary


def _record_stage(import_id: int, stage: str) -> None:
    with session_scope(write=True) as session:
        record = session.get(DataImport, import_id)
        if record is not None:
            record.stage = stage
            session.add(record)


def _record_progress(session: Session, import_id: int, done: int, total: int) -> None:
    """Runs inside the batch's transaction: the progress a page sees is what is committed."""
    record = session.get(DataImport, import_id)
    if record is not None:
        record.rows_done, record.rows_total = done, total
        session.add(record)


def _finish_import(
    import_id: int,
    status: TransferStatus,
    *,
    summary: dict[str, Any] | None = None,
    problems: Sequence[Problem] = (),
    error: str = "",
) -> None:
    with session_scope(write=True) as session:
        record = session.get(DataImport, import_id)
        if record is None:
            return
        record.status, record.stage, record.error = status.value, "done", error[:1000]
        record.summary = summary or {}
        record.problems = [problem.as_dict() for problem in problems[:MAX_PROBLEMS_KEPT]]
        if summary:
            record.rows_total = summary.get("rows", record.rows_total)
            if status == TransferStatus.SUCCEEDED:
                record.rows_done = record.rows_total
        record.finished_at = utcnow()
        session.add(record)


def import_progress(session: Session, import_id: int) -> ImportProgress:
    record = session.get(DataImport, import_id)
    if record is None:
        raise NotFound(f"Import {import_id} does not exist")
    return _progress(record)


def _progress(record: DataImport) -> ImportProgress:
    finished = record.status in (TransferStatus.SUCCEEDED, TransferStatus.FAILED)
    percent = 100 if finished else (record.rows_done * 100 // record.rows_total if record.rows_total else 0)
    return ImportProgress(
        id=record.id or 0,
        filename=record.filename,
        status=record.status,
        stage=record.stage,
        rows_done=record.rows_done,
        rows_total=record.rows_total,
        percent=percent,
        summary=dict(record.summary or {}),
        problems=list(record.problems or []),
        error=record.error,
        finished=finished,
    )


def list_imports(session: Session, limit: int = 20) -> list[ImportProgress]:
    """The latest imports, newest first (the import history)."""
    records = session.exec(
        select(DataImport).order_by(col(DataImport.created_at).desc(), col(DataImport.id).desc()).limit(limit)
    )
    return [_progress(record) for record in records]
