"""Who is signed in. The browser keeps a random session token in localStorage; the server keeps
only its hash and decides, on every check, whether it still signs anyone in (expired, revoked by
a password change or sign-out elsewhere, or a disabled account all mean "no").

The user id and role live only in backend-only vars; the browser sees a name, an email and
whether to show the staff link. Staff handlers must still check the role with
``revoque.services.accounts.require_role`` on a freshly resolved user.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.db import session_scope
from revoque.models import User
from revoque.services import accounts

SIGNED_IN_HOME = "/account"


def safe_next_path(value: str | None, default: str = SIGNED_IN_HOME) -> str:
    """Where to go after signing in: only a path on this site, never another site (an open
    redirect would let a phishing link bounce through the store's sign-in page)."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch.isspace() or ch == "\\" or not ch.isprintable() for ch in value):
        return default  # browsers drop tabs and newlines, and read "\\" as "/": "/\t/evil.test" is "//evil.test"
    return value


def _resolve_session(token: str) -> User | None:
    with session_scope() as session:
        return accounts.resolve_session(session, token)


class _SessionHelpers:
    """What other states call after ``await self.get_state(SessionState)``. Kept on a plain base
    class: Reflex turns every public method of a state class into an event handler a browser may
    trigger, and these are for server code only."""

    async def current_user(self: SessionState) -> User | None:
        """The signed-in user, resolved from the token now (never from a cached id), or None."""
        user = await asyncio.to_thread(_resolve_session, self.token)
        self._show(user)
        return user

    async def signed_in_user_id(self: SessionState) -> int | None:
        user = await self.current_user()
        return user.id if user else None

    def start_session(self: SessionState, user: User, token: str) -> None:
        """Remember a token just issued by sign-in, sign-up or a password change."""
        self.token = token
        self._show(user)

    async def forget_viewer(self: SessionState, keep: tuple[type[rx.State], ...] = ()) -> None:
        """Empty every state of this tab (except this one and ``keep``) when who is using it changes.

        A tab's states outlive a sign-out, and every reload hydrates all of them into the browser:
        without this, the next person on a shared computer would be sent the last one's addresses,
        orders, checkout details, chat and (after staff) admin tables. Client-side stores (the cart
        and chat tokens) are emptied too, so the next person starts a cart and chat of their own."""
        for state_cls in _store_states():
            if state_cls is not SessionState and state_cls not in keep:
                (await self.get_state(state_cls)).reset()


def _store_states() -> list[type[rx.State]]:
    """Every state class the app defines (Reflex's own internal states are left alone)."""
    found, todo = [], list(rx.State.get_substates())
    while todo:
        state_cls = todo.pop()
        todo.extend(state_cls.get_substates())
        if state_cls.__module__.startswith("revoque."):
            found.append(state_cls)
    return found


class SessionState(_SessionHelpers, rx.State):
    token: str = rx.LocalStorage("", name="revoque_session", sync=True)
    user_name: str = ""
    user_email: str = ""
    _user_id: int | None = None
    _role: str = ""

    @rx.var
    def signed_in(self) -> bool:
        return self._user_id is not None

    @rx.var
    def is_staff(self) -> bool:
        """Only decides whether the admin link shows; it grants nothing."""
        return self._role in accounts.STAFF_ROLES

    def _show(self, user: User | None) -> None:
        self._user_id = user.id if user else None
        self._role = user.role if user else ""
        self.user_name = user.name if user else ""
        self.user_email = user.email if user else ""

    @rx.event
    async def require_signed_in(self):
        """For account pages' on_load: send a signed-out visitor to sign in, then back here."""
        if await self.current_user() is None:
            url = self.router.url
            here = f"{url.path}?{url.query}" if url.query else url.path
            return rx.redirect(f"/sign-in?{urlencode({'next': here})}")
        return None

    @rx.event
    async def sign_out(self):
        with session_scope() as session:
            accounts.sign_out(session, self.token)
        self.token = ""
        self._show(None)
        await self.forget_viewer()
        return rx.redirect("/")
