"""/admin/import: product import from a spreadsheet, in the steps ``revoque.services.product_import``
lays down, so staff always see what will happen before anything is written:

1. upload an .xlsx or .csv (checked for type and size before it is read; kept in private storage);
2. for a sheet that is neither our template nor Shopify's CSV, map its columns (suggested matches
   are pre-selected);
3. the dry run: counts to create, update and leave unchanged, and every problem with its row, column
   and reason, a page at a time; with errors, staff may choose to import only the valid rows;
4. start: the import runs as a job and the page follows its progress bar (``?import=<id>`` in the
   URL, so a reload or another tab shows the same import) to the result summary.

The blank template and the history of imports are on the same page. Staff and admins may import.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import reflex as rx

from revoque.components.admin_layout import admin_page, color_badge, empty_note, panel
from revoque.components.admin_table import data_table, loading
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import product_import, spreadsheet_admin
from revoque.services.exports import XLSX_TYPE, template_workbook
from revoque.services.product_import import ImportProgress, Preview
from revoque.services.sheets import MAX_FILE_BYTES
from revoque.services.spreadsheet_admin import (
    ACCEPTED_TYPES,
    FIELD_CHOICES,
    IGNORE,
    SHAPE_LABELS,
    STAGE_LABELS,
    Figure,
    ImportRow,
    MappingRow,
    ProblemRow,
)
from revoque.state.admin import AdminPageState, staff_event, staff_load
from revoque.state.listing import int_param

ROUTE = "/admin/import"
UPLOAD_ID = "product-import"
TEMPLATE_FILENAME = "revoque-product-import-template.xlsx"
PROBLEMS_PAGE_SIZE = 20
POLL_SECONDS = 1.0
MAX_POLLS = 3600  # an hour of following; after that the page asks for a reload
STATUS_COLORS = {"pending": "gray", "running": "blue", "succeeded": "green", "failed": "red"}
ACTION_COLORS = {"create": "green", "update": "blue", "unchanged": "gray"}
ACTION_LABELS = {"create": "Create", "update": "Update", "unchanged": "Unchanged"}


class Step:
    UPLOAD = "upload"
    MAPPING = "mapping"
    PREVIEW = "preview"
    PROGRESS = "progress"


@dataclass
class SampleRow:
    row: int
    handle: str
    title: str
    action: str
    action_label: str
    variants: int


def _rejection_message(rejected: list[dict]) -> str:
    """react-dropzone's reasons, in words: the file's name and what is wrong with it."""
    first = rejected[0] if rejected else {}
    name = str((first.get("file") or {}).get("path") or (first.get("file") or {}).get("name") or "The file")
    name = name.lstrip("./")
    codes = {str(error.get("code", "")) for error in first.get("errors") or []}
    if "file-too-large" in codes:
        limit = spreadsheet_admin.size_text(MAX_FILE_BYTES)
        return f"“{name}” is larger than {limit}, the most one import can take. Split it into parts."
    if "too-many-files" in codes:
        return "Upload one file at a time."
    if "file-invalid-type" in codes:
        return f"“{name}” is not a spreadsheet the import can read: upload an .xlsx or .csv file."
    return f"“{name}” can't be uploaded. Upload an .xlsx or .csv file."


def _inspect(data: bytes, filename: str) -> product_import.FileSummary:
    return product_import.inspect_file(data, filename)


def _preview(key: str, filename: str, shape: str, mapping: dict[str, str] | None) -> Preview:
    data = spreadsheet_admin.read_staged(key)
    with session_scope() as session:
        return product_import.preview_import(session, data, filename, shape=shape or None, mapping=mapping)


def _progress(import_id: int) -> ImportProgress:
    with session_scope() as session:
        return product_import.import_progress(session, import_id)


def _load_history() -> list[ImportRow]:
    with session_scope() as session:
        return spreadsheet_admin.import_history(session)


class AdminImportState(AdminPageState, rx.State):
    loaded: bool = False
    step: str = Step.UPLOAD
    busy: bool = False
    busy_text: str = ""
    upload_error: str = ""
    upload_serial: int = 0  # a new file mounts the mapping form afresh
    filename: str = ""
    file_size_text: str = ""
    shape: str = ""
    shape_label: str = ""
    row_count: int = 0
    mapping: list[MappingRow] = []
    mapping_error: str = ""
    figures: list[Figure] = []
    error_count: int = 0
    warning_count: int = 0
    file_error: bool = False  # an error about the whole file: nothing can be imported
    sample: list[SampleRow] = []
    ignored_columns: list[str] = []
    only_valid_rows: bool = False
    problems: list[ProblemRow] = []  # the page of problems on screen
    problem_total: int = 0
    problem_page: int = 1
    problem_pages: int = 1
    import_id: int = 0
    import_status: str = ""
    stage_text: str = ""
    percent: int = 0
    rows_done: int = 0
    rows_total: int = 0
    finished: bool = False
    result_error: str = ""
    stopped_following: bool = False
    history: list[ImportRow] = []

    _file_key: str = ""
    _headers: list[str] = []
    _mapping: dict[str, str] = {}
    _all_problems: list[ProblemRow] = []
    _following: bool = False

    @rx.var
    def can_start(self) -> bool:
        if self.step != Step.PREVIEW or self.file_error or self.busy:
            return False
        return self.error_count == 0 or self.only_valid_rows

    @rx.var
    def is_mapped(self) -> bool:
        return self.shape == "mapped"

    # --- internal helpers (private: not events) ---------------------------------------------------

    def _show_problems(self, page: int) -> None:
        self.problem_total = len(self._all_problems)
        self.problem_pages = max(1, -(-self.problem_total // PROBLEMS_PAGE_SIZE))
        self.problem_page = min(max(1, page), self.problem_pages)
        start = (self.problem_page - 1) * PROBLEMS_PAGE_SIZE
        self.problems = self._all_problems[start : start + PROBLEMS_PAGE_SIZE]

    def _forget_file(self) -> None:
        """Drop the staged upload and everything read from it."""
        key, self._file_key = self._file_key, ""
        if key:  # a file left behind is harmless: the upload flow must not fail over it
            with contextlib.suppress(RevoqueError):
                spreadsheet_admin.discard_staged(key)
        self.filename = self.file_size_text = self.shape = self.shape_label = ""
        self.row_count, self._headers, self._mapping, self.mapping = 0, [], {}, []
        self.mapping_error = ""
        self._clear_preview()

    def _clear_preview(self) -> None:
        self.figures, self.sample, self.ignored_columns = [], [], []
        self.error_count = self.warning_count = 0
        self.file_error = self.only_valid_rows = False
        self._all_problems = []
        self._show_problems(1)

    def _show_preview(self, preview: Preview) -> None:
        self.figures = spreadsheet_admin.count_figures(preview.counts.as_dict())
        self.error_count, self.warning_count = len(preview.errors), len(preview.warnings)
        self.file_error = any(problem.row is None for problem in preview.errors)
        self.sample = [
            SampleRow(
                row=int(item["row"]),
                handle=str(item["handle"]),
                title=str(item["title"] or ""),
                action=str(item["action"]),
                action_label=ACTION_LABELS.get(str(item["action"]), str(item["action"])),
                variants=int(item["variants"]),
            )
            for item in preview.sample
        ]
        self.ignored_columns = list(preview.ignored_columns)
        self._all_problems = spreadsheet_admin.problem_rows(preview.problems)
        self._show_problems(1)
        self.step = Step.PREVIEW

    def _show_progress(self, progress: ImportProgress) -> None:
        self.import_id, self.filename = progress.id, progress.filename
        self.import_status, self.finished = progress.status, progress.finished
        self.percent, self.rows_done, self.rows_total = progress.percent, progress.rows_done, progress.rows_total
        self.stage_text = STAGE_LABELS.get(progress.stage, progress.stage.capitalize())
        if progress.status == "pending":
            self.stage_text = STAGE_LABELS[""]
        if progress.finished:
            self.figures = spreadsheet_admin.result_figures(progress.summary)
            self.result_error = progress.error
            self._all_problems = spreadsheet_admin.problem_rows(progress.problems)
            self._show_problems(1)
        self.step = Step.PROGRESS

    async def _run_preview(self):
        self.busy, self.busy_text = True, "Checking every row (nothing is written)…"
        yield
        try:
            preview = await asyncio.to_thread(
                _preview, self._file_key, self.filename, self.shape, self._mapping if self.is_mapped else None
            )
        except RevoqueError as exc:
            self.busy = False
            self._forget_file()
            self.step, self.upload_error = Step.UPLOAD, str(exc)
            return
        self.busy = False
        self._show_preview(preview)

    # --- events -----------------------------------------------------------------------------------

    @staff_load
    async def load(self):
        self.loaded = False
        self._forget_file()
        self.step, self.upload_error, self.busy = Step.UPLOAD, "", False
        self.import_id, self.finished, self.stopped_following, self.result_error = 0, False, False, ""
        wanted = int_param(self.router.url.query_parameters.get("import"), 0)
        follow = None
        if wanted:
            try:
                self._show_progress(await asyncio.to_thread(_progress, wanted))
                follow = None if self.finished else AdminImportState.follow_import()
            except NotFound:
                self.upload_error = "That import does not exist. Start a new one below."
        self.history = await asyncio.to_thread(_load_history)  # after the progress: never older than it
        self.loaded = True
        return follow

    @staff_event
    async def receive_upload(self, files: list[rx.UploadFile]):
        """The chosen file: check it, keep it, read its headers, then map or preview."""
        self._forget_file()
        self.upload_error, self.step = "", Step.UPLOAD
        if len(files) != 1:
            self.upload_error = "Upload one file at a time." if files else "Choose a file to upload."
            return
        upload = files[0]
        name = (upload.name or upload.filename or "").rsplit("/", 1)[-1]
        try:
            spreadsheet_admin.check_upload(name, upload.size if upload.size is not None else 1)
            data = await upload.read()
            spreadsheet_admin.check_upload(name, len(data))
        except RevoqueError as exc:
            self.upload_error = str(exc)
            return
        self.busy, self.busy_text = True, f"Reading {name}…"
        yield
        try:
            summary = await asyncio.to_thread(_inspect, data, name)
            key = await asyncio.to_thread(spreadsheet_admin.stage_upload, data)
        except RevoqueError as exc:
            self.busy, self.upload_error = False, f"“{name}” can't be read: {exc}."
            return
        self._file_key, self.filename, self.file_size_text = key, name, spreadsheet_admin.size_text(len(data))
        self._headers, self.row_count = list(summary.headers), summary.rows
        self.shape, self.shape_label = summary.shape.value, SHAPE_LABELS[summary.shape.value]
        self.upload_serial += 1
        if summary.shape.value == "mapped":
            self.mapping = spreadsheet_admin.mapping_rows(summary.suggestions, summary.first_rows)
            self.busy, self.step = False, Step.MAPPING
            return
        async for update in self._run_preview():
            yield update

    @staff_event
    async def reject_files(self, rejected: list[dict]):
        """The browser refused the file (type or size) before sending it."""
        self.upload_error = _rejection_message(rejected)
        return None

    @staff_event
    async def check_mapping(self, form: dict):
        """The mapping step's choices → the dry run."""
        if self.step != Step.MAPPING or not self._file_key:
            return
        choices = [str(form.get(f"col-{index}", IGNORE)) for index in range(len(self._headers))]
        try:
            self._mapping = spreadsheet_admin.mapping_from_choices(self._headers, choices)
        except RevoqueError as exc:
            self.mapping_error = str(exc)
            return
        self.mapping_error = ""
        chosen = dict(zip(self._headers, choices, strict=True))
        for row in self.mapping:  # a return to this step shows the choices just made
            row.field = chosen.get(row.header, IGNORE)
        async for update in self._run_preview():
            yield update

    @staff_event
    async def back_to_mapping(self):
        if self.is_mapped and self._file_key:
            self._clear_preview()
            self.step = Step.MAPPING
        return None

    @staff_event
    async def set_only_valid_rows(self, value: bool):
        self.only_valid_rows = bool(value) and self.step == Step.PREVIEW
        return None

    @staff_event
    async def show_problem_page(self, page: int):
        self._show_problems(int(page))
        return None

    @staff_event
    async def start_import(self, actor: User):
        """Queue the import of the previewed file and follow it (its id goes in the URL)."""
        if not self.can_start or not self._file_key:
            return rx.toast.error("Check the file first: there are problems that stop the import.")
        key, mapping = self._file_key, self._mapping if self.is_mapped else None
        try:
            with session_scope(write=True) as session:
                record = spreadsheet_admin.start_staged_import(
                    session,
                    actor,
                    key,
                    self.filename,
                    shape=self.shape,
                    mapping=mapping,
                    only_valid_rows=self.only_valid_rows,
                )
                import_id = record.id
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        self._forget_file()
        return [rx.toast.success("Import started."), rx.redirect(f"{ROUTE}?import={import_id}")]

    @staff_event
    async def start_over(self):
        self._forget_file()
        self.step, self.upload_error, self.busy = Step.UPLOAD, "", False
        return rx.clear_selected_files(UPLOAD_ID)

    @staff_event
    async def download_template(self):
        data = await asyncio.to_thread(template_workbook)
        return rx.download(data=data, filename=TEMPLATE_FILENAME, mime_type=XLSX_TYPE)

    @rx.event(background=True)
    async def follow_import(self):
        """Poll the import's progress about once a second until it finishes (or the page moves on
        to another import); one follower per tab."""
        async with self:
            if (refused := await self._refusal()) is not None:
                return refused.response
            if self._following or not self.import_id or self.finished:
                return None
            self._following, self.stopped_following, import_id = True, False, self.import_id
        try:
            for _ in range(MAX_POLLS):
                await asyncio.sleep(POLL_SECONDS)
                progress = await asyncio.to_thread(_progress, import_id)
                history = await asyncio.to_thread(_load_history) if progress.finished else None
                async with self:
                    if (refused := await self._refusal()) is not None:
                        return refused.response
                    if self.import_id != import_id or self.step != Step.PROGRESS:
                        return None
                    self._show_progress(progress)
                    if history is not None:
                        self.history = history
                        return None
            async with self:
                self.stopped_following = self.import_id == import_id
            return None
        finally:
            async with self:
                self._following = False


