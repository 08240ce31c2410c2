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

Batches: ``get_many_tagged`` reads N tagged entries (each with its own tags) in one Redis round trip
and returns the values found plus the full keys to store the misses under; ``set_many`` stores them
in one pipeline. The catalog's product cards are read this way (``catalog.cards_for_products``).
The tags themselves are named by their users (``revoque.services.catalog_cache``,
``revoque.services.store_identity``); this module only knows ``EVERYTHING``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
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
MAX_BATCH = 500  # entries per script call: Lua's unpack() has a stack limit of a few thousand values


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

# KEYS: the distinct tag version keys of a batch; ARGV: pairs of [an entry's key before its
# versions, the 1-based indexes into KEYS of its tags, comma-separated, EVERYTHING first]. Replies
# [each entry's versions joined as ``tagged_key`` joins them, each entry or nil], or nil if a tag
# has no version.
_TAGGED_GET_MANY = """
local versions = redis.call('MGET', unpack(KEYS))
for i = 1, #versions do
  if not versions[i] then return false end
end
local joined, keys = {}, {}
for e = 1, #ARGV, 2 do
  local parts = {}
  for index in string.gmatch(ARGV[e + 1], '%d+') do
    parts[#parts + 1] = versions[tonumber(index)]
  end
  joined[#joined + 1] = table.concat(parts, '.')
  keys[#keys + 1] = ARGV[e] .. '@' .. joined[#joined]
end
return {joined, redis.call('MGET', unpack(keys))}
"""


@dataclass(frozen=True)
class TaggedEntries:
    """What ``get_many_tagged`` read: the cached values it found, by key, and for each key it did
    not find the full key (its tag versions folded in) to store a freshly loaded value under."""

    found: dict[str, Any]
    missing: dict[str, str]


def _joined_key(key: str, versions: Iterable[str]) -> str:
    return f"{key}@{'.'.join(versions)}"


class Cache(ABC):
    """get / set / delete / get_or_set; ``ttl=None`` means CACHE_TTL_SECONDS, and a TTL of 0 stores
    nothing, so CACHE_TTL_SECONDS=0 turns caching off without touching callers."""

    def get(self, key: str, default: Any = None) -> Any:
        value = self._get(key)
        return default if value is _MISS else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        seconds = get_settings().cache_ttl_seconds if ttl is None else ttl
        if seconds > 0:
            self._set(key, _dumps(value), seconds)

    def set_many(self, values: Mapping[str, Any], ttl: int | None = None) -> None:
        """``set`` for several keys at once (one pipeline in Redis), with the same TTL rules."""
        seconds = get_settings().cache_ttl_seconds if ttl is None else ttl
        if seconds > 0 and values:
            self._set_many({key: _dumps(value) for key, value in values.items()}, seconds)

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
        return _joined_key(key, versions)

    def get_many_tagged(self, entries: Mapping[str, Sequence[str]]) -> TaggedEntries | None:
        """Several tagged entries at once: ``entries`` maps each key to its tags (``EVERYTHING`` is
        folded in as by ``tagged_key``). None when the versions cannot be read (Redis down): then the
        caller must neither read nor store cached values. The same rule as ``tagged_key``: read the
        entries BEFORE reading the data to cache for the misses."""
        tags = list(dict.fromkeys(tag for key_tags in entries.values() for tag in (EVERYTHING, *key_tags)))
        versions = self._tag_versions(tags) if entries else []
        if versions is None:
            return None
        version_of = dict(zip(tags, versions, strict=True))
        full_keys = {
            key: _joined_key(key, (version_of[tag] for tag in (EVERYTHING, *key_tags)))
            for key, key_tags in entries.items()
        }
        return _sorted_out(full_keys, self._get_many(list(full_keys.values())))

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

    def _get_many(self, keys: list[str]) -> list[Any]:
        """Each key's value, or ``_MISS``."""
        return [self._get(key) for key in keys]

    def _set_many(self, payloads: dict[str, str], ttl: int) -> None:
        for key, payload in payloads.items():
            self._set(key, payload, ttl)

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

    @cached_property
    def _tagged_get_many(self) -> Script:
        return self._client.register_script(_TAGGED_GET_MANY)

    def get_many_tagged(self, entries: Mapping[str, Sequence[str]]) -> TaggedEntries | None:
        """One script call (one round trip) reads every tag version and every entry under them, for
        up to ``MAX_BATCH`` entries. A tag never versioned yet takes the general path (versions
        created with SET NX, then one MGET); Redis down reads as None, never an error."""
        items = list(entries.items())
        found: dict[str, Any] = {}
        missing: dict[str, str] = {}
        for start in range(0, len(items), MAX_BATCH):
            read = self._read_batch(dict(items[start : start + MAX_BATCH]))
            if read is None:
                return None
            found.update(read.found)
            missing.update(read.missing)
        return TaggedEntries(found, missing)

    def _read_batch(self, entries: dict[str, Sequence[str]]) -> TaggedEntries | None:
        tags = list(dict.fromkeys(tag for key_tags in entries.values() for tag in (EVERYTHING, *key_tags)))
        index = {tag: str(i) for i, tag in enumerate(tags, start=1)}
        args: list[str] = []
        for key, key_tags in entries.items():
            args += [self._prefix + key, ",".join(index[tag] for tag in (EVERYTHING, *key_tags))]
        keys = [self._tag_prefix + tag for tag in tags]
        reply = self._call("tagged get many", lambda: self._tagged_get_many(keys=keys, args=args, client=self._client))
        if not reply:
            return super().get_many_tagged(entries)
        joined, payloads = reply
        full_keys = {key: _joined_key(key, [_text(versions)]) for key, versions in zip(entries, joined, strict=True)}
        return _sorted_out(full_keys, [_MISS if p is None else json.loads(p) for p in payloads])

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
        self.set(_joined_key(key, [_text(versions)]), value, ttl)
        return value

    def _get(self, key: str) -> Any:
        payload = self._call("get", lambda: self._client.get(self._prefix + key))
        return _MISS if payload is None else json.loads(payload)

    def _set(self, key: str, payload: str, ttl: int) -> None:
        self._call("set", lambda: self._client.set(self._prefix + key, payload, ex=ttl))

    def _get_many(self, keys: list[str]) -> list[Any]:
        payloads = self._call("get many", lambda: self._client.mget([self._prefix + key for key in keys]))
        return [_MISS if p is None else json.loads(p) for p in payloads or [None] * len(keys)]

    def _set_many(self, payloads: dict[str, str], ttl: int) -> None:
        def store() -> None:
            pipe = self._client.pipeline(transaction=False)
            for key, payload in payloads.items():
                pipe.set(self._prefix + key, payload, ex=ttl)
            pipe.execute()

        self._call("set many", store)

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
        return [_text(value) for value in values]

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


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _sorted_out(full_keys: dict[str, str], values: list[Any]) -> TaggedEntries:
    """The entries read (``values`` in ``full_keys``' order, ``_MISS`` for none) split into found
    values and the full keys of the misses."""
    found: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for (key, full_key), value in zip(full_keys.items(), values, strict=True):
        if value is _MISS:
            missing[key] = full_key
        else:
            found[key] = value
    return TaggedEntries(found, missing)


@lru_cache(maxsize=1)
def get_cache() -> Cache:
    """The process-wide cache, chosen once from settings (tests call ``get_cache.cache_clear()``)."""
    settings = get_settings()
    if settings.redis_url.strip():
        return RedisCache(redis_client(), settings.redis_prefix)
    return MemoryCache()
