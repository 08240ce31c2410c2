"""Security headers on every HTTP response the backend sends (pages, build files, API, media).

Every response gets ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, a
``Referrer-Policy`` and a ``Permissions-Policy`` that switches off device APIs the store never uses
(and ``Strict-Transport-Security`` when the request came over HTTPS). HTML pages also get a
Content-Security-Policy; other responses get a locked one (no scripts, no framing), so a file opened
straight from ``/media/`` or ``/files/`` can never run script in the store's origin (PDFs are left
alone: Chromium's PDF viewer does not work under a sandboxing policy).

What the Reflex production build needs from a CSP, and why the page policy is what it is:

- ``script-src``: the prerendered pages carry a handful of **inline scripts** (the theme switch,
  React Router's context and stream, the module that imports the page's entry). They are static per
  build, so instead of ``'unsafe-inline'`` each HTML response's own inline scripts are hashed here
  and listed as ``'sha256-…'`` sources: an injected ``<script>`` or ``onclick=`` still cannot run.
- ``script-src 'unsafe-eval'`` cannot be avoided: every client-side action a backend event returns
  (``rx.toast``, ``rx.call_script``, ``rx.call_function``) reaches the browser as JavaScript *source*
  over the websocket and Reflex's ``state.js`` runs it with ``eval``. Without it no toast would show.
- ``style-src 'unsafe-inline'``: Emotion inserts ``<style>`` elements at run time and Radix sets
  ``style`` attributes; neither carries a nonce.
- ``connect-src``: the event websocket (``ws(s)://`` the same host) besides ``'self'``.
- ``img-src``: this site, ``data:``/``blob:`` (previews of chosen files) and the Supabase project
  when product images live there.

A 304 answer keeps the browser's cached page, so it must not replace that page's policy with one
whose hashes were computed from no body: conditional answers get every header but the CSP.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import zlib
from urllib.parse import urlsplit

import anyio
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revoque.settings import get_settings

log = logging.getLogger(__name__)

BASE_HEADERS: dict[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
    ),
}
HSTS = "max-age=31536000; includeSubDomains"
# Non-HTML responses: nothing may run or be framed (an SVG or HTML file opened from /media/ stays inert).
LOCKED_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
MAX_HTML_BYTES = 5_000_000  # prerendered pages are ~20 KB; anything far larger is passed through unhashed
_INLINE_SCRIPT = re.compile(rb"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP hash sources (``'sha256-…'``) for every inline ``<script>`` of a page, in page order."""
    seen: dict[str, None] = {}
    for match in _INLINE_SCRIPT.finditer(html):
        digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()
        seen[f"'sha256-{digest}'"] = None
    return list(seen)


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def page_policy(script_hashes: list[str], host: str) -> str:
    """The Content-Security-Policy of an HTML page served from ``host`` (see the module docstring)."""
    images = ["'self'", "data:", "blob:"]
    if supabase := _origin(get_settings().supabase_url):
        images.append(supabase)
    sockets = [f"ws://{host}", f"wss://{host}"] if host else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *sockets],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _decoded(body: bytes, encoding: str) -> bytes | None:
    """The page's bytes before ``Content-Encoding``; None for an encoding this cannot read."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return body
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, wbits=zlib.MAX_WBITS | 16)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return None
    return None


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"host":
            host = value.decode("latin-1").strip()
            return host if re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host) else ""
    return ""


def _is_https(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    return any(name == b"x-forwarded-proto" and value.strip() == b"https" for name, value in scope.get("headers") or [])


class SecurityHeaders:
    """ASGI middleware adding the headers above; websockets and lifespan pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https, host = _is_https(scope), _host(scope)
        start: Message | None = None
        chunks: list[bytes] = []

        def add_headers(message: Message, csp: str | None) -> None:
            headers = MutableHeaders(scope=message)
            for name, value in BASE_HEADERS.items():
                headers.setdefault(name, value)
            if https:
                headers.setdefault("Strict-Transport-Security", HSTS)
            if csp is not None:
                headers.setdefault("Content-Security-Policy", csp)

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                content_type = headers.get("content-type", "").lower()
                if message["status"] == 304 or content_type.startswith("application/pdf"):
                    add_headers(message, None)
                elif content_type.startswith("text/html") and scope.get("method") != "HEAD":
                    start = message  # held back until the body is known: its scripts are hashed
                    return
                else:
                    add_headers(message, page_policy([], host) if content_type.startswith("text/html") else LOCKED_CSP)
                await send(message)
                return
            if start is None:
                await send(message)
                return
            if message["type"] == "http.response.pathsend":  # a file sent by the server (Granian)
                body = await anyio.Path(message["path"]).read_bytes()
                add_headers(start, _page_policy_for(start, body, True, host))
                await send(start)
                await send(message)
                start = None
                return
            chunks.append(message.get("body", b""))
            more_body = message.get("more_body", False)
            if more_body and sum(map(len, chunks)) <= MAX_HTML_BYTES:
                return
            body = b"".join(chunks)
            add_headers(start, _page_policy_for(start, body, not more_body, host))
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": more_body})
            start = None
            chunks.clear()

        await self.app(scope, receive, send_with_headers)
        if start is not None:  # the app ended without finishing its body: send what there is
            add_headers(start, _page_policy_for(start, b"".join(chunks), False, host))
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})


def _page_policy_for(start: Message, body: bytes, complete: bool, host: str) -> str:
    """The policy of a held-back HTML response: it lists the hashes of the page's own inline scripts."""
    encoding = MutableHeaders(scope=start).get("content-encoding", "")
    page = _decoded(body, encoding) if complete else None
    if page is None:  # too large or unreadable: no hashes, so its inline scripts will not run
        log.warning("Page served without inline script hashes (encoding %r, %d bytes)", encoding, len(body))
    return page_policy(inline_script_hashes(page or b""), host)