# --- the page -------------------------------------------------------------------------------------


def _status_badge(status, text) -> rx.Component:
    return color_badge(text, status, STATUS_COLORS)


def _busy() -> rx.Component:
    return rx.hstack(
        rx.spinner(size="2"),
        rx.text(AdminImportState.busy_text, size="2", color_scheme="gray"),
        align="center",
        spacing="2",
        padding_y="8px",
        data_testid="import-busy",
        role="status",
    )


def _error_callout(text, testid: str) -> rx.Component:
    return rx.callout(text, icon="triangle-alert", color_scheme="red", size="1", width="100%", data_testid=testid)


def _dropzone() -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.center(rx.icon("file-spreadsheet", size=26), class_name="admin-import-drop-icon"),
            rx.text("Drop an .xlsx or .csv file here", weight="medium"),
            rx.text(
                f"or click to choose one · up to {spreadsheet_admin.size_text(MAX_FILE_BYTES)}",
                size="2",
                color_scheme="gray",
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        accept=ACCEPTED_TYPES,
        max_files=1,
        max_size=MAX_FILE_BYTES,
        multiple=False,
        disabled=AdminImportState.busy,
        on_drop=AdminImportState.receive_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        on_drop_rejected=AdminImportState.reject_files,
        class_name="admin-import-drop",
        data_testid="import-dropzone",
        aria_label="Choose a spreadsheet to import",
    )


