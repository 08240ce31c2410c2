"""The admin guard against a real database: guests are sent to sign in, customers see "not allowed"
and their page state is emptied, staff get in but are refused admin-only actions, admins may do
everything. The matrix at the end calls every handler of every admin page as a guest and a
customer and checks that each is refused and leaves the page's state empty."""

from __future__ import annotations

import inspect
import typing
from urllib.parse import parse_qs, urlsplit

import pytest
import reflex as rx

import revoque.pages  # noqa: F401  (registers every page, so the matrix sees every admin state)
from revoque.db import session_scope
from revoque.services import accounts
from revoque.state.admin import ADMIN_ONLY_MESSAGE, NOT_ALLOWED_MESSAGE, AccessRefused, AdminPageState
from tests.support.admin import event_text, frame, page_state, run, session_token, token_for


class ProbeState(AdminPageState, rx.State):
    """A page state with one staff action and one admin-only action, as real pages have them."""

    secret: str = ""
    actions: int = 0
    admin_actions: int = 0

    @rx.event
    async def load(self):
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        self.secret = "takings"
        return None

    @rx.event
    async def act(self):
        try:
            await self._admit()
        except AccessRefused as refused:
            return refused.response
        self.actions += 1
        return None

    @rx.event
    async def admin_act(self):
        try:
            await self._admit(admin_only=True)
        except AccessRefused as refused:
            return refused.response
        self.admin_actions += 1
        return None


URL = "http://localhost:3000/admin/probe?tab=2"


def probe(role: str) -> ProbeState:
    return page_state(ProbeState, token_for(role), URL)


def test_a_guest_is_sent_to_sign_in_and_back(database):
    state = probe("guest")
    response = run(ProbeState.load, state)
    path = event_text(response).split('"')[1]
    assert urlsplit(path).path == "/sign-in"
    assert parse_qs(urlsplit(path).query) == {"next": ["/admin/probe?tab=2"]}
    assert frame(state).access == "sign_in"
    assert state.secret == ""


def test_a_customer_sees_not_allowed_and_nothing_else(database):
    state = probe("customer")
    state.secret = "left over from an earlier viewer of this tab"
    assert run(ProbeState.load, state) is None
    assert frame(state).access == "not_allowed"
    assert (frame(state).viewer_name, frame(state).viewer_is_admin) == ("", False)
    assert state.secret == ""


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_get_in(database, role):
    state = probe(role)
    assert run(ProbeState.load, state) is None
    assert frame(state).access == "granted"
    assert frame(state).viewer_is_admin is (role == "admin")
    assert frame(state).viewer_name.startswith(role.title())
    assert state.secret == "takings"
    run(ProbeState.act, state)
    assert state.actions == 1


def test_staff_are_refused_admin_only_actions_with_a_clear_message_and_keep_the_page(database):
    state = probe("staff")
    run(ProbeState.load, state)
    response = run(ProbeState.admin_act, state)
    assert ADMIN_ONLY_MESSAGE in event_text(response)
    assert state.admin_actions == 0
    assert state.secret == "takings"  # staff may still see the page itself
    assert frame(state).access == "granted"


def test_admins_may_do_admin_only_actions(database):
    state = probe("admin")
    run(ProbeState.load, state)
    assert run(ProbeState.admin_act, state) is None
    assert state.admin_actions == 1


def test_every_action_checks_again_so_a_revoked_session_stops_at_once(database):
    state = probe("staff")
    run(ProbeState.load, state)
    with session_scope(write=True) as session:
        accounts.sign_out(session, session_token(state))
    response = run(ProbeState.act, state)
    assert "/sign-in?next=" in event_text(response)
    assert state.actions == 0 and state.secret == ""
    assert frame(state).access == "sign_in"


def test_a_demoted_member_of_staff_is_refused_on_the_next_action(database):
    state = probe("staff")
    run(ProbeState.load, state)
    with session_scope(write=True) as session:
        user = accounts.resolve_session(session, session_token(state))
        user.role = "customer"
        session.add(user)
    response = run(ProbeState.act, state)
    assert NOT_ALLOWED_MESSAGE in event_text(response)
    assert state.actions == 0 and state.secret == ""
    assert frame(state).access == "not_allowed"


# --- every handler of every admin page ------------------------------------------------------------


def _admin_states() -> list[type]:
    found, todo = [], list(rx.State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if issubclass(cls, AdminPageState) and cls is not ProbeState:
            found.append(cls)
    return sorted(found, key=lambda c: c.get_full_name())


def _sample_args(fn) -> list:
    """Plausible arguments for a handler, by annotation: the guard must refuse before using them."""
    samples = {int: 1, str: "1", bool: True, dict: {}, list: []}
    hints = typing.get_type_hints(fn)
    params = list(inspect.signature(fn).parameters)[1:]
    return [samples.get(typing.get_origin(hints.get(p)) or hints.get(p), "1") for p in params]


def _handlers() -> list[tuple[type, str]]:
    return [(cls, name) for cls in _admin_states() for name in cls.event_handlers if name != "setvar"]


def test_the_admin_pages_are_found():
    names = {cls.__name__ for cls in _admin_states()}
    assert {"DashboardState", "AuditLogState", "AdminOrdersState", "AdminOrderState"} <= names


@pytest.mark.parametrize("role", ["guest", "customer"])
def test_every_admin_handler_refuses_guests_and_customers_and_leaves_the_state_empty(database, role):
    token = token_for(role)
    for cls, name in _handlers():
        state = page_state(cls, token, "http://localhost:3000/admin")
        empty = state.dict()
        handler = cls.event_handlers[name]
        response = run(handler, state, *_sample_args(handler.fn))
        expected = "/sign-in?next=" if role == "guest" else ""
        assert expected in event_text(response), (cls.__name__, name)
        assert state.dict() == empty, (cls.__name__, name)
        assert frame(state).access in ("sign_in", "not_allowed"), (cls.__name__, name)
