"""Caching the storefront's catalog reads, and dropping them after every write that changes them.

Cached values are tagged (see ``revoque.adapters.cache``):

- ``product:<id>``: one product's page data (options, variants, prices, stock badges) and its
  product card (title, brand, first image, price, in stock; or "not shown" for a product that is
  gone or not active), read in batches by ``catalog.cards_for_products``.
- ``listings``: everything built from product cards or product counts: category and collection
  listings, home sections, category tiles, search results pages and search suggestions. Any product
  edit drops all of them: which listings show a product depends on its status, category,
  collections, price and age, and after the commit only the product's id is known, so dropping
  every listing is the one choice that is never stale (a listing is a few indexed queries to
  rebuild, and its cards come from the card cache). A change to stock alone (an order, a restock)
  keeps them unless a variant sold out or came back: no listing filters or sorts by stock, and
  the in-stock flag is all a listing's cards show of it.
- ``search``: what the search engines answered (search results pages and suggestions). The index
  jobs change the engines after the product's commit has dropped ``listings``, so they drop this
  tag again once the engine holds the new document (``search.forget_search_results``).
- ``popularity``: results pages ordered by units sold (the "most popular" sort, and browsing
  without words). An order changes only that in a document, so its index job drops just this tag.
- ``vectors``: answers from the product vectors (related products), dropped with ``search`` by the
  embedding jobs (``vector_index.forget_vector_answers``).
- ``catalog``: categories, collections and brands (names, tree, collection membership). It is
  folded into every catalog key, so a structure change drops everything.
- ``home``: the home page's sections.
- ``store`` (``store_identity.STORE``): the store's name and currency.

Writers never call the cache directly: ``search.schedule_product_index`` (which every product change
already calls in its transaction) registers ``invalidate_products``, ``search.schedule_stock_index``
(orders and restocks) ``invalidate_product_pages`` unless availability flipped, and category,
collection and brand changes call ``invalidate_catalog_structure``. All act once the transaction commits (nothing
on rollback), so a reader can never cache data older than the invalidation.

A read inside a transaction normally skips the cache (``can_cache``). Values that do not depend on
the reader's transaction (product cards, the store's identity, search results) are still served
from it there, unless that transaction itself wrote what they show (``transaction_independent``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlmodel import Session

from revoque.adapters.cache import EVERYTHING, get_cache
from revoque.db import SQLITE_IMMEDIATE

log = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K")

CATALOG = "catalog"
LISTINGS = "listings"
SEARCH = "search"
POPULARITY = "popularity"
VECTORS = "vectors"
HOME = "home"
KEY_PREFIX = "catalog:v1:"
MAX_PLAIN_KEY = 200  # longer keys (slugs from URLs can be anything) are hashed

_PENDING_TAGS = "revoque.cache_tags_after_commit"


def product_tag(product_id: int) -> str:
    return f"product:{product_id}"


# --- invalidation -------------------------------------------------------------------------------


def invalidate_products(session: Session, *product_ids: int) -> None:
    """Drop these products' page data and every listing once ``session`` commits."""
    invalidate_after_commit(session, LISTINGS, *(product_tag(i) for i in product_ids))


def invalidate_product_pages(session: Session, *product_ids: int) -> None:
    """Drop these products' page data and cards, not the listings, once ``session`` commits."""
    invalidate_after_commit(session, *(product_tag(i) for i in product_ids))


def invalidate_catalog_structure(session: Session) -> None:
    """Drop every cached catalog read once ``session`` commits: call it from whatever creates,
    renames, moves or deletes categories, collections or brands, or changes collection membership."""
    invalidate_after_commit(session, CATALOG)


def invalidate_everything() -> None:
    """Drop every tagged cache entry now (after a seed or a restore that bypassed the services)."""
    invalidate_now(EVERYTHING)


def invalidate_after_commit(session: Session, *tags: str) -> None:
    """Invalidate ``tags`` once ``session``'s outermost transaction commits; forget them if it rolls
    back. Tags registered in a savepoint that rolls back still fire with the outer commit: an extra
    invalidation costs a cache miss, a missing one would show stale data."""
    if _PENDING_TAGS not in session.info:
        session.info[_PENDING_TAGS] = set()
        event.listen(session, "after_commit", _invalidate_pending)
        event.listen(session, "after_transaction_end", _forget_rolled_back)
    session.info[_PENDING_TAGS].update(tags)


def invalidate_now(*tags: str) -> None:
    """Invalidate ``tags`` immediately; never raises (the data it follows is already written)."""
    try:
        get_cache().invalidate(*tags)
    except Exception:
        log.exception("Could not invalidate cache tags %s", sorted(tags))


def _invalidate_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; nothing is committed yet
    tags, session.info[_PENDING_TAGS] = session.info[_PENDING_TAGS], set()
    if tags:
        invalidate_now(*sorted(tags))


def _forget_rolled_back(session: Session, transaction: Any) -> None:
    """The outermost transaction ended without ``after_commit`` having taken the tags: it rolled
    back (or the session closed without committing), so nothing changed."""
    if transaction.parent is None:
        session.info[_PENDING_TAGS] = set()


