"""Redis stopped or frozen mid-run, on SQLite and PostgreSQL: shoppers keep browsing and buying (the
cache and the rate counters step aside, jobs run in this process), and when Redis returns the
store uses it again: cached pages are served from it and jobs go to RQ, where a worker that waited
out the outage runs them.

Each test runs a private redis-server (tests/support/redis_server.py) that it stops, freezes and
restarts; the shared Redis on 6379 is never touched.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from rq import Worker
from rq.job import Job, JobStatus
from rq.worker import WorkerStatus
from sqlmodel import select

from revoque import jobs
from revoque.adapters import redis_conn
from revoque.adapters.queue import RQQueue, get_queue
from revoque.adapters.redis_conn import redis_client
from revoque.adapters.search import SearchFilters, SearchQuery
from revoque.db import session_scope
from revoque.models import Cart, Order, OutboxEmail
from revoque.services import carts, catalog, checkout, pricing, rate_limit, shipping
from revoque.services.accounts import AddressInput
from revoque.services.checkout import CheckoutDetails
from revoque.services.search import reindex_all, search_products
from tests.conftest import use_settings
from tests.factories import add_category, add_product, variants_of
from tests.support.redis_server import RedisServer, redis_server
from tests.support.rq_workers import Workers
from tests.support.smtp_server import Mailbox, smtp_server
from tests.support.sql import recorded_statements
from tests.support.waiting import returns_within, wait_until

KETTLE, BOARD = "Steel Kettle", "Oak Board"
KETTLE_STOCK = 2
BREAKER_SECONDS = 0.5  # the adapters' "leave Redis alone" pause, shortened so the tests wait less
JOB_TIMEOUT_SECONDS = 20.0
HANG_GUARD_SECONDS = 60.0
SHOPPER_ADDRESS = "203.0.113.7"
ADDRESS = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")


@dataclass(frozen=True)
class Store:
    redis: RedisServer
    prefix: str
    mailbox: Mailbox
    variants: dict[str, int]  # product title → its one variant's id


@pytest.fixture
def store(database, tmp_path, monkeypatch) -> Iterator[Store]:
    """Two products in one category, indexed for search, with REDIS_URL at a private Redis and
    SMTP_URL at a local mail server (so an order's confirmation email is a job with an effect)."""
    with redis_server(tmp_path / "redis") as server, smtp_server() as (smtp_port, mailbox):
        prefix = f"revoque-fault-{uuid.uuid4().hex[:10]}"
        use_settings(
            monkeypatch,
            redis_url=server.url,
            redis_prefix=prefix,
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            meili_url="",
        )
        monkeypatch.setattr(redis_conn, "REDIS_RETRY_AFTER_SECONDS", BREAKER_SECONDS)
        with session_scope(write=True) as session:
            kitchen = add_category(session, "Kitchen")
            kettle = add_product(session, KETTLE, category=kitchen, variants=[({}, 1_250_000, KETTLE_STOCK)])
            board = add_product(session, BOARD, category=kitchen, variants=[({}, 800_000, 5)], featured=True)
            shipping.ensure_default_methods(session)
            pricing.get_store_config(session)
            variants = {KETTLE: variants_of(session, kettle)[0].id, BOARD: variants_of(session, board)[0].id}
        reindex_all()
        yield Store(server, prefix, mailbox, variants)


def browse() -> None:
    """What the home, category, product and search pages load, with what they must show."""
    with session_scope() as session:
        home = catalog.home_sections(session)
        listing = catalog.list_products(session, category_slug="kitchen")
        kettle = catalog.get_product(session, "steel-kettle")
        found = search_products(session, SearchQuery(text="kettle"))
    assert [card.title for card in home.featured] == [BOARD]
    assert {card.title for card in listing.items} == {KETTLE, BOARD}
    assert kettle.title == KETTLE
    assert [card.title for card in found.items] == [KETTLE]


def buy(variant_id: int, quantity: int) -> Order:
    """A guest's way through the cart and checkout pages: add, start checkout, quote, place."""
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        carts.add_item(session, cart, variant_id, quantity)
        cart_id = cart.id
    assert checkout.start_checkout(cart_id) == {}
    with session_scope() as session:
        method_id = shipping.list_active_methods(session)[0].id
        quote = checkout.quote(
            session, session.get(Cart, cart_id), email="ada@example.com", shipping_method_id=method_id
        )
        assert quote.totals.total > 0
    details = CheckoutDetails(
        email="ada@example.com", address=ADDRESS, shipping_method_id=method_id, payment_method="pay_on_delivery"
    )
    return checkout.place_order(cart_id, details)


def sign_up_attempt() -> int:
    """The sign-up rate limit counts this address's attempt; returns the count so far."""
    [count] = rate_limit.record((rate_limit.SIGN_UP_PER_ADDRESS, SHOPPER_ADDRESS))
    return count


def confirmation_of(order: Order) -> OutboxEmail:
    with session_scope() as session:
        return session.exec(select(OutboxEmail).where(OutboxEmail.to == order.email)).all()[-1]


def kettle_in_stock_in_search() -> bool:
    with session_scope() as session:
        page = search_products(session, SearchQuery(text="kettle", filters=SearchFilters(in_stock=True)))
    return page.total > 0


def product_page_queries() -> int:
    with recorded_statements() as statements, session_scope() as session:
        catalog.get_product(session, "steel-kettle")
    return len(statements)


def test_the_store_sells_while_redis_is_down_and_uses_redis_again_when_it_returns(store: Store) -> None:
    browse()  # with Redis: pages are cached there
    client = store.redis.client()
    assert client.keys(f"{store.prefix}:cache:*")

    store.redis.stop()
    browse()
    assert [sign_up_attempt() for _ in range(3)] == [1, 2, 3]  # counted in this process meanwhile
    order = buy(store.variants[KETTLE], KETTLE_STOCK)
    assert order.number

    # The jobs the order queued after its commit ran here instead of being lost: the confirmation
    # went out by SMTP, and the search index learnt that the kettle is sold out.
    wait_until(lambda: len(store.mailbox.messages) == 1, JOB_TIMEOUT_SECONDS, "confirmation email sent")
    assert store.mailbox.messages[0].recipients == [order.email]
    wait_until(lambda: confirmation_of(order).status == "sent", JOB_TIMEOUT_SECONDS, "outbox row marked sent")
    wait_until(lambda: not kettle_in_stock_in_search(), JOB_TIMEOUT_SECONDS, "sold-out kettle reindexed")
    assert product_page_queries() > 0  # no cache: every product page reads the database

    store.redis.start()  # same port, same data as before it stopped
    time.sleep(BREAKER_SECONDS)  # the adapters try Redis again once their pause is over
    wait_until(lambda: product_page_queries() == 0, JOB_TIMEOUT_SECONDS, "product page served from Redis")
    with session_scope() as session:
        assert catalog.get_product(session, "steel-kettle").variants[0].stock == 0  # not the page cached before
    assert client.keys(f"{store.prefix}:cache:*")
    assert client.keys(f"{store.prefix}:rate:*") == []
    assert sign_up_attempt() == 1  # counted in Redis again, shared by every web worker
    assert len(client.keys(f"{store.prefix}:rate:*")) == 1

    second = buy(store.variants[BOARD], 1)
    email_job = Job.fetch(f"{store.prefix}-email-{confirmation_of(second).id}", connection=client)
    assert email_job.get_status() == JobStatus.QUEUED  # waiting in RQ for a worker, not run here
    assert get_queue().status().queued >= 1
    assert len(store.mailbox.messages) == 1


def test_a_frozen_redis_costs_one_timeout_per_adapter_not_one_per_call(store: Store, monkeypatch) -> None:
    """A Redis that accepts connections but never answers: each adapter waits out one socket
    timeout, then leaves Redis alone, so pages and checkout go on at database speed."""
    monkeypatch.setattr(redis_conn, "REDIS_RETRY_AFTER_SECONDS", HANG_GUARD_SECONDS)
    browse()
    pool = redis_client().connection_pool
    tries: list[str] = []
    get_connection = pool.get_connection

    def counting_get_connection(*args, **kwargs):
        tries.append("redis")
        return get_connection(*args, **kwargs)

    monkeypatch.setattr(pool, "get_connection", counting_get_connection)
    store.redis.freeze()
    try:

        def shop() -> Order:
            for _ in range(3):
                browse()
                sign_up_attempt()
            return buy(store.variants[KETTLE], 1)

        order = returns_within(HANG_GUARD_SECONDS, shop)
    finally:
        store.redis.thaw()
    assert len(tries) <= 3  # the cache, the rate counters and the job queue tried once each
    wait_until(lambda: len(store.mailbox.messages) == 1, JOB_TIMEOUT_SECONDS, "confirmation email sent")
    assert store.mailbox.messages[0].recipients == [order.email]


def idle_workers(queue: RQQueue) -> int:
    return sum(worker.get_state() == WorkerStatus.IDLE for worker in Worker.all(queue=queue.queue))


def test_an_idle_worker_waits_out_a_redis_restart_and_runs_the_next_job(tmp_path, monkeypatch) -> None:
    with redis_server(tmp_path / "redis") as server:
        use_settings(
            monkeypatch,
            data_dir=str(tmp_path / "data"),
            database_url=f"sqlite:///{tmp_path / 'store.db'}",
            redis_url=server.url,
            redis_prefix=f"revoque-fault-{uuid.uuid4().hex[:10]}",
        )
        queue = get_queue()
        assert isinstance(queue, RQQueue)
        workers = Workers(tmp_path)
        try:
            worker = workers.start()
            assert queue.enqueue(jobs.echo, "before").result(timeout=JOB_TIMEOUT_SECONDS) == "before"
            wait_until(lambda: idle_workers(queue) == 1, JOB_TIMEOUT_SECONDS, "the worker waits for jobs")

            server.stop()
            wait_until(lambda: "could not connect to Redis" in workers.log(worker), JOB_TIMEOUT_SECONDS, "outage seen")
            server.start()

            assert queue.enqueue(jobs.echo, "after").result(timeout=JOB_TIMEOUT_SECONDS) == "after"
            assert worker.poll() is None  # the same worker, never restarted
        finally:
            workers.kill_all()
