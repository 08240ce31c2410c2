"""What the import and export pages need on top of ``product_import`` and ``exports``: checking an
upload before it is read, keeping it in private storage between the steps, the column-mapping
choices, and the histories as rows of text.

Why the upload waits in storage: a page state is kept per browser tab (in Redis in production) and is
written back after every event, so a file of up to 25 MB must not live in it. The page keeps only the
storage key in a backend-only variable; the key is made here and never comes from the browser.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from revoque.adapters.storage import EXPORTS, MissingFile, get_storage
from revoque.errors import ValidationError
from revoque.models import OrderStatus, PaymentStatus, Role, User
from revoque.models.transfers import DataExport, DataImport, ExportKind, TransferStatus
from revoque.services import accounts, audit, exports, product_import
from revoque.services.import_parsing import (
    MAPPING_THRESHOLD,
    OPTION_TARGET,
    TEMPLATE_COLUMNS,
    MappingSuggestion,
    Problem,
    Shape,
)
from revoque.services.order_admin import label
from revoque.services.pricing import as_utc
from revoque.services.sheets import MAX_FILE_BYTES, XLSX_MAGIC

ALLOWED_EXTENSIONS = (".xlsx", ".csv")
ACCEPTED_TYPES = {  # for the browser's file picker; the server checks the name and size again
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
    "text/csv": [".csv"],
}
STAGED_PREFIX = "imports/staged/"
GONE_MESSAGE = "That upload is not available any more: upload the file again."
IGNORE = "ignore"  # the mapping choice "leave this column out" (a select cannot hold "")
HISTORY_LIMIT = 15
SHAPE_LABELS = {
    Shape.TEMPLATE.value: "Revoque template",
    Shape.SHOPIFY.value: "Shopify product CSV",
    Shape.MAPPED.value: "Other sheet (columns mapped by you)",
}
STATUS_LABELS = {
    TransferStatus.PENDING.value: "Waiting",
    TransferStatus.RUNNING.value: "Running",
    TransferStatus.SUCCEEDED.value: "Done",
    TransferStatus.FAILED.value: "Failed",
}
STAGE_LABELS = {
    "": "Waiting for a worker…",
    "reading": "Reading the file…",
    "checking": "Checking every row…",
    "writing": "Writing products…",
    "indexing": "Updating search…",
    "done": "Finished",
}
FIELD_LABELS = {
    "handle": "Handle (product address)",
    "title": "Title",
    "description": "Description",
    "status": "Status",
    "featured": "Featured",
    "brand": "Brand",
    "category": "Category",
    "collections": "Collections",
    "tags": "Tags",
    **{f"option{i}_name": f"Option {i} name" for i in range(1, 4)},
    **{f"option{i}_value": f"Option {i} value" for i in range(1, 4)},
    "sku": "SKU",
    "price": "Price",
    "compare_at_price": "Compare-at price",
    "stock": "Stock",
    "track_inventory": "Track inventory",
    "weight_grams": "Weight",
    "images": "Images",
    "image_alts": "Image alt text",
}


# --- the upload ------------------------------------------------------------------------------------


def size_text(size: int) -> str:
    """1536 → "1.5 KB"; sizes people read, one decimal at most."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
        value /= 1024
    return f"{value:.1f}".removesuffix(".0") + " GB"


def check_upload(filename: str, size: int) -> None:
    """Refuse, with a message naming the file, anything the import cannot read: other file types,
    empty files and files over the size limit. Runs before a byte of the file is parsed."""
    name = (filename or "").strip() or "The file"
    lowered = name.lower()
    if lowered.endswith(".xls"):
        raise ValidationError(f"“{name}” is an old Excel .xls file: save it as .xlsx or .csv and upload that.")
    if not lowered.endswith(ALLOWED_EXTENSIONS):
        raise ValidationError(f"“{name}” is not a spreadsheet the import can read: upload an .xlsx or .csv file.")
    if size <= 0:
        raise ValidationError(f"“{name}” is empty.")
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            f"“{name}” is larger than {size_text(MAX_FILE_BYTES)}, the most one import can take. Split it into parts."
        )