def _template_button() -> rx.Component:
    return rx.button(
        rx.icon("download", size=16),
        "Download the template",
        variant="soft",
        on_click=AdminImportState.download_template,
        data_testid="import-template",
    )


def _upload_step() -> rx.Component:
    return panel(
        "Upload a spreadsheet",
        rx.vstack(
            rx.text(
                "Import products from our template, from a Shopify product CSV, or from any sheet whose columns "
                "you map in the next step. Nothing is written until you have seen the preview and started the import.",
                size="2",
                color_scheme="gray",
            ),
            _dropzone(),
            rx.cond(AdminImportState.busy, _busy()),
            rx.cond(AdminImportState.upload_error != "", _error_callout(AdminImportState.upload_error, "upload-error")),
            spacing="3",
            width="100%",
        ),
        action=_template_button(),
    )


def _file_line() -> rx.Component:
    return rx.hstack(
        rx.icon("file-spreadsheet", size=18, color=rx.color("teal", 10)),
        rx.text(AdminImportState.filename, weight="medium", class_name="clamp-1", data_testid="import-filename"),
        rx.text(
            f"{AdminImportState.file_size_text} · {AdminImportState.row_count} rows", size="2", color_scheme="gray"
        ),
        rx.badge(AdminImportState.shape_label, variant="soft", color_scheme="teal", data_testid="import-shape"),
        rx.spacer(),
        rx.button(
            "Choose another file",
            variant="ghost",
            color_scheme="gray",
            size="1",
            on_click=AdminImportState.start_over,
            data_testid="import-start-over",
        ),
        align="center",
        spacing="2",
        width="100%",
        wrap="wrap",
    )


