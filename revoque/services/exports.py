"""Spreadsheet exports: the catalog in the import template, orders with their lines, the blank template.

Exports run as jobs (``request_export`` records a DataExport and queues ``jobs.export_products`` or
``jobs.export_orders`` after commit). The job writes an ``.xlsx`` into the private ``exports`` bucket;
staff download it through a signed link that expires (``export_link``), and the DataExport rows are
the exports history.

The product export is the import template (``product_import.TEMPLATE_COLUMNS``), one row per variant
with the product's columns repeated on each row, written so that importing it changes nothing:
prices as numbers in the major unit, images as storage keys, names that hold a comma written as their
slug. Products are read a page at a time and the workbook is streamed, so memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque.adapters.queue import enqueue_after_commit
from revoque.adapters.storage import EXPORTS, get_storage
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    Order,
    OrderLine,
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
from revoque.models.transfers import DataExport, ExportKind, TransferStatus
from revoque.services import store_identity
from revoque.services.import_parsing import MAX_OPTIONS, TEMPLATE_COLUMNS, TEMPLATE_HELP
from revoque.services.money import currency_info
from revoque.services.sheets import SheetSpec, write_xlsx
from revoque.settings import get_settings

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 500
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
PRODUCT_MONEY_COLUMNS = ("price", "compare_at_price")


# --- the product template --------------------------------------------------------------------------


def _major(minor: int | None, currency: str) -> Decimal | None:
    """Minor units to a Decimal in the major unit (12500.50), written to Excel as a number."""
    if minor is None:
        return None
    return Decimal(minor).scaleb(-currency_info(currency).exponent)


def _name_list(names: Sequence[tuple[str, str]]) -> str:
    """``name, name``; a name holding a comma is written as its slug, which the import also matches."""
    return ", ".join(slug if "," in name else name for name, slug in names)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _category_paths(session: Session) -> dict[int, str]:
    categories = {c.id: c for c in session.exec(select(Category))}
    paths: dict[int, str] = {}
    for category_id in categories:
        names: list[str] = []
        current = categories.get(category_id)
        seen: set[int] = set()
        while current is not None and current.id not in seen:  # a corrupt loop must not hang the export
            seen.add(current.id)
            names.append(current.name)
            current = categories.get(current.parent_id) if current.parent_id else None
        paths[category_id] = " > ".join(reversed(names))
    return paths


def product_rows(session: Session) -> Iterator[list[Any]]:
    """Every variant of every product as a template row, products by id, variants by position;
    prices in the store's currency, the one an import of the file reads them in."""
    currency = store_identity.currency(session)
    paths = _category_paths(session)
    brands = {b.id: b.name for b in session.exec(select(Brand))}
    last_id = 0
    while True:
        products = list(session.exec(select(Product).where(Product.id > last_id).order_by(Product.id).limit(PAGE)))
        if not products:
            return
        last_id = products[-1].id
        yield from _page_rows(session, products, paths, brands, currency)


