"""One browser tab, simulated: a whole Reflex state tree with its own client token and network
address, on which event handlers run as Reflex runs them, for any page and any viewer.

``Tab.go(url)`` is a navigation (every state sees the new URL), ``Tab.run(State, "handler", *args)``
calls a handler and follows the server-side events it returns (``CartState.after_sign_in`` after a
sign-in, ``require_signed_in`` …), recording redirects and toasts; ``Tab.client_json()`` is exactly
what a hydrate sends the browser: every state's vars, serialised as Reflex does.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from typing import Any

from reflex.event import EventHandler, EventSpec
from reflex.istate.data import ReflexURL, RouterData, SessionData
from reflex.istate.delta import _resolve_delta
from reflex.state import State
from reflex_base.utils.format import json_dumps

ORIGIN = "http://localhost:3000"


def _all_states(root: State) -> list:
    found, todo = [], [root]
    while todo:
        state = todo.pop()
        found.append(state)
        todo.extend(state.substates.values())
    return found


def _spec_args(spec: EventSpec) -> list[Any]:
    return [value._var_value if hasattr(value, "_var_value") else str(value) for _, value in spec.args]


class Tab:
    def __init__(self, ip: str = "10.0.0.1") -> None:
        self.root = State(_reflex_internal_init=True)
        self.client_token = str(uuid.uuid4())
        self.ip = ip
        self.redirects: list[str] = []
        self.messages: list[str] = []  # client-side events returned (toasts): their code, as text
        self.go("/")

    # --- navigation and state ------------------------------------------------------------------

    def go(self, path: str) -> Tab:
        router = RouterData(
            session=SessionData(client_token=self.client_token, client_ip=self.ip, session_id="sid"),
            url=ReflexURL(ORIGIN + path),
        )
        for state in _all_states(self.root):
            state.router = router
        return self

    def state(self, cls):
        return self.root.get_substate(cls.get_full_name().split(".")[1:])

    # --- events --------------------------------------------------------------------------------

    def run(self, cls, name: str, *args: Any, follow: bool = True) -> list:
        """Run ``cls.name(*args)``; returns every event it returned or yielded (flattened)."""
        handler = cls.event_handlers[name]
        events = asyncio.run(self._call(handler, self.state(cls), args))
        if follow:
            self._follow(events)
        return events

    async def _call(self, handler: EventHandler, state, args: tuple) -> list:
        result = handler.fn(state, *args)
        events: list = []
        if inspect.isasyncgen(result):
            async for item in result:
                events.extend(self._flat(item))
        elif inspect.isgenerator(result):
            for item in result:
                events.extend(self._flat(item))
        else:
            events.extend(self._flat(await result if inspect.isawaitable(result) else result))
        return events

    @staticmethod
    def _flat(item) -> list:
        if item is None:
            return []
        return [e for part in item for e in Tab._flat(part)] if isinstance(item, (list, tuple)) else [item]

    def _follow(self, events: list) -> None:
        """Chained server events run next (background ones are left out); redirects and client
        actions are recorded."""
        for event in events:
            handler = event if isinstance(event, EventHandler) else getattr(event, "handler", None)
            args = _spec_args(event) if isinstance(event, EventSpec) else []
            state_cls = getattr(handler, "state", None)
            if state_cls is not None and state_cls.__module__.startswith("revoque."):
                if not handler.is_background:
                    self.run(state_cls, handler.fn.__name__, *args)
            elif isinstance(event, EventSpec) and [str(name) for name, _ in event.args][:1] == ["path"]:
                self.redirects.append(str(args[0]))  # rx.redirect
            else:
                self.messages.append(" ".join(str(a) for a in args) or str(event))  # toasts and scripts

    # --- what the browser receives -------------------------------------------------------------

    def client_state(self) -> dict:
        return asyncio.run(_resolve_delta(self.root.dict()))

    def client_json(self) -> str:
        """The hydrate payload: every state's vars (computed ones included) as the browser gets them."""
        return json_dumps(self.client_state())
