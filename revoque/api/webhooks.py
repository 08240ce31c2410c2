"""``POST /api/webhooks/paystack``: the payment gateway's event deliveries.

The route only reads the raw body (the signature covers those exact bytes) and hands it to
``revoque.services.payments.record_webhook`` in a worker thread, which checks, stores and queues the
event; the answer goes back fast so the gateway never times out and re-sends. Any status other than
200 makes Paystack retry, which is what a database outage (500) should do.
"""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from revoque.services.payments import record_webhook

MAX_BODY_BYTES = 1_000_000  # Paystack events are a few kilobytes


async def paystack_webhook(request: Request) -> JSONResponse:
    body = await _read_body(request, MAX_BODY_BYTES)
    if body is None:
        return JSONResponse({"message": "The event is too large."}, status_code=413)
    status, message = await anyio.to_thread.run_sync(record_webhook, body, request.headers)
    return JSONResponse({"message": message}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it grows past ``limit`` (never buffering more than that)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