def _page_rows(
    session: Session, products: list[Product], paths: dict[int, str], brands: dict[int, str], currency: str
) -> Iterator[list[Any]]:
    ids = [p.id for p in products]
    options: dict[int, list[ProductOption]] = {}
    for option in session.exec(
        select(ProductOption)
        .where(col(ProductOption.product_id).in_(ids))
        .order_by(ProductOption.position, ProductOption.id)
    ):
        options.setdefault(option.product_id, []).append(option)
    option_ids = [o.id for group in options.values() for o in group]
    values = {
        v.id: v
        for v in session.exec(select(ProductOptionValue).where(col(ProductOptionValue.option_id).in_(option_ids)))
    }
    variants: dict[int, list[Variant]] = {}
    for variant in session.exec(
        select(Variant).where(col(Variant.product_id).in_(ids)).order_by(Variant.position, Variant.id)
    ):
        variants.setdefault(variant.product_id, []).append(variant)
    variant_ids = [v.id for group in variants.values() for v in group]
    chosen: dict[int, dict[int, str]] = {}
    for link in session.exec(select(VariantOptionValue).where(col(VariantOptionValue.variant_id).in_(variant_ids))):
        value = values.get(link.option_value_id)
        if value is not None:
            chosen.setdefault(link.variant_id, {})[value.option_id] = value.value
    tags: dict[int, list[tuple[str, str]]] = {}
    for product_id, name, slug in session.exec(
        select(ProductTag.product_id, Tag.name, Tag.slug)
        .join(Tag, Tag.id == ProductTag.tag_id)
        .where(col(ProductTag.product_id).in_(ids))
        .order_by(Tag.name)
    ):
        tags.setdefault(product_id, []).append((name, slug))
    collections: dict[int, list[tuple[str, str]]] = {}
    for product_id, title, slug in session.exec(
        select(CollectionProduct.product_id, Collection.title, Collection.slug)
        .join(Collection, Collection.id == CollectionProduct.collection_id)
        .where(col(CollectionProduct.product_id).in_(ids))
        .order_by(Collection.title)
    ):
        collections.setdefault(product_id, []).append((title, slug))
    images: dict[int, list[ProductImage]] = {}
    for image in session.exec(
        select(ProductImage)
        .where(col(ProductImage.product_id).in_(ids))
        .order_by(ProductImage.position, ProductImage.id)
    ):
        images.setdefault(image.product_id, []).append(image)
    for product in products:
        product_options = options.get(product.id, [])[:MAX_OPTIONS]
        product_images = images.get(product.id, [])
        common = {
            "handle": product.slug,
            "title": product.title,
            "description": product.description,
            "status": product.status,
            "featured": "yes" if product.featured else "no",
            "brand": brands.get(product.brand_id, "") if product.brand_id else "",
            "category": paths.get(product.category_id, "") if product.category_id else "",
            "collections": _name_list(collections.get(product.id, [])),
            "tags": _name_list(tags.get(product.id, [])),
            "images": "\n".join(image.storage_key for image in product_images),
            "image_alts": "\n".join(_one_line(image.alt) for image in product_images),
        }
        for variant in variants.get(product.id, []) or [None]:
            row = dict(common)
            for index, option in enumerate(product_options, start=1):
                row[f"option{index}_name"] = option.name
                row[f"option{index}_value"] = chosen.get(variant.id, {}).get(option.id, "") if variant else ""
            if variant is not None:
                row |= {
                    "sku": variant.sku,
                    "price": _major(variant.price, currency),
                    "compare_at_price": _major(variant.compare_at_price, currency),
                    "stock": variant.stock_on_hand,
                    "track_inventory": "yes" if variant.track_inventory else "no",
                    "weight_grams": variant.weight_grams,
                }
            yield [row.get(column, "") for column in TEMPLATE_COLUMNS]


_PRODUCT_WIDTHS = {"title": 32, "description": 48, "category": 28, "tags": 24, "images": 40, "image_alts": 40}


def products_workbook(session: Session) -> tuple[bytes, int]:
    """The catalog as the import template; returns the file and its number of variant rows."""
    counter = _Counter()
    data = write_xlsx(
        [
            SheetSpec(
                "Products",
                TEMPLATE_COLUMNS,
                counter.wrap(product_rows(session)),
                number_formats=dict.fromkeys(PRODUCT_MONEY_COLUMNS, MONEY_FORMAT),
                widths=_PRODUCT_WIDTHS,
            )
        ]
    )
    return data, counter.count