def _mapping_select(row: MappingRow) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", aria_label=f"Field for column {row.header}"),
        rx.select.content(
            rx.select.item("Don't import this column", value=IGNORE),
            rx.select.item(row.option_label, value=row.option_value),
            rx.select.separator(),
            *[rx.select.item(choice.label, value=choice.value) for choice in FIELD_CHOICES],
        ),
        name="col-" + row.index.to_string(),
        default_value=row.field,
    )


def _mapping_row(row: MappingRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.header, weight="medium", size="2")),
        rx.table.cell(rx.text(row.sample, size="2", color_scheme="gray", class_name="clamp-1")),
        rx.table.cell(
            rx.vstack(
                _mapping_select(row),
                rx.cond(row.confidence_text != "", rx.text(row.confidence_text, size="1", color_scheme="teal")),
                spacing="1",
                width="100%",
            ),
            min_width="220px",
        ),
        data_testid="mapping-row",
        vertical_align="middle",
    )


def _mapping_step() -> rx.Component:
    return panel(
        "Match the columns",
        rx.vstack(
            _file_line(),
            rx.text(
                "This sheet is not in our template's shape, so tell us which column holds what. Our best guesses "
                "are already chosen; columns set to “Don't import” are left out. A price (or a SKU, to update "
                "existing variants) and a title or handle are needed.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    data_table(
                        ["Column in your file", "First values", "Imports as"], AdminImportState.mapping, _mapping_row
                    ),
                    rx.cond(
                        AdminImportState.mapping_error != "",
                        _error_callout(AdminImportState.mapping_error, "mapping-error"),
                    ),
                    rx.cond(AdminImportState.busy, _busy()),
                    rx.button(
                        rx.icon("list-checks", size=16),
                        "Check the file",
                        type="submit",
                        loading=AdminImportState.busy,
                        data_testid="mapping-submit",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AdminImportState.check_mapping,
                width="100%",
                key=AdminImportState.upload_serial,
            ),
            spacing="3",
            width="100%",
        ),
    )


