"""Jobs through real Redis and a real RQ worker (the ``python -m revoque.worker`` CLI), the
in-process queue, enqueue-after-commit, the Redis cache, and the /api/health and /media routes.

Redis must be running (CI starts it); these tests fail rather than skip when it is not. Each test
uses its own key prefix and removes its keys afterwards.
"""

from __future__ import annotations

import logging
import operator
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus
from sqlalchemy import text
from sqlmodel import Session, create_engine
from starlette.testclient import TestClient

from revoque import jobs
from revoque.adapters import queue as queue_module
from revoque.adapters.cache import RedisCache, get_cache
from revoque.adapters.queue import (
    InlineQueue,
    JobFailed,
    RQQueue,
    enqueue_after_commit,
    get_queue,
)
from revoque.adapters.storage import get_storage
from revoque.api import build_api
from revoque.settings import get_settings
from tests.conftest import PG_ADMIN_URL as POSTGRES_URL
from tests.conftest import REDIS_URL, reset_caches

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
WORKER_TIMEOUT_SECONDS = 60


def _reset_cached_singletons() -> None:
    """Settings and everything built from them are cached per process; tests change the env."""
    reset_caches()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """An embedded-mode store in a temp folder; tests add REDIS_URL etc. then call reset()."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    _reset_cached_singletons()
    yield monkeypatch
    _reset_cached_singletons()


@pytest.fixture
def redis_prefix(env: pytest.MonkeyPatch) -> Iterator[str]:
    """REDIS_URL at the test Redis with a prefix of this test's own; its keys are deleted after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required for these tests and is not reachable at {REDIS_URL}: {exc}")
    prefix = f"revoque-test-{uuid.uuid4().hex[:12]}"
    env.setenv("REDIS_URL", REDIS_URL)
    env.setenv("REDIS_PREFIX", prefix)
    _reset_cached_singletons()
    yield prefix
    _delete_keys(client, prefix)