def stage_upload(data: bytes) -> str:
    """Keep an uploaded file privately until staff start (or abandon) the import; returns its key."""
    extension = "xlsx" if data[:4] == XLSX_MAGIC else "csv"
    key = f"{STAGED_PREFIX}{uuid.uuid4().hex}.{extension}"
    content_type = "text/csv" if extension == "csv" else exports.XLSX_TYPE
    get_storage().put(key, data, content_type, bucket=EXPORTS)
    return key


def _staged(key: str) -> str:
    if not key.startswith(STAGED_PREFIX):
        raise ValidationError(GONE_MESSAGE)
    return key


def read_staged(key: str) -> bytes:
    try:
        return get_storage().read(_staged(key), EXPORTS)
    except MissingFile as exc:
        raise ValidationError(GONE_MESSAGE) from exc


def discard_staged(key: str) -> None:
    """Forget a staged upload (after its import started, or when another file replaces it)."""
    if key:
        get_storage().delete(_staged(key), EXPORTS)


# --- the column mapping ----------------------------------------------------------------------------


@dataclass
class FieldChoice:
    value: str
    label: str


@dataclass
class MappingRow:
    """One column of an "other" sheet: its header, a sample of its values, the suggested field
    (pre-selected when the import would use it unasked, i.e. at least MAPPING_THRESHOLD sure) and
    how sure the suggestion is."""

    index: int
    header: str
    sample: str
    field: str  # a TEMPLATE_COLUMNS name, "option:<Header>" or IGNORE
    confidence_text: str  # "Suggested (90%)", "" when nothing was suggested
    option_value: str  # "option:<Header>": offered for every column
    option_label: str


def field_label(field: str) -> str:
    if field.startswith(OPTION_TARGET):
        return f"Option: {field[len(OPTION_TARGET) :]}"
    return FIELD_LABELS.get(field, field)


FIELD_CHOICES = [FieldChoice(name, FIELD_LABELS[name]) for name in TEMPLATE_COLUMNS]


def mapping_rows(suggestions: Sequence[MappingSuggestion], first_rows: Sequence[Sequence[str]]) -> list[MappingRow]:
    rows = []
    for index, suggestion in enumerate(suggestions):
        values = [r[index] for r in first_rows if index < len(r) and r[index].strip()]
        sample = ", ".join(v if len(v) <= 40 else v[:39] + "…" for v in values[:3])
        sure = round(suggestion.confidence * 100)
        confident = bool(suggestion.field) and suggestion.confidence >= MAPPING_THRESHOLD
        if confident:
            hint = f"Suggested ({sure}% sure)"
        elif suggestion.field:  # shown, not chosen: the import would not use it on its own either
            hint = f"Perhaps {field_label(suggestion.field)} ({sure}% sure)"
        else:
            hint = ""
        rows.append(
            MappingRow(
                index=index,
                header=suggestion.header,
                sample=sample,
                field=suggestion.field if confident and suggestion.field else IGNORE,
                confidence_text=hint,
                option_value=f"{OPTION_TARGET}{suggestion.header.strip()}",
                option_label=f"Option named “{suggestion.header.strip()}”",
            )
        )
    return rows


def mapping_from_choices(headers: Sequence[str], choices: Sequence[str]) -> dict[str, str]:
    """The mapping ``preview_import``/``start_import`` take (header → field), from the choice made
    for each column. Two columns given one field is refused here, naming both."""
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for header, choice in zip(headers, choices, strict=True):
        choice = (choice or IGNORE).strip()
        if choice == IGNORE or not header:
            continue
        if choice.startswith(OPTION_TARGET):
            if choice[len(OPTION_TARGET) :].strip() != header.strip():
                raise ValidationError(f"Column “{header}” can only be an option named after itself.")
        elif choice not in FIELD_LABELS:
            raise ValidationError(f"Column “{header}”: choose a field from the list.")
        if choice in taken:
            raise ValidationError(
                f"Columns “{taken[choice]}” and “{header}” are both set to {field_label(choice)}: choose one."
            )
        taken[choice] = header
        mapping[header] = choice
    if not mapping:
        raise ValidationError("Choose a field for at least one column.")
    return mapping


