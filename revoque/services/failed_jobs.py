"""Jobs that used up their retries: kept in the database for staff to read and run again.

The queue adapter reports a ``FailedRun`` when a job's last attempt fails (``record`` is installed
with ``set_failure_recorder`` by the app, the worker and the CLI). Running one again enqueues the
same job function with the same arguments; only functions of ``revoque.jobs`` can be run, whatever
the stored row says, and jobs are idempotent, so a second success changes nothing.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.queue import FailedRun, enqueue_after_commit, set_failure_recorder
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import FailedJob, User
from revoque.models.base import utcnow
from revoque.services import audit

JOB_MODULE = "revoque.jobs."


def install_recorder() -> None:
    """Make this process's queue keep final failures here (called by the app, worker and CLI)."""
    set_failure_recorder(record)


def record(run: FailedRun) -> None:
    """Store a failed run in its own transaction (the job's own work was rolled back or never done)."""
    with session_scope(write=True) as session:
        session.add(
            FailedJob(
                job_id=run.job_id[:200],
                function=run.function[:200],
                args=_plain(list(run.args)),
                kwargs=_plain(dict(run.kwargs)),
                error=run.error[-4000:],
                attempts=run.attempts,
            )
        )


@dataclass(frozen=True)
class FailedJobPage:
    items: list[FailedJob]
    total: int
    page: int
    pages: int


def list_failed(session: Session, page: int = 1, page_size: int = 25, waiting_only: bool = False) -> FailedJobPage:
    """Newest first; ``waiting_only`` hides the ones already run again."""
    statement = select(FailedJob)
    if waiting_only:
        statement = statement.where(col(FailedJob.retried_at).is_(None))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = session.exec(
        statement.order_by(col(FailedJob.failed_at).desc(), col(FailedJob.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return FailedJobPage(list(rows), total, page, pages)


def retry(session: Session, failed_id: int, actor: User) -> FailedJob:
    """Enqueue the job again once ``session`` commits, and note who did it."""
    failed = session.get(FailedJob, failed_id)
    if failed is None:
        raise NotFound("That failed job is not there any more.")
    if failed.retried_at is not None:
        raise ValidationError("That job was already run again; a new failure would be listed separately.")
    job = _job_function(failed.function)
    enqueue_after_commit(session, job, *failed.args, job_id=failed.job_id or None, **failed.kwargs)
    before = {"retried_at": None}
    failed.retried_at, failed.retried_by = utcnow(), actor.email
    session.add(failed)
    audit.record(session, actor, "job.retry", failed, before, {"retried_at": failed.retried_at.isoformat()})
    return failed


def _job_function(dotted: str) -> Any:
    """The job function a stored path names; anything outside revoque.jobs is refused."""
    name = dotted.removeprefix(JOB_MODULE)
    job = getattr(jobs, name, None) if dotted.startswith(JOB_MODULE) and not name.startswith("_") else None
    if not inspect.isfunction(job) or job.__module__ != jobs.__name__:
        raise ValidationError(f"{dotted} is not a job this store can run again.")
    return job


def _plain(value: Any) -> Any:
    """JSON-safe copy of job arguments (they are ids and plain values; anything else becomes text)."""
    return json.loads(json.dumps(value, default=str))
