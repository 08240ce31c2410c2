"""A small stand-in for the Gemini API, so the real ``google-genai`` client runs in tests.

It speaks the documented endpoints ``POST /v1beta/models/{model}:generateContent`` (one JSON answer)
and ``POST /v1beta/models/{model}:streamGenerateContent?alt=sse`` (server-sent events, one
``GenerateContentResponse`` per ``data:`` line), checks the ``x-goog-api-key`` header, and answers
errors in Google's shape (``{"error": {"code", "message", "status"}}``).

Tests script the answers: ``say(*pieces)`` (text, streamed as several events), ``call(name, args)``
(a function call), ``fail(429 | 503 …)`` and ``stall(seconds)`` (to hit the client's timeout). Each
request takes the next scripted answer; with none left the fake says so in plain text. Every request
is recorded (``requests``) so tests can read the system instruction, the contents and the tools the
client sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.http_fake import LocalServer, QuietHandler, serving

API_KEY = "fake-gemini-key"
_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}
UNSCRIPTED = "The fake Gemini has no scripted answer."


@dataclass
class GeminiRequest:
    model: str
    stream: bool
    body: dict[str, Any]

    @property
    def system(self) -> str:
        parts = (self.body.get("systemInstruction") or {}).get("parts") or []
        return "".join(part.get("text", "") for part in parts)

    @property
    def contents(self) -> list[dict[str, Any]]:
        return self.body.get("contents") or []

    @property
    def tool_names(self) -> list[str]:
        return [
            declaration["name"]
            for tool in self.body.get("tools") or []
            for declaration in tool.get("functionDeclarations") or []
        ]

    def text(self) -> str:
        """Every text part of the contents, joined: what the model was shown besides the system."""
        return "\n".join(part["text"] for content in self.contents for part in content["parts"] if "text" in part)


@dataclass
class Scripted:
    parts: list[dict[str, Any]] = field(default_factory=list)  # each streamed as its own event
    status: int = 200
    delay: float = 0.0


@dataclass
class FakeGemini:
    url: str = ""
    api_key: str = API_KEY
    script: list[Scripted] = field(default_factory=list)
    requests: list[GeminiRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test controls -----------------------------------------------------------------------

    def say(self, *pieces: str) -> None:
        """Answer the next request with text, streamed as one event per piece."""
        self.script.append(Scripted([{"text": piece} for piece in pieces]))

    def call(self, name: str, **args: Any) -> None:
        """Answer the next request with a function call."""
        self.script.append(Scripted([{"functionCall": {"name": name, "args": args}}]))

    def fail(self, status: int) -> None:
        """Answer the next request with an HTTP error (429 rate limit, 503 overloaded…)."""
        self.script.append(Scripted(status=status))

    def stall(self, seconds: float, text: str = "Too late.") -> None:
        """Wait before answering the next request, to run into the client's timeout."""
        self.script.append(Scripted([{"text": text}], delay=seconds))

    # --- serving -----------------------------------------------------------------------------

    def next_answer(self, request: GeminiRequest) -> Scripted:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else Scripted([{"text": UNSCRIPTED}])


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "INTERNAL")}}


def response_body(parts: list[dict[str, Any]], last: bool = True) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if last:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "fake-gemini",
    }


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        fake: FakeGemini = self.server.fake
        url = urlsplit(self.path)
        match = _PATH.match(url.path)
        raw = self.read_body()
        if match is None:
            self.send_json(404, error_body(404, f"Unknown path {url.path}"))
            return
        if self.headers.get("x-goog-api-key") != fake.api_key:
            self.send_json(400, error_body(400, "API key not valid. Please pass a valid API key."))
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, error_body(400, "Invalid JSON payload received."))
            return
        stream = match["method"] == "streamGenerateContent"
        answer = fake.next_answer(GeminiRequest(match["model"], stream, body))
        if answer.delay:
            time.sleep(answer.delay)
        if answer.status != 200:
            self.send_json(answer.status, error_body(answer.status, "Scripted failure"))
        elif stream and parse_qs(url.query).get("alt") == ["sse"]:
            self._send_events(answer.parts)
        else:
            self.send_json(200, response_body(answer.parts))

    def _send_events(self, parts: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for position, part in enumerate(parts):
            event = response_body([part], last=position == len(parts) - 1)
            self.wfile.write(f"data: {json.dumps(event)}\r\n\r\n".encode())
            self.wfile.flush()


@contextmanager
def running_fake_gemini() -> Iterator[FakeGemini]:
    """A fake Gemini on a free local port, for the duration of the ``with`` block."""
    fake = FakeGemini()
    server = LocalServer(_Handler, fake)
    fake.url = server.url
    with serving(server, "fake-gemini"):
        yield fake
