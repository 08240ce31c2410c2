"""The embedded cache's contract, and the Redis cache's promise to degrade instead of failing."""

from __future__ import annotations

import logging
import threading

import pytest
import redis

from revoque.adapters import cache as cache_module
from revoque.adapters import redis_conn
from revoque.adapters.cache import MemoryCache, RedisCache
from revoque.settings import get_settings


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A controllable monotonic clock, so expiry is tested without sleeping."""
    now = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    return now


def test_memory_cache_round_trips_json_values() -> None:
    cache = MemoryCache()
    cache.set("product:1", {"title": "Kettle", "price": 1250000, "tags": ["home"]}, ttl=60)
    assert cache.get("product:1") == {"title": "Kettle", "price": 1250000, "tags": ["home"]}
    assert cache.get("missing") is None
    assert cache.get("missing", default="fallback") == "fallback"


def test_memory_cache_returns_copies_not_shared_objects() -> None:
    cache = MemoryCache()
    cache.set("list", [1, 2], ttl=60)
    cache.get("list").append(3)
    assert cache.get("list") == [1, 2]


def test_memory_cache_rejects_values_redis_could_not_store() -> None:
    with pytest.raises(TypeError):
        MemoryCache().set("bad", object(), ttl=60)


def test_memory_cache_entries_expire(clock: list[float]) -> None:
    cache = MemoryCache()
    cache.set("k", "v", ttl=10)
    clock[0] += 9.9
    assert cache.get("k") == "v"
    clock[0] += 0.1
    assert cache.get("k") is None
    assert len(cache) == 0


def test_ttl_defaults_to_setting_zero_disables(monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> None:
    monkeypatch.setenv("CACHE_TTL_SECONDS", "30")
    get_settings.cache_clear()
    try:
        cache = MemoryCache()
        cache.set("default-ttl", 1)
        cache.set("no-cache", 1, ttl=0)
        clock[0] += 29
        assert cache.get("default-ttl") == 1
        assert cache.get("no-cache") is None
        clock[0] += 1
        assert cache.get("default-ttl") is None
    finally:
        get_settings.cache_clear()


def test_delete_removes_entry() -> None:
    cache = MemoryCache()
    cache.set("k", 1, ttl=60)
    cache.delete("k")
    cache.delete("never-set")
    assert cache.get("k") is None


def test_get_or_set_loads_once_and_caches_none() -> None:
    cache = MemoryCache()
    calls: list[str] = []

    def loader() -> None:
        calls.append("load")

    assert cache.get_or_set("nothing", 60, loader) is None
    assert cache.get_or_set("nothing", 60, loader) is None
    assert calls == ["load"]


def test_get_or_set_reloads_after_expiry(clock: list[float]) -> None:
    cache = MemoryCache()
    values = iter([1, 2])
    assert cache.get_or_set("k", 5, lambda: next(values)) == 1
    assert cache.get_or_set("k", 5, lambda: next(values)) == 1
    clock[0] += 5
    assert cache.get_or_set("k", 5, lambda: next(values)) == 2


def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=3)
    for key in ("a", "b", "c"):
        cache.set(key, key, ttl=60)
    assert cache.get("a") == "a"  # touching "a" makes "b" the oldest
    cache.set("d", "d", ttl=60)
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(key) for key in ("a", "c", "d")] == ["a", "c", "d"]


def test_memory_cache_is_thread_safe() -> None:
    cache = MemoryCache(max_entries=50)
    errors: list[BaseException] = []

    def hammer(worker: int) -> None:
        try:
            for i in range(2000):
                key = f"k{(worker * 7 + i) % 80}"
                cache.set(key, i, ttl=60)
                cache.get(key)
                if i % 10 == 0:
                    cache.delete(key)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 50


def test_redis_cache_on_dead_port_degrades_to_misses(caplog: pytest.LogCaptureFixture) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.5, socket_timeout=0.5)
    cache = RedisCache(client, prefix="revoque-dead")
    with caplog.at_level(logging.WARNING, logger="revoque.adapters.cache"):
        cache.set("k", {"a": 1}, ttl=60)
        assert cache.get("k") is None
        assert cache.get("k", default="fallback") == "fallback"
        cache.delete("k")
        assert cache.get_or_set("k", 60, lambda: "from database") == "from database"
    outage_logs = [record for record in caplog.records if "Redis cache" in record.getMessage()]
    assert len(outage_logs) == 1


def test_redis_cache_retries_redis_after_the_pause(clock: list[float]) -> None:
    class FlakyClient:
        def __init__(self) -> None:
            self.calls = 0

        def get(self, key: str) -> bytes:
            self.calls += 1
            if self.calls == 1:
                raise redis.ConnectionError("down")
            return b'"back"'

    client = FlakyClient()
    cache = RedisCache(client, prefix="p")  # type: ignore[arg-type]
    assert cache.get("k") is None
    assert cache.get("k") is None  # within the pause: Redis is not asked
    assert client.calls == 1
    clock[0] += redis_conn.REDIS_RETRY_AFTER_SECONDS
    assert cache.get("k") == "back"


def test_memory_cache_reads_a_batch_of_tagged_entries() -> None:
    cache = MemoryCache()
    entries = {"card:1": ["product:1", "catalog"], "card:2": ["product:2", "catalog"]}
    assert cache.get_or_set_tagged("card:1", ["product:1", "catalog"], lambda: {"price": "₦12,500"}, ttl=60)
    read = cache.get_many_tagged(entries)
    assert read is not None
    assert read.found == {"card:1": {"price": "₦12,500"}}  # the entry the single read stored
    assert list(read.missing) == ["card:2"] and read.missing["card:2"] == cache.tagged_key("card:2", entries["card:2"])
    cache.set_many({read.missing["card:2"]: None}, ttl=60)  # a cached None ("not shown") is a value too
    assert cache.get_many_tagged(entries) == cache_module.TaggedEntries(
        {"card:1": {"price": "₦12,500"}, "card:2": None}, {}
    )
    cache.invalidate("product:1")
    read = cache.get_many_tagged(entries)
    assert read is not None and read.found == {"card:2": None} and list(read.missing) == ["card:1"]
    assert cache.get_many_tagged({}) == cache_module.TaggedEntries({}, {})


def test_set_many_follows_the_ttl_rules(monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> None:
    monkeypatch.setenv("CACHE_TTL_SECONDS", "30")
    get_settings.cache_clear()
    try:
        cache = MemoryCache()
        cache.set_many({"a": 1, "b": [2]})
        cache.set_many({"off": 1}, ttl=0)
        assert (cache.get("a"), cache.get("b"), cache.get("off", "nothing")) == (1, [2], "nothing")
        clock[0] += 30
        assert (cache.get("a"), cache.get("b")) == (None, None)
        with pytest.raises(TypeError):
            cache.set_many({"bad": object()}, ttl=60)
    finally:
        get_settings.cache_clear()


def test_redis_cache_batches_on_dead_port_read_as_no_cache() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.5, socket_timeout=0.5)
    cache = RedisCache(client, prefix="revoque-dead")
    assert cache.get_many_tagged({"card:1": ["product:1"]}) is None
    cache.set_many({"card:1@v": {"title": "Kettle"}}, ttl=60)
    assert cache.get_many_tagged({"card:1": ["product:1"]}) is None
