"""``GET /files/<bucket>/<key>``: private files (invoices, exports) of the local file store.

A file is served only to a link signed by ``LocalStorage.signed_url`` that has not expired; anything
else gets 403 before the file system is even looked at, so a guess cannot tell which files exist.
Responses are never cached (the link is someone's private document). Supabase serves its own signed
links, so with Supabase configured this route answers 404.
"""

from __future__ import annotations

import mimetypes
import re

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from revoque.adapters.storage import PRIVATE_BUCKETS, LocalStorage, get_storage, verify_signed_request

PRIVATE_FILE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FILENAME_LENGTH = 100


async def private_file(request: Request) -> Response:
    """The file, with ``?download=name.pdf`` turned into an attachment saved under that name."""
    storage = get_storage()
    bucket, key = request.path_params["bucket"], request.path_params["key"]
    if not isinstance(storage, LocalStorage) or bucket not in PRIVATE_BUCKETS:
        return PlainTextResponse("Not found", status_code=404)
    query = request.query_params
    if not verify_signed_request(bucket, key, query.get("expires", ""), query.get("sig", "")):
        return PlainTextResponse("This link is invalid or has expired", status_code=403, headers=PRIVATE_FILE_HEADERS)
    path = storage.path_for(key, bucket)
    if not path.is_file():
        return PlainTextResponse("Not found", status_code=404, headers=PRIVATE_FILE_HEADERS)
    return FileResponse(
        path,
        media_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
        headers=PRIVATE_FILE_HEADERS,
        filename=download_filename(query.get("download", "")),  # None: no Content-Disposition, shown inline
    )


def download_filename(requested: str) -> str | None:
    """A file name safe to put in a header: letters, digits, ``.``, ``_`` and ``-`` only (the name
    is not covered by the signature, so it is treated as untrusted input)."""
    cleaned = _UNSAFE_FILENAME_CHARS.sub("-", requested).strip(".-")[:MAX_FILENAME_LENGTH]
    return cleaned or None
