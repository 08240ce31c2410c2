"""Reflex's Redis state manager, made to outlive a Redis outage.

With ``REDIS_URL`` set, Reflex keeps every browser tab's state in Redis and locks it there for each
event, so a stopped Redis turns every click into "An error occurred" and a frozen one hangs events
forever. ``OutageTolerantStateManager`` keeps Reflex's behaviour while Redis answers and, when it
does not, serves each tab from this process's memory:

- Each backend worker keeps, per tab, the serialized states it last wrote (``_Snapshots``), for
  as long as Redis keeps them and within ``SNAPSHOT_BUDGET_BYTES``. When Redis fails, a tab goes
  on from exactly where it was — its cart and sign-in tokens, the page's data — instead of starting
  from a fresh state (which Reflex would rehydrate with the browser-stored tokens reset, so the next
  click would start a new cart). This works because a tab's websocket, and with it every event of
  the tab, stays on one worker.
- After a failure Redis is left alone for ``REDIS_RETRY_AFTER_SECONDS`` (the adapters' shared
  ``RedisOutage``), and commands time out after ``READ_TIMEOUT_SECONDS``, so an outage costs an
  event at most a couple of seconds now and then, never a hang.
- A failure before the handler runs serves the event from memory; a failure while saving keeps
  what the handler did in memory. Either way the tab is marked newer than Redis.
- Once Redis answers, the next event of a tab marked newer takes the tab's Redis lock without
  waiting, writes its states back and goes on in Redis. If the lock is taken (a lock sent during a
  freeze can land when Redis thaws), the event is served from memory and the next one tries again,
  so nobody waits for that lock to expire.

Events of one tab are serialised by an in-process lock as well as Redis's, so an event cannot slip
past another one while the manager switches between Redis and memory.

**Leases.** Taking the lock, loading the states and saving them costs every event several Redis
round trips plus unpickling and pickling, and a page load is a chain of events (the router's, the
frame's, the page's). A tab's websocket, and with it every event of the tab, stays on one worker, so
after an event the worker keeps the tab's lock and its loaded states until the tab has been idle
``LEASE_IDLE_SECONDS``: the tab's next events use them in memory. Every ``RENEW_SECONDS`` meanwhile
its lock is renewed, and every ``SAVE_SECONDS`` the states its events changed are saved with the
renewal, in one fenced script call (pickling them is the costly part, so it is done less often);
when the lease ends the rest is saved and the lock released. Another worker that wants the tab (a
reconnect that landed elsewhere, an upload) adds itself to the lock's waiters set, as Reflex's
opportunistic locks do; the keyspace notification ends the lease at once. (Reflex's own
``REFLEX_OPLOCK_ENABLED`` is not used: it knows nothing of outages.) A worker leases at most
``MAX_LEASES`` tabs at a time (past that, events save and unlock as usual), and a crashed worker
loses at most ``SAVE_SECONDS`` of a tab's page state; carts, orders and sign-ins live in the
database.

It subclasses ``StateManagerRedis`` because Reflex loads the states a handler reaches for only
when the manager is one (``BaseState._get_state_from_redis``); it is written against Reflex 0.10.1
and uses some of that class's internals (``_wait_lock``, ``_try_get_lock``, ``_collect_state_writes``).
``survive_redis_outages`` plugs it into the app, and also gives Reflex's token manager (it registers
each new websocket in Redis) a client that times out, so a frozen Redis cannot hang page loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import redis
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from reflex.istate.manager import StateModificationContext
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken, StateToken
from reflex.state import BaseState
from reflex.utils.token_manager import RedisTokenManager
from reflex_base.config import get_config
from reflex_base.utils.exceptions import LockExpiredError, StateSchemaMismatchError
from typing_extensions import Unpack, override

from revoque.adapters.redis_conn import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, REDIS_DOWN_ERRORS, RedisOutage

if TYPE_CHECKING:
    from reflex.app import App

LEASE_IDLE_SECONDS = 20.0  # a tab's lock and states stay with its worker this long after its last event
RENEW_SECONDS = 4.0  # a leased tab's lock is renewed this often (it lasts 10 s)
SAVE_SECONDS = 12.0  # and the states its events changed are saved with the renewal this often
MAX_LEASES = 2_000  # tabs one worker keeps at a time (each holds its loaded states in memory)
WAITERS_SUFFIX = b"_waiters"  # Reflex's name for the set of workers waiting for a lock

# What each backend worker may spend on copies of its tabs' states. A shopper's tab is about 30 KB
# in Redis, so this keeps some 4,000 tabs; the ones idle the longest are forgotten first.
SNAPSHOT_BUDGET_BYTES = 128 * 1024 * 1024


class StateRedis(Redis):
    """The state manager's client. Commands give up after ``READ_TIMEOUT_SECONDS`` and retry once
    only on a broken connection (the first command after a Redis restart meets one). The lock-release
    listener, idle by nature, gets a pool without a read timeout: with one it would drop its
    subscription and reconnect every few seconds."""

    def __init__(self, url: str) -> None:
        super().__init__(
            connection_pool=ConnectionPool.from_url(
                url,
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                socket_timeout=READ_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), retries=1, supported_errors=(redis.ConnectionError,)),
            )
        )
        self._listener_pool = ConnectionPool.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_keepalive=True
        )

    def pubsub(self, **kwargs: Any) -> PubSub:
        return PubSub(self._listener_pool, event_dispatcher=self._event_dispatcher, **kwargs)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await self._listener_pool.disconnect()
        await super().aclose(close_connection_pool)


@dataclasses.dataclass
class _Snapshot:
    """One tab's states as this process last wrote them (Redis key → pickled state)."""

    states: dict[str, bytes] = dataclasses.field(default_factory=dict)
    size: int = 0  # bytes in ``states``
    newer_than_redis: bool = False  # served from memory since Redis last took this tab's states
    expires_at: float = 0.0


