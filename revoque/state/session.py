"""Who is signed in. The browser keeps a random session token in localStorage; the server keeps
only its hash and decides, on every check, whether it still signs anyone in (expired, revoked by
a password change or sign-out elsewhere, or a disabled account all mean "no").

The user id and role live only in backend-only vars; the browser sees a name, an email and
whether to show the staff link. Staff handlers must still check the role with
``revoque.services.accounts.require_role`` on a freshly resolved user.
"""

from __future__ import annotations

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
    return value


class _SessionHelpers:
    """What other states call after ``await self.get_state(SessionState)``. Kept on a plain base
    class: Reflex turns every public method of a state class into an event handler a browser may
    trigger, and these are for server code only."""

    async def current_user(self: SessionState) -> User | None:
        """The signed-in user, resolved from the token now (never from a cached id), or None."""
        with session_scope() as session:
            user = accounts.resolve_session(session, self.token)
        self._show(user)
        return user

    async def signed_in_user_id(self: SessionState) -> int | None:
        user = await self.current_user()
        return user.id if user else None

    def start_session(self: SessionState, user: User, token: str) -> None:
        """Remember a token just issued by sign-in, sign-up or a password change."""
        self.token = token
        self._show(user)


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
    def sign_out(self):
        with session_scope() as session:
            accounts.sign_out(session, self.token)
        self.token = ""
        self._show(None)
        return rx.redirect("/")
