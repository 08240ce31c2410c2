"""A small stand-in for Meilisearch's REST API, so the real ``meilisearch`` client code runs in tests.

It answers the documented endpoints the store's adapter uses — create an index, update settings,
add documents, delete documents (by filter, or all), get a task, index stats, fetch documents,
search — with the documented shapes, and checks ``Authorization: Bearer <master key>``. Writes are
tasks: they come back ``enqueued`` and a background thread processes them in order after
``task_delay`` seconds, so a client that does not wait for its tasks sees stale data, as it would
against the real server.

Search follows Meilisearch's documented rules closely enough to compare engines: every query word
must match (``matchingStrategy: "all"``), typos allowed per ``typoTolerance.minWordSizeForTypos``, the
last word as a prefix unless the text ends with a space, synonyms, ranking rules in their configured
order (words, typo, attribute, sort, exactness; proximity is not modelled), filters (``=``, ``!=``,
``IN [...]``, comparisons; arrays AND, nested arrays OR), facet distribution, ``page``/``hitsPerPage``
pagination, and ``_formatted`` highlighting and cropping. Filtering, faceting and sorting on
attributes the settings do not allow fail with Meilisearch's error codes, so tests prove the
adapter's settings are applied. Every request, settings update, document batch, deletion filter and
search body is recorded for assertions.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.http_fake import FakeApiHandler, LocalServer, serving

MASTER_KEY = "fake-meili-master-key"
DEFAULT_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["*"],
    "filterableAttributes": [],
    "sortableAttributes": [],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
    "synonyms": {},
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
    "faceting": {"maxValuesPerFacet": 100},
    "pagination": {"maxTotalHits": 1000},
}
_WORD = re.compile(r"([^\W_]+)")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "type": "invalid_request", "link": ""}


@dataclass
class FakeIndex:
    uid: str
    primary_key: str | None = None
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # insertion order = internal order
    settings: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_SETTINGS)))


@dataclass
class FakeTask:
    uid: int
    index_uid: str
    type: str
    apply: Callable[[], dict[str, Any]]  # runs the change, returns the task's details
    status: str = "enqueued"
    details: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    enqueued_at: str = ""
    finished_at: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "taskUid": self.uid,
            "indexUid": self.index_uid,
            "status": "enqueued",
            "type": self.type,
            "enqueuedAt": self.enqueued_at,
        }

    def view(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "indexUid": self.index_uid,
            "status": self.status,
            "type": self.type,
            "details": self.details,
            "error": self.error,
            "enqueuedAt": self.enqueued_at,
            "startedAt": self.enqueued_at if self.status != "enqueued" else None,
            "finishedAt": self.finished_at,
        }


@dataclass
class FakeMeilisearch:
    url: str = ""
    master_key: str = MASTER_KEY
    task_delay: float = 0.02
    indexes: dict[str, FakeIndex] = field(default_factory=dict)
    tasks: dict[int, FakeTask] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    settings_updates: list[dict[str, Any]] = field(default_factory=list)
    document_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    deletion_filters: list[Any] = field(default_factory=list)
    searches: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _pending: list[FakeTask] = field(default_factory=list)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stopped: bool = False

    # --- task processing ---------------------------------------------------------------------

    def process_tasks_forever(self) -> None:
        while not self._stopped:
            self._wake.wait(0.1)
            self._wake.clear()
            while self._pending and not self._stopped:
                time.sleep(self.task_delay)
                with self._lock:
                    task = self._pending.pop(0)
                    try:
                        task.details = task.apply()
                        task.status = "succeeded"
                    except ApiError as exc:
                        task.status, task.error = "failed", exc.body()
                    task.finished_at = _now()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _enqueue(self, index_uid: str, kind: str, apply: Callable[[], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        task = FakeTask(uid=next(self._ids), index_uid=index_uid, type=kind, apply=apply, enqueued_at=_now())
        self.tasks[task.uid] = task
        self._pending.append(task)
        self._wake.set()
        return 202, task.summary()

    # --- the API -----------------------------------------------------------------------------

    def handle(self, method: str, target: str, authorization: str, body: Any) -> tuple[int, Any]:
        path, query = urlsplit(target).path.rstrip("/"), parse_qs(urlsplit(target).query)
        with self._lock:
            self.requests.append((method, path))
            if authorization != f"Bearer {self.master_key}":
                return 403, ApiError(403, "invalid_api_key", "The provided API key is invalid.").body()
            try:
                return self._route(method, path.split("/")[1:], query, body)
            except ApiError as exc:
                return exc.status, exc.body()

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if parts == ["health"]:
            return 200, {"status": "available"}
        if parts[:1] == ["tasks"] and len(parts) == 2 and method == "GET":
            task = self.tasks.get(int(parts[1]))
            if task is None:
                raise ApiError(404, "task_not_found", f"Task `{parts[1]}` not found.")
            return 200, task.view()
        if parts == ["indexes"] and method == "POST":
            return self._create_index(body)
        if parts[:1] != ["indexes"] or len(parts) < 3:
            raise ApiError(404, "not_found", "Not found")
        uid, rest = parts[1], parts[2:]
        if rest == ["settings"] and method == "PATCH":
            return self._update_settings(uid, body)
        if rest == ["documents"] and method == "POST":
            return self._add_documents(uid, body, (query.get("primaryKey") or [None])[0])
        if rest == ["documents"] and method == "DELETE":
            return self._enqueue(uid, "documentDeletion", lambda: self._delete_all(uid))
        if rest == ["documents", "delete"] and method == "POST":
            return self._delete_by_filter(uid, body)
        if rest == ["documents", "fetch"] and method == "POST":
            return self._fetch(self._index(uid), body)
        if rest == ["stats"] and method == "GET":
            index = self._index(uid)
            return 200, {
                "numberOfDocuments": len(index.documents),
                "isIndexing": bool(self._pending),
                "fieldDistribution": {},
            }
        if rest == ["search"] and method == "POST":
            self.searches.append(body)
            return 200, self._search(self._index(uid), body)
        raise ApiError(404, "not_found", "Not found")

    def _index(self, uid: str) -> FakeIndex:
        if uid not in self.indexes:
            raise ApiError(404, "index_not_found", f"Index `{uid}` not found.")
        return self.indexes[uid]

    def _create_index(self, body: dict[str, Any]) -> tuple[int, Any]:
        uid, primary_key = body["uid"], body.get("primaryKey")

        def create() -> dict[str, Any]:
            if uid in self.indexes:
                raise ApiError(400, "index_already_exists", f"Index `{uid}` already exists.")
            self.indexes[uid] = FakeIndex(uid, primary_key)
            return {"primaryKey": primary_key}

        return self._enqueue(uid, "indexCreation", create)

    def _update_settings(self, uid: str, body: dict[str, Any]) -> tuple[int, Any]:
        unknown = set(body) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ApiError(400, "bad_request", f"Unknown field `{sorted(unknown)[0]}`")
        self.settings_updates.append(body)

        def apply() -> dict[str, Any]:
            index = self.indexes.setdefault(uid, FakeIndex(uid))
            for key, value in body.items():
                if isinstance(value, dict) and key not in ("synonyms",):
                    index.settings[key] = {**index.settings[key], **value}
                else:
                    index.settings[key] = value
            return body

        return self._enqueue(uid, "settingsUpdate", apply)

    def _add_documents(self, uid: str, documents: list[dict[str, Any]], primary_key: str | None) -> tuple[int, Any]:
        self.document_batches.append(documents)

        def apply() -> dict[str, Any]:
            index = self.indexes.setdefault(uid, FakeIndex(uid, primary_key))
            index.primary_key = index.primary_key or primary_key
            for document in documents:
                index.documents[str(document[index.primary_key])] = document  # POST replaces whole documents
            return {"receivedDocuments": len(documents), "indexedDocuments": len(documents)}

        return self._enqueue(uid, "documentAdditionOrUpdate", apply)

    def _delete_all(self, uid: str) -> dict[str, Any]:
        index = self._index(uid)
        deleted = len(index.documents)
        index.documents.clear()
        return {"deletedDocuments": deleted}

    def _delete_by_filter(self, uid: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.deletion_filters.append(body.get("filter"))

        def apply() -> dict[str, Any]:
            index = self._index(uid)
            keep = _filter_predicate(body.get("filter"), index.settings["filterableAttributes"])
            doomed = [key for key, document in index.documents.items() if keep(document)]
            for key in doomed:
                del index.documents[key]
            return {"originalFilter": json.dumps(body.get("filter")), "deletedDocuments": len(doomed)}

        return self._enqueue(uid, "documentDeletion", apply)

    def _fetch(self, index: FakeIndex, body: dict[str, Any]) -> tuple[int, Any]:
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 20))
        documents = list(index.documents.values())
        fields = body.get("fields")
        results = [
            {k: v for k, v in document.items() if not fields or k in fields} for document in documents[offset:][:limit]
        ]
        return 200, {"results": results, "offset": offset, "limit": limit, "total": len(documents)}

    # --- search ------------------------------------------------------------------------------

    def _search(self, index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
        settings = index.settings
        filterable = settings["filterableAttributes"]
        wanted = _filter_predicate(body.get("filter"), filterable)
        facets = body.get("facets") or []
        for name in facets:
            if name not in filterable:
                raise ApiError(400, "invalid_search_facets", f"Attribute `{name}` is not filterable.")
        sort = [_parse_sort(s, settings["sortableAttributes"]) for s in body.get("sort") or []]
        text = body.get("q") or ""
        terms = _terms(text, settings)
        scored = []
        for position, document in enumerate(index.documents.values()):
            if not wanted(document):
                continue
            match = _match(document, terms, _searchable(index, document))
            if match is not None:
                scored.append((_rank_key(settings["rankingRules"], match, sort, document), position, document))
        scored.sort(key=lambda item: (item[0], item[1]))
        matched = [document for _key, _position, document in scored]
        hits_per_page, page = int(body.get("hitsPerPage", 20)), int(body.get("page", 1))
        chosen = matched[(page - 1) * hits_per_page : page * hits_per_page]
        answer: dict[str, Any] = {
            "hits": [self._hit(document, body, terms, index) for document in chosen],
            "query": text,
            "processingTimeMs": 0,
            "hitsPerPage": hits_per_page,
            "page": page,
            "totalPages": -(-len(matched) // hits_per_page),
            "totalHits": len(matched),
        }
        if facets:
            answer["facetDistribution"] = {name: _distribution(matched, name) for name in facets}
        return answer

    def _hit(self, document: dict[str, Any], body: dict[str, Any], terms: list[_Term], index: FakeIndex) -> dict:
        retrieve = body.get("attributesToRetrieve") or ["*"]
        hit = {k: v for k, v in document.items() if "*" in retrieve or k in retrieve}
        pre, post = body.get("highlightPreTag", "<em>"), body.get("highlightPostTag", "</em>")
        crop_length = int(body.get("cropLength", 10))
        to_crop = set(body.get("attributesToCrop") or [])
        formatted = {k: v for k, v in hit.items()}
        for name in {*(body.get("attributesToHighlight") or []), *to_crop}:
            value = document.get(name)
            if isinstance(value, str):
                formatted[name] = _format(value, terms, pre, post, crop_length if name in to_crop else None)
        if body.get("attributesToHighlight") or to_crop:
            hit["_formatted"] = formatted
        if body.get("showRankingScore"):
            hit["_rankingScore"] = 1.0
        return hit


# --- matching, ranking, filters ---------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def _distance(a: str, b: str, prefix: bool) -> int:
    """Damerau (optimal string alignment) distance; with ``prefix``, to the closest prefix of ``b``."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return min(rows[-1]) if prefix else rows[-1][-1]


