"""File storage in buckets: public product images, private invoices and exports.

``images`` is public: its files have stable URLs anyone may fetch (``public_url``). ``invoices`` and
``exports`` are private: a file there is reached only through a signed link that expires
(``signed_url``), handed to the one person allowed to see it.

Two implementations sit behind one interface, chosen once by ``get_storage()``:

- ``LocalStorage`` (the embedded default) keeps images under ``DATA_DIR/media`` (served at
  ``/media/<key>``) and private files under ``DATA_DIR/files/<bucket>/<key>``, served at
  ``/files/<bucket>/<key>?expires=…&sig=…`` only while the HMAC signature is valid and unexpired;
- ``SupabaseStorage`` (when ``SUPABASE_URL`` and ``SUPABASE_SERVICE_KEY`` are set) speaks Supabase
  Storage's REST API with the service key. The three buckets must exist there, ``images`` public.

Keys are relative paths of letters, digits, ``.``, ``_`` and ``-`` segments; anything that could
climb out of a folder or smuggle a separator is refused before it reaches a disk or a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx

from revoque.errors import ConfigError, NotFound, RevoqueError, ValidationError
from revoque.settings import get_settings

IMAGES = "images"
INVOICES = "invoices"
EXPORTS = "exports"
PUBLIC_BUCKETS = frozenset({IMAGES})
PRIVATE_BUCKETS = frozenset({INVOICES, EXPORTS})

MEDIA_URL_PREFIX = "/media/"
FILES_URL_PREFIX = "/files/"
MAX_KEY_LENGTH = 300  # the storage_key columns' size
CONTENT_HASH_CHARS = 32  # 128 bits of sha256: collisions are not a practical concern
_KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_EXTENSION_PATTERN = re.compile(r"[a-z0-9]{1,10}")

SUPABASE_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
SUPABASE_CACHE_SECONDS = 3600
_ERROR_DETAIL_CHARS = 200


class StorageError(RevoqueError):
    """The file store refused a request or could not be reached; the message says which file and why."""


class MissingFile(StorageError, NotFound):
    """No file is stored under that key in that bucket."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str, bucket: str = IMAGES) -> None: ...

    def read(self, key: str, bucket: str = IMAGES) -> bytes: ...

    def exists(self, key: str, bucket: str = IMAGES) -> bool: ...

    def delete(self, key: str, bucket: str = IMAGES) -> None: ...

    def public_url(self, key: str) -> str: ...

    def signed_url(self, key: str, bucket: str, expires_in: int | None = None, download: str | None = None) -> str: ...


# --- keys and buckets ------------------------------------------------------------------------------


def validate_key(key: str) -> str:
    """Refuse anything that could escape the bucket's folder: ``..``, absolute paths, backslashes,
    empty or dot-led segments, control characters. Every segment starts with a letter or digit."""
    if len(key) > MAX_KEY_LENGTH or not _KEY_PATTERN.fullmatch(key):
        raise ValidationError(f"Invalid storage key {key!r}")
    return key


def validate_bucket(bucket: str) -> str:
    if bucket not in PUBLIC_BUCKETS | PRIVATE_BUCKETS:
        raise ValidationError(f"Unknown storage bucket {bucket!r}")
    return bucket


def _private_bucket(bucket: str) -> str:
    """Signed links are for private files; public images have stable URLs (``public_url``)."""
    if validate_bucket(bucket) not in PRIVATE_BUCKETS:
        raise ValidationError(f"The {bucket} bucket is public: use public_url() for its files")
    return bucket


def content_key(prefix: str, data: bytes, extension: str) -> str:
    """``products/9f86d081….jpg``: the key changes whenever the bytes do, so a public URL can be
    cached for ever and uploading the same file twice stores it once."""
    extension = extension.lstrip(".").lower()
    if not _EXTENSION_PATTERN.fullmatch(extension):
        raise ValidationError(f"Invalid file extension {extension!r}")
    digest = hashlib.sha256(data).hexdigest()[:CONTENT_HASH_CHARS]
    return validate_key(f"{prefix.strip('/')}/{digest}.{extension}")