class _Snapshots:
    """Per tab (client token), the states this process last wrote, kept ``lifetime`` seconds after
    the tab's last write, as Redis keeps them, and within ``budget`` bytes: past it, the tabs idle
    the longest are forgotten first (in an outage they would start from a fresh state). Entries stay
    in the order of their last write, so both kinds of leftovers are dropped from the front."""

    def __init__(self, lifetime: float, budget: int) -> None:
        self._lifetime, self._budget = lifetime, budget
        self._entries: OrderedDict[str, _Snapshot] = OrderedDict()
        self._size = 0

    def get(self, ident: str) -> _Snapshot | None:
        entry = self._entries.get(ident)
        return entry if entry is not None and entry.expires_at > time.monotonic() else None

    def record(self, ident: str, writes: list[tuple[str, bytes]], newer_than_redis: bool = False) -> None:
        now = time.monotonic()
        entry = self._entries.pop(ident, None) or _Snapshot()
        if entry.expires_at <= now:
            self._size -= entry.size
            entry = _Snapshot()
        for key, data in writes:
            grown = len(data) - len(entry.states.get(key, b""))
            entry.states[key], entry.size, self._size = data, entry.size + grown, self._size + grown
        entry.newer_than_redis = entry.newer_than_redis or newer_than_redis
        entry.expires_at = now + self._lifetime
        self._entries[ident] = entry
        while self._entries:
            oldest_ident, oldest = next(iter(self._entries.items()))
            if oldest.expires_at > now and self._size <= self._budget:
                break
            del self._entries[oldest_ident]
            self._size -= oldest.size


@dataclasses.dataclass
class _Held:
    """A tab's Redis lock and the state tree loaded under it."""

    lock_key: bytes
    lock_id: bytes
    state: BaseState


@dataclasses.dataclass
class _Lease:
    """A tab kept in this worker between events: its lock and loaded states (see the module
    docstring), and when it was taken and last used."""

    token: BaseStateToken
    held: _Held
    context: StateModificationContext
    saved_at: float  # when its changes were last saved
    last_used: float
    # States whose events the tree already serves: it only grows, so they need no look at it again.
    complete_for: set[type[BaseState]] = dataclasses.field(default_factory=set)
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)  # set: hand the tab back now
    task: asyncio.Task | None = None
    renewed_at: float = dataclasses.field(default_factory=time.monotonic)

    def idle_until(self) -> float:
        return self.last_used + LEASE_IDLE_SECONDS

    def checkpoint_at(self) -> float:
        return self.renewed_at + RENEW_SECONDS

    def save_due(self) -> bool:
        return time.monotonic() - self.saved_at >= SAVE_SECONDS


