"""Build files under /assets/ are cached for good; pages and API answers keep their own headers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from revoque.api.caching import IMMUTABLE, ImmutableBuildAssets


def _app() -> ImmutableBuildAssets:
    async def asset(_request) -> Response:
        return PlainTextResponse("console.log(1)", headers={"Cache-Control": "no-cache"})

    async def not_modified(_request) -> Response:
        return Response(status_code=304)

    async def page(_request) -> Response:
        return PlainTextResponse("<html>", headers={"Cache-Control": "no-cache"})

    async def missing(_request) -> Response:
        return PlainTextResponse("gone", status_code=404)

    routes = [
        Route("/assets/entry.client-CCWdYbG9.js", asset),
        Route("/assets/root-C7aC0mZa.js", not_modified),
        Route("/assets/missing-1234.js", missing),
        Route("/product/linen-shirt", page),
    ]
    return ImmutableBuildAssets(Starlette(routes=routes))


def test_build_assets_are_immutable() -> None:
    client = TestClient(_app())
    assert client.get("/assets/entry.client-CCWdYbG9.js").headers["cache-control"] == IMMUTABLE
    assert client.get("/assets/root-C7aC0mZa.js").headers["cache-control"] == IMMUTABLE


def test_pages_and_missing_assets_keep_their_headers() -> None:
    client = TestClient(_app())
    assert client.get("/product/linen-shirt").headers["cache-control"] == "no-cache"
    missing = client.get("/assets/missing-1234.js")
    assert missing.status_code == 404 and "cache-control" not in missing.headers