def _seconds(expires_in: int | None) -> int:
    seconds = get_settings().signed_url_seconds if expires_in is None else expires_in
    if seconds <= 0:
        raise ValidationError("A signed link must last at least one second")
    return seconds


# --- signatures for LocalStorage's private files ---------------------------------------------------


def file_signature(bucket: str, key: str, expires: int) -> str:
    """HMAC-SHA256 (hex) of ``bucket/key/expires`` under SECRET_KEY. The ``file:`` prefix keeps it
    from ever matching a signature the store makes for something else with the same key."""
    message = f"file:{bucket}/{key}/{expires}".encode()
    return hmac.new(get_settings().signing_key(), message, hashlib.sha256).hexdigest()


def verify_signed_request(bucket: str, key: str, expires: str | int, sig: str, now: float | None = None) -> bool:
    """Whether a ``/files`` request carries a valid signature for exactly this bucket and key that
    has not expired yet. Malformed input of any kind is simply not valid."""
    try:
        validate_key(key)
        _private_bucket(bucket)
        expires_at = int(expires)
    except (ValidationError, ValueError):
        return False
    if (time.time() if now is None else now) > expires_at:
        return False
    return hmac.compare_digest(file_signature(bucket, key, expires_at), sig or "")


# --- the embedded default --------------------------------------------------------------------------


class LocalStorage:
    """Files in local folders: images under ``root`` (served by the /media route), private files
    under ``files_root/<bucket>`` (served by the /files route to signed links only)."""

    def __init__(self, root: Path, files_root: Path | None = None) -> None:
        self.root = root
        self.files_root = files_root if files_root is not None else root.parent / "files"

    def path_for(self, key: str, bucket: str = IMAGES) -> Path:
        if validate_bucket(bucket) == IMAGES:
            return self.root / validate_key(key)
        return self.files_root / bucket / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str, bucket: str = IMAGES) -> None:
        """Written to a unique temporary name and renamed, so a reader (or a concurrent writer of the
        same key) never sees half a file."""
        path = self.path_for(key, bucket)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def read(self, key: str, bucket: str = IMAGES) -> bytes:
        try:
            return self.path_for(key, bucket).read_bytes()
        except FileNotFoundError as exc:
            raise MissingFile(f"No file {bucket}/{key} in storage") from exc

    def exists(self, key: str, bucket: str = IMAGES) -> bool:
        return self.path_for(key, bucket).is_file()

    def delete(self, key: str, bucket: str = IMAGES) -> None:
        """Deleting a file that is not there is not an error, so clean-up can be retried."""
        self.path_for(key, bucket).unlink(missing_ok=True)

    def public_url(self, key: str) -> str:
        return MEDIA_URL_PREFIX + validate_key(key)

    def signed_url(self, key: str, bucket: str, expires_in: int | None = None, download: str | None = None) -> str:
        """``/files/<bucket>/<key>?expires=<unix>&sig=<hex>``, plus ``&download=<name>`` to have the
        browser save it under that name (the name is not signed: it changes nothing but the name)."""
        validate_key(key)
        _private_bucket(bucket)
        expires = int(time.time()) + _seconds(expires_in)
        query = {"expires": expires, "sig": file_signature(bucket, key, expires)}
        if download:
            query["download"] = download
        return f"{FILES_URL_PREFIX}{bucket}/{key}?{urlencode(query)}"


# --- Supabase Storage ------------------------------------------------------------------------------