# --- problems and summaries ------------------------------------------------------------------------


@dataclass
class ProblemRow:
    row_text: str  # "Row 3", or "Whole file"
    column: str
    message: str
    severity: str  # error | warning


def problem_rows(problems: Sequence[Problem | dict[str, Any]]) -> list[ProblemRow]:
    rows = []
    for problem in problems:
        data = problem.as_dict() if isinstance(problem, Problem) else problem
        row = data.get("row")
        rows.append(
            ProblemRow(
                row_text=f"Row {row}" if row is not None else "Whole file",
                column=str(data.get("column") or "—"),
                message=str(data.get("message", "")),
                severity=str(data.get("severity", "error")),
            )
        )
    return rows


@dataclass
class Figure:
    key: str
    label: str
    value: int


def count_figures(counts: dict[str, int]) -> list[Figure]:
    """The counts of a preview or of a finished import, in the order the page shows them."""
    names = [
        ("products_created", "Products to create"),
        ("products_updated", "Products to update"),
        ("products_unchanged", "Products unchanged"),
        ("variants_created", "Variants to create"),
        ("variants_updated", "Variants to update"),
        ("variants_unchanged", "Variants unchanged"),
        ("rows", "Rows read"),
        ("rows_skipped", "Rows skipped"),
    ]
    return [Figure(key, text, int(counts.get(key, 0) or 0)) for key, text in names]


def result_figures(summary: dict[str, int]) -> list[Figure]:
    """A finished import's counts, worded as done."""
    done = {"to create": "created", "to update": "updated"}
    figures = []
    for figure in count_figures(summary):
        text = figure.label
        for future, past in done.items():
            text = text.replace(future, past)
        figures.append(Figure(figure.key, text, figure.value))
    return figures


def summary_text(status: str, summary: dict[str, Any], error: str) -> str:
    """One line for the history: "2 products created, 1 updated" or why it failed."""
    if status == TransferStatus.FAILED.value:
        return error or "Failed"
    if status != TransferStatus.SUCCEEDED.value:
        return ""
    created, updated = int(summary.get("products_created", 0)), int(summary.get("products_updated", 0))
    parts = [f"{created} product{'s' if created != 1 else ''} created", f"{updated} updated"]
    skipped = int(summary.get("rows_skipped", 0))
    if skipped:
        parts.append(f"{skipped} row{'s' if skipped != 1 else ''} skipped")
    return ", ".join(parts)


# --- histories -------------------------------------------------------------------------------------


def _time_text(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M}"


@dataclass
class ImportRow:
    id: int
    filename: str
    created_text: str
    requested_by: str
    status: str
    status_label: str
    summary: str


def import_history(session: Session, limit: int = HISTORY_LIMIT) -> list[ImportRow]:
    """The latest imports, newest first, with when and by whom."""
    records = session.exec(
        select(DataImport).order_by(col(DataImport.created_at).desc(), col(DataImport.id).desc()).limit(limit)
    )
    return [
        ImportRow(
            id=record.id or 0,
            filename=record.filename,
            created_text=_time_text(record.created_at),
            requested_by=record.requested_by or "—",
            status=record.status,
            status_label=STATUS_LABELS.get(record.status, label(record.status)),
            summary=summary_text(record.status, record.summary or {}, record.error),
        )
        for record in records
    ]


@dataclass
class ExportRow:
    id: int
    kind: str
    kind_label: str
    created_text: str
    requested_by: str
    status: str
    status_label: str
    filters_text: str
    rows_text: str
    size_text: str
    error: str
    ready: bool


