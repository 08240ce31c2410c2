"""A small Qdrant server for tests: the REST endpoints the store's ``QdrantStore`` calls through
qdrant-client (``prefer_grpc=False``), answering with the shapes the real server uses, points kept
in memory and scored by cosine similarity.

Endpoints: ``GET /`` (version, for the client's compatibility check), ``GET /collections/{c}/exists``,
``PUT``/``GET /collections/{c}``, ``PUT /collections/{c}/index``, ``PUT /collections/{c}/points``
(upsert), ``POST /collections/{c}/points`` (retrieve), ``.../points/delete``, ``.../points/count``,
``.../points/scroll`` and ``.../points/query``. Filters: ``must`` conditions with ``match``
(``value``/``any``, an array payload matching if any element does) or ``range`` (gt/gte/lt/lte),
``must_not`` with ``has_id``, the subset the store sends. A missing collection is a 404 with
Qdrant's JSON error body; every request is recorded with its JSON body so tests can check what the
client sent. With ``api_key`` set, requests without that ``api-key`` header get 401.
"""

from __future__ import annotations

import json
import math
import operator
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.support.http_fake import LocalServer, QuietHandler, serving

SERVER_VERSION = "1.20.0"
_ROUTE = re.compile(r"/collections/(?P<name>[^/]+)(?P<rest>/.*)?")


@dataclass
class FakeCollection:
    size: int
    distance: str
    payload_schema: dict[str, str] = field(default_factory=dict)
    points: dict[int, tuple[list[float], dict[str, Any]]] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: Any


@dataclass
class FakeQdrant:
    url: str
    api_key: str
    collections: dict[str, FakeCollection] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, method: str, suffix: str) -> list[Any]:
        """JSON bodies of recorded requests with this method whose path ends with ``suffix``."""
        with self.lock:
            return [r.body for r in self.requests if r.method == method and urlsplit(r.path).path.endswith(suffix)]


# --- filter semantics ---------------------------------------------------------------------------


def _matches_value(value: Any, match: dict[str, Any]) -> bool:
    values = value if isinstance(value, list) else [value]
    if "value" in match:
        return any(v == match["value"] and type(v) is type(match["value"]) for v in values)
    if "any" in match:
        return any(v in match["any"] for v in values)
    raise ValueError(f"unsupported match {match}")


def _in_range(value: Any, bounds: dict[str, Any]) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    checks = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
    return all(checks[op](value, bound) for op, bound in bounds.items() if bound is not None)


def _condition_holds(point_id: int, payload: dict[str, Any], condition: dict[str, Any]) -> bool:
    if "has_id" in condition:
        return point_id in condition["has_id"]
    if condition.get("key") not in payload:
        return False  # Qdrant: a missing field fails match and range conditions
    value = payload[condition["key"]]
    if condition.get("match") is not None:
        return _matches_value(value, condition["match"])
    if condition.get("range") is not None:
        return _in_range(value, condition["range"])
    raise ValueError(f"unsupported condition {condition}")


def passes(point_id: int, payload: dict[str, Any], conditions: dict[str, Any] | None) -> bool:
    conditions = conditions or {}
    must = conditions.get("must") or []
    must_not = conditions.get("must_not") or []
    if conditions.get("should"):
        raise ValueError("should conditions are not supported by the fake")
    return all(_condition_holds(point_id, payload, c) for c in must) and not any(
        _condition_holds(point_id, payload, c) for c in must_not
    )


def cosine(a: list[float], b: list[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


# --- the server ----------------------------------------------------------------------------------


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw) if raw else None
        state = self.server.fake
        with state.lock:
            state.requests.append(RecordedRequest(method, self.path, body))
        if state.api_key and self.headers.get("api-key") != state.api_key:
            return self._send(401, {"status": {"error": "Unauthorized: invalid API key"}})
        path = urlsplit(self.path).path
        if path == "/":
            return self._send(200, {"title": "qdrant - vector search engine", "version": SERVER_VERSION})
        route = _ROUTE.fullmatch(path)
        if route is None:
            return self._error(404, f"Not found: {path}")
        name, rest = route["name"], route["rest"] or ""
        handler = _ENDPOINTS.get((method, rest))
        if handler is None:
            return self._error(404, f"Not found: {method} {path}")
        with state.lock:
            collection = state.collections.get(name)
            if collection is None and rest != "/exists" and not (method == "PUT" and rest == ""):
                return self._error(404, f"Not found: Collection `{name}` doesn't exist!")
            status, result = handler(state, name, collection, body or {})
        if status != 200:
            return self._error(status, result)
        self._send(200, {"result": result, "status": "ok", "time": 0.0001})

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"status": {"error": message}, "time": 0.0})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


