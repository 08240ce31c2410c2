"""Spreadsheet files in and out: ``.xlsx`` and ``.csv`` bytes to rows of text, and rows to ``.xlsx``.

Everything a reader returns is text, exactly as a person would read the cell, so the import's rules
(prices, numbers, yes/no) are applied in one place whatever the file type. Row numbers are the ones a
spreadsheet program shows (the header is row 1 when it is the first line), so an error report can
send staff straight to the cell. A file that cannot be read raises ValidationError with the reason;
nothing here ever lets a library exception through.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from revoque.errors import ValidationError

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
CSV_DELIMITERS = ",;\t"
CSV_ENCODINGS = ("utf-8-sig", "cp1252")  # cp1252 covers Excel's "CSV" on Windows; latin-1 never fails
PREFERRED_SHEET_NAMES = ("products", "product", "orders")
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Sheet:
    """A table read from a file: its header texts and its data rows, each padded to the header width.

    ``rows`` are ``(row_number, cells)`` with blank rows already left out; ``extra_columns`` lists the
    (1-based) columns that hold values but have no header, so an import can say they were ignored."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    sheet_name: str = ""
    extra_columns: list[int] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 → ``A``, 26 → ``AA``: how a spreadsheet names the column at this 0-based index."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell's value as the text a person reads: whole numbers without ``.0``, dates in ISO form,
    booleans as TRUE/FALSE. Floats print their shortest exact form, so 19.99 stays ``19.99``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return str(value).strip()


def read_sheet(data: bytes, filename: str = "") -> Sheet:
    """Read the first table of an ``.xlsx`` (the sheet named Products if there is one) or a ``.csv``
    (UTF-8 or Windows encoding, comma, semicolon or tab separated) into text rows."""
    if not data:
        raise ValidationError("The file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into parts")
    name = filename.lower()
    if name.endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValidationError("Old Excel .xls files cannot be read: save the sheet as .xlsx or .csv")
    if data[:4] == XLSX_MAGIC or name.endswith((".xlsx", ".xlsm")):
        name_and_rows = _xlsx_rows(data)
    else:
        name_and_rows = ("", _csv_rows(data))
    return _table(*name_and_rows)


def _xlsx_rows(data: bytes) -> tuple[str, Iterable[Sequence[Any]]]:
    from openpyxl import load_workbook  # imported here: only imports and exports need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ValidationError(f"The file is not a readable .xlsx workbook ({exc.__class__.__name__})") from exc
    except Exception as exc:  # openpyxl raises its own and lxml's errors for damaged parts
        raise ValidationError(f"The .xlsx workbook is damaged and cannot be read ({exc.__class__.__name__})") from exc
    sheets = {sheet.title.strip().lower(): sheet for sheet in workbook.worksheets}
    if not sheets:
        raise ValidationError("The workbook has no sheets")
    chosen = next((sheets[n] for n in PREFERRED_SHEET_NAMES if n in sheets), workbook.worksheets[0])
    return chosen.title, _safe_xlsx_iter(chosen)


def _safe_xlsx_iter(worksheet: Any) -> Iterable[Sequence[Any]]:
    try:
        yield from worksheet.iter_rows(values_only=True)
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(f"The .xlsx workbook is damaged and cannot be read ({exc.__class__.__name__})") from exc


def _decode(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _delimiter(text: str) -> str:
    """The separator of the header line: the one of , ; TAB it holds most of (outside quotes is
    close enough for a header), comma when it holds none (a one-column file)."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first_line.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterable[Sequence[Any]]:
    text = _decode(data)
    if "\x00" in text:
        raise ValidationError("The file is not a text .csv or an .xlsx workbook")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    try:
        yield from reader
    except csv.Error as exc:
        raise ValidationError(f"The CSV file cannot be read near line {reader.line_num}: {exc}") from exc


def _table(sheet_name: str, raw_rows: Iterable[Sequence[Any]]) -> Sheet:
    """First non-blank row is the header; later blank rows are skipped but keep numbering."""
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    extra: set[int] = set()
    for number, raw in enumerate(raw_rows, start=1):
        cells = [cell_text(value) for value in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if headers is None:
            if len(cells) > MAX_COLUMNS:
                raise ValidationError(f"The sheet has {len(cells)} columns; at most {MAX_COLUMNS} can be read")
            headers = [" ".join(cell.split()) for cell in cells]
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationError(f"The sheet has more than {MAX_ROWS:,} rows; split it into parts")
        too_long = next((i for i, cell in enumerate(cells) if len(cell) > MAX_CELL_CHARS), None)
        if too_long is not None:
            raise ValidationError(
                f"Row {number}, column {column_letter(too_long)} holds more than {MAX_CELL_CHARS:,} characters"
            )
        extra.update(i + 1 for i in range(len(headers), min(len(cells), MAX_COLUMNS)) if cells[i])
        extra.update(i + 1 for i, cell in enumerate(cells[: len(headers)]) if cell and not headers[i])
        rows.append((number, (cells + [""] * len(headers))[: len(headers)]))
    if headers is None:
        raise ValidationError("The sheet has no header row and no data")
    return Sheet(headers=headers, rows=rows, sheet_name=sheet_name, extra_columns=sorted(extra))


# --- writing ---------------------------------------------------------------------------------------


@dataclass
class SheetSpec:
    """One worksheet to write: ``number_formats`` maps a header to an Excel format for its cells."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    number_formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)


def write_xlsx(sheets: Sequence[SheetSpec]) -> bytes:
    """A workbook written in streaming mode (constant memory for large exports), header row bold
    and frozen so it stays visible while scrolling."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for spec in sheets:
        worksheet = workbook.create_sheet(spec.title[:31])
        worksheet.freeze_panes = "A2"
        for index, header in enumerate(spec.headers):
            worksheet.column_dimensions[column_letter(index)].width = spec.widths.get(header, max(10, len(header) + 2))
        header_cells = []
        for header in spec.headers:
            cell = WriteOnlyCell(worksheet, value=header)
            cell.font = bold
            header_cells.append(cell)
        worksheet.append(header_cells)
        formats = [spec.number_formats.get(header) for header in spec.headers]
        for row in spec.rows:
            worksheet.append(
                [_out_cell(worksheet, value, fmt, WriteOnlyCell) for value, fmt in zip(row, formats, strict=False)]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _out_cell(worksheet: Any, value: Any, number_format: str | None, cell_class: Any) -> Any:
    if number_format is None or value is None or value == "":
        return value
    cell = cell_class(worksheet, value=value)
    cell.number_format = number_format
    return cell


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to show ₦ and accents correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
