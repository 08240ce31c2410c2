"""Expiring counters for rate limits: Redis ``INCR`` shared by every backend worker when REDIS_URL is
set, else a bounded in-process table (the embedded mode runs one web process).

Like the cache beside it, a counter never stops the store: when Redis fails the count falls back to
this process's memory for a few seconds (limits then hold per worker instead of across workers),
and the outage is logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from functools import lru_cache

import redis

from revoque.adapters.redis_conn import RedisOutage, redis_client
from revoque.settings import get_settings

log = logging.getLogger(__name__)

MEMORY_MAX_KEYS = 50_000


class Counters(ABC):
    @abstractmethod
    def hit(self, key: str, ttl_seconds: int) -> int:
        """Add one to ``key`` and return its new count; a new key lives ``ttl_seconds``."""

    @abstractmethod
    def count(self, key: str) -> int:
        """The current count of ``key`` (0 when unknown or expired), without adding to it."""


class MemoryCounters(Counters):
    """LRU-bounded, so a flood of distinct keys (addresses, emails) cannot grow it without limit."""

    def __init__(self, max_keys: int = MEMORY_MAX_KEYS) -> None:
        self._max_keys = max_keys
        self._counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, ttl_seconds: int) -> int:
        now = time.monotonic()
        with self._lock:
            expires_at, count = self._counts.get(key, (0.0, 0))
            if expires_at <= now:
                expires_at, count = now + ttl_seconds, 0
            self._counts[key] = (expires_at, count + 1)
            self._counts.move_to_end(key)
            while len(self._counts) > self._max_keys:
                self._counts.popitem(last=False)
            return count + 1

    def count(self, key: str) -> int:
        with self._lock:
            expires_at, count = self._counts.get(key, (0.0, 0))
        return count if expires_at > time.monotonic() else 0


class RedisCounters(Counters):
    def __init__(self, client: redis.Redis, prefix: str, fallback: Counters | None = None) -> None:
        self._client = client
        self._prefix = f"{prefix}:rate:"
        self._fallback = fallback or MemoryCounters()
        self._outage = RedisOutage(
            "Redis rate counters failed, counting in this process until it recovers", "Redis rate counters are back"
        )

    def hit(self, key: str, ttl_seconds: int) -> int:
        def command() -> int:
            pipe = self._client.pipeline()
            pipe.incr(self._prefix + key)
            pipe.expire(self._prefix + key, ttl_seconds, nx=True)
            return int(pipe.execute()[0])

        result = self._call(command)
        return self._fallback.hit(key, ttl_seconds) if result is None else result

    def count(self, key: str) -> int:
        result = self._call(lambda: int(self._client.get(self._prefix + key) or 0))
        return self._fallback.count(key) if result is None else result

    def _call(self, command) -> int | None:
        if self._outage.skipping():
            return None
        try:
            result = command()
        except redis.RedisError as exc:
            self._outage.failed(exc)
            return None
        self._outage.recovered()
        return result


@lru_cache(maxsize=1)
def get_counters() -> Counters:
    """The process-wide counters, chosen once from settings (tests call ``get_counters.cache_clear()``)."""
    settings = get_settings()
    if settings.redis_url.strip():
        return RedisCounters(redis_client(), settings.redis_prefix)
    return MemoryCounters()
