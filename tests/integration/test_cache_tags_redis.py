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
    """The real client, except that while ``down`` every command fails as a dead Redis does; the
    cache's clock is ``clock[0]``, so ``recover`` can let the retry pause pass at once."""

    def __init__(self, client: redis.Redis, clock: list[float]) -> None:
        self._client, self._clock = client, clock
        self.down = False

    def __getattr__(self, name: str) -> Any:
        if self.down:
            raise redis.ConnectionError("Redis is down")
        return getattr(self._client, name)

    def recover(self) -> None:
        """Redis answers again, and the cache's pause after the failure is over."""
        self.down = False
        self._clock[0] += redis_conn.REDIS_RETRY_AFTER_SECONDS


@pytest.fixture
def flaky(client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> SwitchableClient:
    clock = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    return SwitchableClient(client, clock)


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
    client: redis.Redis, prefix: str, flaky: SwitchableClient
) -> None:
    editor = RedisCache(flaky, prefix)  # type: ignore[arg-type]  # the worker that saves the edit
    other = RedisCache(client, prefix)  # a worker that never saw the outage
    db = Database("₦12,500")
    assert editor.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦12,500"

    flaky.down = True
    db.price = "₦9,900"
    editor.invalidate("product:1")  # lost: Redis is down for this worker
    assert editor.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦9,900"  # bypassed
    flaky.recover()
    assert editor.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦9,900"
    assert other.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦9,900"


def test_an_outage_without_missed_invalidations_keeps_the_cache(prefix: str, flaky: SwitchableClient) -> None:
    cache = RedisCache(flaky, prefix)  # type: ignore[arg-type]
    db = Database("₦12,500")
    cache.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60)
    flaky.down = True
    assert cache.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60) == "₦12,500"
    flaky.recover()
    cache.get_or_set_tagged("product:1", ["product:1"], db.read, ttl=60)
    assert db.loads == 2  # the load during the outage only; the entry from before is still good


def cards(count: int) -> dict[str, list[str]]:
    """Tagged entries as the product cards use them: one per product, tagged by product and catalog."""
    return {f"card:{i}": [f"product:{i}", "catalog"] for i in range(1, count + 1)}


def test_a_batch_of_entries_costs_one_round_trip(prefix: str) -> None:
    counting = CountingRedis.from_url(REDIS_URL)
    try:
        cache = RedisCache(counting, prefix)
        entries = cards(20)
        first = cache.get_many_tagged(entries)
        assert first is not None and first.found == {} and set(first.missing) == set(entries)
        cache.set_many({full_key: f"card {key}" for key, full_key in first.missing.items()}, ttl=60)
        counting.commands = 0
        read = cache.get_many_tagged(entries)
        assert counting.commands == 1
        assert read is not None and read.missing == {}
        assert read.found == {key: f"card {key}" for key in entries}
    finally:
        counting.close()


def test_batch_and_single_reads_share_entries_and_invalidations(client: redis.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    db = Database("₦12,500")
    assert cache.get_or_set_tagged("card:1", ["product:1", "catalog"], db.read, ttl=60) == "₦12,500"
    read = cache.get_many_tagged(cards(3))
    assert read is not None and read.found == {"card:1": "₦12,500"} and set(read.missing) == {"card:2", "card:3"}
    cache.set_many({full_key: key for key, full_key in read.missing.items()}, ttl=60)
    assert cache.get_or_set_tagged("card:2", ["product:2", "catalog"], db.read, ttl=60) == "card:2"
    cache.invalidate("product:2")
    read = cache.get_many_tagged(cards(3))
    assert read is not None and set(read.found) == {"card:1", "card:3"} and set(read.missing) == {"card:2"}
    cache.invalidate("catalog")
    read = cache.get_many_tagged(cards(3))
    assert read is not None and read.found == {}
    assert db.loads == 1


def test_a_batch_after_a_lost_tag_version_never_brings_back_an_older_entry(client: redis.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    read = cache.get_many_tagged(cards(2))
    assert read is not None
    cache.set_many({full_key: "old" for full_key in read.missing.values()}, ttl=60)
    client.delete(f"{prefix}:cache-tag:product:1")  # evicted: the script finds a tag without version
    read = cache.get_many_tagged(cards(2))
    assert read is not None and read.found == {"card:2": "old"} and set(read.missing) == {"card:1"}
    cache.set_many({full_key: "new" for full_key in read.missing.values()}, ttl=60)
    read = cache.get_many_tagged(cards(2))
    assert read is not None and read.found == {"card:1": "new", "card:2": "old"}


def test_a_batch_larger_than_one_script_call_is_read_whole(client: redis.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    entries = cards(cache_module.MAX_BATCH + 3)
    read = cache.get_many_tagged(entries)
    assert read is not None
    cache.set_many({full_key: key for key, full_key in read.missing.items()}, ttl=60)
    read = cache.get_many_tagged(entries)
    assert read is not None and read.missing == {} and read.found == {key: key for key in entries}


def test_a_batch_with_redis_down_reads_nothing_and_stores_nothing(prefix: str, flaky: SwitchableClient) -> None:
    cache = RedisCache(flaky, prefix)  # type: ignore[arg-type]
    read = cache.get_many_tagged(cards(2))
    assert read is not None
    flaky.down = True
    cache.set_many({full_key: "cached" for full_key in read.missing.values()}, ttl=60)  # lost, quietly
    assert cache.get_many_tagged(cards(2)) is None
    flaky.recover()
    again = cache.get_many_tagged(cards(2))
    assert again is not None and again.found == {} and again.missing == read.missing
