"""A small key/value cache for JSON-serialisable values: Redis when REDIS_URL is set, else memory.

Both implementations store the JSON text, so callers get a fresh copy on every read and a value
that Redis could not hold fails in the embedded mode and in tests too, not first in production.
A cache is never the source of truth: when Redis is down the cache turns into a miss / no-op and
the store keeps selling from the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import redis

from revoque.adapters.redis_conn import redis_client
from revoque.settings import get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
_MISS: Any = object()

MEMORY_MAX_ENTRIES = 10_000
REDIS_RETRY_AFTER_SECONDS = 5.0


class Cache(ABC):
    """get / set / delete / get_or_set; ``ttl=None`` means CACHE_TTL_SECONDS, and a TTL of 0 stores
    nothing, so CACHE_TTL_SECONDS=0 turns caching off without touching callers."""

    def get(self, key: str, default: Any = None) -> Any:
        value = self._get(key)
        return default if value is _MISS else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        seconds = get_settings().cache_ttl_seconds if ttl is None else ttl
        if seconds > 0:
            self._set(key, json.dumps(value, separators=(",", ":")), seconds)

    def get_or_set(self, key: str, ttl: int | None, loader: Callable[[], T]) -> T:
        """The cached value, or ``loader()`` stored under ``key``; a cached ``None`` is a hit."""
        value = self._get(key)
        if value is _MISS:
            value = loader()
            self.set(key, value, ttl)
        return value

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> Any: ...

    @abstractmethod
    def _set(self, key: str, payload: str, ttl: int) -> None: ...


class MemoryCache(Cache):
    """The embedded default: one process, LRU-bounded so a crawler cannot grow it without limit."""

    def __init__(self, max_entries: int = MEMORY_MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return _MISS
            expires_at, payload = entry
            if expires_at <= time.monotonic():
                del self._entries[key]
                return _MISS
            self._entries.move_to_end(key)
        return json.loads(payload)

    def _set(self, key: str, payload: str, ttl: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, payload)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


class RedisCache(Cache):
    """Shared by every backend worker. After a Redis error it skips Redis for a few seconds, so a
    dead Redis costs one timeout per interval rather than one per cache call, and logs the outage
    once (and the recovery once) instead of on every request."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}:cache:"
        self._skip_until = 0.0
        self._down = False

    def delete(self, key: str) -> None:
        self._call("delete", lambda: self._client.delete(self._prefix + key))

    def _get(self, key: str) -> Any:
        payload = self._call("get", lambda: self._client.get(self._prefix + key))
        return _MISS if payload is None else json.loads(payload)

    def _set(self, key: str, payload: str, ttl: int) -> None:
        self._call("set", lambda: self._client.set(self._prefix + key, payload, ex=ttl))

    def _call(self, operation: str, command: Callable[[], Any]) -> Any:
        """Run ``command`` unless Redis is known to be down; any Redis error reads as a miss."""
        if time.monotonic() < self._skip_until:
            return None
        try:
            result = command()
        except redis.RedisError as exc:
            self._mark_down(operation, exc)
            return None
        if self._down:
            self._down = False
            log.info("Redis cache is reachable again")
        return result

    def _mark_down(self, operation: str, exc: redis.RedisError) -> None:
        self._skip_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
        if not self._down:
            self._down = True
            log.warning("Redis cache %s failed, serving without cache until it recovers: %s", operation, exc)


@lru_cache(maxsize=1)
def get_cache() -> Cache:
    """The process-wide cache, chosen once from settings (tests call ``get_cache.cache_clear()``)."""
    settings = get_settings()
    if settings.redis_url.strip():
        return RedisCache(redis_client(), settings.redis_prefix)
    return MemoryCache()
