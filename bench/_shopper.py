"""One browser tab of the storefront, spoken over Reflex's real websocket protocol (for bench/load.py).

The compiled frontend (``.web/utils/state.js`` and ``context.jsx``) talks Socket.IO over Engine.IO 4
to ``/_event`` on the backend port, in the ``/_event`` namespace, with the tab's token in the query
string. This client does what that code does, message for message:

- connect: the Socket.IO CONNECT packet carries ``{"event": hydrate_and_load, "state_schema": …}``;
  on a tab's first connect the event's payload holds the compiled ``initialStateHashes`` (so the
  backend sends only what differs from the compiled defaults) and any browser-storage vars set;
- navigation inside the app (no reconnect): ``update_vars_internal`` with the browser-storage vars,
  if any are set, then ``on_load_internal``; each event carries ``router_data`` (pathname, asPath,
  query with the route's dynamic params merged in, as React Router's ``useParams`` does);
- the backend answers with ``StateUpdate``s (``delta`` per state, frontend ``events`` such as
  ``_redirect`` and toasts); the tab merges deltas into its view of the state and writes the
  browser-storage vars (cart and session tokens) the way ``applyClientStorageDelta`` does.

Reflex 0.10 no longer marks the last update of an event (``StateUpdate.final`` is deprecated and
never sent), so callers say what "done" looks like with a predicate over the updates; a page is done
when the root state's ``is_hydrated`` turns true, which Reflex sends after the page's on_load chain
(the same signal the storefront's hydration marker shows).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from reflex import constants
from reflex_base.constants.state import FIELD_MARKER
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

ROOT_STATE = "reflex___state____state"
NAMESPACE = str(constants.Endpoint.EVENT)  # "/_event": both the URL path and the Socket.IO namespace
HYDRATE_AND_LOAD = f"{ROOT_STATE}.{constants.CompileVars.HYDRATE_AND_LOAD}"
ON_LOAD_INTERNAL = f"{ROOT_STATE}.{constants.CompileVars.ON_LOAD_INTERNAL}"
UPDATE_VARS_INTERNAL = f"{ROOT_STATE}.{constants.CompileVars.UPDATE_VARS_INTERNAL}"
IS_HYDRATED = constants.CompileVars.IS_HYDRATED + FIELD_MARKER
# Engine.IO packet types (first character) and Socket.IO packet types (second, inside a MESSAGE).
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE = "0", "1", "2", "3", "4"
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_CONNECT_ERROR = "0", "1", "2", "4"

Update = dict[str, Any]  # one StateUpdate: {"delta": {state: {var: value}}, "events": [...]}
Predicate = Callable[[Update], bool]


class TabError(Exception):
    """The tab could not do what it was asked: the socket closed, or the answer never came."""


@dataclass(frozen=True)
class FrontendBuild:
    """What the compiled frontend sends with every connect; read from the prod build's
    ``.web/utils/context.jsx`` so the load matches the running app's state tree."""

    state_schema: str
    initial_hashes: list[str]
    local_storage: dict[str, str]  # state key ("<state>.<var>_rx_state_") -> localStorage name
    routes: tuple[str, ...]  # dynamic page routes, e.g. "/product/[slug]", for router params


def read_frontend_build(web_dir: Path, routes: tuple[str, ...]) -> FrontendBuild:
    text = (web_dir / "utils" / "context.jsx").read_text()

    def constant(name: str) -> Any:
        found = re.search(rf"^export const {name} = (.*)$", text, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"{name} not found in {web_dir}/utils/context.jsx: was the frontend built?")
        return json.loads(found.group(1))

    storage = constant("clientStorage")
    if storage.get("cookies") or storage.get("session_storage"):
        raise RuntimeError("the app now keeps cookies or sessionStorage vars: teach bench/_shopper.py about them")
    return FrontendBuild(
        state_schema=constant("stateSchema"),
        initial_hashes=constant("initialStateHashes"),
        local_storage={key: options.get("name") or key for key, options in storage["local_storage"].items()},
        routes=routes,
    )


# --- Engine.IO / Socket.IO framing (text packets only: Reflex sends no binary attachments) ---------


def encode_connect(auth: Mapping[str, Any]) -> str:
    return f"{EIO_MESSAGE}{SIO_CONNECT}{NAMESPACE},{json.dumps(auth)}"


def encode_event(event: Mapping[str, Any]) -> str:
    """``socket.emit("event", event)`` in the namespace."""
    return f"{EIO_MESSAGE}{SIO_EVENT}{NAMESPACE},{json.dumps([str(constants.SocketEvent.EVENT), event])}"


@dataclass(frozen=True)
class Packet:
    kind: str  # "ping", "connected", "event", "refused", "closed", "other"
    name: str = ""
    data: Any = None


