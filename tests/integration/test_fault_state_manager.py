"""The Reflex state manager against a private redis-server that is stopped, frozen and started again
mid-run: a browser tab's state (here the cart's token and count) carries on in memory through the
outage, new tabs work during it, and once Redis answers the tab's state goes back to Redis, where
another process (a plain ``StateManagerRedis``) reads it.

The shared Redis on 6379 is never touched (tests/support/redis_server.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from types import SimpleNamespace

import pytest
from redis.asyncio import Redis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.state import State
from reflex_base.registry import RegistrationContext

from revoque.adapters import redis_conn
from revoque.adapters import state_manager as state_manager_module
from revoque.adapters.state_manager import OutageTolerantStateManager, _Snapshots, outage_tolerant_state_manager
from revoque.state.cart import CartState
from tests.support.redis_server import RedisServer, redis_server
from tests.support.waiting import returns_within

PAUSE_SECONDS = 0.2  # how long the manager leaves Redis alone after a failure, shortened for tests
HANG_GUARD_SECONDS = 60.0  # generous: only a hang gets near it
CART_TOKEN = "browser-held-cart-token"


@pytest.fixture
def redis(tmp_path, monkeypatch) -> Iterator[RedisServer]:
    monkeypatch.setattr(redis_conn, "REDIS_RETRY_AFTER_SECONDS", PAUSE_SECONDS)
    with redis_server(tmp_path / "redis") as server:
        yield server


def new_tab() -> BaseStateToken:
    return BaseStateToken(ident=str(uuid.uuid4()), cls=CartState)


async def add_to_cart(manager: StateManagerRedis, tab: BaseStateToken, during: Callable[[], None] = lambda: None):
    """One event of the tab: the cart gains an item (and its token on the first one); ``during``
    runs inside the event, after the state was handed over. Returns the cart as the event left it."""
    async with manager.modify_state(tab) as root:
        cart = await root.get_state(CartState)
        during()
        cart.cart_token = cart.cart_token or CART_TOKEN
        cart.count += 1
        return cart.cart_token, cart.count


async def in_redis(url: str, tab: BaseStateToken) -> tuple[str, int]:
    """The tab's cart as any other backend process reads it from Redis (a worker keeps a tab it
    leases to itself: call ``manager.hand_back()`` first to see what its events left)."""
    plain = StateManagerRedis(redis=Redis.from_url(url))
    try:
        cart = await plain.get_state(tab, top_level=False)
        return cart.cart_token, cart.count
    finally:
        await plain.close()


def run(scenario: Callable[[OutageTolerantStateManager], Awaitable[None]], url: str) -> None:
    """Run ``scenario`` with a fresh manager on its own event loop, failing if anything hangs."""

    async def main() -> None:
        manager = outage_tolerant_state_manager(url)
        try:
            await scenario(manager)
        finally:
            await manager.close()

    returns_within(HANG_GUARD_SECONDS, lambda: asyncio.run(main()))


async def after_the_pause() -> None:
    await asyncio.sleep(PAUSE_SECONDS * 2)


async def events_until_back_in_redis(manager: StateManagerRedis, url: str, tab: BaseStateToken, count: int) -> None:
    """Events of a tab whose cart holds ``count`` items in memory, each adding one, until Redis holds
    what the last one left. A lock taken just before Redis stopped or froze can outlive the outage
    (an append-only file keeps it; a thawed Redis runs what was sent during the freeze): until it
    expires the tab stays in memory, and the first event that gets the lock hands the tab back."""
    await manager.hand_back()
    while await in_redis(url, tab) != (CART_TOKEN, count):
        await after_the_pause()
        count += 1
        assert await add_to_cart(manager, tab) == (CART_TOKEN, count)
        await manager.hand_back()


def test_a_tab_carries_on_through_a_stopped_redis_and_goes_back_to_it(redis):
    tab, newcomer = new_tab(), new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 1)
        await manager.hand_back()
        assert await in_redis(redis.url, tab) == (CART_TOKEN, 1)

        redis.stop()
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 2)  # from where it was, not fresh
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 3)
        assert await add_to_cart(manager, newcomer) == (CART_TOKEN, 1)  # a tab opened during the outage
        root = await manager.get_state(tab)
        assert (await root.get_state(CartState)).count == 3

        redis.start()
        await after_the_pause()
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 4)
        await manager.hand_back()
        assert await in_redis(redis.url, tab) == (CART_TOKEN, 4)
        assert await in_redis(redis.url, newcomer) == ("", 0)  # no event since Redis returned: only in memory

        # Redis is the tab's home again: a change made there by another process is what the next event sees.
        plain = StateManagerRedis(redis=Redis.from_url(redis.url))
        async with plain.modify_state(tab) as root:
            (await root.get_state(CartState)).count = 10
        await plain.close()
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 11)

    run(scenario, redis.url)


def test_what_an_event_did_while_redis_died_under_it_is_kept(redis):
    tab = new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 1)
        assert await add_to_cart(manager, tab, during=redis.stop) == (CART_TOKEN, 2)  # saving fails: no error
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 3)

        redis.start()
        await events_until_back_in_redis(manager, redis.url, tab, count=3)

    run(scenario, redis.url)


def test_a_frozen_redis_delays_events_instead_of_hanging_them(redis):
    tab = new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 1)
        redis.freeze()
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 2)
        assert await add_to_cart(manager, tab) == (CART_TOKEN, 3)
        redis.thaw()
        await events_until_back_in_redis(manager, redis.url, tab, count=3)

    run(scenario, redis.url)


def test_copies_of_tabs_are_dropped_when_expired_or_over_the_budget(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(state_manager_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    copies = _Snapshots(lifetime=60, budget=10)
    copies.record("idle", [("idle_state", b"1234")])
    copies.record("busy", [("busy_state", b"1234")])
    clock[0] += 30
    copies.record("busy", [("busy_state", b"123456")], newer_than_redis=True)
    assert copies.get("idle") is not None  # 10 bytes in all: within the budget
    copies.record("newcomer", [("newcomer_state", b"12")])  # 12 bytes: the tab idle the longest goes
    assert copies.get("idle") is None
    assert copies.get("busy").states == {"busy_state": b"123456"} and copies.get("busy").newer_than_redis
    clock[0] += 61
    assert copies.get("busy") is None and copies.get("newcomer") is None  # expired as Redis would


# --- leases: a worker keeps a tab between its events ----------------------------------------------


async def lock_holder(url: str, tab: BaseStateToken) -> bytes | None:
    client = Redis.from_url(url)
    try:
        return await client.get(f"{tab.lock_key}_lock")
    finally:
        await client.aclose()


async def leased(manager: OutageTolerantStateManager, tab: BaseStateToken) -> bool:
    """One event, then whether the worker kept the tab (the lock-release listener must be up
    first; until it is, events save and unlock as usual)."""
    for _ in range(100):
        await add_to_cart(manager, tab)
        if manager._leases:
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_tabs_events_share_one_lock_until_it_idles_then_redis_has_them(redis, monkeypatch):
    monkeypatch.setattr(state_manager_module, "LEASE_IDLE_SECONDS", 0.5)
    tab = new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        assert await leased(manager, tab)
        count = await in_memory_count(manager, tab)
        held_by = await lock_holder(redis.url, tab)
        for _ in range(3):  # quick events: no new lock, nothing saved yet
            count += 1
            assert (await add_to_cart(manager, tab))[1] == count
        assert await lock_holder(redis.url, tab) == held_by is not None
        assert (await in_redis(redis.url, tab))[1] < count
        await asyncio.sleep(1.0)  # idle past the lease: saved, unlocked
        assert await in_redis(redis.url, tab) == (CART_TOKEN, count)
        assert await lock_holder(redis.url, tab) is None and not manager._leases

    run(scenario, redis.url)


def test_another_worker_asking_for_a_leased_tab_gets_it_at_once_with_every_change(redis, monkeypatch):
    monkeypatch.setattr(state_manager_module, "LEASE_IDLE_SECONDS", 8.0)
    tab = new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        assert await leased(manager, tab)
        count = await in_memory_count(manager, tab)
        other = outage_tolerant_state_manager(redis.url)  # the tab reconnected to another worker
        try:
            started = asyncio.get_running_loop().time()
            assert await add_to_cart(other, tab) == (CART_TOKEN, count + 1)  # sees the leased changes
            assert asyncio.get_running_loop().time() - started < 4.0  # not the 8 s the lease had left
            assert not manager._leases
            await other.hand_back()
        finally:
            await other.close()
        assert await add_to_cart(manager, tab) == (CART_TOKEN, count + 2)  # and back again

    run(scenario, redis.url)


def test_a_leased_tab_is_saved_at_each_checkpoint_and_keeps_its_lock_past_the_locks_lifetime(redis, monkeypatch):
    monkeypatch.setattr(state_manager_module, "LEASE_IDLE_SECONDS", 30.0)
    monkeypatch.setattr(state_manager_module, "RENEW_SECONDS", 0.2)
    monkeypatch.setattr(state_manager_module, "SAVE_SECONDS", 0.2)
    tab = new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        manager.lock_expiration = 600  # ms: without renewals the lock would lapse within the test
        assert await leased(manager, tab)
        held_by = await lock_holder(redis.url, tab)
        for _ in range(2):
            count = (await add_to_cart(manager, tab))[1]
            await asyncio.sleep(1.0)  # several checkpoints, and past the lock's lifetime
            assert await in_redis(redis.url, tab) == (CART_TOKEN, count)
            assert await lock_holder(redis.url, tab) == held_by is not None
            assert len(manager._leases) == 1

    run(scenario, redis.url)


@pytest.mark.parametrize("saved_at_checkpoints", [True, False], ids=["saved", "unsaved-changes"])
def test_a_leased_tab_whose_lock_was_lost_keeps_its_changes_and_writes_them_back(
    redis, monkeypatch, saved_at_checkpoints
):
    monkeypatch.setattr(state_manager_module, "LEASE_IDLE_SECONDS", 30.0)
    monkeypatch.setattr(state_manager_module, "RENEW_SECONDS", 0.2)
    monkeypatch.setattr(state_manager_module, "SAVE_SECONDS", 0.2 if saved_at_checkpoints else 30.0)
    tab = new_tab()

    async def scenario(manager: OutageTolerantStateManager) -> None:
        assert await leased(manager, tab)
        count = (await add_to_cart(manager, tab))[1]
        client = Redis.from_url(redis.url)
        try:
            await client.delete(f"{tab.lock_key}_lock")  # as if it lapsed, or Redis restarted empty
        finally:
            await client.aclose()
        for _ in range(50):
            if not manager._leases:
                break
            await asyncio.sleep(0.05)
        assert not manager._leases  # the renewal found the lock gone and let the tab go
        assert await add_to_cart(manager, tab) == (CART_TOKEN, count + 1)  # with the change made before
        await manager.hand_back()
        assert await in_redis(redis.url, tab) == (CART_TOKEN, count + 1)

    run(scenario, redis.url)


def test_a_tab_leased_by_its_hydrate_finds_every_state_without_looking_again(redis, monkeypatch):
    """A new tab's first event (the hydrate, on the root state) loads the whole tree, so later
    events of any state class are served from the lease without walking the tree for missing states."""
    monkeypatch.setattr(state_manager_module, "LEASE_IDLE_SECONDS", 8.0)
    ident = str(uuid.uuid4())
    registration = RegistrationContext.get()  # the app's states, for the scenario's own thread

    async def scenario(manager: OutageTolerantStateManager) -> None:
        RegistrationContext.set(registration)
        for _ in range(100):  # the lock-release listener must be up before a tab is kept
            async with manager.modify_state(BaseStateToken(ident=ident, cls=State)):
                pass
            if manager._leases:
                break
            await asyncio.sleep(0.05)
        assert manager._leases
        lookups: list[BaseStateToken] = []
        get_state = manager.get_state

        async def counting(token, *args, **kwargs):
            lookups.append(token)
            return await get_state(token, *args, **kwargs)

        monkeypatch.setattr(manager, "get_state", counting)
        assert await add_to_cart(manager, BaseStateToken(ident=ident, cls=CartState)) == (CART_TOKEN, 1)
        assert lookups == []

    run(scenario, redis.url)


async def in_memory_count(manager: OutageTolerantStateManager, tab: BaseStateToken) -> int:
    (lease,) = manager._leases.values()
    return (await lease.held.state.get_state(CartState)).count