class SupabaseStorage:
    """Supabase Storage's REST API (``/storage/v1``) with the service key, which bypasses row-level
    security: this runs on the server only and the key never reaches a browser. Keys are validated,
    so they need no escaping in URLs."""

    def __init__(self, url: str, service_key: str, transport: httpx.BaseTransport | None = None) -> None:
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError("SUPABASE_URL must be the project's address, such as https://abcd.supabase.co")
        self.url = url
        self._client = httpx.Client(
            base_url=f"{url}/storage/v1",
            headers={"Authorization": f"Bearer {service_key}", "apikey": service_key},
            timeout=SUPABASE_TIMEOUT,
            transport=transport,
        )

    def put(self, key: str, data: bytes, content_type: str, bucket: str = IMAGES) -> None:
        headers = {
            "Content-Type": content_type,
            "x-upsert": "true",
            "cache-control": f"max-age={SUPABASE_CACHE_SECONDS}",
        }
        self._request("POST", "/object/{path}", "upload", bucket, key, content=data, headers=headers)

    def read(self, key: str, bucket: str = IMAGES) -> bytes:
        return self._request("GET", "/object/{path}", "download", bucket, key).content

    def exists(self, key: str, bucket: str = IMAGES) -> bool:
        """Asks for the object's info rather than a HEAD: a GET's error has a JSON body, which tells
        "not found" apart from a refused key (both are HTTP 400 on some servers)."""
        try:
            self._request("GET", "/object/info/authenticated/{path}", "look up", bucket, key)
        except MissingFile:
            return False
        return True

    def delete(self, key: str, bucket: str = IMAGES) -> None:
        """Supabase answers a delete of a missing object with an empty list, so retries are safe."""
        self._request("DELETE", f"/object/{bucket}", "delete", bucket, key, json={"prefixes": [key]})

    def public_url(self, key: str) -> str:
        return f"{self.url}/storage/v1/object/public/{IMAGES}/{validate_key(key)}"

    def signed_url(self, key: str, bucket: str, expires_in: int | None = None, download: str | None = None) -> str:
        body = {"expiresIn": _seconds(expires_in)}
        bucket = _private_bucket(bucket)
        response = self._request("POST", "/object/sign/{path}", "sign a link to", bucket, key, json=body)
        try:
            signed = str(response.json()["signedURL"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"Supabase Storage gave no signed link for {bucket}/{key}") from exc
        url = f"{self.url}/storage/v1/{signed.lstrip('/')}"
        return f"{url}&download={quote(download, safe='')}" if download else url

    def _request(self, method: str, endpoint: str, verb: str, bucket: str, key: str, **kwargs: Any) -> httpx.Response:
        """One call to the API; ``{path}`` in ``endpoint`` becomes ``bucket/key``. Transport failures
        and error answers become StorageError (MissingFile for a missing object) naming the file."""
        path = f"{validate_bucket(bucket)}/{validate_key(key)}"
        action = f"{verb} {path}"
        try:
            response = self._client.request(method, endpoint.format(path=path), **kwargs)
        except httpx.TimeoutException as exc:
            raise StorageError(f"Supabase Storage did not answer in time when asked to {action}") from exc
        except httpx.HTTPError as exc:
            raise StorageError(f"Supabase Storage at {self.url} cannot be reached to {action}: {exc}") from exc
        if not response.is_success:
            raise _error_for(response, action, bucket, path)
        return response


def _error_for(response: httpx.Response, action: str, bucket: str, path: str) -> StorageError:
    """Supabase reports errors as JSON ``{"statusCode": "404", "error": …, "message": …}``, older
    servers with HTTP 400 even for a missing object, so the body's code decides what went wrong."""
    body = _error_body(response)
    detail = str(body.get("message") or body.get("error") or response.reason_phrase)[:_ERROR_DETAIL_CHARS]
    if "bucket not found" in detail.lower():
        return StorageError(f"Supabase Storage has no {bucket} bucket: create it ({_visibility(bucket)})")
    if response.status_code == 404 or str(body.get("statusCode")) == "404":
        return MissingFile(f"No file {path} in storage")
    return StorageError(f"Supabase Storage refused to {action} (HTTP {response.status_code}: {detail})")


def _visibility(bucket: str) -> str:
    return "public" if bucket in PUBLIC_BUCKETS else "private"


def _error_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    """Supabase when both of its settings are present, else local folders under DATA_DIR."""
    settings = get_settings()
    url, key = settings.supabase_url.strip(), settings.supabase_service_key.strip()
    if url and key:
        return SupabaseStorage(url, key)
    if url or key:
        missing = "SUPABASE_SERVICE_KEY" if url else "SUPABASE_URL"
        raise ConfigError(f"{missing} must be set too to store files in Supabase (or unset both)")
    return LocalStorage(settings.media_dir, settings.data_dir / "files")
