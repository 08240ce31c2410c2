"""The security headers middleware: every response gets the base headers, HTML pages a policy that
lists exactly their own inline scripts' hashes (also when the page is served gzip-compressed),
other responses a locked policy, and 304s no policy at all (the cached page keeps its own)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from revoque.api.security import BASE_HEADERS, LOCKED_CSP, SecurityHeaders, inline_script_hashes, page_policy
from tests.conftest import use_settings

THEME = b"document.documentElement.classList.add('light');"
CONTEXT = b'window.__ctx = {"a": "</scr" + "ipt>"};'
PAGE = (
    b"<!DOCTYPE html><html><head><script>" + THEME + b"</script>"
    b'<script type="module" src="/assets/entry.js"></script>'
    b'</head><body><div id="root"></div><SCRIPT type="module" async="">' + CONTEXT + b"</SCRIPT></body></html>"
)


def sha(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


async def page(request: Request) -> Response:
    if request.headers.get("if-none-match") == '"v1"':
        return Response(status_code=304, headers={"etag": '"v1"'})
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(gzip.compress(PAGE), media_type="text/html", headers={"content-encoding": "gzip"})
    return Response(PAGE, media_type="text/html")


async def chunked_page(request: Request) -> StreamingResponse:
    async def parts():
        for start in range(0, len(PAGE), 7):
            yield PAGE[start : start + 7]

    return StreamingResponse(parts(), media_type="text/html; charset=utf-8")


async def api(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def pdf(request: Request) -> Response:
    return Response(b"%PDF-1.7", media_type="application/pdf")


async def brotli_page(request: Request) -> Response:
    return Response(b"\x8b\x03\x80not really brotli", media_type="text/html", headers={"content-encoding": "br"})


def app() -> SecurityHeaders:
    routes = [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/chunked", chunked_page),
        Route("/api", api),
        Route("/invoice.pdf", pdf),
        Route("/br", brotli_page),
    ]
    return SecurityHeaders(Starlette(routes=routes))


@pytest.fixture
def client(monkeypatch) -> TestClient:
    use_settings(monkeypatch, supabase_url="")
    return TestClient(app(), base_url="http://shop.test:8080")


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def assert_base_headers(response) -> None:
    for name, value in BASE_HEADERS.items():
        assert response.headers[name] == value, name
    assert "strict-transport-security" not in response.headers  # plain http


def test_inline_scripts_are_hashed_and_scripts_with_src_are_not():
    assert inline_script_hashes(PAGE) == [sha(THEME), sha(CONTEXT)]
    assert inline_script_hashes(b"<p>no scripts</p>") == []


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_page_lists_exactly_its_own_inline_scripts(client, encoding):
    response = client.get("/", headers={"accept-encoding": encoding})
    assert response.status_code == 200 and response.content == PAGE  # the body is passed on untouched
    assert_base_headers(response)
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", "'unsafe-eval'", sha(THEME), sha(CONTEXT)]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'", "ws://shop.test:8080", "wss://shop.test:8080"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]


def test_a_page_streamed_in_pieces_is_hashed_whole(client):
    response = client.get("/chunked")
    assert response.content == PAGE
    assert directives(response.headers["content-security-policy"])["script-src"][2:] == [sha(THEME), sha(CONTEXT)]


def test_a_not_modified_answer_keeps_the_cached_pages_policy(client):
    response = client.get("/", headers={"if-none-match": '"v1"'})
    assert response.status_code == 304
    assert_base_headers(response)
    assert "content-security-policy" not in response.headers


def test_a_head_request_gets_a_page_policy_without_hashes(client):
    response = client.head("/")
    assert_base_headers(response)
    assert directives(response.headers["content-security-policy"])["script-src"] == ["'self'", "'unsafe-eval'"]


def test_an_unreadable_encoding_gets_no_hashes_rather_than_a_wrong_policy(client):
    response = client.get("/br")
    assert directives(response.headers["content-security-policy"])["script-src"] == ["'self'", "'unsafe-eval'"]


def test_other_responses_get_the_locked_policy_and_pdfs_none(client):
    api_response = client.get("/api")
    assert api_response.json() == {"ok": True}
    assert_base_headers(api_response)
    assert api_response.headers["content-security-policy"] == LOCKED_CSP
    invoice = client.get("/invoice.pdf")
    assert_base_headers(invoice)
    assert "content-security-policy" not in invoice.headers
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert_base_headers(missing)


def test_https_requests_get_hsts(monkeypatch):
    use_settings(monkeypatch, supabase_url="")
    direct = TestClient(app(), base_url="https://shop.test").get("/api")
    proxied = TestClient(app()).get("/api", headers={"x-forwarded-proto": "https"})
    for response in (direct, proxied):
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_supabase_images_are_allowed_when_images_live_there(monkeypatch):
    use_settings(monkeypatch, supabase_url="https://abcd.supabase.co/")
    assert "https://abcd.supabase.co" in directives(page_policy([], "shop.test"))["img-src"]


def test_a_forged_host_header_cannot_inject_sources(client):
    response = client.get("/", headers={"host": "evil.test; script-src *"})
    assert directives(response.headers["content-security-policy"])["connect-src"] == ["'self'"]


def test_a_page_the_server_sends_as_a_file_is_hashed_from_the_file(tmp_path, monkeypatch):
    """Granian serves files with the ``http.response.pathsend`` extension: no body passes through."""
    use_settings(monkeypatch, supabase_url="")
    page_file = tmp_path / "index.html.gz"
    page_file.write_bytes(gzip.compress(PAGE))

    async def file_app(scope, receive, send):
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": str(page_file)})

    sent: list[dict] = []

    async def collect(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"shop.test")]}
    asyncio.run(SecurityHeaders(file_app)(scope, None, collect))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    assert directives(headers["content-security-policy"])["script-src"][2:] == [sha(THEME), sha(CONTEXT)]
    assert headers["x-frame-options"] == "DENY"