def _delete_keys(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.srem("rq:queues", f"rq:queue:{prefix}:default")


def _rq_queue() -> RQQueue:
    queue = get_queue()
    assert isinstance(queue, RQQueue)
    return queue


def _run_worker_burst() -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process with this test's environment (REDIS_URL, REDIS_PREFIX)."""
    result = subprocess.run(
        [sys.executable, "-m", "revoque.worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    return result


# --- RQ through the worker CLI ---------------------------------------------------------------


def test_worker_cli_runs_enqueued_jobs(redis_prefix: str) -> None:
    queue = _rq_queue()
    first = queue.enqueue(jobs.echo, {"order": 42, "total_kobo": 1250000})
    second = queue.enqueue(jobs.echo, value="keyword")
    assert first.id.startswith(redis_prefix)
    assert queue.status().queued == 2

    _run_worker_burst()

    assert first.result(timeout=5) == {"order": 42, "total_kobo": 1250000}
    assert second.result(timeout=5) == "keyword"
    assert queue.status().queued == 0


def test_job_id_deduplicates_pending_work_and_allows_a_rerun_after(redis_prefix: str) -> None:
    queue = _rq_queue()
    first = queue.enqueue(jobs.echo, "first", job_id="reindex-product-7")
    again = queue.enqueue(jobs.echo, "second", job_id="reindex-product-7")
    assert again.id == first.id
    assert queue.status().queued == 1

    _run_worker_burst()
    assert again.result(timeout=5) == "first"

    rerun = queue.enqueue(jobs.echo, "third", job_id="reindex-product-7")
    assert queue.status().queued == 1
    _run_worker_burst()
    assert rerun.result(timeout=5) == "third"


def test_failing_job_is_scheduled_for_retry(redis_prefix: str) -> None:
    queue = _rq_queue()
    handle = queue.enqueue(operator.truediv, 1, 0)

    _run_worker_burst()

    job = Job.fetch(handle.id, connection=queue.connection)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 2
    assert job.retry_intervals == [5, 30, 120]
    with pytest.raises(TimeoutError):
        handle.result(timeout=0.1)


def test_failed_job_reports_its_error(redis_prefix: str) -> None:
    queue = _rq_queue()
    job = queue.queue.enqueue_call(operator.truediv, args=(1, 0), job_id=f"{redis_prefix}-no-retry")
    _run_worker_burst()
    with pytest.raises(JobFailed, match="ZeroDivisionError"):
        queue_module.RQJobHandle(job).result(timeout=5)


def test_status_counts_live_workers_only(redis_prefix: str) -> None:
    queue = _rq_queue()
    assert queue.status().workers == 0
    queue.connection.sadd(f"rq:workers:{queue.queue.name}", f"rq:worker:{redis_prefix}-crashed")
    assert queue.status().workers == 0


def test_worker_without_redis_url_explains_and_exits_2(env: pytest.MonkeyPatch) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "revoque.worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_SECONDS,
    )
    assert result.returncode == 2
    assert "REDIS_URL is not set" in result.stderr
    assert "no worker is needed" in result.stderr


def test_jobs_must_be_importable_and_ids_simple(redis_prefix: str) -> None:
    queue = _rq_queue()
    with pytest.raises(TypeError):
        queue.enqueue(lambda: None)
    with pytest.raises(ValueError, match="may only contain"):
        queue.enqueue(jobs.echo, 1, job_id="has:colon")
    assert queue.status().queued == 0


# --- enqueue after commit --------------------------------------------------------------------


@pytest.fixture
def sqlite_session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_enqueue_after_commit_waits_for_the_commit(redis_prefix: str, sqlite_session: Session) -> None:
    queue = _rq_queue()
    sqlite_session.execute(text("SELECT 1"))
    enqueue_after_commit(sqlite_session, jobs.echo, "paid", job_id="order-1-paid")
    sqlite_session.flush()
    assert queue.status().queued == 0

    sqlite_session.commit()

    assert queue.status().queued == 1
    assert queue.connection.exists(f"rq:job:{redis_prefix}-order-1-paid")
    sqlite_session.commit()
    assert queue.status().queued == 1

    enqueue_after_commit(sqlite_session, jobs.echo, "next")  # no transaction yet: joins the next one
    sqlite_session.commit()
    assert queue.status().queued == 2


def test_enqueue_after_commit_drops_jobs_on_rollback(redis_prefix: str, sqlite_session: Session) -> None:
    queue = _rq_queue()
    sqlite_session.execute(text("SELECT 1"))
    enqueue_after_commit(sqlite_session, jobs.echo, "rolled back")
    sqlite_session.rollback()
    sqlite_session.commit()

    sqlite_session.execute(text("SELECT 1"))
    enqueue_after_commit(sqlite_session, jobs.echo, "closed without commit")
    sqlite_session.close()
    sqlite_session.commit()

    assert queue.status().queued == 0


def test_enqueue_after_commit_respects_savepoints(redis_prefix: str, sqlite_session: Session) -> None:
    queue = _rq_queue()
    sqlite_session.execute(text("SELECT 1"))
    enqueue_after_commit(sqlite_session, jobs.echo, "outer")
    with sqlite_session.begin_nested():
        enqueue_after_commit(sqlite_session, jobs.echo, "released savepoint")
    assert queue.status().queued == 0  # releasing a savepoint commits nothing

    savepoint = sqlite_session.begin_nested()
    enqueue_after_commit(sqlite_session, jobs.echo, "rolled back savepoint")
    savepoint.rollback()
    sqlite_session.commit()

    values = sorted(job.args[0] for job in queue.queue.get_jobs())
    assert values == ["outer", "released savepoint"]


def test_enqueue_after_commit_runs_inline_jobs(env: pytest.MonkeyPatch, sqlite_session: Session) -> None:
    queue = get_queue()
    assert isinstance(queue, InlineQueue)
    gate = threading.Event()
    sqlite_session.execute(text("SELECT 1"))
    enqueue_after_commit(sqlite_session, gate.set)
    assert not gate.wait(0.2)
    sqlite_session.commit()
    assert gate.wait(5)


# --- the inline queue ------------------------------------------------------------------------


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_inline_queue_runs_jobs_in_a_thread() -> None:
    queue = InlineQueue(threads=2)
    assert queue.enqueue(jobs.echo, [1, 2]).result(timeout=5) == [1, 2]
    assert queue.enqueue(threading.current_thread).result(timeout=5).name.startswith("revoque-job")


def test_inline_queue_logs_and_reports_failures(caplog: pytest.LogCaptureFixture) -> None:
    queue = InlineQueue(threads=1, retry_delays=())  # retries: tests/integration/test_failed_jobs.py
    with caplog.at_level(logging.ERROR, logger="revoque.adapters.queue"):
        handle = queue.enqueue(operator.truediv, 1, 0)
        with pytest.raises(JobFailed, match="ZeroDivisionError"):
            handle.result(timeout=5)
    assert any("failed" in record.getMessage() and record.exc_info for record in caplog.records)


def test_inline_queue_deduplicates_and_counts_waiting_jobs() -> None:
    queue = InlineQueue(threads=1)
    gate = threading.Event()
    running = queue.enqueue(gate.wait, 5, job_id="blocker")
    _wait_until(lambda: queue.status().queued == 0)  # the blocker holds the only thread
    waiting = queue.enqueue(jobs.echo, "waiting", job_id="same-work")
    duplicate = queue.enqueue(jobs.echo, "duplicate", job_id="same-work")
    assert duplicate is waiting
    assert queue.status().queued == 1
    assert queue.status().workers == 1

    gate.set()
    assert running.result(timeout=5) is True
    assert waiting.result(timeout=5) == "waiting"
    assert queue.status().queued == 0
    assert queue.enqueue(jobs.echo, "again", job_id="same-work").result(timeout=5) == "again"


def test_inline_queue_result_times_out() -> None:
    queue = InlineQueue(threads=1)
    gate = threading.Event()
    handle = queue.enqueue(gate.wait, 5)
    with pytest.raises(TimeoutError):
        handle.result(timeout=0.05)
    gate.set()


# --- the Redis cache -------------------------------------------------------------------------


def test_redis_cache_round_trip_under_the_prefix(redis_prefix: str) -> None:
    cache = get_cache()
    assert isinstance(cache, RedisCache)
    cache.set("product:1", {"title": "Kettle"}, ttl=60)
    assert cache.get("product:1") == {"title": "Kettle"}
    client = redis.Redis.from_url(REDIS_URL)
    assert 0 < client.ttl(f"{redis_prefix}:cache:product:1") <= 60
    assert cache.get_or_set("product:1", 60, lambda: "not loaded") == {"title": "Kettle"}
    cache.delete("product:1")
    assert cache.get("product:1") is None


# --- /api/health and /media ------------------------------------------------------------------


def _get_health(query: str = "") -> tuple[int, dict]:
    with TestClient(build_api()) as client:
        response = client.get("/api/health" + query)
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


def test_health_embedded_mode_is_ok(env: pytest.MonkeyPatch) -> None:
    code, body = _get_health("?deep=1")
    assert code == 200
    assert body["status"] == "ok"
    assert body["database"] == {"backend": "sqlite", "ok": True}
    assert body["redis"] == {"configured": False}
    assert body["workers"]["mode"] == "inline"
    assert body["workers"]["count"] == get_settings().job_threads
    assert body["workers"]["round_trip"]["ok"] is True
    assert body["version"]


def test_health_on_postgresql(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", POSTGRES_URL)
    _reset_cached_singletons()
    code, body = _get_health()
    assert code == 200
    assert body["database"] == {"backend": "postgresql", "ok": True}


def test_health_with_redis_down_is_degraded(env: pytest.MonkeyPatch) -> None:
    env.setenv("REDIS_URL", DEAD_REDIS_URL)
    _reset_cached_singletons()
    code, body = _get_health()
    assert code == 200
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["redis"] == {"configured": True, "ok": False, "error": "ConnectionError"}
    assert body["workers"]["mode"] == "rq"
    assert body["workers"]["ok"] is False


def test_health_with_redis_and_no_worker_is_degraded(redis_prefix: str) -> None:
    code, body = _get_health()
    assert code == 200
    assert body["status"] == "degraded"
    assert body["redis"] == {"configured": True, "ok": True}
    assert body["workers"] == {"mode": "rq", "ok": False, "count": 0, "queued": 0}


def test_health_with_database_down_is_503(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/postgres")
    _reset_cached_singletons()
    code, body = _get_health()
    assert code == 503
    assert body["status"] == "down"
    assert body["database"]["ok"] is False
    assert body["database"]["backend"] == "postgresql"
    assert "127.0.0.1" not in body["database"]["error"]


def test_media_serves_stored_files_with_caching(env: pytest.MonkeyPatch) -> None:
    get_storage().put("products/kettle.jpg", b"\xff\xd8jpeg-bytes", "image/jpeg")
    with TestClient(build_api()) as client:
        response = client.get("/media/products/kettle.jpg")
    assert response.status_code == 200
    assert response.content == b"\xff\xd8jpeg-bytes"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "public, max-age=86400"


@pytest.mark.parametrize(
    "path",
    [
        "/media/products/missing.jpg",
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/products/..%2F..%2Fstore.db",
        "/media/%2Fetc%2Fpasswd",
        "/media/Products/KETTLE.JPG",
        "/media/products",
    ],
)
def test_media_refuses_missing_and_invalid_keys(env: pytest.MonkeyPatch, path: str) -> None:
    get_storage().put("products/kettle.jpg", b"jpeg", "image/jpeg")
    with TestClient(build_api()) as client:
        response = client.get(path)
    assert response.status_code == 404
