"""A small Supabase Storage server for tests: the ``/storage/v1`` endpoints the store's
``SupabaseStorage`` uses, answering the way the real service does (JSON errors with a string
``statusCode``, HTTP 400 for a missing object), with objects kept in memory.

Endpoints: upload ``POST /object/{bucket}/{key}`` (``x-upsert``), download ``GET``, object info
``GET /object/info/authenticated/{bucket}/{key}``, ``DELETE /object/{bucket}`` with ``{"prefixes": […]}``, sign
``POST /object/sign/{bucket}/{key}`` and fetch ``GET /object/sign/{bucket}/{key}?token=…``, public
``GET /object/public/{bucket}/{key}``. Every call but the signed and public GETs needs the service key
as both ``Authorization: Bearer`` and ``apikey``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit

from tests.support.http_fake import LocalServer, QuietHandler, serving

PREFIX = "/storage/v1/object"
BUCKETS = {"images": True, "invoices": False, "exports": False}  # name → public
_TOKEN_SECRET = b"fake-supabase-jwt-secret"


@dataclass
class StoredObject:
    data: bytes
    content_type: str


@dataclass
class FakeSupabase:
    url: str
    service_key: str
    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_token(path: str, expires_at: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"url": path, "exp": expires_at}).encode()).decode()
    signature = hmac.new(_TOKEN_SECRET, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def read_token(token: str) -> dict | None:
    payload, _, signature = token.partition(".")
    expected = hmac.new(_TOKEN_SECRET, payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return None
    return json.loads(base64.urlsafe_b64decode(payload))


class _Handler(QuietHandler):
    # --- routing ---

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server.fake
        with state.lock:
            state.requests.append((method, self.path))
        if not parts.path.startswith(PREFIX + "/"):
            return self._error(404, "404", "not_found", "Route not found")
        rest = parts.path[len(PREFIX) + 1 :]
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if method == "GET" and rest.startswith("sign/"):
            return self._signed_download(rest[len("sign/") :], query)
        if method == "GET" and rest.startswith("public/"):
            return self._public_download(rest[len("public/") :])
        if not self._authorised():
            return self._error(400, "403", "Unauthorized", "invalid signature")
        if method == "POST" and rest.startswith("sign/"):
            return self._sign(rest[len("sign/") :], body)
        if method == "POST":
            return self._upload(rest, body)
        if method == "GET" and rest.startswith("info/authenticated/"):
            return self._info(rest[len("info/authenticated/") :])
        if method == "GET":
            return self._download(rest)
        return self._delete(rest, body)

    def _authorised(self) -> bool:
        key = self.server.fake.service_key
        return self.headers.get("Authorization") == f"Bearer {key}" and self.headers.get("apikey") == key

    # --- endpoints ---

    def _upload(self, path: str, body: bytes) -> None:
        bucket, key = _split(path)
        if bucket not in BUCKETS:
            return self._error(400, "404", "Bucket not found", "Bucket not found")
        state = self.server.fake
        with state.lock:
            if (bucket, key) in state.objects and self.headers.get("x-upsert") != "true":
                return self._error(400, "409", "Duplicate", "The resource already exists")
            state.objects[(bucket, key)] = StoredObject(body, self.headers.get("Content-Type", ""))
        self._json(200, {"Key": f"{bucket}/{key}", "Id": "00000000-0000-0000-0000-000000000000"})

    def _download(self, path: str) -> None:
        obj = self._find(path)
        if obj is None:
            return self._not_found()
        self._send(200, obj.data, obj.content_type)

    def _info(self, path: str) -> None:
        obj = self._find(path)
        if obj is None:
            return self._not_found()
        self._json(200, {"name": _split(path)[1], "size": len(obj.data), "content_type": obj.content_type})

    def _delete(self, bucket: str, body: bytes) -> None:
        prefixes = json.loads(body or b"{}").get("prefixes") or []
        deleted = []
        with self.server.fake.lock:
            for key in prefixes:
                if self.server.fake.objects.pop((bucket, key), None) is not None:
                    deleted.append({"name": key, "bucket_id": bucket})
        self._json(200, deleted)

    def _sign(self, path: str, body: bytes) -> None:
        if self._find(path) is None:
            return self._not_found()
        expires_in = int(json.loads(body)["expiresIn"])
        token = sign_token(path, int(time.time()) + expires_in)
        self._json(200, {"signedURL": f"/object/sign/{quote(path)}?token={token}"})

    def _signed_download(self, path: str, query: dict[str, str]) -> None:
        claims = read_token(query.get("token", ""))
        if claims is None or claims["url"] != path:
            return self._error(400, "400", "InvalidJWT", "invalid signature")
        if claims["exp"] < time.time():
            return self._error(400, "400", "InvalidJWT", '"exp" claim timestamp check failed')
        obj = self._find(path)
        if obj is None:
            return self._not_found()
        extra = {}
        if "download" in query:
            extra["Content-Disposition"] = f'attachment; filename="{query["download"]}"'
        self._send(200, obj.data, obj.content_type, extra)

    def _public_download(self, path: str) -> None:
        bucket, _ = _split(path)
        obj = self._find(path) if BUCKETS.get(bucket) else None
        if obj is None:
            return self._not_found()
        self._send(200, obj.data, obj.content_type)

    # --- helpers ---

    def _find(self, path: str) -> StoredObject | None:
        with self.server.fake.lock:
            return self.server.fake.objects.get(_split(path))

    def _not_found(self) -> None:
        self._error(400, "404", "not_found", "Object not found")

    def _error(self, status: int, code: str, error: str, message: str) -> None:
        self._json(status, {"statusCode": code, "error": error, "message": message})

    def _json(self, status: int, body: object) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    return bucket, key


@contextmanager
def fake_supabase(service_key: str = "service-role-key") -> Iterator[FakeSupabase]:
    """A running fake on a free port; yields its state (``url`` is what SUPABASE_URL would be)."""
    server = LocalServer(_Handler, None)
    server.fake = FakeSupabase(url=server.url, service_key=service_key)
    with serving(server, "fake-supabase"):
        yield server.fake