def _figure(figure: Figure) -> rx.Component:
    return rx.vstack(
        rx.text(figure.label, size="1", color_scheme="gray", weight="medium"),
        rx.text(figure.value, size="6", weight="bold", data_testid=f"count-{figure.key}"),
        spacing="0",
        class_name="admin-import-figure",
        data_testid="import-figure",
    )


def _figures() -> rx.Component:
    return rx.box(rx.foreach(AdminImportState.figures, _figure), class_name="admin-import-figures")


def _problem_row(problem: ProblemRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(problem.row_text, size="2", white_space="nowrap"), data_testid="problem-row"),
        rx.table.cell(rx.code(problem.column, size="1", variant="ghost"), data_testid="problem-column"),
        rx.table.cell(rx.text(problem.message, size="2"), data_testid="problem-message"),
        rx.table.cell(
            rx.badge(
                rx.cond(problem.severity == "error", "Error", "Warning"),
                color_scheme=rx.cond(problem.severity == "error", "red", "amber"),
                variant="soft",
            )
        ),
        data_testid="import-problem",
        vertical_align="middle",
    )


def _problem_pager() -> rx.Component:
    state = AdminImportState
    return rx.cond(
        state.problem_pages > 1,
        rx.hstack(
            rx.text(
                f"{state.problem_total} problems · page {state.problem_page} of {state.problem_pages}",
                size="2",
                color_scheme="gray",
                data_testid="problems-pager-text",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("chevron-left", size=16),
                "Previous",
                variant="soft",
                color_scheme="gray",
                disabled=state.problem_page <= 1,
                on_click=state.show_problem_page(state.problem_page - 1),
                data_testid="problems-previous",
            ),
            rx.button(
                "Next",
                rx.icon("chevron-right", size=16),
                variant="soft",
                color_scheme="gray",
                disabled=state.problem_page >= state.problem_pages,
                on_click=state.show_problem_page(state.problem_page + 1),
                data_testid="problems-next",
            ),
            align="center",
            spacing="2",
            width="100%",
            padding_top="10px",
            wrap="wrap",
        ),
    )


