"""Shared fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL.

PostgreSQL runs on 127.0.0.1:5432 with trust auth (scripts/services.sh makes sure of it). Each test
gets its own database cloned from a migrated template, so runs never collide and stay fast.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from revoque.db import reset_engines, upgrade_database
from revoque.settings import get_settings

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_KINDS = ["sqlite", "postgresql"]


def pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def drop_pg_database(name: str) -> None:
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def use_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """Point the app at new settings (env vars) and drop everything cached from the old ones."""
    for key, value in env.items():
        monkeypatch.setenv(key.upper(), value)
    reset_caches()


def reset_caches() -> None:
    from revoque.adapters.cache import get_cache
    from revoque.adapters.counters import get_counters
    from revoque.adapters.llm import get_llm
    from revoque.adapters.queue import get_queue
    from revoque.adapters.search import get_search_engine
    from revoque.adapters.storage import get_storage
    from revoque.adapters.vectors import get_vector_store

    reset_engines()
    get_settings.cache_clear()
    get_storage.cache_clear()
    get_cache.cache_clear()
    get_counters.cache_clear()
    get_queue.cache_clear()
    get_search_engine.cache_clear()
    get_llm.cache_clear()
    get_vector_store.cache_clear()  # the embedder stays: same model, and loading it takes seconds


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are cloned from."""
    name = f"revoque_tpl_{uuid.uuid4().hex[:10]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    mp = pytest.MonkeyPatch()
    try:
        use_settings(mp, database_url=pg_url(name))
        upgrade_database()
        reset_engines()
    finally:
        mp.undo()
        reset_caches()
    yield name
    drop_pg_database(name)


@pytest.fixture(params=DATABASE_KINDS)
def database(request, tmp_path, monkeypatch) -> Iterator[str]:
    """A fresh migrated database of each kind; yields its kind ("sqlite" or "postgresql")."""
    use_settings(monkeypatch, data_dir=str(tmp_path / "data"))
    if request.param == "sqlite":
        use_settings(monkeypatch, database_url=f"sqlite:///{tmp_path / 'test.db'}")
        upgrade_database()
        yield "sqlite"
        reset_caches()
        return
    template = request.getfixturevalue("pg_template")
    name = f"revoque_t_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    use_settings(monkeypatch, database_url=pg_url(name))
    yield "postgresql"
    reset_caches()
    drop_pg_database(name)


@pytest.fixture(scope="session")
def embedder():
    """The real packaged model, loaded once per test session: loading torch takes seconds. The
    services reach the same instance through get_embedder(), which test settings changes keep."""
    from revoque.adapters.embedder import get_embedder

    embedder = get_embedder()
    assert embedder.dimension == 384
    return embedder
