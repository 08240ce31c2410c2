"""/admin/conversations: the shopping assistant's conversations, latest activity first, filtered by
who asked (signed-in shopper or guest), which engine answered and words in the messages (all in
the URL); /admin/conversations/<id>: the whole conversation, each answer with the engine that
wrote it, the product cards it showed and the sources it was grounded on. Read only."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import labelled_filter
from revoque.components.admin_layout import admin_page, empty_note, pager, panel
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.services import conversation_admin
from revoque.services.conversation_admin import ConversationRow, ConversationView, MessageRow, SourceView
from revoque.state.admin import AccessRefused, AdminPageState
from revoque.state.listing import int_param

ROUTE = "/admin/conversations"
ANY = "any"
ENGINE_COLORS = {"basic": "gray", "gemini": "indigo"}


def conversations_query(who: str = "", engine: str = "", q: str = "") -> str:
    values = {"who": who, "engine": engine, "q": q.strip()}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


def _list(params: dict, page: int) -> tuple[conversation_admin.ConversationPage, list[str]]:
    with session_scope() as session:
        result = conversation_admin.list_conversations(session, conversation_admin.parse_filters(params), page)
        return result, conversation_admin.engine_options(session)


def engine_badge(engine, **props) -> rx.Component:
    return rx.badge(
        engine, color_scheme=rx.match(engine, *ENGINE_COLORS.items(), "teal"), variant="soft", radius="full", **props
    )


class AdminConversationsState(AdminPageState, rx.State):
    rows: list[ConversationRow] = []
    engines: list[str] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    who: str = ANY
    engine: str = ANY
    q: str = ""
    loaded: bool = False

    @rx.var
    def query(self) -> str:
        return conversations_query(self.who, self.engine, self.q)

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        params = dict(self.router.url.query_parameters)
        result, self.engines = await asyncio.to_thread(_list, params, int_param(params.get("page"), 1))
        self.rows, self.total, self.page, self.pages = result.items, result.total, result.page, result.pages
        filters = conversation_admin.parse_filters(params)
        self.who, self.engine, self.q = filters.who or ANY, filters.engine or ANY, filters.q
        if self.engine != ANY and self.engine not in self.engines:
            self.engines = [*self.engines, self.engine]
        self.loaded = True
        return None

    @rx.event
    async def apply_filters(self, form: dict):
        try:
            await self._admit()
        except AccessRefused as refused:
            return refused.response
        query = conversations_query(str(form.get("who", "")), str(form.get("engine", "")), str(form.get("q", "")))
        return rx.redirect(f"{ROUTE}?{query}" if query else ROUTE)


def _filters() -> rx.Component:
    state = AdminConversationsState
    return rx.form(
        rx.flex(
            labelled_filter(
                "Words in a message",
                rx.input(name="q", default_value=state.q, placeholder="delivery", type="search", width="100%"),
            ),
            labelled_filter(
                "Who",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        rx.select.item("Anyone", value=ANY),
                        rx.select.item("Signed-in shoppers", value="customer"),
                        rx.select.item("Guests", value="guest"),
                    ),
                    name="who",
                    default_value=state.who,
                ),
            ),
            labelled_filter(
                "Engine",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        rx.select.item("Any engine", value=ANY),
                        rx.foreach(state.engines, lambda e: rx.select.item(e, value=e)),
                    ),
                    name="engine",
                    default_value=state.engine,
                ),
            ),
            rx.hstack(
                rx.button(rx.icon("filter", size=16), "Filter", type="submit"),
                rx.link(rx.button("Clear", variant="soft", color_scheme="gray", type="button"), href=ROUTE),
                spacing="2",
            ),
            spacing="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=AdminConversationsState.apply_filters,
        width="100%",
        key=state.query,
    )


def _who(name, email, signed_in) -> rx.Component:
    return rx.cond(
        signed_in,
        rx.vstack(
            rx.text(name, size="2", weight="medium", class_name="clamp-1"),
            rx.text(email, size="1", color_scheme="gray", class_name="clamp-1"),
            spacing="0",
        ),
        rx.badge("Guest", variant="outline", color_scheme="gray", radius="full"),
    )


def _row(row: ConversationRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.last_text, size="2", white_space="nowrap")),
        rx.table.cell(_who(row.who, row.email, row.signed_in)),
        rx.table.cell(
            rx.link(
                rx.cond(row.first_question != "", row.first_question, "(no question yet)"),
                href=f"{ROUTE}/{row.id}",
                size="2",
                data_testid="conversation-link",
            )
        ),
        rx.table.cell(rx.text(row.messages, size="2"), text_align="right"),
        rx.table.cell(rx.hstack(rx.foreach(row.engines, engine_badge), spacing="1", wrap="wrap")),
        vertical_align="middle",
        data_testid="conversation-row",
    )


def _table() -> rx.Component:
    state = AdminConversationsState
    headers = [("Last message (UTC)", "left"), ("Who", "left"), ("First question", "left"), ("Messages", "right")]
    return rx.cond(
        state.total > 0,
        rx.vstack(
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(h, text_align=a) for h, a in headers],
                            rx.table.column_header_cell("Engine"),
                        )
                    ),
                    rx.table.body(rx.foreach(state.rows, _row)),
                    variant="ghost",
                    size="2",
                    width="100%",
                ),
                class_name="admin-table-scroll",
            ),
            pager(
                state.page,
                state.pages,
                state.total,
                lambda p: rx.cond(state.query != "", f"{ROUTE}?{state.query}&page={p}", f"{ROUTE}?page={p}"),
            ),
            spacing="2",
            width="100%",
        ),
        rx.cond(
            state.query != "",
            empty_note("No conversations match these filters.", "message-square-x"),
            empty_note("Nobody has talked to the assistant yet.", "message-square"),
        ),
    )


@admin_page(route=ROUTE, title="Assistant conversations", on_load=AdminConversationsState.load)
def conversations_page() -> rx.Component:
    state = AdminConversationsState
    return rx.vstack(
        panel("Filter", rx.cond(state.loaded, _filters(), rx.skeleton(rx.box(height="58px")))),
        panel("Conversations", rx.cond(state.loaded, _table(), rx.skeleton(rx.box(height="240px", width="100%")))),
        spacing="4",
        width="100%",
    )


# --- one conversation ----------------------------------------------------------------------------


def _view(conversation_id: int) -> ConversationView:
    with session_scope() as session:
        return conversation_admin.conversation_view(session, conversation_id)


class AdminConversationState(AdminPageState, rx.State):
    conversation: ConversationView | None = None
    not_found: bool = False
    loaded: bool = False

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        key = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            if not key.isdigit():
                raise NotFound("There is no such conversation.")
            self.conversation, self.not_found = await asyncio.to_thread(_view, int(key)), False
        except NotFound:
            self.conversation, self.not_found = None, True
        self.loaded = True
        return None


def _source(source: SourceView) -> rx.Component:
    return rx.hstack(
        rx.badge(source.kind_label, variant="outline", color_scheme="gray", size="1"),
        rx.cond(
            source.href != "",
            rx.link(source.text, href=source.href, size="1"),
            rx.text(source.text, size="1"),
        ),
        spacing="2",
        align="center",
        data_testid="message-source",
    )


def _message(message: MessageRow) -> rx.Component:
    assistant = message.role == "assistant"
    return rx.box(
        rx.hstack(
            rx.text(rx.cond(assistant, "Assistant", "Shopper"), size="1", weight="bold"),
            rx.text(message.created_text, size="1", color_scheme="gray"),
            rx.cond(
                message.engine != "",
                engine_badge(message.engine, size="1", data_testid="message-engine"),
            ),
            rx.cond(message.cached, rx.badge("from cache", size="1", variant="outline", color_scheme="gray")),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(message.text, size="2", class_name="admin-chat-text"),
        rx.cond(
            message.products.length() > 0,
            rx.vstack(
                rx.text("Product cards shown", size="1", weight="medium", color_scheme="gray"),
                rx.foreach(message.products, _source),
                spacing="1",
                padding_top="6px",
            ),
        ),
        rx.cond(
            message.sources.length() > 0,
            rx.vstack(
                rx.text("Grounded on", size="1", weight="medium", color_scheme="gray"),
                rx.foreach(message.sources, _source),
                spacing="1",
                padding_top="6px",
            ),
            rx.cond(
                assistant, rx.text("No sources: nothing was retrieved for this answer.", size="1", color_scheme="gray")
            ),
        ),
        class_name=rx.cond(assistant, "admin-chat admin-chat-assistant", "admin-chat admin-chat-shopper"),
        data_testid="conversation-message",
    )


def _detail(conversation) -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "All conversations", align="center", spacing="1"),
            href=ROUTE,
            size="2",
        ),
        rx.hstack(
            _who(conversation.who, conversation.email, conversation.signed_in),
            rx.text(f"Started {conversation.started_text}", size="2", color_scheme="gray"),
            rx.hstack(rx.foreach(conversation.engines, engine_badge), spacing="1"),
            spacing="4",
            align="center",
            wrap="wrap",
        ),
        panel(
            "Messages",
            rx.cond(
                conversation.messages.length() > 0,
                rx.vstack(rx.foreach(conversation.messages, _message), spacing="3", width="100%"),
                empty_note("This conversation has no messages.", "message-square"),
            ),
        ),
        spacing="4",
        width="100%",
    )


@admin_page(route=f"{ROUTE}/[conversation_id]", title="Conversation", on_load=AdminConversationState.load)
def conversation_page() -> rx.Component:
    state = AdminConversationState
    return rx.cond(
        state.loaded,
        rx.cond(
            state.not_found,
            empty_note("There is no such conversation.", "message-square-x"),
            _detail(state.conversation),
        ),
        rx.skeleton(rx.box(height="420px", width="100%")),
    )