@dataclass
class _Term:
    words: list[str]  # the query word and its synonyms
    typos: int
    prefix: bool

    def match(self, word: str) -> tuple[int, bool] | None:
        """(typos used, exact word) when ``word`` matches this term, else None."""
        if word in self.words:
            return 0, True
        original = self.words[0]
        if self.prefix and word.startswith(original):
            return 0, False
        typos = _typos(original, word, self.prefix) if self.typos and word else None
        return (typos, False) if typos is not None and typos <= self.typos else None


def _typos(query: str, word: str, prefix: bool) -> int | None:
    """Typos as Meilisearch counts them: one per edit, but an edit at the first letter costs two."""
    if word[0] == query[0]:
        return _distance(query[1:], word[1:], prefix)
    fits = str.startswith if prefix else str.__eq__
    one_edit_at_first_letter = (
        fits(word, query[1:])  # first letter dropped
        or fits(word[1:], query[1:])  # first letter replaced
        or fits(word[1:], query)  # a letter added in front
        or fits(word, query[1:2] + query[:1] + query[2:])  # first two letters swapped
    )
    return 2 if one_edit_at_first_letter else None


def _terms(text: str, settings: dict[str, Any]) -> list[_Term]:
    sizes = settings["typoTolerance"]["minWordSizeForTypos"]
    words = _words(text)
    synonyms = {_fold(k): [_fold(s) for s in v] for k, v in settings["synonyms"].items()}
    prefix_last = bool(text) and not text[-1].isspace()
    return [
        _Term(
            words=[word, *synonyms.get(word, [])],
            typos=2 if len(word) >= sizes["twoTypos"] else 1 if len(word) >= sizes["oneTypo"] else 0,
            prefix=prefix_last and i == len(words) - 1,
        )
        for i, word in enumerate(words)
    ]


