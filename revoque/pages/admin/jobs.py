"""/admin/jobs: background jobs that failed after every retry, newest first, with "run again".

Staff see why a job failed (the last error) and can run it again once whatever broke is fixed; the
job runs with the same arguments (jobs are idempotent) and the retry is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from revoque.components.admin_layout import admin_page, empty_note, pager, panel
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import FailedJob
from revoque.services import failed_jobs
from revoque.state.admin import AccessRefused, AdminPageState
from revoque.state.listing import int_param

ROUTE = "/admin/jobs"
COLUMNS = ("Failed (UTC)", "Job", "Last error", "Tries", "")


@dataclass
class FailedJobRow:
    id: int
    job: str
    arguments: str
    error: str
    attempts: int
    failed_text: str
    retried_text: str


def _row_of(failed: FailedJob) -> FailedJobRow:
    arguments = ", ".join([*(repr(a) for a in failed.args), *(f"{k}={v!r}" for k, v in failed.kwargs.items())])
    retried = f"run again {failed.retried_at:%Y-%m-%d %H:%M} by {failed.retried_by}" if failed.retried_at else ""
    return FailedJobRow(
        id=failed.id,
        job=failed.function.removeprefix(failed_jobs.JOB_MODULE),
        arguments=arguments,
        error=failed.error.strip().splitlines()[-1][:300] if failed.error.strip() else "",
        attempts=failed.attempts,
        failed_text=f"{failed.failed_at:%Y-%m-%d %H:%M}",
        retried_text=retried,
    )


class FailedJobsState(AdminPageState, rx.State):
    rows: list[FailedJobRow] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    loaded: bool = False

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        self._fill(int_param(self.router.url.query_parameters.get("page"), 1))
        return None

    def _fill(self, page: int) -> None:
        with session_scope() as session:
            result = failed_jobs.list_failed(session, page)
            self.rows = [_row_of(failed) for failed in result.items]
        self.total, self.page, self.pages, self.loaded = result.total, result.page, result.pages, True

    @rx.event
    async def run_again(self, failed_id: int):
        try:
            actor = await self._admit()
        except AccessRefused as refused:
            return refused.response
        try:
            with session_scope(write=True) as session:
                failed = failed_jobs.retry(session, int(failed_id), actor)
                job = failed.function.removeprefix(failed_jobs.JOB_MODULE)
        except (NotFound, ValidationError) as exc:
            return rx.toast.error(str(exc))
        self._fill(self.page)
        return rx.toast.success(f"{job} queued to run again.")


def _row(row: FailedJobRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.failed_text, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.code(row.job, size="2", variant="soft"),
                rx.text(row.arguments, size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(row.error, size="1", class_name="admin-job-error")),
        rx.table.cell(rx.text(row.attempts, size="2")),
        rx.table.cell(
            rx.cond(
                row.retried_text != "",
                rx.text(row.retried_text, size="1", color_scheme="gray"),
                rx.button(
                    rx.icon("rotate-ccw", size=14),
                    "Run again",
                    size="1",
                    on_click=FailedJobsState.run_again(row.id),
                    data_testid="run-again",
                ),
            )
        ),
        vertical_align="top",
        data_testid="failed-job-row",
    )


def _table() -> rx.Component:
    return rx.cond(
        FailedJobsState.total > 0,
        rx.vstack(
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in COLUMNS])),
                    rx.table.body(rx.foreach(FailedJobsState.rows, _row)),
                    variant="ghost",
                    size="2",
                    width="100%",
                ),
                class_name="admin-table-scroll",
            ),
            pager(FailedJobsState.page, FailedJobsState.pages, FailedJobsState.total, lambda p: f"{ROUTE}?page={p}"),
            spacing="2",
            width="100%",
        ),
        empty_note("No failed jobs. Jobs that fail are retried after 5, 30 and 120 seconds first.", "circle-check"),
    )


@admin_page(route=ROUTE, title="Failed jobs", on_load=FailedJobsState.load)
def failed_jobs_page() -> rx.Component:
    return panel(
        "Failed jobs",
        rx.cond(FailedJobsState.loaded, _table(), rx.skeleton(rx.box(height="200px", width="100%"), loading=True)),
    )
