"""/admin/conversations: the shopping assistant's conversations, latest activity first, filtered by
who asked (signed-in shopper or guest), which engine answered and words in the messages (all in
the URL); /admin/conversations/<id>: the whole conversation, each answer with the engine that
wrote it, the product cards it showed and the sources it was grounded on. Read only."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import labelled_filter
from revoque.components.admin_layout import admin_page, back_link, color_badge, empty_note, panel
from revoque.components.admin_table import ANY, filter_form, filter_select, loading, paged_table
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.services import conversation_admin
from revoque.services.conversation_admin import ConversationRow, ConversationView, MessageRow, SourceView
from revoque.state.admin import AdminListState, AdminPageState, filtered_redirect, staff_event, staff_load

ROUTE = "/admin/conversations"
WHO = [("customer", "Signed-in shoppers"), ("guest", "Guests")]
ENGINE_COLORS = {"basic": "gray", "gemini": "indigo"}


def conversations_query(who: str = "", engine: str = "", q: str = "") -> str:
    values = {"who": who, "engine": engine, "q": q.strip()}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


def _list(params: dict, page: int) -> tuple[conversation_admin.ConversationPage, list[str]]:
    with session_scope() as session:
        result = conversation_admin.list_conversations(session, conversation_admin.parse_filters(params), page)
        return result, conversation_admin.engine_options(session)


def engine_badge(engine, **props) -> rx.Component:
    return color_badge(engine, engine, ENGINE_COLORS, "teal", **props)


class AdminConversationsState(AdminListState, rx.State):
    rows: list[ConversationRow] = []
    engines: list[str] = []
    who: str = ANY
    engine: str = ANY
    q: str = ""

    @rx.var
    def query(self) -> str:
        return conversations_query(self.who, self.engine, self.q)

    @staff_load
    async def load(self):
        self.loaded = False
        params = self._url_params()
        result, self.engines = await asyncio.to_thread(_list, params, self._requested_page())
        self.rows = self._take_page(result)
        filters = conversation_admin.parse_filters(params)
        self.who, self.engine, self.q = filters.who or ANY, filters.engine or ANY, filters.q
        if self.engine != ANY and self.engine not in self.engines:
            self.engines = [*self.engines, self.engine]
        self.loaded = True
        return None

    @staff_event
    async def apply_filters(self, form: dict):
        query = conversations_query(str(form.get("who", "")), str(form.get("engine", "")), str(form.get("q", "")))
        return filtered_redirect(ROUTE, query)


def _filters() -> rx.Component:
    state = AdminConversationsState
    engines = rx.foreach(state.engines, lambda engine: rx.select.item(engine, value=engine))
    return filter_form(
        labelled_filter(
            "Words in a message",
            rx.input(name="q", default_value=state.q, placeholder="delivery", type="search", width="100%"),
        ),
        labelled_filter("Who", filter_select("who", state.who, WHO, "Anyone")),
        labelled_filter("Engine", filter_select("engine", state.engine, engines, "Any engine")),
        on_submit=state.apply_filters,
        key=state.query,
        route=ROUTE,
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


@admin_page(route=ROUTE, title="Assistant conversations", on_load=AdminConversationsState.load)
def conversations_page() -> rx.Component:
    state = AdminConversationsState
    headers = ["Last message (UTC)", "Who", "First question", ("Messages", "right"), "Engine"]
    no_match = empty_note("No conversations match these filters.", "message-square-x")
    none_yet = empty_note("Nobody has talked to the assistant yet.", "message-square")
    table = paged_table(state, ROUTE, headers, _row, no_match, none_yet=none_yet)
    return rx.vstack(
        panel("Filter", loading(state.loaded, _filters(), "58px")),
        panel("Conversations", loading(state.loaded, table)),
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

    @staff_load
    async def load(self):
        self.loaded = False
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
        back_link("All conversations", ROUTE),
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
    missing = empty_note("There is no such conversation.", "message-square-x")
    return loading(state.loaded, rx.cond(state.not_found, missing, _detail(state.conversation)), "420px")
