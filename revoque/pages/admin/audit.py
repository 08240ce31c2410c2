"""/admin/audit: the audit log, newest first, filtered by what changed and who changed it.

Admins only: the log shows every member of staff's changes. The filters and the page live in the
URL (``?entity_type=order&q=RVQ-100042&actor=3&page=2``), so a view can be reloaded and shared.
"""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_layout import admin_page, empty_note, pager, panel
from revoque.db import session_scope
from revoque.services import audit
from revoque.services.audit import ActorOption, AuditFilters, AuditRow
from revoque.state.admin import AccessRefused, AdminPageState
from revoque.state.listing import int_param

ROUTE = "/admin/audit"
ANY = "any"  # a select cannot hold an empty value


def audit_query(entity_type: str = "", q: str = "", actor: str = "") -> str:
    """The filters as a query string, leaving out the empty ones (no page number)."""
    values = {"entity_type": entity_type, "q": q.strip(), "actor": actor}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


class AuditLogState(AdminPageState, rx.State):
    entries: list[AuditRow] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    entity_types: list[str] = []
    actors: list[ActorOption] = []
    entity_type: str = ANY
    q: str = ""
    actor: str = ANY
    loaded: bool = False

    @rx.var
    def query(self) -> str:
        return audit_query(self.entity_type, self.q, self.actor)

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page(admin_only=True)
        except AccessRefused as refused:
            return refused.response
        params = self.router.url.query_parameters
        actor_id = int_param(params.get("actor"), 0) or None
        filters = AuditFilters(entity_type=params.get("entity_type", ""), entity=params.get("q", ""), actor_id=actor_id)
        with session_scope() as session:
            result = audit.list_entries(session, filters, int_param(params.get("page"), 1))
            self.entity_types = audit.entity_types(session)
            self.actors = audit.actors(session)
        self.entries, self.total, self.page, self.pages = result.items, result.total, result.page, result.pages
        self.entity_type = filters.entity_type or ANY
        self.q = filters.entity
        self.actor = str(actor_id) if actor_id else ANY
        self.loaded = True
        return None

    @rx.event
    async def apply_filters(self, form: dict):
        try:
            await self._admit(admin_only=True)
        except AccessRefused as refused:
            return refused.response
        query = audit_query(str(form.get("entity_type", "")), str(form.get("q", "")), str(form.get("actor", "")))
        return rx.redirect(f"{ROUTE}?{query}" if query else ROUTE)


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.vstack(
                rx.text("What", size="1", weight="medium", color_scheme="gray"),
                rx.select.root(
                    rx.select.trigger(placeholder="Anything", width="100%"),
                    rx.select.content(
                        rx.select.item("Anything", value=ANY),
                        rx.foreach(AuditLogState.entity_types, lambda kind: rx.select.item(kind, value=kind)),
                    ),
                    name="entity_type",
                    default_value=AuditLogState.entity_type,
                ),
                spacing="1",
                class_name="admin-filter",
            ),
            rx.vstack(
                rx.text("ID, number or name", size="1", weight="medium", color_scheme="gray"),
                rx.input(
                    name="q",
                    default_value=AuditLogState.q,
                    placeholder="RVQ-100042",
                    width="100%",
                    data_testid="audit-q",
                ),
                spacing="1",
                class_name="admin-filter",
            ),
            rx.vstack(
                rx.text("Who", size="1", weight="medium", color_scheme="gray"),
                rx.select.root(
                    rx.select.trigger(placeholder="Anyone", width="100%"),
                    rx.select.content(
                        rx.select.item("Anyone", value=ANY),
                        rx.foreach(AuditLogState.actors, lambda a: rx.select.item(a.email, value=a.id.to_string())),
                    ),
                    name="actor",
                    default_value=AuditLogState.actor,
                ),
                spacing="1",
                class_name="admin-filter",
            ),
            rx.hstack(
                rx.button(rx.icon("filter", size=16), "Filter", type="submit", data_testid="audit-apply"),
                rx.link(rx.button("Clear", variant="soft", color_scheme="gray", type="button"), href=ROUTE),
                spacing="2",
                align="end",
            ),
            spacing="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=AuditLogState.apply_filters,
        width="100%",
        key=AuditLogState.query,  # uncontrolled fields: a new query (back, a link) mounts them afresh
    )


def _change(change) -> rx.Component:
    return rx.text(
        rx.el.span(change.field, class_name="audit-field"),
        " ",
        rx.el.span(change.before, class_name="audit-before"),
        " → ",
        rx.el.span(change.after, class_name="audit-after"),
        size="1",
        class_name="audit-change",
    )


def _row(entry: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(entry.created_text, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(entry.actor, size="2")),
        rx.table.cell(rx.code(entry.action, size="1", variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.text(entry.summary, size="2", weight="medium"),
                rx.text(f"{entry.entity_type} #{entry.entity_id}", size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.vstack(rx.foreach(entry.changes, _change), spacing="1")),
        data_testid="audit-row",
        vertical_align="top",
    )


def _table() -> rx.Component:
    return rx.cond(
        AuditLogState.total > 0,
        rx.vstack(
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(label)
                                for label in ("When", "Who", "Action", "What", "Change")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(AuditLogState.entries, _row)),
                    variant="ghost",
                    size="2",
                    width="100%",
                ),
                class_name="admin-table-scroll",
            ),
            pager(
                AuditLogState.page,
                AuditLogState.pages,
                AuditLogState.total,
                lambda p: rx.cond(
                    AuditLogState.query != "", f"{ROUTE}?{AuditLogState.query}&page={p}", f"{ROUTE}?page={p}"
                ),
            ),
            spacing="2",
            width="100%",
        ),
        empty_note("No changes match these filters yet.", "scroll-text"),
    )


@admin_page(route=ROUTE, title="Audit log", on_load=AuditLogState.load)
def audit_page() -> rx.Component:
    return rx.vstack(
        panel("Filter", rx.cond(AuditLogState.loaded, _filters(), rx.skeleton(rx.box(height="58px", width="100%")))),
        panel(
            "Changes",
            rx.cond(AuditLogState.loaded, _table(), rx.skeleton(rx.box(height="240px", width="100%"), loading=True)),
        ),
        spacing="4",
        width="100%",
    )
