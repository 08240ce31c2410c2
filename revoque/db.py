"""One engine per process and a session scope shared by services, jobs, pages and the CLI."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session

from revoque.errors import ConfigError
from revoque.settings import get_settings

SQLITE_IMMEDIATE = "sqlite_immediate"

# libpq settings that bound how long a request can wait on a PostgreSQL that is gone: a new
# connection gives up after 5 s (instead of never, libpq's default, when the host stops answering),
# and a connection whose server vanished mid-query (no ACKs, no keepalive replies) is dropped after
# about 30 s instead of after the kernel's ~15 minutes. A restart that closes connections is
# handled by ``pool_pre_ping`` below. The same names in DATABASE_URL's query string win.
POSTGRES_CONNECT_ARGS: dict[str, int] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers run beside one writer; the busy timeout makes writers queue, not fail.

    The driver's own implicit BEGIN is switched off so that ``_sqlite_begin`` decides the mode."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    """Writers that read-then-write take the write lock up front (BEGIN IMMEDIATE): a deferred
    transaction that later upgrades to a writer fails at once with "database is locked" instead of
    waiting its turn. Read-only work stays deferred so readers never queue behind writers."""
    immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def build_engine(url: str) -> Engine:
    """Create an engine for ``url``, raising ConfigError that names DATABASE_URL if it is malformed."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL is not a valid database URL: {url!r}") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        connect_args = {key: value for key, value in POSTGRES_CONNECT_ARGS.items() if key not in parsed.query}
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10, connect_args=connect_args
        )
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"DATABASE_URL names a database this store cannot use ({parsed.drivername}); "
            "use sqlite:///path or postgresql://user@host/db"
        ) from exc


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine() -> Engine:
    """The engine for the configured DATABASE_URL: one per URL per process, created on first use."""
    url = get_settings().sqlalchemy_url
    engine = _ENGINES.get(url)
    if engine is None:
        with _ENGINES_LOCK:
            engine = _ENGINES.get(url) or build_engine(url)
            _ENGINES[url] = engine
    return engine


def check_database(engine: Engine | None = None) -> None:
    """Fail fast with one clear message when the database cannot be reached."""
    engine = engine or get_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            f"DATABASE_URL points at a database that cannot be reached "
            f"({engine.url.render_as_string(hide_password=True)}): {reason}"
        ) from exc


@contextmanager
def session_scope(write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    ``write=True`` is for transactions that read rows and then change them based on what they read
    (stock, carts, orders): on SQLite they start as immediate transactions, so concurrent writers
    queue instead of failing; on PostgreSQL such code takes row locks with ``with_for_update``."""
    engine = get_engine()
    bind = engine.execution_options(**{SQLITE_IMMEDIATE: True}) if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upgrade_database(revision: str = "head") -> None:
    """Apply alembic migrations to the configured database (the app itself never creates tables)."""
    from alembic import command
    from alembic.config import Config

    from revoque.settings import PROJECT_ROOT

    check_database()
    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), revision)


def reset_engines() -> None:
    """Close pooled connections and forget the engines (after DATABASE_URL changes, in tests)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
