"""The server-side guard every admin page and admin handler goes through.

Who may do what is decided here, on the server, from the user the session token resolves to *now*
(never from a cached id or anything the browser sent):

- a guest is sent to sign in, with ``next`` pointing back at the admin page;
- a signed-in customer (or a disabled account) sees "not allowed", and the page's state is reset,
  so nothing loaded for an earlier viewer of the tab stays in it;
- staff and admins get in; actions marked admin-only (roles, settings, refunds, the audit log) are
  refused to staff with a message that says so.

Admin page states inherit ``AdminPageState`` and mark their ``on_load`` handler ``@staff_load`` and
every other handler ``@staff_event`` (``admin_only=True``, or a function of the handler's arguments,
for admin-only actions): the decorator runs the check first and then the handler (with the
admitted user as ``actor`` when it names its second parameter so), or answers the browser with the
refusal without running it. The check itself (``_admit_page`` and ``_admit``) is private on
purpose: Reflex turns every public method of a state into an event a browser can trigger, and the
guard must only ever be called by server code. Background handlers, which check again inside
every ``async with self``, call ``_refusal`` themselves. The page state's own vars start empty and
are filled only after the check passes.

Two mixins carry what many admin pages share on top of the guard: ``AdminListState`` (a page of
rows whose page number and filters live in the URL) and ``AdminEditState`` (one change at a time,
then a reload).

``AdminFrameState`` holds what the admin frame shows around a page (did the viewer get in, their
name, whether to show admin-only links). It grants nothing: every handler checks again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from revoque.db import session_scope
from revoque.errors import PermissionDenied, RevoqueError
from revoque.models import Role, User
from revoque.services.accounts import STAFF_ROLES
from revoque.state.listing import int_param
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

    async def _refusal(self, admin_only: bool = False) -> AccessRefused | None:
        """``_admit`` for code that checks again part-way (background handlers, inside each
        ``async with self``): the refusal to answer with, or None when the viewer may go on."""
        try:
            await self._admit(admin_only)
        except AccessRefused as refused:
            return refused
        return None


class AdminListState(AdminPageState, mixin=True):
    """Base of an admin page that lists rows a page at a time, the page number (and the filters)
    in the URL so a view can be reloaded and shared. The rows themselves stay on the page's state,
    typed for its table."""

    total: int = 0
    page: int = 1
    pages: int = 1
    loaded: bool = False

    def _url_params(self) -> dict[str, str]:
        return dict(self.router.url.query_parameters)

    def _requested_page(self) -> int:
        return int_param(self.router.url.query_parameters.get("page"), 1)

    def _take_page(self, result: Any) -> list:
        """Show a service's page of results (``items``, ``total``, ``page``, ``pages``); returns its
        items for the page's own list."""
        self.total, self.page, self.pages = result.total, result.page, result.pages
        return result.items


class AdminEditState(AdminPageState, mixin=True):
    """Base of an admin page whose buttons change things: one change at a time, ``busy`` while it
    runs (the button spins), then the page reloads what it shows (its ``_refresh``)."""

    busy: bool = False

    async def _refresh(self) -> None:
        raise NotImplementedError  # each page reloads what it shows

    async def _make_change(self, actor: User, success: str, change: Callable, *args, refresh_on_error: bool = False):
        """``change(session, actor, *args)`` in a write transaction, off the event loop; then reload
        and say how it went (``success``, when there is something to say). With
        ``refresh_on_error`` a refused change reloads too (the list may have moved on meanwhile)."""
        self.busy = True
        try:
            await asyncio.to_thread(in_write_session, change, actor, *args)
        except RevoqueError as exc:
            if refresh_on_error:
                await self._refresh()
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        await self._refresh()
        return rx.toast.success(success) if success else None


def in_write_session(change: Callable, *args) -> Any:
    """``change(session, *args)`` in an immediate (write) transaction; for ``asyncio.to_thread``."""
    with session_scope(write=True) as session:
        return change(session, *args)


def filtered_redirect(route: str, query: str) -> Any:
    """Go to the list at ``route`` with the filters in ``query`` (a query string, maybe empty)."""
    return rx.redirect(f"{route}?{query}" if query else route)


# --- guarded handlers ----------------------------------------------------------------------------

ACTOR = "actor"  # a guarded handler that needs the admitted user names its second parameter so

AdminOnly = bool | Callable[..., bool]  # or decided from the handler's own arguments (the state first)
Admit = Callable[[AdminPageState, bool], Any]  # AdminPageState._admit or ._admit_page


def staff_event(handler: Callable | None = None, *, admin_only: AdminOnly = False) -> Any:
    """An admin page's event handler that only staff (``admin_only``: only admins) may run.

    A refused viewer gets ``_admit``'s answer (a toast, or the sign-in redirect) and the handler
    does not run. A handler written ``(self, actor, ...)`` gets the admitted user as ``actor``. Use
    as ``@staff_event`` or ``@staff_event(admin_only=True)``."""
    return _guard_with(AdminPageState._admit, handler, admin_only)


def staff_load(handler: Callable | None = None, *, admin_only: AdminOnly = False) -> Any:
    """``staff_event`` for a page's ``on_load`` handler: the check also tells the admin frame what
    to show, and a refusal empties the page's state (``_admit_page``)."""
    return _guard_with(AdminPageState._admit_page, handler, admin_only)


def _guard_with(admit: Admit, handler: Callable | None, admin_only: AdminOnly) -> Any:
    if handler is None:
        return lambda handler: _guarded(admit, handler, admin_only)
    return _guarded(admit, handler, admin_only)


def _guarded(admit: Admit, handler: Callable, admin_only: AdminOnly) -> Any:
    """``handler`` behind the check, as the event Reflex registers.

    What Reflex reads of an event handler (its name, and the parameters and annotations it maps
    the browser's arguments to) stays the handler's own, less ``actor``: the browser never
    supplies the user, so the frontend binds to the handler as if it were not decorated."""
    signature = inspect.signature(handler)
    parameters = list(signature.parameters.values())
    takes_actor = len(parameters) > 1 and parameters[1].name == ACTOR
    if not takes_actor and ACTOR in signature.parameters:
        raise TypeError(f"{handler.__qualname__}: {ACTOR!r} must come right after self")

    async def admitted(state: AdminPageState, args: tuple, kwargs: dict) -> tuple:
        """The arguments to run ``handler`` with, once the viewer is admitted."""
        needed = admin_only(state, *args, **kwargs) if callable(admin_only) else admin_only
        actor = await admit(state, needed)
        return (state, actor, *args) if takes_actor else (state, *args)

    if inspect.isasyncgenfunction(handler):

        @functools.wraps(handler)
        async def guarded(self, *args, **kwargs):
            try:
                arguments = await admitted(self, args, kwargs)
            except AccessRefused as refused:
                yield refused.response
                return
            async with contextlib.aclosing(handler(*arguments, **kwargs)) as updates:
                async for update in updates:
                    yield update

    else:

        @functools.wraps(handler)
        async def guarded(self, *args, **kwargs):
            try:
                arguments = await admitted(self, args, kwargs)
            except AccessRefused as refused:
                return refused.response
            return await handler(*arguments, **kwargs)

    if takes_actor:
        guarded.__signature__ = signature.replace(parameters=[parameters[0], *parameters[2:]])
        guarded.__annotations__ = {name: hint for name, hint in handler.__annotations__.items() if name != ACTOR}
    return rx.event(guarded)
