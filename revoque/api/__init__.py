"""Non-UI HTTP routes, mounted in front of Reflex's backend via ``rx.App(api_transformer=build_api())``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from revoque.adapters.storage import LocalStorage, get_storage
from revoque.api.files import private_file
from revoque.api.health import health
from revoque.api.webhooks import paystack_webhook
from revoque.errors import ValidationError

MEDIA_CACHE_CONTROL = "public, max-age=86400"


async def media(request: Request) -> Response:
    """Public files (product and category images) of the local file store; other storage backends
    serve their own public URLs, so this route only answers for LocalStorage."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        return _not_found()
    try:
        path = storage.path_for(request.path_params["key"])
    except ValidationError:
        return _not_found()
    if not path.is_file():
        return _not_found()
    return FileResponse(path, headers={"Cache-Control": MEDIA_CACHE_CONTROL})


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404)


def build_api() -> Starlette:
    return Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/api/webhooks/paystack", paystack_webhook, methods=["POST"]),
            Route("/media/{key:path}", media, methods=["GET", "HEAD"]),
            Route("/files/{bucket}/{key:path}", private_file, methods=["GET", "HEAD"]),
        ]
    )
