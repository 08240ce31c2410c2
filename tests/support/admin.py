"""Run admin page handlers as Reflex would, for a guest, a customer, staff or an admin.

A handler runs on a real state tree (``reflex.state.State``) whose ``SessionState`` holds the
browser's session token, so the guard resolves the viewer from the database exactly as in the app.
"""

from __future__ import annotations

import asyncio
import inspect

from reflex.istate.data import ReflexURL, RouterData
from reflex.state import State

from revoque.db import session_scope
from revoque.models import Role, User
from revoque.services import accounts
from revoque.state.admin import AdminFrameState
from revoque.state.session import SessionState

ROLES = ("guest", Role.CUSTOMER.value, Role.STAFF.value, Role.ADMIN.value)


def add_user(session, email: str, role: str = Role.CUSTOMER.value, name: str = "") -> User:
    user = User(email=email, password_hash="not-used-here", name=name or email.split("@")[0].title(), role=role)
    session.add(user)
    session.flush()
    return user


def token_for(role: str, email: str | None = None) -> str:
    """A signed-in browser's token for a new user with ``role``; "" for a guest."""
    if role == "guest":
        return ""
    with session_scope(write=True) as session:
        user = add_user(session, email or f"{role}-{accounts.new_token()[:8].lower()}@example.com", role)
        return accounts.start_session(session, user.id)


def page_state(state_cls, token: str, url: str = "http://localhost:3000/admin"):
    """``state_cls``'s instance in a fresh state tree for a browser holding ``token``, on ``url``."""
    root = State(_reflex_internal_init=True)
    root.get_substate(SessionState.get_full_name().split(".")[1:]).token = token
    state = root.get_substate(state_cls.get_full_name().split(".")[1:])
    state.router = RouterData(url=ReflexURL(url))
    return state


def session_token(state) -> str:
    """The session token the browser of ``state``'s tree holds."""
    return _root(state).get_substate(SessionState.get_full_name().split(".")[1:]).token


def _root(state):
    while state.parent_state is not None:
        state = state.parent_state
    return state


def frame(state) -> AdminFrameState:
    """The admin frame's state in the same tree as ``state``."""
    return _root(state).get_substate(AdminFrameState.get_full_name().split(".")[1:])


def run(handler, state, *args):
    """Call an event handler's function as Reflex does; returns what it returned (or yielded last)."""
    fn = handler.fn

    async def call():
        result = fn(state, *args)
        if inspect.isasyncgen(result):
            last = None
            async for item in result:
                last = item if item is not None else last
            return last
        if inspect.isawaitable(result):
            return await result
        return result

    return asyncio.run(call())


def event_text(spec) -> str:
    """The arguments of a returned event (a redirect's path, a toast's message) as one string."""
    if spec is None:
        return ""
    if isinstance(spec, list):
        return " ".join(event_text(item) for item in spec)
    return " ".join(str(value) for _, value in spec.args)
