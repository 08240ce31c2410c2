"""The import and export pages' handlers, run as Reflex runs them for a signed-in member of staff, on
SQLite and PostgreSQL: an upload is checked and previewed with every problem (nothing written), an
"other" sheet goes through the column mapping, the import starts as a job that the page follows to its
summary, and exports are asked for, followed and downloaded through a signed link."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from reflex.istate.data import ReflexURL, RouterData
from sqlalchemy import func
from sqlmodel import select

from revoque.adapters.storage import EXPORTS, get_storage, verify_signed_request
from revoque.db import session_scope
from revoque.models import AuditEntry, DataExport, DataImport, Product, Variant
from revoque.pages.admin import exports as exports_page
from revoque.pages.admin import imports as imports_page
from revoque.pages.admin.exports import AdminExportsState
from revoque.pages.admin.imports import AdminImportState
from revoque.services.sheets import MAX_FILE_BYTES
from revoque.services.spreadsheet_admin import STAGED_PREFIX
from tests.support.admin import event_text, frame, page_state, run, token_for
from tests.support.recorded_jobs import record_jobs

BAD_ROWS = (Path(__file__).resolve().parents[1] / "fixtures" / "spreadsheets" / "template_bad_rows.csv").read_bytes()
BAD_ROWS_ERRORS = [
    ("Row 3", "price", "'-15000': prices cannot be negative", "error"),
    ("Row 4", "sku", "SKU 'LS-S' is already used on row 2", "error"),
    (
        "Row 5",
        "option2_value",
        "Unknown option: 'Red' is given for option 2, but the product has only 1 option",
        "error",
    ),
    ("Row 6", "stock", "'ten' is not a whole number", "error"),
    ("Row 6", "price", "Product 'canvas-tote' has no valid variant row (a row with a price)", "error"),
]
IMPORT_URL = "http://localhost:3000/admin/import"


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def upload(data: bytes, name: str, size: int | None = None):
    from reflex import UploadFile

    return UploadFile(file=io.BytesIO(data), path=Path(name), size=len(data) if size is None else size)


def import_page(role: str = "staff", url: str = IMPORT_URL) -> AdminImportState:
    state = page_state(AdminImportState, token_for(role), url)
    run(AdminImportState.load, state)
    return state


def counts() -> dict[str, int]:
    with session_scope() as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Product, Variant, DataImport, AuditEntry)
        }


def staged_files() -> list[str]:
    root = get_storage().path_for(STAGED_PREFIX + "x", EXPORTS).parent
    return sorted(p.name for p in root.glob("*")) if root.exists() else []


def figures(state) -> dict[str, int]:
    return {figure.key: figure.value for figure in state.figures}


def handlers(response) -> list[str]:
    """The names of the event handlers a handler's response calls next."""
    items = response if isinstance(response, list) else [response]
    return [item.handler.fn.__name__ for item in items if getattr(item, "handler", None) is not None]


def problems(state) -> list[tuple[str, str, str, str]]:
    return [(p.row_text, p.column, p.message, p.severity) for p in state.problems]


# --- import: upload and preview -------------------------------------------------------------------


