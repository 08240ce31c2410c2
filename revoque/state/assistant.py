"""The chat widget's state: the open panel, the conversation so far and the answer being streamed.

The browser keeps the conversation token in localStorage, so the conversation survives navigation
and reloads; the server stores only its hash (``revoque.services.assistant``). Answers are
generated in a background event: the database and the model are called in worker threads, and
each streamed piece is pushed to the browser as it arrives while other events (add to cart, typing)
keep working. Who is asking is resolved on the server from the session token every time, never
taken from the browser.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import reflex as rx

from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.services import assistant, rate_limit
from revoque.services.assistant import Answer, Prepared, ProductFact, Shopper
from revoque.settings import get_settings
from revoque.state.cart import CartState
from revoque.state.nav import NavState
from revoque.state.session import SessionState

ENGINE_LABELS = {assistant.ENGINE_BASIC: "Basic assistant", assistant.ENGINE_GEMINI: "AI assistant"}


@dataclass
class ChatCard:
    """What a product card in the chat shows; ``variant_id`` 0 means nothing to add (sold out)."""

    id: int
    title: str
    price_text: str
    stock_text: str
    in_stock: bool
    href: str
    image_url: str
    variant_id: int
    variant_title: str


@dataclass
class ChatItem:
    role: str  # "user" | "assistant"
    text: str
    cards: list[ChatCard] = field(default_factory=list)
    label: str = ""  # which assistant answered, under its message


def _card(fact: ProductFact) -> ChatCard:
    return ChatCard(
        id=fact.id,
        title=fact.title,
        price_text=fact.price_text,
        stock_text=fact.stock_text,
        in_stock=fact.in_stock,
        href=fact.href,
        image_url=fact.image_url,
        variant_id=fact.variant_id or 0,
        variant_title=fact.variant_title,
    )


def _label(engine: str) -> str:
    return ENGINE_LABELS.get(engine.removesuffix(assistant.CACHED_SUFFIX), "") if engine else ""


def _answer_item(answer: Answer) -> ChatItem:
    return ChatItem("assistant", answer.text, [_card(p) for p in answer.products], _label(answer.engine))


def _load_history(token: str, user_id: int | None) -> list[ChatItem]:
    with session_scope() as session:
        views = assistant.conversation_history(session, token, user_id)
    return [ChatItem(v.role, v.text, [_card(p) for p in v.products], _label(v.engine)) for v in views]


def _prepare(token: str, text: str, shopper: Shopper) -> tuple[Prepared, str]:
    with session_scope() as session:
        return assistant.prepare(session, token, text, shopper), assistant.store_contact(session)


def _record(prepared: Prepared, answer: Answer) -> None:
    with session_scope() as session:
        assistant.record(session, prepared, answer)


class AssistantState(rx.State):
    token: str = rx.LocalStorage("", name="revoque_chat", sync=True)
    is_open: bool = False
    items: list[ChatItem] = []
    draft: str = ""
    typing: bool = False
    streaming: str = ""
    _loaded_token: str = "-"  # the token whose history ``items`` shows
    _pending: str = ""  # the message ``_start`` queued: ``answer`` is an event, so it checks it was asked
    quick_replies: list[str] = assistant.quick_replies(get_settings().store_currency)  # set again on opening

    async def _user_id(self) -> int | None:
        session_state = await self.get_state(SessionState)
        return await session_state.signed_in_user_id()

    @rx.event
    async def toggle(self):
        self.is_open = not self.is_open
        if self.is_open:  # in the currency the page loaded with (the admin may have chosen another)
            self.quick_replies = assistant.quick_replies((await self.get_state(NavState)).currency)
        if self.is_open and self._loaded_token != self.token and not self.typing:
            user_id = await self._user_id()
            self.items = await asyncio.to_thread(_load_history, self.token, user_id)
            self._loaded_token = self.token

    @rx.event
    def close(self):
        self.is_open = False

    @rx.event
    def set_draft(self, value: str):
        self.draft = value

    @rx.event
    def new_conversation(self):
        if self.typing:
            return
        self.token, self._loaded_token, self.items, self.draft = "", "", [], ""

    @rx.event
    def submit(self, _form: dict | None = None):
        text = self.draft.strip()
        self.draft = ""
        return self._start(text)

    @rx.event
    def send_text(self, text: str):
        return self._start(text)

    def _start(self, text: str):
        if not text or self.typing:
            return None
        self.items.append(ChatItem("user", " ".join(text.split())))
        self.typing, self.streaming, self._pending = True, "", text
        return AssistantState.answer(text)

    @rx.event(background=True)
    async def answer(self, text: str):
        async with self:
            if not text or text != self._pending:  # called straight from a browser, not queued by _start
                return
            self._pending = ""
            user_id = await self._user_id()
            cart = await self.get_state(CartState)
            shopper = Shopper(user_id=user_id, cart_token=cart._token())
            token, address = self.token, self.router.session.client_ip
        try:
            # per conversation in the service; per network here, as a new conversation is one click away
            rate_limit.check((rate_limit.CHAT_PER_ADDRESS, address))
            prepared, contact = await asyncio.to_thread(_prepare, token, text, shopper)
        except RevoqueError as exc:
            async with self:
                self.items.append(ChatItem("assistant", str(exc)))
                self.typing = False
            return
        async with self:
            self.token = self._loaded_token = prepared.token
        final = await self._stream(assistant.generate(prepared, shopper, contact))
        await asyncio.to_thread(_record, prepared, final)
        async with self:
            self.items.append(_answer_item(final))
            self.typing, self.streaming = False, ""
            if final.cart_changed:
                cart = await self.get_state(CartState)
                await cart._reload()

    async def _stream(self, events) -> Answer:
        """Push each streamed piece to the browser; returns the final answer."""
        while True:
            event = await asyncio.to_thread(next, events, None)
            if event is None:
                raise RuntimeError("the assistant stopped without an answer")
            if event.answer is not None:
                return event.answer
            async with self:
                self.streaming += event.delta
