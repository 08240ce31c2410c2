"""/admin/jobs: background jobs that failed after every retry, newest first, with "run again".

Staff see why a job failed (the last error) and can run it again once whatever broke is fixed; the
job runs with the same arguments (jobs are idempotent) and the retry is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from revoque.components.admin_layout import admin_page, empty_note, panel
from revoque.components.admin_table import loading, paged_table
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import FailedJob, User
from revoque.services import failed_jobs
from revoque.state.admin import AdminListState, staff_event, staff_load

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


class FailedJobsState(AdminListState, rx.State):
    rows: list[FailedJobRow] = []

    @staff_load
    async def load(self):
        self.loaded = False
        self._fill(self._requested_page())
        return None

    def _fill(self, page: int) -> None:
        with session_scope() as session:
            self.rows = [_row_of(failed) for failed in self._take_page(failed_jobs.list_failed(session, page))]
        self.loaded = True

    @staff_event
    async def run_again(self, actor: User, failed_id: int):
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


@admin_page(route=ROUTE, title="Failed jobs", on_load=FailedJobsState.load)
def failed_jobs_page() -> rx.Component:
    state = FailedJobsState
    empty = empty_note("No failed jobs. Jobs that fail are retried after 5, 30 and 120 seconds first.", "circle-check")
    table = paged_table(state, ROUTE, COLUMNS, _row, empty, href_for=lambda page: f"{ROUTE}?page={page}")
    return panel("Failed jobs", loading(state.loaded, table, "200px"))
