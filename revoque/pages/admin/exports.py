"""/admin/exports: ask for a products export (the import template, which round-trips through the
import unchanged) or an orders export (filtered by dates, status and payment), and download finished
ones from the history.

Exports run as jobs (RQ workers in production, a thread in this process without Redis); the page
follows unfinished ones until they are done. A download link is signed when the button is pressed
and expires after SIGNED_URL_SECONDS, so no link sits in the page or in the database. Staff and
admins may export; every request is written to the audit log (orders carry customers' details).
"""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from revoque.components.admin_forms import labelled_filter
from revoque.components.admin_layout import admin_page, color_badge, empty_note, panel
from revoque.components.admin_table import ANY, data_table, filter_select, loading
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import User
from revoque.services import exports, spreadsheet_admin
from revoque.services.order_admin import PAYMENT_OPTIONS, STATUS_OPTIONS
from revoque.services.spreadsheet_admin import ExportRow
from revoque.settings import get_settings
from revoque.state.admin import AdminPageState, staff_event, staff_load

ROUTE = "/admin/exports"
POLL_SECONDS = 1.5
MAX_POLLS = 1200  # half an hour of following
STATUS_COLORS = {"pending": "gray", "running": "blue", "succeeded": "green", "failed": "red"}


def _history() -> list[ExportRow]:
    with session_scope() as session:
        return spreadsheet_admin.export_history(session)


def _link(export_id: int) -> exports.ExportLink:
    with session_scope() as session:
        return exports.export_link(session, export_id)


def _request(actor, kind: str, filters: dict | None) -> int:
    with session_scope(write=True) as session:
        return spreadsheet_admin.request_export_as(session, actor, kind, filters).id or 0


