"""A small key/value cache for JSON-serialisable values: Redis when REDIS_URL is set, else memory.

Both implementations store the JSON text, so callers get a fresh copy on every read and a value
that Redis could not hold fails in the embedded mode and in tests too, not first in production.
A cache is never the source of truth: when Redis is down the cache turns into a miss / no-op and
the store keeps selling from the database.

Tags: a value derived from many rows is cached under a key that folds in the current version of
each tag it depends on (``tagged_key``), and ``invalidate(*tags)`` gives those tags new versions, so
every entry built on the old ones becomes unreachable at once: one write per tag, whatever the
number of entries, in every backend worker that shares the cache. Versions are random tokens rather
than counters, so a version that Redis evicts or loses comes back as a new token and can never
match an entry written under an older one.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache
from typing import Any, TypeVar

import redis
from redis.commands.core import Script

from revoque.adapters.redis_conn import RedisOutage, redis_client
from revoque.settings import get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
_MISS: Any = object()

MEMORY_MAX_ENTRIES = 10_000
EVERYTHING = "*"  # folded into every tagged key: invalidating it drops every tagged entry


def new_version() -> str:
    return secrets.token_hex(6)


# KEYS: the tag version keys; ARGV[1]: the entry's key before its versions. Replies
# [versions joined as ``tagged_key`` joins them, the entry or nil], or nil if a tag has no version.
_TAGGED_GET = """
local versions = redis.call('MGET', unpack(KEYS))
for i = 1, #versions do
  if not versions[i] then return false end
end
local joined = table.concat(versions, '.')
return {joined, redis.call('GET', ARGV[1] .. '@' .. joined)}
"""


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

    def tagged_key(self, key: str, tags: Sequence[str]) -> str | None:
        """``key`` with the current version of each tag folded in, or None when the versions cannot
        be read (Redis down): then the caller must neither read nor store a cached value.

        Read the key BEFORE reading the data to cache: a write that commits and invalidates in
        between then only makes the new entry unreachable, never stale."""
        versions = self._tag_versions([EVERYTHING, *tags])
        if versions is None:
            return None
        return f"{key}@{'.'.join(versions)}"

    def get_or_set_tagged(self, key: str, tags: Sequence[str], loader: Callable[[], T], ttl: int | None = None) -> T:
        """``get_or_set`` under ``tagged_key``; with Redis down, simply ``loader()``."""
        full_key = self.tagged_key(key, tags)
        return loader() if full_key is None else self.get_or_set(full_key, ttl, loader)

    def invalidate(self, *tags: str) -> None:
        """Give ``tags`` new versions: entries cached under the old ones are never read again (they
        age out by TTL or LRU). ``invalidate(EVERYTHING)`` drops every tagged entry."""
        if tags:
            self._set_versions({tag: new_version() for tag in dict.fromkeys(tags)})

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> Any: ...

    @abstractmethod
    def _set(self, key: str, payload: str, ttl: int) -> None: ...

    @abstractmethod
    def _tag_versions(self, tags: list[str]) -> list[str] | None:
        """Each tag's version, giving a tag that has none a new one; None if they cannot be read."""

    @abstractmethod
    def _set_versions(self, versions: dict[str, str]) -> None: ...


