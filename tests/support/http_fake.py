"""What every local stand-in for a vendor API shares: a threaded server on a free loopback port,
a quiet handler that speaks JSON, and a ``with`` block that runs and stops the server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalServer(ThreadingHTTPServer):
    """Bound to 127.0.0.1 on a free port; ``fake`` is the vendor's in-memory state."""

    daemon_threads = True
    request_queue_size = 256  # tests fire many requests at once

    def __init__(self, handler: type[BaseHTTPRequestHandler], fake: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.fake = fake

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class QuietHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any) -> None:
        encoded = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)


class FakeApiHandler(QuietHandler):
    """For fakes whose state answers ``handle(method, path, authorization, body) -> (status, json)``."""

    invalid_json: tuple[int, Any] = (400, {"message": "Invalid JSON"})
    empty_body: Any = None

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def do_PUT(self) -> None:
        self.answer()

    def do_PATCH(self) -> None:
        self.answer()

    def do_DELETE(self) -> None:
        self.answer()

    def answer(self) -> None:
        raw = self.read_body()
        try:
            body = json.loads(raw) if raw else self.empty_body
        except ValueError:
            self.send_json(*self.invalid_json)
            return
        self.send_json(*self.server.fake.handle(self.command, self.path, self.headers.get("Authorization", ""), body))


@contextmanager
def serving(server: LocalServer, name: str) -> Iterator[LocalServer]:
    """Serve in a background thread for the ``with`` block, then shut down and free the port."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