_UPDATED = {"operation_id": 0, "status": "completed"}


def _exists(state: FakeQdrant, name: str, collection: FakeCollection | None, body: dict) -> tuple[int, Any]:
    return 200, {"exists": collection is not None}


def _create(state: FakeQdrant, name: str, collection: FakeCollection | None, body: dict) -> tuple[int, Any]:
    if collection is not None:
        return 409, f"Wrong input: Collection `{name}` already exists!"
    vectors = body["vectors"]
    state.collections[name] = FakeCollection(size=vectors["size"], distance=vectors["distance"])
    return 200, True


def _info(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    schema = {
        key: {"data_type": kind, "points": sum(1 for _, payload in collection.points.values() if key in payload)}
        for key, kind in collection.payload_schema.items()
    }
    return 200, {
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": 0,
        "points_count": len(collection.points),
        "segments_count": 1,
        "config": {
            "params": {"vectors": {"size": collection.size, "distance": collection.distance}, "shard_number": 1},
            "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
            "optimizer_config": {"default_segment_number": 0, "flush_interval_sec": 5},
        },
        "payload_schema": schema,
    }


def _create_index(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    schema = body["field_schema"]
    collection.payload_schema[body["field_name"]] = schema if isinstance(schema, str) else schema["type"]
    return 200, _UPDATED


def _upsert(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    for point in body["points"]:
        if len(point["vector"]) != collection.size:
            return (
                400,
                f"Wrong input: Vector dimension error: expected dim: {collection.size}, got {len(point['vector'])}",
            )
    for point in body["points"]:
        collection.points[point["id"]] = (point["vector"], point.get("payload") or {})
    return 200, _UPDATED


def _delete(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    for point_id in body["points"]:
        collection.points.pop(point_id, None)
    return 200, _UPDATED


def _count(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    matching = [i for i, (_, payload) in collection.points.items() if passes(i, payload, body.get("filter"))]
    return 200, {"count": len(matching)}


def _record(point_id: int, vector: list[float], payload: dict, body: dict) -> dict[str, Any]:
    record: dict[str, Any] = {"id": point_id}
    if body.get("with_payload"):
        record["payload"] = payload
    if body.get("with_vector"):
        record["vector"] = _unit(vector)  # Qdrant stores cosine vectors normalised
    return record


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def _retrieve(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    found = [(i, *collection.points[i]) for i in body["ids"] if i in collection.points]
    return 200, [_record(i, vector, payload, body) for i, vector, payload in found]


def _scroll(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    start, limit = body.get("offset") or 0, body.get("limit") or 10
    ids = sorted(
        i for i, (_, payload) in collection.points.items() if i >= start and passes(i, payload, body.get("filter"))
    )
    page = [_record(i, *collection.points[i], body) for i in ids[:limit]]
    return 200, {"points": page, "next_page_offset": ids[limit] if len(ids) > limit else None}


def _query(state: FakeQdrant, name: str, collection: FakeCollection, body: dict) -> tuple[int, Any]:
    query = body["query"]
    if isinstance(query, dict):  # the client sends {"nearest": [...]}; a bare vector means the same
        query = query.get("nearest")
    if not isinstance(query, list) or len(query) != collection.size:
        return 400, "Wrong input: the fake answers nearest-vector queries of the collection's size only"
    scored = [
        (cosine(query, vector), point_id)
        for point_id, (vector, payload) in collection.points.items()
        if passes(point_id, payload, body.get("filter"))
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    limit = body.get("limit") or 10
    return 200, {"points": [{"id": i, "version": 0, "score": score} for score, i in scored[:limit]]}


_ENDPOINTS = {
    ("GET", "/exists"): _exists,
    ("PUT", ""): _create,
    ("GET", ""): _info,
    ("PUT", "/index"): _create_index,
    ("PUT", "/points"): _upsert,
    ("POST", "/points"): _retrieve,
    ("POST", "/points/delete"): _delete,
    ("POST", "/points/count"): _count,
    ("POST", "/points/scroll"): _scroll,
    ("POST", "/points/query"): _query,
}


@contextmanager
def fake_qdrant(api_key: str = "") -> Iterator[FakeQdrant]:
    """A running fake on a free port; yields its state (``url`` is what QDRANT_URL would be)."""
    server = LocalServer(_Handler, None)
    server.fake = FakeQdrant(url=server.url, api_key=api_key)
    with serving(server, "fake-qdrant"):
        yield server.fake