def test_the_preview_shows_every_error_of_a_bad_file_and_writes_nothing(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    state = import_page()
    before = counts()
    run(AdminImportState.receive_upload, state, [upload(BAD_ROWS, "template_bad_rows.csv")])
    assert (state.step, state.shape, state.filename, state.row_count) == (
        "preview",
        "template",
        "template_bad_rows.csv",
        5,
    )
    assert problems(state) == BAD_ROWS_ERRORS
    assert (state.error_count, state.warning_count, state.file_error) == (5, 0, False)
    assert figures(state) == {
        "products_created": 1,  # what the valid rows would do
        "products_updated": 0,
        "products_unchanged": 0,
        "variants_created": 1,
        "variants_updated": 0,
        "variants_unchanged": 0,
        "rows": 5,
        "rows_skipped": 4,
    }
    assert [(s.handle, s.action) for s in state.sample] == [("linen-shirt", "create")]
    assert state.can_start is False
    assert counts() == before and recorded.jobs == []  # nothing written, nothing queued

    response = run(AdminImportState.start_import, state)  # errors remain and "only valid rows" is off
    assert "problems that stop the import" in event_text(response)
    assert counts() == before and recorded.jobs == []

    run(AdminImportState.set_only_valid_rows, state, True)
    assert state.can_start is True


def test_an_import_of_only_the_valid_rows_runs_as_a_job_that_the_page_follows(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    monkeypatch.setattr(imports_page, "POLL_SECONDS", 0)
    state = import_page()
    run(AdminImportState.receive_upload, state, [upload(BAD_ROWS, "template_bad_rows.csv")])
    assert len(staged_files()) == 1
    run(AdminImportState.set_only_valid_rows, state, True)
    response = run(AdminImportState.start_import, state)
    with session_scope() as session:
        record = session.exec(select(DataImport)).one()
        entry = session.exec(select(AuditEntry)).one()
    assert f'"/admin/import?import={record.id}"' in event_text(response)
    assert (record.only_valid_rows, record.shape, record.status) == (True, "template", "pending")
    assert record.requested_by.startswith("staff-")
    assert (entry.action, entry.entity_type, entry.entity_id) == ("import.start", "dataimport", str(record.id))
    assert staged_files() == []  # the import keeps its own copy; the staged one is gone
    (job,) = recorded.named("import_products")

    url = f"{IMPORT_URL}?import={record.id}"
    state.router = RouterData(url=ReflexURL(url))
    follow = run(AdminImportState.load, state)  # the redirect lands on the page again
    assert "follow_import" in handlers(follow)
    assert (state.step, state.import_status, state.finished, state.percent) == ("progress", "pending", False, 0)
    assert state.stage_text == "Waiting for a worker…"
    assert [(row.id, row.status_label) for row in state.history] == [(record.id, "Waiting")]

    job.run()
    run(AdminImportState.follow_import, state)
    assert (state.import_status, state.finished, state.percent) == ("succeeded", True, 100)
    assert figures(state)["products_created"] == 1 and figures(state)["rows_skipped"] == 4
    assert [f.label for f in state.figures][:2] == ["Products created", "Products updated"]
    assert problems(state) == BAD_ROWS_ERRORS  # the skipped rows, and why
    assert [(row.status_label, row.summary) for row in state.history] == [
        ("Done", "1 product created, 0 updated, 4 rows skipped")
    ]
    with session_scope() as session:
        assert [p.slug for p in session.exec(select(Product))] == ["linen-shirt"]


def test_the_follower_stops_when_the_page_moves_on(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    monkeypatch.setattr(imports_page, "POLL_SECONDS", 0)
    state = import_page()
    run(
        AdminImportState.receive_upload,
        state,
        [upload(csv_bytes([["handle", "title", "price"], ["a", "A", "5"]]), "a.csv")],
    )
    run(AdminImportState.start_import, state)
    with session_scope() as session:
        import_id = session.exec(select(DataImport.id)).one()
    state.router = RouterData(url=ReflexURL(f"{IMPORT_URL}?import={import_id}"))
    run(AdminImportState.load, state)
    state.router = RouterData(url=ReflexURL(IMPORT_URL))
    run(AdminImportState.load, state)  # a fresh visit: back to the upload step
    assert (state.step, state.import_id) == ("upload", 0)
    assert run(AdminImportState.follow_import, state) is None  # nothing to follow
    recorded.run_all()
    assert state.step == "upload"


def test_files_of_other_types_and_sizes_are_refused_with_a_clear_message(database):
    state = import_page()
    run(AdminImportState.receive_upload, state, [upload(b"\x89PNG....", "photo.png")])
    assert state.upload_error == "“photo.png” is not a spreadsheet the import can read: upload an .xlsx or .csv file."
    run(AdminImportState.receive_upload, state, [upload(b"handle", "huge.csv", size=MAX_FILE_BYTES + 1)])
    assert state.upload_error == "“huge.csv” is larger than 25 MB, the most one import can take. Split it into parts."
    run(AdminImportState.receive_upload, state, [upload(b"", "empty.csv")])
    assert state.upload_error == "“empty.csv” is empty."
    run(AdminImportState.receive_upload, state, [upload(b"\xd0\xcf\x11\xe0", "old.xls")])
    assert "old Excel .xls file" in state.upload_error
    run(AdminImportState.receive_upload, state, [upload(b"PK\x03\x04broken", "broken.xlsx")])
    assert state.upload_error.startswith("“broken.xlsx” can't be read: The file is not a readable .xlsx workbook")
    assert state.step == "upload" and staged_files() == []
    run(
        AdminImportState.reject_files,
        state,
        [{"file": {"path": "./cat.gif"}, "errors": [{"code": "file-invalid-type"}]}],
    )
    assert state.upload_error == "“cat.gif” is not a spreadsheet the import can read: upload an .xlsx or .csv file."
    run(AdminImportState.reject_files, state, [{"file": {"path": "big.xlsx"}, "errors": [{"code": "file-too-large"}]}])
    assert state.upload_error == "“big.xlsx” is larger than 25 MB, the most one import can take. Split it into parts."


def test_an_other_sheet_is_mapped_with_the_suggestions_preselected(database, monkeypatch):
    record_jobs(monkeypatch)
    data = csv_bytes(
        [
            ["Product name", "Selling price", "Qty", "Size", "Vendor", "Notes"],
            ["Raffia Basket", "₦ 7,500", "12", "S", "Kano Weavers", "handmade"],
            ["Raffia Basket", "8,000.50", "3", "L", "Kano Weavers", ""],
        ]
    )
    state = import_page()
    run(AdminImportState.receive_upload, state, [upload(data, "baskets.csv")])
    assert (state.step, state.shape) == ("mapping", "mapped")
    assert [(m.header, m.field, m.sample) for m in state.mapping] == [
        ("Product name", "title", "Raffia Basket, Raffia Basket"),
        ("Selling price", "price", "₦ 7,500, 8,000.50"),
        ("Qty", "stock", "12, 3"),
        ("Size", "option:Size", "S, L"),
        ("Vendor", "brand", "Kano Weavers, Kano Weavers"),
        ("Notes", "ignore", "handmade"),
    ]
    assert counts()["Product"] == 0

    chosen = {f"col-{m.index}": m.field for m in state.mapping}
    run(AdminImportState.check_mapping, state, chosen | {"col-4": "price"})
    assert state.mapping_error == "Columns “Selling price” and “Vendor” are both set to Price: choose one."
    assert state.step == "mapping"

    run(AdminImportState.check_mapping, state, chosen)
    assert (state.step, state.error_count, state.ignored_columns) == ("preview", 0, ["Notes"])
    assert figures(state)["products_created"] == 1 and figures(state)["variants_created"] == 2
    assert state.can_start is True
    run(AdminImportState.back_to_mapping, state)
    assert state.step == "mapping" and state.mapping[5].field == "ignore"
    run(AdminImportState.check_mapping, state, chosen)
    run(AdminImportState.start_import, state)
    with session_scope() as session:
        record = session.exec(select(DataImport)).one()
    assert record.shape == "mapped" and record.mapping == {
        "Product name": "title",
        "Selling price": "price",
        "Qty": "stock",
        "Size": "option:Size",
        "Vendor": "brand",
    }


def test_long_lists_of_problems_come_a_page_at_a_time(database):
    rows = [["handle", "title", "price"]] + [[f"p-{n}", f"P {n}", "-1"] for n in range(45)]
    state = import_page()
    run(AdminImportState.receive_upload, state, [upload(csv_bytes(rows), "many.csv")])
    assert (state.problem_total, state.problem_pages, len(state.problems)) == (90, 5, 20)
    assert state.problems[0].row_text == "Row 2"
    run(AdminImportState.show_problem_page, state, 5)
    assert (state.problem_page, len(state.problems), state.problems[-1].row_text) == (5, 10, "Row 46")
    run(AdminImportState.show_problem_page, state, 99)
    assert state.problem_page == 5


def test_choosing_another_file_forgets_the_first(database):
    state = import_page()
    run(AdminImportState.receive_upload, state, [upload(BAD_ROWS, "bad.csv")])
    assert len(staged_files()) == 1
    run(AdminImportState.start_over, state)
    assert (state.step, state.filename, state.problem_total) == ("upload", "", 0)
    assert staged_files() == []


def test_the_template_downloads_as_a_workbook(database):
    state = import_page()
    response = run(AdminImportState.download_template, state)
    text = event_text(response)
    assert "revoque-product-import-template.xlsx" in text
    assert "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,UEsDB" in text


def test_customers_get_nothing_of_the_import_page(database):
    state = import_page("customer")
    assert frame(state).access == "not_allowed" and not state.loaded and state.history == []
    response = run(AdminImportState.receive_upload, state, [upload(BAD_ROWS, "bad.csv")])
    assert "not have access" in event_text(response)
    assert state.step == "upload" and state.problem_total == 0 and staged_files() == []


# --- exports ---------------------------------------------------------------------------------------


def exports_state(role: str = "staff") -> AdminExportsState:
    state = page_state(AdminExportsState, token_for(role), "http://localhost:3000/admin/exports")
    run(AdminExportsState.load, state)
    return state


def test_staff_export_products_follow_it_and_download_through_a_signed_link(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    monkeypatch.setattr(exports_page, "POLL_SECONDS", 0)
    state = exports_state()
    assert state.history == [] and state.loaded
    response = run(AdminExportsState.export_products, state)
    assert "Products export started." in event_text(response)
    assert "follow_exports" in handlers(response)
    (row,) = state.history
    assert (row.kind, row.status_label, row.ready, row.filters_text) == (
        "products",
        "Waiting",
        False,
        "The whole catalog",
    )
    with session_scope() as session:
        entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.entity_type, entry.entity_id) == ("export.request", "dataexport", str(row.id))

    (job,) = recorded.named("export_products")
    job.run()
    run(AdminExportsState.follow_exports, state)
    (row,) = state.history
    assert (row.status_label, row.ready, row.rows_text) == ("Done", True, "0 product rows")

    script = event_text(run(AdminExportsState.download, state, row.id))
    url = urlparse(re.search(r"/files/[^\"\\]+", script).group(0))
    query = parse_qs(url.query)
    bucket, key = url.path.removeprefix("/files/").split("/", 1)
    assert bucket == EXPORTS and verify_signed_request(bucket, key, query["expires"][0], query["sig"][0])
    assert query["download"][0].endswith(".xlsx")


def test_an_orders_export_takes_its_filters_from_the_form(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    state = exports_state()
    run(AdminExportsState.export_orders, state, {"from": "2027-03-31", "to": "2027-03-01", "status": "any"})
    assert state.orders_error == "The start date is after the end date."
    run(AdminExportsState.export_orders, state, {"from": "31/03/2027", "to": ""})
    assert "is not a date" in state.orders_error
    assert recorded.jobs == [] and state.history == []
    form = {"from": "2027-03-01", "to": "2027-03-31", "status": "shipped", "payment": "paid"}
    run(AdminExportsState.export_orders, state, form)
    assert state.orders_error == ""
    with session_scope() as session:
        record = session.exec(select(DataExport)).one()
    assert record.filters == {
        "date_from": "2027-03-01",
        "date_to": "2027-03-31",
        "statuses": ["shipped"],
        "payment_statuses": ["paid"],
    }
    assert state.history[0].filters_text == "Shipped · payment paid · 1 Mar 2027 – 31 Mar 2027"
    assert [job.func.__name__ for job in recorded.jobs] == ["export_orders"]


def test_an_unfinished_export_cannot_be_downloaded(database, monkeypatch):
    record_jobs(monkeypatch)
    state = exports_state()
    run(AdminExportsState.export_products, state)
    response = run(AdminExportsState.download, state, state.history[0].id)
    assert "That export is not ready" in event_text(response)


@pytest.mark.parametrize("role", ["customer", "guest"])
def test_only_staff_may_export(database, monkeypatch, role):
    recorded = record_jobs(monkeypatch)
    state = exports_state(role)
    response = run(AdminExportsState.export_products, state)
    assert ("/sign-in" if role == "guest" else "not have access") in event_text(response)
    assert recorded.jobs == [] and counts()["AuditEntry"] == 0
