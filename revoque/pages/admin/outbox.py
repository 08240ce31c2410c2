"""/admin/outbox: every email the store wrote, newest first, by status (failed, pending, sent, kept
in the outbox) with a search on recipient and subject, a page at a time (all in the URL);
/admin/outbox/<id>: one email as text and as HTML (in a sandboxed frame: no scripts, no same-origin
access), and, for a failed one, sending it again (``revoque.services.outbox_admin``, audited)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import confirm, labelled_filter
from revoque.components.admin_layout import admin_page, back_link, color_badge, empty_note, panel
from revoque.components.admin_table import filter_form, loading, paged_table
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import User
from revoque.services import outbox_admin
from revoque.services.outbox_admin import OutboxRow, OutboxView, StatusCount
from revoque.state.admin import AdminEditState, AdminListState, filtered_redirect, staff_event, staff_load

ROUTE = "/admin/outbox"
STATUS_COLORS = {"failed": "red", "queued": "amber", "sent": "green", "stored": "gray"}


def outbox_query(status: str = "", q: str = "") -> str:
    values = {"status": status, "q": q.strip()}
    return urlencode({key: value for key, value in values.items() if value})


def _list(params: dict, page: int) -> tuple[outbox_admin.OutboxPage, list[StatusCount]]:
    with session_scope() as session:
        result = outbox_admin.list_emails(session, outbox_admin.parse_filters(params), page)
        return result, outbox_admin.status_counts(session)


def status_badge(code, text, **props) -> rx.Component:
    return color_badge(text, code, STATUS_COLORS, **props)


# --- the list ------------------------------------------------------------------------------------


class AdminOutboxState(AdminListState, rx.State):
    rows: list[OutboxRow] = []
    counts: list[StatusCount] = []
    status: str = ""
    q: str = ""
    smtp_on: bool = False

    @rx.var
    def query(self) -> str:
        return outbox_query(self.status, self.q)

    @rx.var
    def search_query(self) -> str:
        """The search alone, kept when a status tab is picked."""
        return outbox_query("", self.q)

    @staff_load
    async def load(self):
        self.loaded = False
        params = self._url_params()
        result, self.counts = await asyncio.to_thread(_list, params, self._requested_page())
        self.rows = self._take_page(result)
        filters = outbox_admin.parse_filters(params)
        self.status, self.q = filters.status, filters.q
        self.smtp_on = outbox_admin.smtp_configured()
        self.loaded = True
        return None

    @staff_event
    async def search(self, form: dict):
        return filtered_redirect(ROUTE, outbox_query(self.status, str(form.get("q", ""))))


def _tab(label, href, active, count=None, testid: str = "outbox-tab") -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.text(label),
            *(
                [rx.badge(count, variant="soft", color_scheme="gray", radius="full", size="1")]
                if count is not None
                else []
            ),
            spacing="2",
            align="center",
        ),
        href=href,
        underline="none",
        class_name=rx.cond(active, "admin-segment active", "admin-segment"),
        aria_current=rx.cond(active, "page", "false"),
        data_testid=testid,
    )


def _status_tabs() -> rx.Component:
    state = AdminOutboxState

    def href(status):
        return rx.cond(
            state.search_query != "", f"{ROUTE}?status={status}&{state.search_query}", f"{ROUTE}?status={status}"
        )

    return rx.hstack(
        _tab("All", rx.cond(state.search_query != "", f"{ROUTE}?{state.search_query}", ROUTE), state.status == ""),
        rx.foreach(
            state.counts, lambda c: _tab(c.label, href(c.status), state.status == c.status, c.count, "outbox-tab")
        ),
        class_name="admin-segments admin-wrap",
        spacing="0",
        role="group",
        aria_label="Status",
    )


def _filters() -> rx.Component:
    return rx.vstack(
        _status_tabs(),
        filter_form(
            labelled_filter(
                "Recipient or subject",
                rx.input(
                    name="q",
                    default_value=AdminOutboxState.q,
                    placeholder="ada@example.com or “shipped”",
                    type="search",
                    width="100%",
                    data_testid="outbox-q",
                ),
            ),
            on_submit=AdminOutboxState.search,
            key=AdminOutboxState.query,
            route=ROUTE,
            button="Search",
            icon="search",
            testid="outbox-search",
        ),
        spacing="3",
        width="100%",
    )


def _row(row: OutboxRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.created_text, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(row.recipient, size="2", class_name="clamp-1")),
        rx.table.cell(
            rx.vstack(
                rx.link(row.subject, href=f"{ROUTE}/{row.id}", size="2", weight="medium", data_testid="outbox-link"),
                rx.text(row.kind_label, size="1", color_scheme="gray"),
                rx.cond(row.error != "", rx.text(row.error, size="1", color_scheme="red", class_name="clamp-1")),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(status_badge(row.status, row.status_label)),
        vertical_align="middle",
        data_testid="outbox-row",
    )


def _table() -> rx.Component:
    state = AdminOutboxState
    return paged_table(
        state,
        ROUTE,
        ["Written (UTC)", "To", "Subject", "Status"],
        _row,
        empty_note("No emails match.", "mail-search"),
        none_yet=empty_note("The store has not written any emails yet.", "mail"),
    )


@admin_page(route=ROUTE, title="Mail outbox", on_load=AdminOutboxState.load)
def outbox_page() -> rx.Component:
    return rx.vstack(
        rx.cond(
            AdminOutboxState.loaded & ~AdminOutboxState.smtp_on,
            rx.callout(
                "Email delivery is off (SMTP_URL is not set): emails are kept here and nobody receives them.",
                icon="info",
                size="1",
                width="100%",
            ),
        ),
        panel("Filter", loading(AdminOutboxState.loaded, _filters(), "90px")),
        panel("Emails", loading(AdminOutboxState.loaded, _table())),
        spacing="4",
        width="100%",
    )


# --- one email -----------------------------------------------------------------------------------


def _view(email_id: int) -> OutboxView:
    with session_scope() as session:
        return outbox_admin.email_view(session, email_id)


class AdminEmailState(AdminEditState, rx.State):
    email: OutboxView | None = None
    not_found: bool = False
    loaded: bool = False

    def _email_id(self) -> int:
        key = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(key) if key.isdigit() else 0

    async def _refresh(self) -> None:
        try:
            self.email, self.not_found = await asyncio.to_thread(_view, self._email_id()), False
        except NotFound:
            self.email, self.not_found = None, True

    @staff_load
    async def load(self):
        self.loaded = False
        await self._refresh()
        self.loaded = True
        return None

    @staff_event
    async def resend(self, actor: User):
        return await self._make_change(actor, "Sending the email again.", outbox_admin.resend_email, self._email_id())


def _fact(label: str, value) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", min_width="84px"),
        rx.text(value, size="2", class_name="admin-break"),
        spacing="3",
        align="start",
        width="100%",
    )


def _email_detail(email) -> rx.Component:
    return rx.vstack(
        back_link("Outbox", ROUTE),
        rx.hstack(
            rx.heading(email.subject, size="5", data_testid="email-subject"),
            status_badge(email.status, email.status_label, data_testid="email-status"),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.box(
            panel(
                "Message",
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("HTML", value="html", disabled=email.body_html == ""),
                        rx.tabs.trigger("Text", value="text", data_testid="email-text-tab"),
                    ),
                    rx.tabs.content(
                        rx.el.iframe(
                            src_doc=email.body_html,
                            sandbox="",  # no scripts, forms, popups or same-origin access
                            title=f"HTML of {email.subject}",
                            referrer_policy="no-referrer",
                            class_name="admin-email-frame",
                            data_testid="email-html",
                        ),
                        value="html",
                        padding_top="12px",
                    ),
                    rx.tabs.content(
                        rx.el.pre(email.body_text, class_name="admin-email-text", data_testid="email-body-text"),
                        value="text",
                        padding_top="12px",
                    ),
                    default_value=rx.cond(email.body_html != "", "html", "text"),
                    width="100%",
                ),
            ),
            rx.vstack(
                panel(
                    "Details",
                    rx.vstack(
                        _fact("To", email.recipient),
                        _fact("Kind", email.kind_label),
                        _fact("Written", email.created_text),
                        rx.cond(email.sent_text != "", _fact("Sent", email.sent_text)),
                        spacing="2",
                        width="100%",
                    ),
                ),
                rx.cond(
                    email.error != "",
                    rx.callout(email.error, icon="triangle-alert", color_scheme="red", size="1", width="100%"),
                ),
                rx.cond(
                    email.can_resend,
                    confirm(
                        rx.button(
                            rx.icon("send", size=16),
                            "Send again",
                            width="100%",
                            loading=AdminEmailState.busy,
                            data_testid="resend-email",
                        ),
                        "Send this email again?",
                        f"It goes to {email.recipient} once more, through the mail server.",
                        "Send again",
                        AdminEmailState.resend,
                        testid="resend-email",
                        danger=False,
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            class_name="admin-grid-main",
        ),
        spacing="4",
        width="100%",
    )


@admin_page(route=f"{ROUTE}/[email_id]", title="Email", on_load=AdminEmailState.load)
def email_page() -> rx.Component:
    state = AdminEmailState
    missing = empty_note("There is no such email in the outbox.", "mail-x")
    return loading(state.loaded, rx.cond(state.not_found, missing, _email_detail(state.email)), "420px")