# --- cached reads -------------------------------------------------------------------------------


def can_cache(session: Session) -> bool:
    """Whether reads through ``session`` may use the cache. A session already inside a transaction
    may read an old snapshot (SQLite keeps the one from its first read) or hold its own uncommitted
    writes; neither may be stored, so such callers simply read the database."""
    return not session.in_transaction() and not (session.new or session.dirty or session.deleted)


@contextmanager
def fresh_session(session: Session) -> Iterator[Session]:
    """A short read-only session on ``session``'s database, started now: its snapshot is never
    older than the tag versions just read. The caller's session stays untouched (and cacheable)."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        bind = bind.execution_options(**{SQLITE_IMMEDIATE: False})  # a read needs no write lock
    with Session(bind, expire_on_commit=False) as fresh:
        yield fresh


def cache_key(*parts: object) -> str:
    """A cache key from parts; long ones (anything a URL can carry) are hashed."""
    key = ":".join(str(part) for part in parts)
    if len(key) > MAX_PLAIN_KEY:
        key = "h:" + hashlib.sha256(key.encode()).hexdigest()
    return KEY_PREFIX + key


def writes_under(session: Session, tags: Iterable[str]) -> bool:
    """Whether ``session``'s transaction holds writes that change values cached under ``tags``:
    unflushed changes, or invalidations of one of ``tags`` (or of everything) waiting for its
    commit. Every write that changes a cached value registers its tags (``invalidate_after_commit``)
    in its transaction, before its caller goes on to read anything."""
    if session.new or session.dirty or session.deleted:
        return True
    pending = session.info.get(_PENDING_TAGS)
    return bool(pending) and (EVERYTHING in pending or not pending.isdisjoint(tags))


def cached(
    session: Session,
    key: str,
    tags: Sequence[str],
    kind: Any,
    loader: Callable[[Session], T],
    *,
    transaction_independent: bool = False,
) -> T:
    """``loader(session)``'s value, from the cache when possible. ``kind`` is the value's type
    (a dataclass, ``list[...]``, ``X | None`` ...) so cached JSON comes back as the same objects.
    The tag versions are read first and a miss loads through a fresh session, so a write that
    commits meanwhile only makes the new entry unreachable. Errors raised by ``loader`` (NotFound)
    are not cached.

    ``transaction_independent``: the value is the same whatever transaction the caller is in (only
    writes that invalidate ``tags`` after their commit change it), so a caller inside a transaction
    is served from the cache too, and its misses are loaded through a fresh session and stored as
    usual. Only a transaction that wrote under ``tags`` itself reads through its own session, to see
    its own writes (``writes_under``). Without the flag such callers always read the database
    (``can_cache``)."""
    if not (transaction_independent or can_cache(session)):
        return loader(session)
    return cached_many(session, {key: (key, tags)}, kind, lambda s, _keys: {key: loader(s)})[key]


def cached_many(
    session: Session,
    entries: Mapping[K, tuple[str, Sequence[str]]],
    kind: Any,
    loader: Callable[[Session, list[K]], Mapping[K, T]],
) -> dict[K, T]:
    """Many values in one cache round trip, each cached on its own: ``entries`` maps each item (a
    product id) to its cache key and tags, and ``loader(session, items)`` loads the items the cache
    does not hold (a value for every item it is given), all at once, through a fresh session
    started after the tag versions were read; they are stored in one batch. The values must not
    depend on the caller's transaction (see ``cached``'s ``transaction_independent``): a caller that
    wrote under any of the tags, or a cache that cannot be reached (Redis down), loads everything
    through the caller's session and stores nothing."""
    items = list(entries)
    if not items:
        return {}
    if writes_under(session, {tag for _key, tags in entries.values() for tag in tags}):
        return dict(loader(session, items))
    cache = get_cache()
    lookup = cache.get_many_tagged({key: tags for key, tags in entries.values()})
    if lookup is None:
        return dict(loader(session, items))
    values = {item: decode(kind, lookup.found[key]) for item, (key, _tags) in entries.items() if key in lookup.found}
    missing = [item for item in items if item not in values]
    if missing:
        with fresh_session(session) as fresh:
            loaded = loader(fresh, missing)
        cache.set_many({lookup.missing[entries[item][0]]: encode(loaded[item]) for item in missing})
        values.update((item, loaded[item]) for item in missing)
    return values


def encode(value: Any) -> Any:
    """Dataclasses (and lists of them) as plain JSON-able data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(kind: Any, data: Any) -> Any:
    """The inverse of ``encode`` for the types catalog reads return."""
    if data is None:
        return None
    if dataclasses.is_dataclass(kind):
        hints = _field_types(kind)
        return kind(**{name: decode(hint, data[name]) for name, hint in hints.items()})
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        return [decode(item, value) for value in data]
    if origin in (typing.Union, types.UnionType):
        real = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return decode(real[0], data) if len(real) == 1 else data
    return data


@lru_cache(maxsize=64)
def _field_types(kind: type) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    return {f.name: hints[f.name] for f in dataclasses.fields(kind)}
