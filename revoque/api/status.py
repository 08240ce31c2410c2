"""Real HTTP status codes for the single-page storefront.

Reflex answers every known route with 200 and lets the page decide what to show. Crawlers and link
checkers need a real 404 for a product, category or collection that does not exist, so this ASGI
middleware checks the slug and rewrites the status of the same page (which still renders its
"not found" view in the browser).
"""

from __future__ import annotations

import logging
import re

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revoque.db import session_scope
from revoque.services.catalog import slug_exists

log = logging.getLogger(__name__)
_CATALOG_PAGE = re.compile(r"^/(product|category|collection)/([^/]+)/?$")


def _missing(kind: str, slug: str) -> bool:
    try:
        with session_scope() as session:
            return not slug_exists(session, kind, slug)
    except Exception:  # a database hiccup must not turn a page view into an error page
        log.warning("could not check /%s/%s; answering 200", kind, slug, exc_info=True)
        return False


class CatalogNotFoundStatus:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CATALOG_PAGE.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if not await anyio.to_thread.run_sync(_missing, match.group(1), match.group(2)):
            await self.app(scope, receive, send)
            return

        async def send_404(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "status": 404}
            await send(message)

        await self.app(scope, receive, send_404)