def _searchable(index: FakeIndex, document: dict[str, Any]) -> list[str]:
    attributes = index.settings["searchableAttributes"]
    return [k for k in document if isinstance(document[k], str | list)] if attributes == ["*"] else attributes


def _match(document: dict[str, Any], terms: list[_Term], attributes: list[str]) -> tuple[int, int, int] | None:
    """(typos, attribute rank, inexact words) summed over the terms, or None if a term has no match."""
    typos = rank = inexact = 0
    for term in terms:
        best = None
        for attribute_rank, name in enumerate(attributes):
            value = document.get(name)
            for text in value if isinstance(value, list) else [value]:
                for word in _words(text) if isinstance(text, str) else []:
                    found = term.match(word)
                    if found is not None:
                        candidate = (found[0], attribute_rank, 0 if found[1] else 1)
                        best = candidate if best is None else min(best, candidate)
        if best is None:
            return None
        typos, rank, inexact = typos + best[0], rank + best[1], inexact + best[2]
    return typos, rank, inexact


def _rank_key(rules: list[str], match: tuple[int, int, int], sort: list[tuple[str, bool]], document: dict) -> tuple:
    parts: list[Any] = []
    for rule in rules:
        if rule == "typo":
            parts.append(match[0])
        elif rule == "attribute":
            parts.append(match[1])
        elif rule == "exactness":
            parts.append(match[2])
        elif rule == "sort":
            parts.extend(-document[name] if descending else document[name] for name, descending in sort)
    return tuple(parts)


