"""Jobs are retried with growing pauses; one that uses up its retries is kept in the database, where
staff can read it and run it again. Both queues: the in-process one and RQ with a real worker."""

from __future__ import annotations

import operator
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from sqlmodel import select

from revoque import jobs
from revoque.adapters import queue as queue_module
from revoque.adapters.queue import FailedRun, InlineQueue, JobFailed, RQQueue, get_queue
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import AuditEntry, FailedJob, Role
from revoque.services import failed_jobs
from tests.conftest import REDIS_URL, reset_caches, use_settings
from tests.support.admin import add_user
from tests.support.recorded_jobs import record_jobs

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def recording(database, monkeypatch):
    """Final failures go to the database, as in the app; the default (log only) comes back after."""
    monkeypatch.setattr(queue_module, "_failure_recorder", queue_module._failure_recorder)
    failed_jobs.install_recorder()
    return database


_CALLS = {"count": 0}


def fails_twice(value: int) -> int:
    """A job (module-level, as jobs must be) whose first two attempts fail."""
    _CALLS["count"] += 1
    if _CALLS["count"] <= 2:
        raise RuntimeError(f"attempt {_CALLS['count']} failed")
    return value * 10


def stored() -> list[FailedJob]:
    with session_scope() as session:
        return list(session.exec(select(FailedJob).order_by(FailedJob.id)))


def test_a_job_that_fails_then_succeeds_is_not_recorded(recording) -> None:
    _CALLS["count"] = 0
    queue = InlineQueue(threads=1, retry_delays=(0.05, 0.05, 0.05))
    assert queue.enqueue(fails_twice, 7).result(timeout=10) == 70
    assert _CALLS["count"] == 3
    assert stored() == []


def test_a_job_that_uses_up_its_retries_is_recorded_once(recording) -> None:
    queue = InlineQueue(threads=1, retry_delays=(0.05, 0.05))
    handle = queue.enqueue(operator.truediv, 1, 0, job_id="divide-by-zero")
    with pytest.raises(JobFailed, match="ZeroDivisionError"):
        handle.result(timeout=10)
    [failed] = stored()
    assert (failed.job_id, failed.function, failed.args, failed.attempts) == (
        "divide-by-zero",
        "_operator.truediv",
        [1, 0],
        3,
    )
    assert "ZeroDivisionError" in failed.error


def test_a_recorder_that_fails_does_not_break_the_queue(monkeypatch, caplog) -> None:
    def broken(_run: FailedRun) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(queue_module, "_failure_recorder", broken)
    handle = InlineQueue(threads=1, retry_delays=()).enqueue(operator.truediv, 1, 0)
    with pytest.raises(JobFailed):
        handle.result(timeout=5)
    assert any("Could not record the failure" in r.getMessage() for r in caplog.records)


def _failed_row(function: str = "revoque.jobs.echo", args: list | None = None) -> int:
    with session_scope(write=True) as session:
        row = FailedJob(job_id="echo-1", function=function, args=args or [5], kwargs={}, error="boom", attempts=4)
        session.add(row)
        session.flush()
        return row.id


def test_staff_run_a_failed_job_again_once_and_it_is_audited(database, monkeypatch) -> None:
    recorded = record_jobs(monkeypatch)
    failed_id = _failed_row()
    with session_scope(write=True) as session:
        staff = add_user(session, "ops@example.com", Role.STAFF.value)
        failed_jobs.retry(session, failed_id, staff)
    [job] = recorded.jobs
    assert (job.func, job.args, job.job_id) == (jobs.echo, (5,), "echo-1")
    with session_scope(write=True) as session:
        row = session.get(FailedJob, failed_id)
        assert row.retried_at is not None and row.retried_by == "ops@example.com"
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "job.retry")).one()
        assert entry.entity_id == str(failed_id)
        with pytest.raises(ValidationError, match="already run again"):
            failed_jobs.retry(session, failed_id, staff)
        with pytest.raises(NotFound):
            failed_jobs.retry(session, failed_id + 100, staff)


@pytest.mark.parametrize("function", ["os.system", "revoque.jobs.__class__", "revoque.services.seed.seed_demo_catalog"])
def test_only_store_jobs_can_be_run_again(database, monkeypatch, function) -> None:
    recorded = record_jobs(monkeypatch)
    failed_id = _failed_row(function, ["rm -rf /"])
    with session_scope(write=True) as session:
        staff = add_user(session, "ops@example.com", Role.STAFF.value)
        with pytest.raises(ValidationError, match="is not a job this store can run again"):
            failed_jobs.retry(session, failed_id, staff)
    assert recorded.jobs == []


def test_waiting_failures_are_listed_newest_first(database) -> None:
    first, second = _failed_row(), _failed_row()
    with session_scope(write=True) as session:
        session.get(FailedJob, first).retried_by = "someone"
        page = failed_jobs.list_failed(session)
        assert [row.id for row in page.items] == [second, first] and page.total == 2
    with session_scope() as session:
        assert failed_jobs.list_failed(session, page=9, page_size=1).page == 2  # clamped


def test_an_rq_worker_records_a_job_that_failed_for_good(database, monkeypatch) -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    prefix = f"revoque-test-{uuid.uuid4().hex[:12]}"
    use_settings(monkeypatch, redis_url=REDIS_URL, redis_prefix=prefix)
    try:
        queue = get_queue()
        assert isinstance(queue, RQQueue)
        queue.queue.enqueue_call(operator.truediv, args=(1, 0), job_id=f"{prefix}-no-retry-left")
        worker = subprocess.run(
            [sys.executable, "-m", "revoque.worker", "--burst"],
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert worker.returncode == 0, worker.stderr
        [failed] = stored()
        assert (failed.job_id, failed.function, failed.args, failed.attempts) == (
            "no-retry-left",
            "_operator.truediv",
            [1, 0],
            1,
        )
    finally:
        for key in client.scan_iter(match=f"*{prefix}*", count=1000):
            client.delete(key)
        reset_caches()
