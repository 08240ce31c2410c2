"""A ceiling on the size of an upload request, checked before anything reads it.

Reflex's ``/_upload`` parses the whole multipart body (spooling files to disk) before the event
handler runs, and only the handler checks who is uploading and how large each file may be. Without
a ceiling anyone holding a page could make the server write gigabytes to its temporary folder. The
largest honest request is a drop of product images (5 MB each) or one spreadsheet (25 MB), so a
request over ``MAX_UPLOAD_BYTES`` is refused with 413: at once when it declares its length, and as
soon as the bytes read pass the ceiling when it streams without one.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
UPLOAD_PATH = "/_upload"
TOO_LARGE = {"detail": f"Uploads can be up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB in one go."}


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send) -> None:
    body = json.dumps(TOO_LARGE).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class UploadSizeLimit:
    """ASGI middleware: POSTs to ``/_upload`` above ``limit`` bytes get 413; all else passes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_UPLOAD_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].endswith(UPLOAD_PATH):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await _refuse(send)
            return
        seen, over, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # the app sees a client that went away and stops reading
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a "disconnect": replaced by the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if over and not started:
            await _refuse(send)