def _problems_table() -> rx.Component:
    return rx.vstack(
        data_table(["Row", "Column", "Problem", ""], AdminImportState.problems, _problem_row, size="1"),
        _problem_pager(),
        spacing="1",
        width="100%",
    )


def _sample_row(row: SampleRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.row, size="2")),
        rx.table.cell(rx.text(row.title, size="2", weight="medium", class_name="clamp-1")),
        rx.table.cell(rx.code(row.handle, size="1", variant="ghost")),
        rx.table.cell(rx.text(row.variants, size="2")),
        rx.table.cell(
            rx.badge(
                row.action_label, color_scheme=rx.match(row.action, *ACTION_COLORS.items(), "gray"), variant="soft"
            )
        ),
        data_testid="import-sample-row",
        vertical_align="middle",
    )


def _verdict() -> rx.Component:
    state = AdminImportState
    return rx.cond(
        state.error_count == 0,
        rx.callout(
            rx.cond(
                state.warning_count > 0,
                f"No errors. {state.warning_count} warning(s) below: those rows import, the noted part is left out.",
                "No problems found. The counts above are what the import will do.",
            ),
            icon="circle-check",
            color_scheme="green",
            size="1",
            width="100%",
            data_testid="preview-ok",
        ),
        rx.callout(
            rx.cond(
                state.file_error,
                "The file itself has a problem, so nothing can be imported. Fix it and upload the file again.",
                f"{state.error_count} error(s): nothing is written while errors remain. Fix the file and upload it "
                "again, or import only the valid rows (the counts above are what the valid rows would do).",
            ),
            icon="octagon-alert",
            color_scheme="red",
            size="1",
            width="100%",
            data_testid="preview-errors",
        ),
    )