def template_workbook() -> bytes:
    """The blank template staff download before their first import: the columns, and a Help sheet
    that explains each one (the import reads the Products sheet and ignores Help)."""
    help_rows = [
        [column, TEMPLATE_HELP.get(column.replace("2", "1").replace("3", "1"), "")] for column in TEMPLATE_COLUMNS
    ]
    return write_xlsx(
        [
            SheetSpec("Products", TEMPLATE_COLUMNS, [], widths=_PRODUCT_WIDTHS),
            SheetSpec("Help", ["column", "what to write"], help_rows, widths={"column": 20, "what to write": 100}),
        ]
    )


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def wrap(self, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
        for row in rows:
            self.count += 1
            yield row


# --- orders ----------------------------------------------------------------------------------------

ORDER_COLUMNS = (
    "Order",
    "Placed (UTC)",
    "Status",
    "Payment status",
    "Payment method",
    "Email",
    "Customer",
    "Phone",
    "City",
    "State",
    "Country",
    "Items",
    "Subtotal",
    "Discount",
    "Tax",
    "Shipping",
    "Total",
    "Currency",
    "Coupon",
    "Delivery",
    "Note",
)
ORDER_MONEY = ("Subtotal", "Discount", "Tax", "Shipping", "Total")
LINE_COLUMNS = (
    "Order",
    "Placed (UTC)",
    "SKU",
    "Product",
    "Variant",
    "Unit price",
    "Quantity",
    "Line total",
    "Currency",
)
LINE_MONEY = ("Unit price", "Line total")


@dataclass(frozen=True)
class OrderFilters:
    """Which orders to export: placed on or after ``date_from`` and on or before ``date_to`` (whole
    UTC days), with one of ``statuses`` / ``payment_statuses`` when those are given."""

    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[str, ...] = ()
    payment_statuses: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderFilters:
        def day(value: Any) -> date | None:
            if not value:
                return None
            try:
                return date.fromisoformat(str(value))
            except ValueError as exc:
                raise ValidationError(f"{value!r} is not a date (YYYY-MM-DD)") from exc

        return cls(
            date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")),
            statuses=tuple(data.get("statuses") or ()),
            payment_statuses=tuple(data.get("payment_statuses") or ()),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "statuses": list(self.statuses),
            "payment_statuses": list(self.payment_statuses),
        }

    def where(self) -> list[Any]:
        conditions: list[Any] = []
        if self.date_from:
            conditions.append(Order.created_at >= datetime.combine(self.date_from, time(0), UTC))
        if self.date_to:
            conditions.append(Order.created_at < datetime.combine(self.date_to + timedelta(days=1), time(0), UTC))
        if self.statuses:
            conditions.append(col(Order.status).in_(self.statuses))
        if self.payment_statuses:
            conditions.append(col(Order.payment_status).in_(self.payment_statuses))
        return conditions


def _naive_utc(moment: datetime) -> datetime:
    """Excel has no time zones: timestamps are written as UTC wall time (the column says so)."""
    return (moment.astimezone(UTC) if moment.tzinfo else moment).replace(tzinfo=None, microsecond=0)


def _orders(session: Session, filters: OrderFilters) -> Iterator[list[Order]]:
    last_id = 0
    while True:
        page = list(
            session.exec(select(Order).where(Order.id > last_id, *filters.where()).order_by(Order.id).limit(PAGE))
        )
        if not page:
            return
        last_id = page[-1].id
        yield page


def _order_row(order: Order, items: int) -> list[Any]:
    address = order.shipping_address or {}
    money = [
        _major(getattr(order, name), order.currency) for name in ("subtotal", "discount", "tax", "shipping", "total")
    ]
    return [
        order.number,
        _naive_utc(order.created_at),
        order.status,
        order.payment_status,
        order.payment_method,
        order.email,
        str(address.get("name", "")),
        str(address.get("phone", "")),
        str(address.get("city", "")),
        str(address.get("state", "")),
        str(address.get("country", "")),
        items,
        *money,
        order.currency,
        order.coupon_code,
        order.shipping_method_name,
        order.customer_note,
    ]


def _order_rows(session: Session, filters: OrderFilters) -> Iterator[list[Any]]:
    for page in _orders(session, filters):
        ids = [order.id for order in page]
        items = dict(
            session.exec(
                select(OrderLine.order_id, func.sum(OrderLine.quantity))
                .where(col(OrderLine.order_id).in_(ids))
                .group_by(OrderLine.order_id)
            ).all()
        )
        for order in page:
            yield _order_row(order, int(items.get(order.id, 0) or 0))


def _line_rows(session: Session, filters: OrderFilters) -> Iterator[list[Any]]:
    for page in _orders(session, filters):
        by_id = {order.id: order for order in page}
        statement = (
            select(OrderLine).where(col(OrderLine.order_id).in_(list(by_id))).order_by(OrderLine.order_id, OrderLine.id)
        )
        for line in session.exec(statement):
            order = by_id[line.order_id]
            yield [
                order.number,
                _naive_utc(order.created_at),
                line.sku,
                line.product_title,
                line.variant_title,
                _major(line.unit_price, order.currency),
                line.quantity,
                _major(line.line_total, order.currency),
                order.currency,
            ]


def orders_workbook(session: Session, filters: OrderFilters | None = None) -> tuple[bytes, int]:
    """Orders matching ``filters`` (one row each) and their lines (a second sheet); returns the file
    and the number of orders. Each sheet is streamed page by page, so memory stays flat."""
    filters = filters or OrderFilters()
    counter = _Counter()
    data = write_xlsx(
        [
            SheetSpec(
                "Orders",
                ORDER_COLUMNS,
                counter.wrap(_order_rows(session, filters)),
                number_formats={**dict.fromkeys(ORDER_MONEY, MONEY_FORMAT), "Placed (UTC)": DATE_FORMAT},
                widths={"Email": 28, "Customer": 22, "Placed (UTC)": 17, "Note": 30},
            ),
            SheetSpec(
                "Lines",
                LINE_COLUMNS,
                _line_rows(session, filters),
                number_formats={**dict.fromkeys(LINE_MONEY, MONEY_FORMAT), "Placed (UTC)": DATE_FORMAT},
                widths={"Product": 32, "Variant": 20, "Placed (UTC)": 17},
            ),
        ]
    )
    return data, counter.count


# --- export jobs and history -----------------------------------------------------------------------


@dataclass
class ExportInfo:
    """One entry of the exports history, as a page lists it."""

    id: int
    kind: str
    status: str
    filename: str
    row_count: int
    size_bytes: int
    filters: dict[str, Any]
    error: str
    requested_by: str
    created_at: datetime
    finished_at: datetime | None

    @property
    def ready(self) -> bool:
        return self.status == TransferStatus.SUCCEEDED


@dataclass(frozen=True)
class ExportLink:
    url: str
    expires_at: datetime


def request_export(
    session: Session, kind: ExportKind | str, *, filters: dict[str, Any] | None = None, requested_by: str = ""
) -> DataExport:
    """Record an export and queue its job once ``session`` commits."""
    from revoque import jobs

    try:
        kind = ExportKind(kind)
    except ValueError as exc:
        raise ValidationError(f"Unknown export {kind!r}: products or orders") from exc
    clean_filters = OrderFilters.from_dict(filters or {}).as_dict() if kind == ExportKind.ORDERS else {}
    record = DataExport(kind=kind.value, filters=clean_filters, requested_by=requested_by[:254])
    session.add(record)
    session.flush()
    job = jobs.export_products if kind == ExportKind.PRODUCTS else jobs.export_orders
    enqueue_after_commit(session, job, record.id, job_id=f"export-{kind.value}-{record.id}")
    return record


def _filename(store_name: str, kind: str, when: datetime) -> str:
    store = re.sub(r"[^a-z0-9]+", "-", store_name.lower()).strip("-") or "store"
    return f"{store}-{kind}-{when:%Y-%m-%d-%H%M}.xlsx"


def run_export(export_id: int) -> dict[str, Any]:
    """The job: build the workbook, store it privately, record it. A finished export whose file is
    still there is not built again, so a retry or a duplicate run is harmless."""
    storage = get_storage()
    with session_scope(write=True) as session:
        record = session.get(DataExport, export_id)
        if record is None:
            raise NotFound(f"Export {export_id} does not exist")
        if (
            record.status == TransferStatus.SUCCEEDED
            and record.storage_key
            and storage.exists(record.storage_key, EXPORTS)
        ):
            return _result(record)
        record.status, record.error = TransferStatus.RUNNING.value, ""
        session.add(record)
        kind, filters = record.kind, dict(record.filters or {})
    try:
        with session_scope() as session:
            if kind == ExportKind.PRODUCTS:
                data, rows = products_workbook(session)
            else:
                data, rows = orders_workbook(session, OrderFilters.from_dict(filters))
        now = utcnow()
        key = f"{kind}/{now:%Y/%m}/{export_id}-{now:%Y%m%d%H%M%S}.xlsx"
        storage.put(key, data, XLSX_TYPE, bucket=EXPORTS)
    except Exception as exc:
        with session_scope(write=True) as session:
            record = session.get(DataExport, export_id)
            if record is not None:
                record.status, record.error = (
                    TransferStatus.FAILED.value,
                    f"The export failed ({exc.__class__.__name__})",
                )
                record.finished_at = utcnow()
                session.add(record)
        raise
    with session_scope(write=True) as session:
        record = session.get(DataExport, export_id)
        if record is None:  # deleted while it ran: do not leave an unreachable file behind
            storage.delete(key, EXPORTS)
            raise NotFound(f"Export {export_id} does not exist")
        record.status, record.storage_key = TransferStatus.SUCCEEDED.value, key
        record.filename = _filename(store_identity.store_name(session), kind, now)
        record.row_count, record.size_bytes, record.finished_at = rows, len(data), utcnow()
        session.add(record)
        return _result(record)


def _result(record: DataExport) -> dict[str, Any]:
    return {"id": record.id, "kind": record.kind, "rows": record.row_count, "bytes": record.size_bytes}


def _info(record: DataExport) -> ExportInfo:
    return ExportInfo(
        id=record.id or 0,
        kind=record.kind,
        status=record.status,
        filename=record.filename,
        row_count=record.row_count,
        size_bytes=record.size_bytes,
        filters=dict(record.filters or {}),
        error=record.error,
        requested_by=record.requested_by,
        created_at=record.created_at,
        finished_at=record.finished_at,
    )


def list_exports(session: Session, kind: ExportKind | str | None = None, limit: int = 20) -> list[ExportInfo]:
    """The exports history, newest first."""
    statement = select(DataExport).order_by(col(DataExport.created_at).desc(), col(DataExport.id).desc()).limit(limit)
    if kind:
        statement = statement.where(DataExport.kind == str(kind))
    return [_info(record) for record in session.exec(statement)]


def export_link(session: Session, export_id: int, expires_in: int | None = None) -> ExportLink:
    """A signed download link to a finished export, valid for ``expires_in`` seconds (default
    SIGNED_URL_SECONDS). Hand it only to staff: anyone holding it can download until it expires."""
    record = session.get(DataExport, export_id)
    if record is None or record.status != TransferStatus.SUCCEEDED or not record.storage_key:
        raise NotFound("That export is not ready")
    seconds = get_settings().signed_url_seconds if expires_in is None else expires_in
    url = get_storage().signed_url(record.storage_key, EXPORTS, expires_in=seconds, download=record.filename)
    return ExportLink(url=url, expires_at=utcnow() + timedelta(seconds=seconds))
