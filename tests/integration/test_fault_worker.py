"""An RQ worker killed mid-job loses nothing: the job runs again to completion, and because jobs are
idempotent its effect happens once. Real ``python -m revoque.worker`` processes (not burst) against a
private Redis and PostgreSQL, with a local SMTP server as the effect: the job mails an outbox email
and then hangs on its first attempt, which is when the test kills.

Two deaths: the job's process alone (as the kernel's out-of-memory killer does; the worker sees it
and retries the job after RQ's first retry pause), and the whole worker with its job and scheduler
(a machine lost, a container killed; the next worker notices the job's heartbeat stopped).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rq.job import Job, JobStatus

from revoque.adapters.queue import JobHandle, get_queue
from revoque.db import session_scope
from revoque.models import OutboxEmail
from tests.conftest import use_settings
from tests.support import worker_jobs
from tests.support.redis_server import RedisServer, redis_server
from tests.support.rq_workers import Workers, job_process, kill_tree
from tests.support.smtp_server import Mailbox, smtp_server
from tests.support.waiting import wait_until

START_TIMEOUT_SECONDS = 30.0  # a worker imports the store and forks the job's process
RERUN_TIMEOUT_SECONDS = 50.0  # revoque.worker: silent after 15 s, noticed within 10 s more
CUSTOMER = "ada@example.com"

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # as deployed with RQ


@dataclass(frozen=True)
class Setup:
    redis: RedisServer
    mailbox: Mailbox
    attempts_file: Path
    logs: Path


@pytest.fixture
def setup(database, tmp_path, monkeypatch) -> Iterator[Setup]:
    with redis_server(tmp_path / "redis") as server, smtp_server() as (smtp_port, mailbox):
        use_settings(
            monkeypatch,
            redis_url=server.url,
            redis_prefix=f"revoque-fault-{uuid.uuid4().hex[:10]}",
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        )
        logs = tmp_path / "logs"
        logs.mkdir()
        yield Setup(server, mailbox, tmp_path / "attempts.log", logs)


@pytest.fixture
def workers(setup: Setup) -> Iterator[Workers]:
    started = Workers(setup.logs)
    try:
        yield started
    finally:
        started.kill_all()


def queued_email() -> int:
    with session_scope(write=True) as session:
        email = OutboxEmail(to=CUSTOMER, subject="Your order", body_text="Thank you for your order.")
        session.add(email)
        session.flush()
        return email.id


def email_status(email_id: int) -> str:
    with session_scope() as session:
        return session.get(OutboxEmail, email_id).status


def enqueue_hanging_email(setup: Setup, email_id: int) -> JobHandle:
    """Queue the job and wait until its first attempt has mailed and hangs."""
    handle = get_queue().enqueue(
        worker_jobs.deliver_email_then_hang_once, email_id, str(setup.attempts_file), job_id=f"email-{email_id}"
    )
    marker = worker_jobs.hanging_marker(setup.attempts_file)
    wait_until(marker.exists, START_TIMEOUT_SECONDS, "the first attempt mailed and hangs")
    assert len(setup.mailbox.messages) == 1
    return handle


def assert_ran_twice_and_mailed_once(setup: Setup, email_id: int) -> None:
    assert worker_jobs.attempts(setup.attempts_file) == 2
    assert [message.recipients for message in setup.mailbox.messages] == [[CUSTOMER]]
    assert email_status(email_id) == "sent"


def test_a_killed_job_process_is_retried_by_its_worker(setup: Setup, workers: Workers) -> None:
    email_id = queued_email()
    worker = workers.start()
    handle = enqueue_hanging_email(setup, email_id)

    os.kill(job_process(worker), signal.SIGKILL)

    assert handle.result(timeout=RERUN_TIMEOUT_SECONDS) is None
    assert_ran_twice_and_mailed_once(setup, email_id)
    assert worker.poll() is None  # the worker itself carried on


def test_a_job_whose_worker_died_runs_again_on_the_next_worker(setup: Setup, workers: Workers) -> None:
    email_id = queued_email()
    first = workers.start()
    handle = enqueue_hanging_email(setup, email_id)

    kill_tree(first)
    job = Job.fetch(handle.id, connection=setup.redis.client())
    assert job.get_status() == JobStatus.STARTED  # abandoned: nobody is left to finish or fail it

    workers.start()
    assert handle.result(timeout=RERUN_TIMEOUT_SECONDS) is None
    assert_ran_twice_and_mailed_once(setup, email_id)