def _parse_sort(expression: str, sortable: list[str]) -> tuple[str, bool]:
    name, _, direction = expression.partition(":")
    if name not in sortable:
        raise ApiError(400, "invalid_search_sort", f"Attribute `{name}` is not sortable.")
    return name, direction == "desc"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _fold(str(value))


_CONDITION = re.compile(r"^\s*(\w+)\s*(IN|!=|>=|<=|=|>|<)\s*(.+?)\s*$")
_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,\s\[\]]+)')


def _values(text: str) -> list[str]:
    return [_fold(re.sub(r"\\(.)", r"\1", quoted)) if quoted else _fold(bare) for quoted, bare in _VALUE.findall(text)]


def _condition(expression: str, filterable: list[str]) -> Callable[[dict[str, Any]], bool]:
    found = _CONDITION.match(expression)
    if found is None:
        raise ApiError(400, "invalid_search_filter", f"Was expecting a filter expression, got `{expression}`.")
    name, operator, raw = found.groups()
    if name not in filterable:
        raise ApiError(400, "invalid_search_filter", f"Attribute `{name}` is not filterable.")
    wanted = _values(raw)

    def test(document: dict[str, Any]) -> bool:
        value = document.get(name)
        present = [_as_text(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
        if operator == "IN":
            return any(v in wanted for v in present)
        if operator == "=":
            return wanted[0] in present
        if operator == "!=":
            return wanted[0] not in present
        number = float(wanted[0])
        compare = {">=": float.__ge__, "<=": float.__le__, ">": float.__gt__, "<": float.__lt__}[operator]
        return any(compare(float(v), number) for v in present)

    return test


def _filter_predicate(expression: Any, filterable: list[str]) -> Callable[[dict[str, Any]], bool]:
    """Meilisearch's filter forms: a string, an array (AND) of strings or arrays (OR)."""
    if not expression:
        return lambda _document: True
    if isinstance(expression, str):
        return _condition(expression, filterable)
    parts = [
        _any_of([_condition(e, filterable) for e in part]) if isinstance(part, list) else _condition(part, filterable)
        for part in expression
    ]
    return lambda document: all(part(document) for part in parts)


def _any_of(conditions: list[Callable[[dict[str, Any]], bool]]) -> Callable[[dict[str, Any]], bool]:
    return lambda document: any(condition(document) for condition in conditions)


def _distribution(documents: list[dict[str, Any]], name: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for document in documents:
        value = document.get(name)
        for item in set(value if isinstance(value, list) else [value]) - {None}:
            key = _as_text(item) if isinstance(item, bool) else str(item)
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _format(text: str, terms: list[_Term], pre: str, post: str, crop: int | None) -> str:
    pieces = _WORD.split(text)
    marked = {i for i in range(1, len(pieces), 2) if any(t.match(_fold(pieces[i])) for t in terms)}
    start, end = 0, len(pieces)
    if crop is not None and len(pieces) // 2 > crop:
        first = min(marked) if marked else 1
        start = max(1, first - 2 * (crop // 4))
        end = min(len(pieces) - 1, start + 2 * crop - 1)
        start = max(1, end - 2 * crop + 1)
    body = "".join(f"{pre}{pieces[i]}{post}" if i in marked else pieces[i] for i in range(start, end))
    if start > 0 or end < len(pieces):
        body = f"{'…' if start > 1 else ''}{body.strip()}{'…' if end < len(pieces) - 1 else ''}"
    return body


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the HTTP server ---------------------------------------------------------------------------


class _Handler(FakeApiHandler):
    invalid_json = (400, ApiError(400, "malformed_payload", "The JSON payload is invalid.").body())


@contextmanager
def running_fake_meilisearch() -> Iterator[FakeMeilisearch]:
    """A fake Meilisearch on a free local port, with its task processor, for the ``with`` block."""
    fake = FakeMeilisearch()
    server = LocalServer(_Handler, fake)
    fake.url = server.url
    tasks = threading.Thread(target=fake.process_tasks_forever, name="fake-meili-tasks", daemon=True)
    tasks.start()
    try:
        with serving(server, "fake-meili-http"):
            yield fake
    finally:
        fake.stop()
        tasks.join(timeout=5)