class MemoryCache(Cache):
    """The embedded default: one process, LRU-bounded so a crawler cannot grow it without limit."""

    def __init__(self, max_entries: int = MEMORY_MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._versions: dict[str, str] = {}
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

    def _tag_versions(self, tags: list[str]) -> list[str]:
        with self._lock:
            return [self._versions.setdefault(tag, new_version()) for tag in tags]

    def _set_versions(self, versions: dict[str, str]) -> None:
        with self._lock:
            self._versions.update(versions)


class RedisCache(Cache):
    """Shared by every backend worker. After a Redis error it skips Redis for a few seconds, so a
    dead Redis costs one timeout per interval rather than one per cache call, and logs the outage
    once (and the recovery once) instead of on every request.

    An invalidation that cannot reach Redis is not lost silently: when Redis answers again this
    process drops every tagged entry (one new EVERYTHING version), because entries cached before
    the outage may describe data that changed during it. Tag versions have no TTL (one small key
    per tag); entries expire by their TTL."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}:cache:"
        self._tag_prefix = f"{prefix}:cache-tag:"
        self._outage = RedisOutage("Redis cache failed, serving without cache until it recovers", "Redis cache is back")
        self._missed_invalidation = False

    def delete(self, key: str) -> None:
        self._call("delete", lambda: self._client.delete(self._prefix + key))

    @cached_property
    def _tagged_get(self) -> Script:
        return self._client.register_script(_TAGGED_GET)

    def get_or_set_tagged(self, key: str, tags: Sequence[str], loader: Callable[[], T], ttl: int | None = None) -> T:
        """A hit costs one round trip instead of two: a script reads the tag versions and the
        entry under them together. A tag never versioned yet, or Redis down, takes the general path."""
        keys = [self._tag_prefix + tag for tag in (EVERYTHING, *tags)]
        found = self._call(
            "tagged get", lambda: self._tagged_get(keys=keys, args=[self._prefix + key], client=self._client)
        )
        if not found:
            return super().get_or_set_tagged(key, tags, loader, ttl)
        versions, payload = found
        if payload is not None:
            return json.loads(payload)
        value = loader()
        self.set(f"{key}@{versions.decode() if isinstance(versions, bytes) else versions}", value, ttl)
        return value

    def _get(self, key: str) -> Any:
        payload = self._call("get", lambda: self._client.get(self._prefix + key))
        return _MISS if payload is None else json.loads(payload)

    def _set(self, key: str, payload: str, ttl: int) -> None:
        self._call("set", lambda: self._client.set(self._prefix + key, payload, ex=ttl))

    def _tag_versions(self, tags: list[str]) -> list[str] | None:
        keys = [self._tag_prefix + tag for tag in tags]
        return self._call("tag read", lambda: self._read_versions(keys))

    def _read_versions(self, keys: list[str]) -> list[str]:
        """One MGET; tags seen for the first time get a version with SET NX (so concurrent first
        readers agree on one) and are read again in the same round trip."""
        values = self._client.mget(keys)
        missing = [key for key, value in zip(keys, values, strict=True) if value is None]
        if missing:
            pipe = self._client.pipeline(transaction=False)
            for key in missing:
                pipe.set(key, new_version(), nx=True)
            pipe.mget(keys)
            values = pipe.execute()[-1]
        if any(value is None for value in values):
            raise redis.RedisError("a cache tag version vanished while being read")
        return [value.decode() if isinstance(value, bytes) else str(value) for value in values]

    def _set_versions(self, versions: dict[str, str]) -> None:
        done = self._call(
            "invalidate", lambda: self._client.mset({self._tag_prefix + tag: v for tag, v in versions.items()})
        )
        if not done:
            self._missed_invalidation = True

    def _call(self, operation: str, command: Callable[[], Any]) -> Any:
        """Run ``command`` unless Redis is known to be down; any Redis error reads as a miss."""
        if self._outage.skipping():
            return None
        try:
            if self._outage.down:
                self._catch_up()  # before the command: it may be about to read the old versions
            result = command()
        except redis.RedisError as exc:
            self._outage.failed(f"{operation}: {exc}")
            return None
        self._outage.recovered()
        return result

    def _catch_up(self) -> None:
        """After an outage in which this process could not invalidate, drop every tagged entry."""
        if self._missed_invalidation:
            self._client.set(self._tag_prefix + EVERYTHING, new_version())
            self._missed_invalidation = False
            log.info("Dropped the tagged cache entries: invalidations were missed while Redis was down")


@lru_cache(maxsize=1)
def get_cache() -> Cache:
    """The process-wide cache, chosen once from settings (tests call ``get_cache.cache_clear()``)."""
    settings = get_settings()
    if settings.redis_url.strip():
        return RedisCache(redis_client(), settings.redis_prefix)
    return MemoryCache()
