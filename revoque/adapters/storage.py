"""File storage for product images and other files.

The embedded default keeps files in a folder under ``data/`` and serves public files (product and
category images) at ``/media/<key>``. Supabase Storage and signed, expiring URLs for private files
arrive with the payments/files issue behind this same interface.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from revoque.errors import ValidationError
from revoque.settings import get_settings

_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,298}$")
MEDIA_URL_PREFIX = "/media/"


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def read(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def public_url(self, key: str) -> str: ...


def validate_key(key: str) -> str:
    """Keys are lower-case relative paths; anything that could escape the folder is refused."""
    if not _KEY_PATTERN.match(key) or ".." in key or "//" in key:
        raise ValidationError(f"Invalid storage key {key!r}")
    return key


class LocalStorage:
    """Files in a local folder; public URLs are served by the backend's /media route."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def read(self, key: str) -> bytes:
        return self.path_for(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def public_url(self, key: str) -> str:
        return MEDIA_URL_PREFIX + validate_key(key)


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    return LocalStorage(get_settings().media_dir)
