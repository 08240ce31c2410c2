"""PostgreSQL restarted or unreachable mid-run: requests fail with a clear error in bounded time while
it is gone, and the next request after it returns works, with no restart of the store.

A TCP proxy (tests/support/tcp_proxy.py) stands between the store and the shared PostgreSQL, so a
test can drop every connection and refuse new ones (a restart), or leave new ones unanswered (a host
that stopped responding); ``pg_terminate_backend`` ends the test database's sessions the way a real
restart or failover does. The shared server itself is never stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from revoque.api import build_api
from revoque.db import POSTGRES_CONNECT_ARGS, check_database, get_engine, session_scope
from revoque.errors import ConfigError
from revoque.services import carts, catalog
from revoque.settings import get_settings
from tests.conftest import PG_ADMIN_URL, use_settings
from tests.factories import add_category, add_product, variants_of
from tests.support.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.waiting import returns_within

HANG_GUARD_SECONDS = 30.0  # well above revoque.db's 5 s connect timeout; without one these calls never end
POOLED = 3

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@pytest.fixture
def variant_id(database, monkeypatch) -> int:
    """A product to put in carts; the cache is off (TTL 0) so every read goes to the database."""
    use_settings(monkeypatch, cache_ttl_seconds="0", redis_url="")
    with session_scope(write=True) as session:
        product = add_product(session, "Steel Kettle", category=add_category(session, "Kitchen"))
        return variants_of(session, product)[0].id


@pytest.fixture
def proxy(variant_id, monkeypatch) -> Iterator[TcpProxy]:
    """DATABASE_URL through a proxy in front of the shared PostgreSQL."""
    direct = make_url(get_settings().database_url)
    with tcp_proxy(direct.host or "127.0.0.1", direct.port or 5432) as running:
        use_settings(monkeypatch, database_url=direct.set(port=running.port).render_as_string(hide_password=False))
        yield running


def shop(variant_id: int) -> int:
    """A write and a read, as adding to the cart and opening a category page do; returns the
    number of products listed."""
    with session_scope(write=True) as session:
        carts.add_item(session, carts.open_cart(session, token=carts.new_token()), variant_id, 1)
    with session_scope() as session:
        return len(catalog.list_products(session, category_slug="kitchen").items)


def fill_pool(count: int = POOLED) -> None:
    """Leave ``count`` open connections idle in the engine's pool, as after a busy moment."""
    engine = get_engine()
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(engine.connect()).execute(text("SELECT 1"))
    assert engine.pool.checkedin() == count


def health_status() -> tuple[int, str]:
    with TestClient(build_api()) as client:
        response = client.get("/api/health")
    return response.status_code, response.json()["status"]


def connection_parameters() -> dict[str, str]:
    """The libpq settings of a connection the store's engine opens."""
    with get_engine().connect() as conn:
        return conn.connection.dbapi_connection.info.get_parameters()


def test_timeouts_reach_libpq_and_database_url_can_change_them(variant_id: int, monkeypatch) -> None:
    assert {key: connection_parameters()[key] for key in POSTGRES_CONNECT_ARGS} == {
        key: str(value) for key, value in POSTGRES_CONNECT_ARGS.items()
    }
    use_settings(monkeypatch, database_url=f"{get_settings().database_url}?connect_timeout=9")
    assert connection_parameters()["connect_timeout"] == "9"


def test_idle_pooled_connections_survive_a_restart(variant_id: int, proxy: TcpProxy) -> None:
    fill_pool()
    assert proxy.connections == POOLED

    proxy.cut()  # the server restarts while nothing is running: every pooled connection is dead
    proxy.restore()

    assert returns_within(HANG_GUARD_SECONDS, lambda: shop(variant_id)) == 1  # first try, no error
    assert proxy.connections >= 1  # new connections replaced the dead ones


def test_while_postgresql_is_down_requests_fail_at_once_and_work_again_after(variant_id: int, proxy: TcpProxy) -> None:
    fill_pool()
    proxy.cut()

    with pytest.raises(OperationalError, match="Connection refused"):
        returns_within(HANG_GUARD_SECONDS, lambda: shop(variant_id))
    with pytest.raises(ConfigError, match="DATABASE_URL points at a database that cannot be reached"):
        check_database()
    assert health_status() == (503, "down")

    proxy.restore()
    assert returns_within(HANG_GUARD_SECONDS, lambda: shop(variant_id)) == 1
    assert health_status()[0] == 200


def test_a_server_that_stops_answering_fails_requests_after_the_connect_timeout(
    variant_id: int, proxy: TcpProxy
) -> None:
    fill_pool()
    proxy.silence()  # connections are accepted and never answered

    with pytest.raises(OperationalError, match="connection timeout expired"):
        returns_within(HANG_GUARD_SECONDS, lambda: shop(variant_id))

    proxy.restore()
    assert returns_within(HANG_GUARD_SECONDS, lambda: shop(variant_id)) == 1


def terminate_sessions(database_name: str) -> int:
    """What a PostgreSQL restart or failover does to the store's connections: end every session."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database_name,),
        ).fetchall()
    return len(rows)


def test_sessions_ended_by_the_server_fail_the_request_in_flight_only(variant_id: int) -> None:
    fill_pool()
    database_name = make_url(get_settings().database_url).database or ""
    with pytest.raises(OperationalError), session_scope() as session:
        session.execute(text("SELECT 1"))  # a request in the middle of its transaction...
        assert terminate_sessions(database_name) == POOLED  # ...when the server ends every session
        session.execute(text("SELECT 1"))

    assert returns_within(HANG_GUARD_SECONDS, lambda: shop(variant_id)) == 1  # the pool recovered