# KEYS[1]: the tab's lock, KEYS[2..]: its changed states; ARGV: lock id, lock lifetime (ms), state
# lifetime (s), the states' payloads. Saves and renews only while the lock is still this worker's.
_CHECKPOINT_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def _lock_id(context: StateModificationContext) -> bytes:
    """A new lock id, named after the event as Reflex names its own (it shows up in lock warnings)."""
    event = context.get("event")
    return (f"{event.name}:{uuid.uuid4().hex}" if event is not None else uuid.uuid4().hex).encode()


def _mark_saved(root: BaseState) -> None:
    stack = [root]
    while stack:
        state = stack.pop()
        state._was_touched = False
        stack.extend(state.substates.values())


def _unpickled(data: bytes | None, state_cls: type[BaseState]) -> BaseState | None:
    """The state stored in ``data``, or None when there is none or it no longer fits its class."""
    if data is None:
        return None
    with contextlib.suppress(StateSchemaMismatchError):
        state = BaseState._deserialize(data=data)
        if type(state) is state_cls:
            return state
    return None


def _restored_tree(
    token: BaseStateToken, state_cls: type[BaseState], parent: BaseState | None, saved: dict[str, bytes]
) -> BaseState:
    """``state_cls`` and every state below it, each as saved, or fresh when it never was."""
    state = _unpickled(saved.get(token._state_key(state_cls)), state_cls)
    if state is None:
        state = state_cls(init_substates=False, _reflex_internal_init=True)
    state.parent_state = parent
    for substate_cls in state_cls.get_substates():
        state.substates[substate_cls.get_name()] = _restored_tree(token, substate_cls, state, saved)
    return state


def _restore_path(token: BaseStateToken, root: BaseState, saved: dict[str, bytes]) -> BaseState:
    """The state of ``token.cls`` in the tree under ``root``, restoring every missing branch on the
    way down (a tree loaded from Redis holds only the states its event needed)."""
    lineage: list[type[BaseState]] = []
    state_cls: type[BaseState] | None = token.cls
    while state_cls is not None and state_cls is not type(root):
        lineage.append(state_cls)
        state_cls = state_cls.get_parent_state()
    state = root
    for state_cls in reversed(lineage):
        name = state_cls.get_name()
        if name not in state.substates:
            state.substates[name] = _restored_tree(token, state_cls, state, saved)
        state = state.substates[name]
    return state