def _link_minutes() -> int:
    return max(1, get_settings().signed_url_seconds // 60)


class AdminExportsState(AdminPageState, rx.State):
    loaded: bool = False
    history: list[ExportRow] = []
    busy: bool = False
    orders_error: str = ""
    form_serial: int = 0

    _following: bool = False

    @rx.var
    def unfinished(self) -> bool:
        return spreadsheet_admin.has_unfinished([row.status for row in self.history])

    async def _refresh(self) -> None:
        self.history = await asyncio.to_thread(_history)

    @staff_load
    async def load(self):
        self.loaded = False
        self.orders_error, self.busy = "", False
        await self._refresh()
        self.loaded = True
        return AdminExportsState.follow_exports() if self.unfinished else None

    async def _ask(self, actor, kind: str, filters: dict | None):
        self.busy = True
        try:
            await asyncio.to_thread(_request, actor, kind, filters)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        await self._refresh()
        what = "Products" if kind == "products" else "Orders"
        return [rx.toast.success(f"{what} export started."), AdminExportsState.follow_exports()]

    @staff_event
    async def export_products(self, actor: User):
        return await self._ask(actor, "products", None)

    @staff_event
    async def export_orders(self, actor: User, form: dict):
        try:
            filters = spreadsheet_admin.export_filters(
                str(form.get("from", "")),
                str(form.get("to", "")),
                str(form.get("status", "")),
                str(form.get("payment", "")),
            )
        except RevoqueError as exc:
            self.orders_error = str(exc)
            return None
        self.orders_error = ""
        self.form_serial += 1
        return await self._ask(actor, "orders", filters)

    @staff_event
    async def download(self, export_id: int):
        """Sign a fresh link to the finished export and let the browser fetch it (it is sent as an
        attachment, so the page stays where it is)."""
        try:
            link = await asyncio.to_thread(_link, int(export_id))
        except (RevoqueError, ValueError) as exc:
            return rx.toast.error(str(exc) or "That export is not ready")
        return rx.call_script(f"window.location.assign({json.dumps(link.url)})")

    @rx.event(background=True)
    async def follow_exports(self):
        """Refresh the history while an export is waiting or running; one follower per tab."""
        async with self:
            if (refused := await self._refusal()) is not None:
                return refused.response
            if self._following or not self.unfinished:
                return None
            self._following = True
        try:
            for _ in range(MAX_POLLS):
                await asyncio.sleep(POLL_SECONDS)
                history = await asyncio.to_thread(_history)
                async with self:
                    if (refused := await self._refusal()) is not None:
                        return refused.response
                    self.history = history
                    if not self.unfinished:
                        return None
            return None
        finally:
            async with self:
                self._following = False


# --- the page -------------------------------------------------------------------------------------


def _products_panel() -> rx.Component:
    return panel(
        "Products",
        rx.vstack(
            rx.text(
                "Every product and variant in the import template's columns. Edit the file and import it again "
                "to update the catalog: rows you did not change stay as they are.",
                size="2",
                color_scheme="gray",
            ),
            rx.button(
                rx.icon("file-down", size=16),
                "Export products",
                on_click=AdminExportsState.export_products,
                loading=AdminExportsState.busy,
                data_testid="export-products",
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
    )


def _orders_panel() -> rx.Component:
    return panel(
        "Orders",
        rx.form(
            rx.vstack(
                rx.text(
                    "One row per order, and a second sheet with every line. Dates are whole days in UTC.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.flex(
                    labelled_filter(
                        "From", rx.input(name="from", type="date", width="100%", data_testid="export-from")
                    ),
                    labelled_filter("To", rx.input(name="to", type="date", width="100%", data_testid="export-to")),
                    labelled_filter("Status", _select("status", STATUS_OPTIONS, "Any status")),
                    labelled_filter("Payment", _select("payment", PAYMENT_OPTIONS, "Any payment")),
                    spacing="3",
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(
                    AdminExportsState.orders_error != "",
                    rx.callout(
                        AdminExportsState.orders_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        size="1",
                        width="100%",
                        data_testid="export-orders-error",
                    ),
                ),
                rx.button(
                    rx.icon("file-down", size=16),
                    "Export orders",
                    type="submit",
                    loading=AdminExportsState.busy,
                    data_testid="export-orders",
                ),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=AdminExportsState.export_orders,
            width="100%",
            key=AdminExportsState.form_serial,
        ),
    )


def _select(name: str, options, any_label: str) -> rx.Component:
    return filter_select(name, ANY, options, any_label, aria_label=any_label)


def _status_badge(row: ExportRow) -> rx.Component:
    return color_badge(row.status_label, row.status, STATUS_COLORS, data_testid="export-status")


def _download_cell(row: ExportRow) -> rx.Component:
    return rx.cond(
        row.ready,
        rx.button(
            rx.icon("download", size=14),
            "Download",
            size="1",
            variant="soft",
            on_click=AdminExportsState.download(row.id),
            data_testid="export-download",
        ),
        rx.cond(
            row.status == "failed",
            rx.text(row.error, size="1", color_scheme="red"),
            rx.hstack(rx.spinner(size="1"), rx.text("Preparing…", size="1", color_scheme="gray"), spacing="1"),
        ),
    )


def _history_row(row: ExportRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.created_text, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.text(row.kind_label, size="2", weight="medium"),
                rx.text(row.filters_text, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(row.requested_by, size="2", class_name="clamp-1")),
        rx.table.cell(_status_badge(row)),
        rx.table.cell(
            rx.vstack(
                rx.text(row.rows_text, size="2"),
                rx.text(row.size_text, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(_download_cell(row)),
        data_testid="export-row",
        vertical_align="middle",
    )


def _history_panel() -> rx.Component:
    headers = ["Requested (UTC)", "Export", "By", "Status", "Size", ""]
    return panel(
        "Exports",
        rx.cond(
            AdminExportsState.history.length() > 0,
            rx.vstack(
                data_table(headers, AdminExportsState.history, _history_row),
                rx.text(
                    f"Files stay private: each download link is made when you press Download and works for "
                    f"{_link_minutes()} minutes.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
                width="100%",
            ),
            empty_note("No exports yet. Ask for one above.", "file-down"),
        ),
    )


@admin_page(route=ROUTE, title="Exports", on_load=AdminExportsState.load)
def exports_page() -> rx.Component:
    return loading(
        AdminExportsState.loaded,
        rx.vstack(
            rx.box(_products_panel(), _orders_panel(), class_name="admin-grid-2 admin-exports-grid"),
            _history_panel(),
            spacing="4",
            width="100%",
        ),
        "320px",
    )