def decode(message: str) -> Packet:
    """One websocket text frame from the server."""
    if message == EIO_PING:
        return Packet("ping")
    if message.startswith(EIO_CLOSE):
        return Packet("closed")
    if not message.startswith(EIO_MESSAGE):
        return Packet("other")
    sio_type, body = message[1:2], message[2:]
    if body.startswith(NAMESPACE + ","):
        body = body[len(NAMESPACE) + 1 :]
    elif body.startswith(NAMESPACE):
        body = body[len(NAMESPACE) :]
    if sio_type == SIO_CONNECT:
        return Packet("connected", data=json.loads(body) if body else None)
    if sio_type in (SIO_CONNECT_ERROR, SIO_DISCONNECT):
        return Packet("refused", data=json.loads(body) if body else None)
    if sio_type == SIO_EVENT:
        name, *args = json.loads(body)
        return Packet("event", name=name, data=args[0] if args else None)
    return Packet("other")


def router_data(path: str, routes: tuple[str, ...]) -> dict[str, Any]:
    """What ``withRouterData`` puts on an event for the page at ``path``: the query string's
    parameters plus the route's dynamic segments (``/product/[slug]`` gives ``slug``)."""
    parts = urlsplit(path)
    data: dict[str, Any] = {"pathname": parts.path, "asPath": path}
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(route_params(parts.path, routes))
    if query:
        data["query"] = query
    return data


def route_params(pathname: str, routes: tuple[str, ...]) -> dict[str, str]:
    segments = pathname.strip("/").split("/")
    for route in routes:
        pattern = route.strip("/").split("/")
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for expected, actual in zip(pattern, segments, strict=True):
            if expected.startswith("[") and expected.endswith("]"):
                params[expected[1:-1]] = actual
            elif expected != actual:
                break
        else:
            return params
    return {}


# --- what came back ------------------------------------------------------------------------------


def var(delta_state: Mapping[str, Any], name: str, default: Any = None) -> Any:
    return delta_state.get(name + FIELD_MARKER, default)


def frontend_events(update: Update, name: str) -> list[dict[str, Any]]:
    return [event for event in update.get("events") or [] if event.get("name") == name]


def redirect_target(update: Update) -> str | None:
    redirects = frontend_events(update, "_redirect")
    return redirects[-1]["payload"]["path"] if redirects else None


def is_backend_error(update: Update) -> bool:
    """Reflex's backend exception handler sends a toast with id ``backend_error`` (an alert when no
    toaster is mounted); the app's own toasts ("sold out") are answers, not errors."""
    for event in frontend_events(update, "_call_function"):
        code = str((event.get("payload") or {}).get("function", ""))
        if "backend_error" in code or "window.alert" in code:
            return True
    return False


def hydrated(update: Update) -> bool:
    return (update.get("delta") or {}).get(ROOT_STATE, {}).get(IS_HYDRATED) is True


def changed(state_name: str, *names: str) -> Predicate:
    """The update carries any of these vars of that state (or, with no names, anything of it)."""
    keys = {name + FIELD_MARKER for name in names}

    def check(update: Update) -> bool:
        values = (update.get("delta") or {}).get(state_name)
        return values is not None and (not keys or bool(keys.intersection(values)))

    return check


def has_value(state_name: str, name: str, value: Any) -> Predicate:
    def check(update: Update) -> bool:
        values = (update.get("delta") or {}).get(state_name) or {}
        return values.get(name + FIELD_MARKER, object()) == value

    return check


def any_of(*predicates: Predicate) -> Predicate:
    return lambda update: any(predicate(update) for predicate in predicates)


# --- the tab ---------------------------------------------------------------------------------------


