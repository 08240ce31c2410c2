"""/admin/audit: the audit log, newest first, filtered by what changed and who changed it.

Admins only: the log shows every member of staff's changes. The filters and the page live in the
URL (``?entity_type=order&q=RVQ-100042&actor=3&page=2``), so a view can be reloaded and shared.
"""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import labelled_filter
from revoque.components.admin_layout import admin_page, empty_note, panel
from revoque.components.admin_table import ANY, filter_form, filter_select, loading, paged_table
from revoque.db import session_scope
from revoque.services import audit
from revoque.services.audit import ActorOption, AuditFilters, AuditRow
from revoque.state.admin import AdminListState, filtered_redirect, staff_event, staff_load
from revoque.state.listing import int_param

ROUTE = "/admin/audit"


def audit_query(entity_type: str = "", q: str = "", actor: str = "") -> str:
    """The filters as a query string, leaving out the empty ones (no page number)."""
    values = {"entity_type": entity_type, "q": q.strip(), "actor": actor}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


class AuditLogState(AdminListState, rx.State):
    entries: list[AuditRow] = []
    entity_types: list[str] = []
    actors: list[ActorOption] = []
    entity_type: str = ANY
    q: str = ""
    actor: str = ANY

    @rx.var
    def query(self) -> str:
        return audit_query(self.entity_type, self.q, self.actor)

    @staff_load(admin_only=True)
    async def load(self):
        self.loaded = False
        params = self.router.url.query_parameters
        actor_id = int_param(params.get("actor"), 0) or None
        filters = AuditFilters(entity_type=params.get("entity_type", ""), entity=params.get("q", ""), actor_id=actor_id)
        with session_scope() as session:
            self.entries = self._take_page(audit.list_entries(session, filters, self._requested_page()))
            self.entity_types = audit.entity_types(session)
            self.actors = audit.actors(session)
        self.entity_type = filters.entity_type or ANY
        self.q = filters.entity
        self.actor = str(actor_id) if actor_id else ANY
        self.loaded = True
        return None

    @staff_event(admin_only=True)
    async def apply_filters(self, form: dict):
        query = audit_query(str(form.get("entity_type", "")), str(form.get("q", "")), str(form.get("actor", "")))
        return filtered_redirect(ROUTE, query)


def _filters() -> rx.Component:
    state = AuditLogState
    kinds = rx.foreach(state.entity_types, lambda kind: rx.select.item(kind, value=kind))
    actors = rx.foreach(state.actors, lambda a: rx.select.item(a.email, value=a.id.to_string()))
    return filter_form(
        labelled_filter(
            "What", filter_select("entity_type", state.entity_type, kinds, "Anything", placeholder="Anything")
        ),
        labelled_filter(
            "ID, number or name",
            rx.input(name="q", default_value=state.q, placeholder="RVQ-100042", width="100%", data_testid="audit-q"),
        ),
        labelled_filter("Who", filter_select("actor", state.actor, actors, "Anyone", placeholder="Anyone")),
        on_submit=state.apply_filters,
        key=state.query,  # uncontrolled fields: a new query (back, a link) mounts them afresh
        route=ROUTE,
        testid="audit-apply",
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


@admin_page(route=ROUTE, title="Audit log", on_load=AuditLogState.load)
def audit_page() -> rx.Component:
    state = AuditLogState
    headers = ["When", "Who", "Action", "What", "Change"]
    empty = empty_note("No changes match these filters yet.", "scroll-text")
    return rx.vstack(
        panel("Filter", loading(state.loaded, _filters(), "58px")),
        panel("Changes", loading(state.loaded, paged_table(state, ROUTE, headers, _row, empty, rows=state.entries))),
        spacing="4",
        width="100%",
    )