def _start_controls() -> rx.Component:
    state = AdminImportState
    return rx.hstack(
        rx.cond(
            (state.error_count > 0) & ~state.file_error,
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        checked=state.only_valid_rows,
                        on_change=state.set_only_valid_rows,
                        data_testid="only-valid-rows",
                    ),
                    rx.text("Import only the valid rows and skip the rest", size="2"),
                    align="center",
                    spacing="2",
                ),
            ),
        ),
        rx.spacer(),
        rx.cond(
            state.is_mapped,
            rx.button(
                rx.icon("arrow-left", size=16),
                "Change the mapping",
                variant="soft",
                color_scheme="gray",
                on_click=state.back_to_mapping,
            ),
        ),
        rx.button(
            rx.icon("play", size=16),
            "Start the import",
            disabled=~state.can_start,
            on_click=state.start_import,
            data_testid="import-start",
        ),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def _preview_step() -> rx.Component:
    state = AdminImportState
    return rx.vstack(
        panel(
            "Preview",
            rx.vstack(
                _file_line(),
                _figures(),
                _verdict(),
                rx.cond(
                    state.ignored_columns.length() > 0,
                    rx.text(
                        "Columns not imported: " + state.ignored_columns.join(", "),
                        size="2",
                        color_scheme="gray",
                    ),
                ),
                _start_controls(),
                spacing="4",
                width="100%",
            ),
        ),
        rx.cond(
            state.problem_total > 0,
            panel(
                "Problems",
                rx.text(
                    "Each problem names the row as your spreadsheet numbers it and the column by its header.",
                    size="2",
                    color_scheme="gray",
                    padding_bottom="6px",
                ),
                _problems_table(),
                data_testid="import-problems",
            ),
        ),
        rx.cond(
            state.sample.length() > 0,
            panel(
                "Products in the file",
                data_table(["Row", "Title", "Handle", "Variants", "Will"], state.sample, _sample_row, size="1"),
                rx.cond(
                    state.sample.length() >= product_import.PREVIEW_SAMPLE,
                    rx.text(
                        f"The first {product_import.PREVIEW_SAMPLE} products are shown.", size="1", color_scheme="gray"
                    ),
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )


def _progress_step() -> rx.Component:
    state = AdminImportState
    return rx.vstack(
        panel(
            rx.cond(state.finished, "Import finished", "Importing…"),
            rx.vstack(
                rx.hstack(
                    rx.icon("file-spreadsheet", size=18, color=rx.color("teal", 10)),
                    rx.text(state.filename, weight="medium", class_name="clamp-1"),
                    _status_badge(state.import_status, state.import_status.capitalize()),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
                rx.progress(
                    value=state.percent,
                    max=100,
                    size="3",
                    color_scheme=rx.cond(state.import_status == "failed", "red", "teal"),
                    data_testid="import-progress",
                    aria_label="Import progress",
                ),
                rx.hstack(
                    rx.text(state.stage_text, size="2", data_testid="import-stage"),
                    rx.spacer(),
                    rx.cond(
                        state.rows_total > 0,
                        rx.text(f"{state.rows_done} of {state.rows_total} rows", size="2", color_scheme="gray"),
                    ),
                    rx.text(f"{state.percent}%", size="2", weight="bold", data_testid="import-percent"),
                    width="100%",
                    spacing="3",
                    align="center",
                ),
                rx.cond(
                    state.stopped_following & ~state.finished,
                    rx.callout(
                        "Still running. Reload the page to see how it is going.", icon="clock", size="1", width="100%"
                    ),
                ),
                rx.cond(
                    state.finished,
                    rx.vstack(
                        rx.cond(
                            state.import_status == "succeeded",
                            rx.callout(
                                "The products are imported; search and the assistant pick them up in a moment.",
                                icon="circle-check",
                                color_scheme="green",
                                size="1",
                                width="100%",
                                data_testid="import-succeeded",
                            ),
                            _error_callout(state.result_error, "import-failed"),
                        ),
                        rx.box(rx.foreach(state.figures, _figure), class_name="admin-import-figures"),
                        data_testid="import-summary",
                        spacing="3",
                        width="100%",
                    ),
                ),
                rx.hstack(
                    rx.link(
                        rx.button(rx.icon("upload", size=16), "Import another file", variant="soft"),
                        href=ROUTE,
                    ),
                    spacing="2",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            state.finished & (state.problem_total > 0),
            panel("Problems", _problems_table(), data_testid="import-problems"),
        ),
        spacing="4",
        width="100%",
    )


def _history_row(row: ImportRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.created_text, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.link(row.filename, href=f"{ROUTE}?import={row.id}", size="2", weight="medium", class_name="clamp-1")
        ),
        rx.table.cell(rx.text(row.requested_by, size="2", class_name="clamp-1")),
        rx.table.cell(_status_badge(row.status, row.status_label)),
        rx.table.cell(rx.text(row.summary, size="2", color_scheme="gray")),
        data_testid="import-history-row",
        vertical_align="middle",
    )


def _history_panel() -> rx.Component:
    return panel(
        "Recent imports",
        rx.cond(
            AdminImportState.history.length() > 0,
            data_table(["When (UTC)", "File", "By", "", ""], AdminImportState.history, _history_row),
            empty_note("No imports yet.", "file-spreadsheet"),
        ),
    )


@admin_page(route=ROUTE, title="Import products", on_load=AdminImportState.load)
def import_page() -> rx.Component:
    state = AdminImportState
    steps = rx.match(
        state.step,
        (Step.MAPPING, _mapping_step()),
        (Step.PREVIEW, _preview_step()),
        (Step.PROGRESS, _progress_step()),
        _upload_step(),
    )
    return loading(state.loaded, rx.vstack(steps, _history_panel(), spacing="4", width="100%"), "320px")