@dataclass
class Tab:
    """A browser tab: one token, one websocket, the state the page holds, its localStorage."""

    base_url: str
    build: FrontendBuild
    timeout: float
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    local_storage: dict[str, str] = field(default_factory=dict)
    updates: list[Update] = field(default_factory=list)
    backend_errors: int = 0
    sent: int = 0  # events sent, the hydrate in the CONNECT packet included
    path: str = "/"
    _socket: ClientConnection | None = None
    _reader: asyncio.Task | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: str = ""

    # -- connection ---------------------------------------------------------------------------------

    async def open(self, path: str) -> None:
        """Load ``path`` in a new tab: connect with the hydrate event in the CONNECT packet and wait
        until the page's on_load chain is done."""
        self.path = path
        url = self.base_url.replace("http", "ws", 1) + f"{NAMESPACE}/?token={self.token}&EIO=4&transport=websocket"
        try:
            self._socket = await asyncio.wait_for(
                connect(url, subprotocols=[constants.Reflex.VERSION], origin=self.base_url, proxy=None),
                self.timeout,
            )
            opened = decode_open(await asyncio.wait_for(self._socket.recv(), self.timeout))
        except (OSError, WebSocketException) as exc:  # TimeoutError is an OSError
            raise TabError(f"could not connect: {exc!r}") from exc
        if opened is None:
            raise TabError("no Engine.IO open packet")
        since = len(self.updates)
        self._reader = asyncio.create_task(self._read())
        payload: dict[str, Any] = {constants.CompileVars.PAYLOAD_HASHES: self.build.initial_hashes}
        if self.local_storage:
            payload[constants.CompileVars.PAYLOAD_VARS] = dict(self.local_storage)
        event = {"name": HYDRATE_AND_LOAD, "payload": payload, "router_data": router_data(path, self.build.routes)}
        auth = {
            constants.CompileVars.CONNECT_AUTH_EVENT: event,
            constants.CompileVars.CONNECT_AUTH_STATE_SCHEMA: self.build.state_schema,
        }
        await self._send(encode_connect(auth))
        await self.wait(hydrated, since)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for message in self._socket:
                packet = decode(message) if isinstance(message, str) else Packet("other")
                if packet.kind == "ping":
                    await self._socket.send(EIO_PONG)
                elif packet.kind == "event" and packet.name == str(constants.SocketEvent.EVENT):
                    self._receive(packet.data or {})
                elif packet.kind in ("refused", "closed"):
                    self._closed = f"server closed the namespace: {packet.data}"
                    break
            self._closed = self._closed or "socket closed"
        except Exception as exc:  # the waiters report it; a reader must not die silently
            self._closed = f"socket failed: {exc!r}"
        finally:
            self._arrived.set()

    def _receive(self, update: Update) -> None:
        delta = update.get("delta") or {}
        for state_name, values in delta.items():
            self.state.setdefault(state_name, {}).update(values)
        self._keep_storage(delta)
        if is_backend_error(update):
            self.backend_errors += 1
        self.updates.append(update)
        self._arrived.set()

    def _keep_storage(self, delta: Mapping[str, Mapping[str, Any]]) -> None:
        """``applyClientStorageDelta``: a snapshot that is not hydrated yet is never written back."""
        if delta.get(ROOT_STATE, {}).get(IS_HYDRATED) is False:
            return
        for state_name, values in delta.items():
            for name, value in values.items():
                if f"{state_name}.{name}" in self.build.local_storage:
                    self.local_storage[f"{state_name}.{name}"] = value if isinstance(value, str) else json.dumps(value)

    # -- events -------------------------------------------------------------------------------------

    def mark(self) -> int:
        """Where the next answer starts: pass to ``wait`` so an older update never counts."""
        return len(self.updates)

    async def emit(self, name: str, payload: Mapping[str, Any] | None = None) -> None:
        if self._socket is None or self._closed:
            raise TabError(self._closed or "not connected")
        event: dict[str, Any] = {"name": name, "router_data": router_data(self.path, self.build.routes)}
        if payload:
            event["payload"] = dict(payload)
        await self._send(encode_event(event))

    async def _send(self, message: str) -> None:
        assert self._socket is not None
        try:
            await self._socket.send(message)
        except WebSocketException as exc:
            raise TabError(f"socket closed: {exc!r}") from exc
        self.sent += 1

    async def wait(self, done: Predicate, since: int) -> Update:
        """The first update from ``since`` on that satisfies ``done``; TabError after the timeout."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        checked = since
        while True:
            for update in self.updates[checked:]:
                if done(update):
                    return update
            checked = len(self.updates)
            if self._closed:
                raise TabError(self._closed)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TabError("timed out")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                raise TabError("timed out") from None

    async def call(self, name: str, payload: Mapping[str, Any] | None, done: Predicate) -> Update:
        """Send one event and wait for the update that shows it done."""
        since = self.mark()
        await self.emit(name, payload)
        return await self.wait(done, since)

    async def navigate(self, path: str) -> None:
        """A click on a link inside the app: ``onLoadInternalEvent`` for the new route, then wait
        until its on_load chain has run."""
        self.path = path
        since = self.mark()
        if self.local_storage:
            await self.emit(UPDATE_VARS_INTERNAL, {constants.CompileVars.PAYLOAD_VARS: dict(self.local_storage)})
        await self.emit(ON_LOAD_INTERNAL)
        await self.wait(hydrated, since)

    def view(self, state_name: str) -> dict[str, Any]:
        return self.state.get(state_name, {})


def decode_open(message: str | bytes) -> dict[str, Any] | None:
    """The Engine.IO OPEN packet (sid, ping interval, max payload), or None if it is something else."""
    if isinstance(message, str) and message.startswith(EIO_OPEN):
        return json.loads(message[1:])
    return None