def _day(value: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def filters_text(kind: str, filters: dict[str, Any]) -> str:
    """What an export covered: "Paid, shipped · payment paid · 1 Mar 2027 – 31 Mar 2027"."""
    if kind != "orders":
        return "The whole catalog"
    parts = []
    if filters.get("statuses"):
        parts.append(", ".join(label(s) for s in filters["statuses"]))
    if filters.get("payment_statuses"):
        parts.append("payment " + ", ".join(label(s).lower() for s in filters["payment_statuses"]))
    start, end = filters.get("date_from") or "", filters.get("date_to") or ""
    if start and end:
        parts.append(f"{_day(start)} – {_day(end)}")
    elif start:
        parts.append(f"from {_day(start)}")
    elif end:
        parts.append(f"until {_day(end)}")
    return " · ".join(parts) if parts else "All orders"


def export_history(session: Session, limit: int = HISTORY_LIMIT) -> list[ExportRow]:
    rows = []
    for info in exports.list_exports(session, limit=limit):
        noun = "product row" if info.kind == "products" else "order"
        rows.append(
            ExportRow(
                id=info.id,
                kind=info.kind,
                kind_label=label(info.kind),
                created_text=_time_text(info.created_at),
                requested_by=info.requested_by or "—",
                status=info.status,
                status_label=STATUS_LABELS.get(info.status, label(info.status)),
                filters_text=filters_text(info.kind, info.filters),
                rows_text=f"{info.row_count} {noun}{'s' if info.row_count != 1 else ''}" if info.ready else "",
                size_text=size_text(info.size_bytes) if info.ready else "",
                error=info.error,
                ready=info.ready,
            )
        )
    return rows


def has_unfinished(statuses: Sequence[str]) -> bool:
    return any(s in (TransferStatus.PENDING.value, TransferStatus.RUNNING.value) for s in statuses)


# --- starting work, as a member of staff -----------------------------------------------------------


def start_staged_import(
    session: Session,
    actor: User | None,
    key: str,
    filename: str,
    *,
    shape: str,
    mapping: dict[str, str] | None,
    only_valid_rows: bool,
) -> DataImport:
    """Start the import of a staged upload as ``actor`` (staff or admin): the file is copied to the
    import's own key, the job is queued once ``session`` commits, and the start is audited in the same
    transaction. The caller discards the staged copy after the commit."""
    actor = accounts.require_role(actor, Role.STAFF.value)
    data = read_staged(key)
    record = product_import.start_import(
        session,
        data,
        filename,
        shape=shape or None,
        mapping=mapping if shape == Shape.MAPPED.value else None,
        only_valid_rows=only_valid_rows,
        requested_by=actor.email,
    )
    after = {"filename": record.filename, "shape": record.shape, "only_valid_rows": only_valid_rows}
    audit.record(session, actor, "import.start", ("dataimport", record.id), None, after, record.filename)
    return record


def export_filters(date_from: str, date_to: str, status: str, payment_status: str) -> dict[str, Any]:
    """An orders export's filters from the form, checked: real dates in order, known statuses
    ("" or "any" means any)."""
    filters = exports.OrderFilters.from_dict({"date_from": date_from.strip(), "date_to": date_to.strip()})
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError("The start date is after the end date.")
    statuses, payments = [], []
    if status and status != "any":
        if status not in {s.value for s in OrderStatus}:
            raise ValidationError("Choose an order status from the list.")
        statuses.append(status)
    if payment_status and payment_status != "any":
        if payment_status not in {s.value for s in PaymentStatus}:
            raise ValidationError("Choose a payment status from the list.")
        payments.append(payment_status)
    return {**filters.as_dict(), "statuses": statuses, "payment_statuses": payments}


def request_export_as(
    session: Session, actor: User | None, kind: str, filters: dict[str, Any] | None = None
) -> DataExport:
    """Queue an export as ``actor`` (staff or admin), audited: exports carry customers' details."""
    actor = accounts.require_role(actor, Role.STAFF.value)
    if kind not in {k.value for k in ExportKind}:
        raise ValidationError("Choose products or orders.")
    record = exports.request_export(session, kind, filters=filters, requested_by=actor.email)
    after = {"kind": record.kind, "filters": record.filters}
    audit.record(
        session, actor, "export.request", ("dataexport", record.id), None, after, filters_text(kind, record.filters)
    )
    return record
