"""Browser fixtures: the prod build served on a free port, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlmodel import Session

from revoque.db import build_engine
from tests.conftest import REDIS_URL, drop_pg_database, pg_admin, pg_url
from tests.support.server import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, RunningStore, running_store

ARTIFACTS = PROJECT_ROOT / "test-results" / "e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright must never download a browser of its own."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", params=["sqlite", "postgresql+redis"])
def store(request, tmp_path_factory) -> Iterator[RunningStore]:
    data_dir = tmp_path_factory.mktemp("store-data")
    env = {"DATA_DIR": str(data_dir), "STORE_NAME": "Revoque"}
    pg_name = None
    if request.param == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'store.db'}"
        env["REDIS_URL"] = ""
    else:
        pg_name = f"revoque_e2e_{uuid.uuid4().hex[:10]}"
        pg_admin(f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = pg_url(pg_name)
        env["REDIS_URL"] = REDIS_URL
        env["REDIS_PREFIX"] = f"revoque-e2e-{uuid.uuid4().hex[:8]}"
    try:
        with running_store(env, ARTIFACTS / "logs") as running:
            yield running
    finally:
        if pg_name:
            drop_pg_database(pg_name)


@pytest.fixture
def store_db(store) -> Iterator[Session]:
    """A read-only look at the store's database, to check what the browser shows against it."""
    engine = build_engine(store.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def shot(store, request):
    """Save a full-page screenshot named after the test, the store kind and the step."""
    kind = request.node.callspec.params.get("store", "store").replace("+", "-")

    def take(page, name: str) -> Path:
        path = ARTIFACTS / "screenshots" / f"{kind}-{request.node.originalname}-{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # let lazy images load
        # a page that keeps a request open (an email preview frame) is shot as it is
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_load_state("networkidle", timeout=10_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