@dataclasses.dataclass
class OutageTolerantStateManager(StateManagerRedis):
    """``StateManagerRedis`` that serves tabs from this process's memory while Redis is unreachable
    and hands them back to Redis when it answers (see the module docstring)."""

    _oplock_enabled: bool = dataclasses.field(default=False, init=False)
    _outage: RedisOutage = dataclasses.field(
        default_factory=lambda: RedisOutage(
            "Redis is unreachable; browser tabs are served from this process's memory until it answers",
            "Redis answers again; browser tabs go back to it",
        ),
        init=False,
    )
    _snapshots: _Snapshots = dataclasses.field(init=False)
    _tab_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = dataclasses.field(
        default_factory=weakref.WeakValueDictionary, init=False
    )
    _leases: dict[bytes, _Lease] = dataclasses.field(default_factory=dict, init=False)  # by lock key

    def __post_init__(self) -> None:
        super().__post_init__()
        self._snapshots = _Snapshots(self.token_expiration, SNAPSHOT_BUDGET_BYTES)

    @override
    def _collect_state_writes(self, token: BaseStateToken, base_state: BaseState) -> list[tuple[str, bytes]]:
        """Reflex serializes the touched states for Redis here: keep a copy of them too, and mark
        them saved, so a leased tree's next checkpoint writes only what changed after this one."""
        writes = super()._collect_state_writes(token, base_state)
        self._snapshots.record(token.ident, writes)
        _mark_saved(base_state)
        return writes

    @override
    async def get_state(
        self,
        token: StateToken[Any],
        top_level: bool = True,
        for_state_instance: BaseState | None = None,
    ) -> Any:
        token = self._coerce_token(token)
        if not isinstance(token, BaseStateToken):
            return await super().get_state(token, top_level=top_level, for_state_instance=for_state_instance)
        snapshot = self._snapshots.get(token.ident)
        if not self._outage.skipping() and not (snapshot is not None and snapshot.newer_than_redis):
            try:
                state = await super().get_state(token, top_level=top_level, for_state_instance=for_state_instance)
            except REDIS_DOWN_ERRORS as exc:
                self._outage.failed(exc)
            else:
                self._outage.recovered()
                return state
        return self._restored(token, top_level, for_state_instance)

    @override
    async def set_state(
        self,
        token: StateToken[Any],
        state: Any,
        *,
        lock_id: bytes | None = None,
        **context: Unpack[StateModificationContext],
    ) -> None:
        token = self._coerce_token(token)
        if not isinstance(token, BaseStateToken):
            await super().set_state(token, state, lock_id=lock_id, **context)
        elif self._outage.skipping():
            self._keep_in_memory(token, state)
        else:
            try:
                await super().set_state(token, state, lock_id=lock_id, **context)
            except REDIS_DOWN_ERRORS as exc:
                self._outage.failed(exc)
                self._snapshots.record(token.ident, [], newer_than_redis=True)

    @override
    @contextlib.asynccontextmanager
    async def modify_state(
        self, token: StateToken[Any], **context: Unpack[StateModificationContext]
    ) -> AsyncIterator[Any]:
        token = self._coerce_token(token)
        if not isinstance(token, BaseStateToken):
            async with super().modify_state(token, **context) as state:
                yield state
            return
        async with self._tab_lock(token):
            lease = self._leases.get(self._lock_key(token))
            if lease is not None:
                root = await self._leased_tree(lease, token)
                try:
                    yield root
                finally:  # a handler's failure keeps what it changed, as Reflex's own leases do
                    lease.last_used = time.monotonic()
                return
            held = await self._lock_and_load(token, context)
            if held is None:
                root = self._restored(token, True, None)
                yield root
                self._keep_in_memory(token, root)
                return
            try:
                yield held.state
            except BaseException:
                await self._unlock_quietly(held.lock_key)
                raise
            if not self._lease(token, held, context):
                await self._save_and_unlock(token, held, context)

    @functools.cached_property
    def _checkpoint_script(self) -> AsyncScript:
        return self.redis.register_script(_CHECKPOINT_SCRIPT)

    def _lease(self, token: BaseStateToken, held: _Held, context: StateModificationContext) -> bool:
        """Keep the tab after its event (see the module docstring); False when it cannot be kept:
        nobody would hear another worker asking for it, or this worker keeps enough tabs."""
        if LEASE_IDLE_SECONDS <= 0 or len(self._leases) >= MAX_LEASES or not self._lock_updates_subscribed.is_set():
            self._ensure_lock_task()
            return False
        now = time.monotonic()
        lease = self._leases[held.lock_key] = _Lease(token, held, context, now, now, {token.cls})
        lease.task = asyncio.create_task(self._keep_lease(lease), name=f"revoque-lease|{token.ident}")
        # Reflex warns about a lock held over a second unless it is a local lease, as this is.
        self._local_leases[token.lock_key] = lease.task
        return True

    async def _leased_tree(self, lease: _Lease, token: BaseStateToken) -> BaseState:
        """The leased tree, with the states an event of ``token.cls`` reaches loaded into it. Reflex
        walks the whole tree to find what is missing; once a class's states are there they stay,
        so each class is looked for once per lease, and none after the root's (a new tab's hydrate
        loads the whole tree)."""
        root = lease.held.state
        if token.cls not in lease.complete_for and type(root) not in lease.complete_for:
            await self.get_state(token, for_state_instance=root)
            lease.complete_for.add(token.cls)
        return root

    async def _keep_lease(self, lease: _Lease) -> None:
        """Checkpoint the tab while it is in use; end the lease once it idles or is asked for."""
        while not lease.wake.is_set() and (now := time.monotonic()) < lease.idle_until():
            if now < (due := min(lease.idle_until(), lease.checkpoint_at())):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lease.wake.wait(), due - now)
            elif not await self._checkpoint(lease):
                return
        async with self._tab_lock(lease.token):  # after the tab's running event, if any
            await self._end_lease(lease)

    async def _checkpoint(self, lease: _Lease) -> bool:
        """Renew the tab's lock, saving what its events changed when a save is due and no event of
        the tab is running (a renewal touches no state, so it never waits for one: a slow event
        must not let the lock lapse). False when the lock was lost or Redis failed: the lease is
        over, and the tab's changes are kept in memory, newer than Redis, for its next event to
        write back."""
        tab_lock = self._tab_lock(lease.token)
        if lease.save_due() and not tab_lock.locked():
            async with tab_lock:
                kept = await self._renew(lease, self._collect_state_writes(lease.token, lease.held.state))
        else:
            kept = await self._renew(lease, None)
        if kept:
            return True
        async with self._tab_lock(lease.token):  # after the tab's running event, if any
            if self._leases.get(lease.held.lock_key) is lease:
                self._keep_in_memory(lease.token, lease.held.state)
                self._forget_lease(lease)
        return False

    async def _renew(self, lease: _Lease, writes: list[tuple[str, bytes]] | None) -> bool:
        """One fenced script call: the lock renewed and ``writes`` (None: a renewal only) saved, if
        the lock is still this worker's."""
        if self._leases.get(lease.held.lock_key) is not lease:
            return True  # ended meanwhile: nothing left to renew
        try:
            kept = await self._checkpoint_script(
                keys=[lease.held.lock_key, *(key for key, _ in writes or [])],
                args=[lease.held.lock_id, self.lock_expiration, self.token_expiration, *(d for _, d in writes or [])],
            )
        except REDIS_DOWN_ERRORS as exc:
            self._outage.failed(exc)
            return False
        if kept:
            lease.renewed_at = time.monotonic()
            lease.saved_at = lease.renewed_at if writes is not None else lease.saved_at
        return bool(kept)

    async def _end_lease(self, lease: _Lease) -> None:
        """Save the tab's states and release its lock. A lock lost meanwhile (Redis restarted empty,
        or the worker stalled past the lock's expiry) leaves the states in memory, marked newer than
        Redis, for the tab's next event to write back."""
        if self._leases.get(lease.held.lock_key) is not lease:
            return
        try:
            await self._save_and_unlock(lease.token, lease.held, lease.context)
        except LockExpiredError:
            self._snapshots.record(lease.token.ident, [], newer_than_redis=True)
        finally:
            self._forget_lease(lease)

    def _forget_lease(self, lease: _Lease) -> None:
        del self._leases[lease.held.lock_key]
        self._local_leases.pop(lease.token.lock_key, None)

    @override
    async def _handle_lock_contention(self, message: Any) -> None:
        """Another worker waits for a tab this worker leases: hand it back now."""
        if message["data"] != b"sadd":
            return
        lock_key = message["channel"].split(b":", 1)[1].removesuffix(WAITERS_SUFFIX)
        if (lease := self._leases.get(lock_key)) is not None:
            lease.wake.set()

    @override
    @contextlib.asynccontextmanager
    async def _request_lock_release(self, lock_key: bytes, lock_id: bytes) -> AsyncIterator[None]:
        """While waiting for a lock, be in its waiters set, so a worker leasing the tab lets go."""
        waiters = lock_key + WAITERS_SUFFIX
        pipeline = self.redis.pipeline()
        pipeline.sadd(waiters, self._instance_id)
        pipeline.pexpire(waiters, self.lock_expiration)
        await pipeline.execute()
        try:
            yield
        finally:
            await self.redis.srem(waiters, self._instance_id)

    async def hand_back(self) -> None:
        """End every lease now: the tabs' states are saved to Redis and their locks released."""
        leases = list(self._leases.values())
        for lease in leases:
            lease.wake.set()
        await asyncio.gather(*(lease.task for lease in leases if lease.task), return_exceptions=True)

    @override
    async def close(self) -> None:
        await self.hand_back()
        await super().close()

    def _tab_lock(self, token: BaseStateToken) -> asyncio.Lock:
        """This process's lock for a tab; it lives as long as someone holds or waits for it."""
        lock = self._tab_locks.get(token.lock_key)
        if lock is None:
            lock = self._tab_locks[token.lock_key] = asyncio.Lock()
        return lock

    async def _lock_and_load(self, token: BaseStateToken, context: StateModificationContext) -> _Held | None:
        """Lock the tab in Redis and load its states, writing back first what memory holds newer.
        None when the event must be served from memory instead."""
        if self._outage.skipping():
            return None
        snapshot = self._snapshots.get(token.ident)
        lock_key, lock_id = self._lock_key(token), _lock_id(context)
        locked = False
        try:
            if snapshot is not None and snapshot.newer_than_redis:
                if not await self._try_get_lock(lock_key, lock_id):
                    return None  # held elsewhere, maybe since a freeze: try again on the next event
                locked = True
                await self._write_back(snapshot)
            else:
                await self._wait_lock(lock_key, lock_id)
                locked = True
            state = await super().get_state(token)
        except REDIS_DOWN_ERRORS as exc:
            self._outage.failed(exc)
            if locked:
                await self._unlock_quietly(lock_key)
            return None
        self._outage.recovered()
        return _Held(lock_key, lock_id, state)

    async def _write_back(self, snapshot: _Snapshot) -> None:
        """Put a tab's states from memory back into Redis (its lock is held)."""
        pipeline = self.redis.pipeline(transaction=False)
        for key, data in snapshot.states.items():
            pipeline.set(key, data, ex=self.token_expiration)
        await pipeline.execute()
        snapshot.newer_than_redis = False

    async def _save_and_unlock(self, token: BaseStateToken, held: _Held, context: StateModificationContext) -> None:
        """Save the handler's changes under the lock and release it. If Redis fails meanwhile, the
        changes stay in memory (``_collect_state_writes`` copied them before the write). A lock
        that expired during the handler raises ``LockExpiredError``, as in Reflex."""
        try:
            await super().set_state(token, held.state, lock_id=held.lock_id, **context)
            await self._unlock(held.lock_key)
        except REDIS_DOWN_ERRORS as exc:
            self._outage.failed(exc)
            self._snapshots.record(token.ident, [], newer_than_redis=True)

    async def _unlock(self, lock_key: bytes) -> None:
        await self.redis.getdel(lock_key)
        self._notify_next_waiter(lock_key)

    async def _unlock_quietly(self, lock_key: bytes) -> None:
        """Release a lock on the way out of a failure; if Redis is down it expires by itself."""
        try:
            await self._unlock(lock_key)
        except REDIS_DOWN_ERRORS as exc:
            self._outage.failed(exc)

    def _keep_in_memory(self, token: BaseStateToken, state: BaseState) -> None:
        self._snapshots.record(token.ident, super()._collect_state_writes(token, state), newer_than_redis=True)

    def _restored(self, token: BaseStateToken, top_level: bool, tree: BaseState | None) -> BaseState:
        """The tab's state tree from memory (or ``tree`` completed from memory), as ``get_state``
        returns it: the root, or with ``top_level=False`` the state of ``token.cls``."""
        snapshot = self._snapshots.get(token.ident)
        saved = snapshot.states if snapshot is not None else {}
        if tree is None:
            root = _restored_tree(token, token.cls.get_root_state(), None, saved)
        else:
            root = tree._get_root_state()
        state = _restore_path(token, root, saved)
        return root if top_level else state


def survive_redis_outages(app: App, redis_url: str) -> None:
    """Plug into ``app`` (built by ``rx.App()``, before the backend starts) the state manager above,
    and give Reflex's token manager, which links each new websocket to its tab, a client that times
    out: with Reflex's own, a frozen Redis would hang every page load until it thaws."""
    app._state_manager = outage_tolerant_state_manager(redis_url)
    token_manager = app.event_namespace._token_manager if app.event_namespace is not None else None
    if isinstance(token_manager, RedisTokenManager):
        token_manager.redis = StateRedis(redis_url)


def outage_tolerant_state_manager(redis_url: str) -> OutageTolerantStateManager:
    """The state manager for a store with Redis, with Reflex's configured expirations."""
    config = get_config()
    return OutageTolerantStateManager(
        redis=StateRedis(redis_url),
        token_expiration=config.redis_token_expiration,
        lock_expiration=config.redis_lock_expiration,
        lock_warning_threshold=config.redis_lock_warning_threshold,
    )
