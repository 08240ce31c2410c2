"""Tagged cache entries in real Redis, shared by several backend workers, through evictions and outages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from revoque.adapters import cache as cache_module
from revoque.adapters import redis_conn
from revoque.adapters.cache import RedisCache
from tests.conftest import REDIS_URL


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required for these tests and is not reachable at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    name = f"revoque-test-tags-{uuid.uuid4().hex[:10]}"
    yield name
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)


class Database:
    """Stands in for the rows a cached value is built from; counts the loads."""

    def __init__(self, price: str) -> None:
        self.price = price
        self.loads = 0

    def read(self) -> str:
        self.loads += 1
        return self.price


class SwitchableClient:
    """The real client, except that while ``down`` every command fails as a dead Redis does."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self.down = False

    def __getattr__(self, name: str) -> Any:
        if self.down:
            raise redis.ConnectionError("Redis is down")
        return getattr(self._client, name)


def test_an_invalidation_in_one_worker_reaches_every_other(client: redis.Redis, prefix: str) -> None:
    workers = [RedisCache(client, prefix) for _ in range(3)]
    db = Database("₦12,500")
    for worker in workers:
        assert worker.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦12,500"
    assert db.loads == 1  # the first worker's load served the other two
    db.price = "₦9,900"
    workers[2].invalidate("product:1")
    assert [w.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) for w in workers] == ["₦9,900"] * 3
    assert db.loads == 2


class CountingRedis(redis.Redis):
    """A real client that counts the commands it sends."""

    commands = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands += 1
        return super().execute_command(*args, **options)


def test_a_cached_entry_costs_one_round_trip(prefix: str) -> None:
    counting = CountingRedis.from_url(REDIS_URL)
    try:
        cache = RedisCache(counting, prefix)
        db = Database("₦12,500")
        assert cache.get_or_set_tagged("product:1", ["product:1", "listings"], db.read, ttl=60) == "₦12,500"
        counting.commands = 0
        for _ in range(5):
            assert cache.get_or_set_tagged("product:1", ["product:1", "listings"], db.read, ttl=60) == "₦12,500"
        assert (counting.commands, db.loads) == (5, 1)
    finally:
        counting.close()


def test_a_lost_tag_version_never_brings_back_an_older_entry(client: redis.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    db = Database("old")
    assert cache.get_or_set_tagged("page", ["product:1"], db.read, ttl=60) == "old"
    db.price = "new"
    cache.invalidate("product:1")
    assert cache.get_or_set_tagged("page", ["product:1"], db.read, ttl=60) == "new"
    client.delete(f"{prefix}:cache-tag:product:1")  # evicted, or Redis restarted with its entries kept
    db.price = "newer"
    assert cache.get_or_set_tagged("page", ["product:1"], db.read, ttl=60) == "newer"
    assert db.loads == 3


def test_invalidations_missed_in_an_outage_drop_the_cache_when_redis_returns(
    client: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    flaky = SwitchableClient(client)
    editor = RedisCache(flaky, prefix)  # type: ignore[arg-type]  # the worker that saves the edit
    other = RedisCache(client, prefix)  # a worker that never saw the outage
    db = Database("₦12,500")
    assert editor.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦12,500"

    flaky.down = True
    db.price = "₦9,900"
    editor.invalidate("product:1")  # lost: Redis is down for this worker
    assert editor.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦9,900"  # bypassed
    flaky.down = False
    now[0] += redis_conn.REDIS_RETRY_AFTER_SECONDS
    assert editor.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦9,900"
    assert other.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦9,900"


def test_an_outage_without_missed_invalidations_keeps_the_cache(
    client: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    flaky = SwitchableClient(client)
    cache = RedisCache(flaky, prefix)  # type: ignore[arg-type]
    db = Database("₦12,500")
    cache.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60)
    flaky.down = True
    assert cache.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦12,500"
    flaky.down = False
    now[0] += redis_conn.REDIS_RETRY_AFTER_SECONDS
    cache.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60)
    assert db.loads == 2  # the load during the outage only; the entry from before is still good
