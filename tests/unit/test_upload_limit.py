"""Upload requests above the ceiling are refused with 413 before the app reads them whole, whether
they declare their length or stream without one; smaller uploads and other routes pass untouched."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revoque.api.limits import UploadSizeLimit

LIMIT = 1000


async def _count(request: Request) -> Response:
    try:
        size = sum([len(chunk) async for chunk in request.stream()])
    except ClientDisconnect:
        return Response(status_code=499)
    return JSONResponse({"received": size})


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/_upload", _count, methods=["POST"]), Route("/other", _count, methods=["POST"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=UploadSizeLimit(app, limit=LIMIT)), base_url="http://t")


def _post(path: str, content) -> httpx.Response:
    async def go() -> httpx.Response:
        async with _client() as client:
            return await client.post(path, content=content)

    return asyncio.run(go())


async def _chunks(count: int, size: int):
    for _ in range(count):
        yield b"x" * size


def test_an_upload_within_the_limit_reaches_the_app():
    response = _post("/_upload", b"x" * LIMIT)
    assert (response.status_code, response.json()) == (200, {"received": LIMIT})


def test_a_declared_oversize_upload_is_refused_at_once():
    response = _post("/_upload", b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert "Uploads can be up to" in response.json()["detail"]


def test_a_streamed_upload_is_cut_off_once_it_passes_the_limit():
    response = _post("/_upload", _chunks(5, 300))  # no Content-Length: chunked
    assert response.status_code == 413


def test_other_routes_are_not_limited():
    assert _post("/other", b"x" * (LIMIT * 3)).json() == {"received": LIMIT * 3}
