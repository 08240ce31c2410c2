"""The server-side guard every admin page and admin handler goes through.

Who may do what is decided here, on the server, from the user the session token resolves to *now*
(never from a cached id or anything the browser sent):

- a guest is sent to sign in, with ``next`` pointing back at the admin page;
- a signed-in customer (or a disabled account) sees "not allowed", and the page's state is reset,
  so nothing loaded for an earlier viewer of the tab stays in it;
- staff and admins get in; actions marked admin-only (roles, settings, refunds, the audit log) are
  refused to staff with a message that says so.

Admin page states inherit ``AdminPageState`` and call ``await self._admit_page()`` first thing in
their ``on_load`` handler and ``await self._admit()`` first thing in every other handler. Both
helpers are private on purpose: Reflex turns every public method of a state into an event a
browser can trigger, and the guard must only ever be called by server code. The page state's own
vars start empty and are filled only after the check passes.

``AdminFrameState`` holds what the admin frame shows around a page (did the viewer get in, their
name, whether to show admin-only links). It grants nothing: every handler checks again.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlencode

import reflex as rx

from revoque.errors import PermissionDenied
from revoque.models import Role, User
from revoque.services.accounts import STAFF_ROLES
from revoque.state.session import SessionState

SIGN_IN_PATH = "/sign-in"
NOT_ALLOWED_MESSAGE = "This area is for store staff. Your account does not have access to it."
ADMIN_ONLY_MESSAGE = "Only an admin can do that. Ask a store admin if it needs doing."
SIGNED_OUT_MESSAGE = "Your session has ended. Sign in again to continue."


class Access(StrEnum):
    CHECKING = "checking"  # the frame's state before the page's first check has answered
    GRANTED = "granted"
    SIGN_IN = "sign_in"  # nobody is signed in
    NOT_ALLOWED = "not_allowed"  # signed in, but not staff (or the account is disabled)
    ADMIN_ONLY = "admin_only"  # staff asking for something only an admin may do


def decide(user: User | None, admin_only: bool = False) -> Access:
    """What ``user`` may do in the admin: the whole rule, kept pure so it is tested on its own."""
    if user is None:
        return Access.SIGN_IN
    if not user.is_active or user.role not in STAFF_ROLES:
        return Access.NOT_ALLOWED
    if admin_only and user.role != Role.ADMIN:
        return Access.ADMIN_ONLY
    return Access.GRANTED


def sign_in_url(path: str, query: str = "") -> str:
    """The sign-in page, coming back to ``path?query`` afterwards."""
    here = f"{path}?{query}" if query else path
    return f"{SIGN_IN_PATH}?{urlencode({'next': here})}"


class AccessRefused(PermissionDenied):
    """Raised by the guard; ``response`` is what the handler returns to the browser (a redirect to
    sign in, a toast, or nothing when the page itself shows the refusal)."""

    def __init__(self, access: Access, message: str, response=None) -> None:
        super().__init__(message)
        self.access = access
        self.response = response


class AdminFrameState(rx.State):
    """What the admin frame shows; set only by the guard below, and it grants nothing."""

    access: str = Access.CHECKING.value
    viewer_name: str = ""
    viewer_is_admin: bool = False  # hides admin-only links; the server refuses those actions anyway

    def _show(self, access: Access, user: User | None) -> None:
        self.access = access.value
        inside = access in (Access.GRANTED, Access.ADMIN_ONLY) and user is not None
        self.viewer_name = (user.name or user.email) if inside else ""
        self.viewer_is_admin = inside and user.role == Role.ADMIN


class AdminPageState(rx.State, mixin=True):
    """Base of every admin page's state: the guard, as private helpers (see the module docstring)."""

    async def _viewer(self) -> User | None:
        session_state = await self.get_state(SessionState)
        return await session_state.current_user()

    def _here(self) -> str:
        url = self.router.url
        return sign_in_url(url.path or "/admin", url.query)

    async def _admit_page(self, admin_only: bool = False) -> User:
        """For ``on_load``: the viewer when they may see this page, else raise ``AccessRefused``.

        The frame is told the outcome, so it shows the page, the sign-in redirect, "not allowed" or
        "admins only"; on any refusal this page's state goes back to its empty defaults."""
        user = await self._viewer()
        access = decide(user, admin_only)
        (await self.get_state(AdminFrameState))._show(access, user)
        if access == Access.GRANTED:
            return user
        self.reset()
        if access == Access.SIGN_IN:
            raise AccessRefused(access, SIGNED_OUT_MESSAGE, rx.redirect(self._here()))
        raise AccessRefused(access, NOT_ALLOWED_MESSAGE if access == Access.NOT_ALLOWED else ADMIN_ONLY_MESSAGE)

    async def _admit(self, admin_only: bool = False) -> User:
        """For every other handler: the viewer when they may do this, else raise ``AccessRefused``.

        Staff refused an admin-only action keep the page and get a message; anyone who is not staff
        (any more) loses the page's data and sees "not allowed" or is sent to sign in."""
        user = await self._viewer()
        access = decide(user, admin_only)
        if access == Access.GRANTED:
            return user
        if access == Access.ADMIN_ONLY:
            raise AccessRefused(access, ADMIN_ONLY_MESSAGE, rx.toast.error(ADMIN_ONLY_MESSAGE))
        self.reset()
        (await self.get_state(AdminFrameState))._show(access, user)
        if access == Access.SIGN_IN:
            raise AccessRefused(access, SIGNED_OUT_MESSAGE, rx.redirect(self._here()))
        raise AccessRefused(access, NOT_ALLOWED_MESSAGE, rx.toast.error(NOT_ALLOWED_MESSAGE))
