"""Background jobs: RQ on Redis when REDIS_URL is set, else a thread pool in this process.

Callers see one interface and the same job functions (module-level functions in revoque.jobs) in
both modes. Jobs are enqueued after the transaction that produced their data commits
(``enqueue_after_commit``), so a worker never reads rows that are not there yet or were rolled back.
A ``job_id`` names the work ("reindex-product-42"): while a job with that id is waiting or running,
enqueueing it again returns the existing job instead of queueing the same work twice.

A failing job is retried after 5, 30 and 120 seconds in both modes (RQ's scheduler, or timers in
this process). When Redis cannot take a job (down, unreachable, refusing writes), ``RQQueue`` runs
it in this process instead, with the same retries, and leaves Redis alone for a few seconds before
trying it again: work committed during an outage is done, not lost, and no request waits on Redis
more than once per few seconds. When the last attempt fails, the queue hands a ``FailedRun`` to the recorder the
process installed with ``set_failure_recorder`` (the app, the worker and the CLI install
``revoque.services.failed_jobs.record``, which keeps it for staff to read and retry).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal, Protocol

import redis
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from revoque.adapters.redis_conn import RedisOutage, redacted_url, redis_client
from revoque.errors import RevoqueError
from revoque.settings import get_settings

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
RESULT_POLL_SECONDS = 0.05
RETRY_DELAYS_SECONDS = (5, 30, 120)
_PENDING_STATUSES = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.STARTED}
_FAILED_STATUSES = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")
_NOT_JOB_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


class JobFailed(RevoqueError):
    """A job raised (after its retries) or was stopped; the message says why."""


@dataclass(frozen=True)
class FailedRun:
    """A job whose every attempt failed: enough to show it and to enqueue it again."""

    job_id: str  # the id it was enqueued with (without REDIS_PREFIX), or a generated one
    function: str  # dotted path of the job function
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    error: str  # the last exception with the end of its traceback
    attempts: int


def _log_failure(run: FailedRun) -> None:
    log.error("Job %s (%s) failed after %d attempts: %s", run.job_id, run.function, run.attempts, run.error)


_failure_recorder: Callable[[FailedRun], None] = _log_failure


def set_failure_recorder(recorder: Callable[[FailedRun], None]) -> None:
    """Where jobs that used up their retries are reported (by default, only the log)."""
    global _failure_recorder
    _failure_recorder = recorder


def report_final_failure(run: FailedRun) -> None:
    """Hand a failed run to the recorder; a recorder that fails itself is logged, never raised into
    the queue's machinery."""
    try:
        _failure_recorder(run)
    except Exception:
        log.exception("Could not record the failure of job %s (%s)", run.job_id, run.function)


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-6:])[-4000:]


def _dotted(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


@dataclass(frozen=True)
class QueueStatus:
    """What the health check reports: who runs jobs and how many are waiting."""

    mode: Literal["inline", "rq"]
    workers: int
    queued: int


class JobHandle(Protocol):
    """A submitted job: its id and a way to wait for its return value."""

    @property
    def id(self) -> str: ...

    def result(self, timeout: float = 30.0) -> Any:
        """The job's return value; raises JobFailed if it failed, TimeoutError if not done in time."""
        ...


class JobQueue(Protocol):
    mode: Literal["inline", "rq"]

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any) -> JobHandle:
        """Run ``func(*args, **kwargs)`` in the background; ``job_id`` deduplicates pending work."""
        ...

    def status(self) -> QueueStatus: ...


def queue_name(name: str = DEFAULT_QUEUE) -> str:
    """RQ queue names carry REDIS_PREFIX so several stores (or test runs) can share one Redis."""
    return f"{get_settings().redis_prefix}:{name}"


def _check_job(func: Callable[..., Any], job_id: str | None) -> None:
    """Apply RQ's limits in both modes, so code that would only work inline never reaches
    production: workers import jobs by dotted name (no lambdas or closures), and RQ job ids are
    letters, digits, dashes and underscores."""
    qualname = getattr(func, "__qualname__", "")
    if not getattr(func, "__module__", None) or not qualname or "<" in qualname:
        raise TypeError(f"Jobs must be module-level functions (see revoque.jobs), got {func!r}")
    if job_id is not None and not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"Job id {job_id!r} may only contain letters, digits, '-' and '_'")


class RQJobHandle:
    def __init__(self, job: Job) -> None:
        self._job = job

    @property
    def id(self) -> str:
        return self._job.id

    def result(self, timeout: float = 30.0) -> Any:
        # Polls rather than blocking on the result stream: the shared client's read timeout is short.
        deadline = time.monotonic() + timeout
        while True:
            status = self._job.get_status(refresh=True)
            if status == JobStatus.FINISHED:
                return self._job.return_value(refresh=True)
            if status in _FAILED_STATUSES:
                latest = self._job.latest_result()
                reason = latest.exc_string if latest and latest.exc_string else status.value
                raise JobFailed(f"Job {self.id} failed: {reason}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Job {self.id} did not finish within {timeout:g}s (status {status.value})")
            time.sleep(RESULT_POLL_SECONDS)


class RQQueue:
    """Jobs in Redis for any number of ``python -m revoque.worker`` processes; a failing job is
    retried three times with growing pauses (the worker runs RQ's scheduler for the pauses).
    While Redis cannot take jobs, ``fallback`` (this process's thread pool) runs them."""

    mode: Literal["inline", "rq"] = "rq"
    retry = Retry(max=len(RETRY_DELAYS_SECONDS), interval=list(RETRY_DELAYS_SECONDS))

    def __init__(self, connection: redis.Redis, name: str, id_prefix: str, fallback: JobQueue) -> None:
        self.connection = connection
        self.queue = Queue(name, connection=connection)
        self._id_prefix = _NOT_JOB_ID_CHARS.sub("-", id_prefix)
        self._fallback = fallback
        # While Redis cannot take jobs they run in this process. A timeout may hide an enqueue Redis
        # did receive; then the job runs twice, which jobs allow (they are idempotent).
        self._outage = RedisOutage(
            f"Redis at {redacted_url(get_settings().redis_url)} cannot take jobs, running them in this process",
            "Redis takes jobs again",
        )

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any) -> JobHandle:
        _check_job(func, job_id)
        if not self._outage.skipping():
            try:
                handle = self._enqueue_in_redis(func, args, kwargs, job_id)
            except redis.RedisError as exc:
                self._outage.failed(exc)
            else:
                self._outage.recovered()
                return handle
        return self._fallback.enqueue(func, *args, job_id=job_id, **kwargs)

    def _enqueue_in_redis(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], job_id: str | None
    ) -> JobHandle:
        if job_id is None:
            return RQJobHandle(self._enqueue(func, args, kwargs, job_id=self._job_id(uuid.uuid4().hex)))
        full_id = self._job_id(job_id)
        pending = self._pending_job(full_id)
        if pending is not None:
            return RQJobHandle(pending)
        try:
            return RQJobHandle(self._enqueue(func, args, kwargs, job_id=full_id))
        except DuplicateJobError:
            # Another process enqueued the same work between our check and our enqueue.
            return RQJobHandle(Job.fetch(full_id, connection=self.connection))

    def status(self) -> QueueStatus:
        return QueueStatus(mode="rq", workers=self._live_worker_count(), queued=self.queue.count)

    def _job_id(self, name: str) -> str:
        """RQ keys jobs by id alone (``rq:job:<id>``), so ids carry REDIS_PREFIX like queue names."""
        return f"{self._id_prefix}-{name}"

    def _enqueue(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], job_id: str) -> Job:
        return self.queue.enqueue_call(func, args=args, kwargs=kwargs, job_id=job_id, unique=True, retry=self.retry)

    def _pending_job(self, job_id: str) -> Job | None:
        """The waiting or running job with this id; a finished or failed one is cleared so the work
        can run again (RQ keeps finished jobs for a while, and ids are unique while they exist)."""
        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return None
        if job.get_status(refresh=False) in _PENDING_STATUSES:
            return job
        job.delete()
        return None

    def _live_worker_count(self) -> int:
        """Workers that crash stay listed until RQ cleans up; count only those whose key is alive."""
        keys = Worker.all_keys(queue=self.queue)
        return int(self.connection.exists(*keys)) if keys else 0


class InlineJobHandle:
    def __init__(self, job_id: str, future: Future[Any]) -> None:
        self._id = job_id
        self._future = future

    @property
    def id(self) -> str:
        return self._id

    def result(self, timeout: float = 30.0) -> Any:
        try:
            return self._future.result(timeout=timeout)
        except Exception as exc:
            if not self._future.done():
                raise TimeoutError(f"Job {self.id} did not finish within {timeout:g}s") from None
            raise JobFailed(f"Job {self.id} failed: {exc!r}") from exc


@dataclass(frozen=True)
class _Attempt:
    job_id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outcome: Future[Any]  # resolved by the last attempt
    number: int = 1


class InlineQueue:
    """The embedded default: the same job functions on a thread pool in this process, retried after
    the same pauses as in RQ (timers; a retry still waiting is lost if the process stops)."""

    mode: Literal["inline", "rq"] = "inline"

    def __init__(self, threads: int, retry_delays: Sequence[float] = RETRY_DELAYS_SECONDS) -> None:
        self._threads = threads
        self._retry_delays = tuple(retry_delays)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="revoque-job")
        self._lock = threading.Lock()
        self._pending: dict[str, InlineJobHandle] = {}
        self._waiting = 0

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any) -> JobHandle:
        _check_job(func, job_id)
        with self._lock:
            if job_id is not None and job_id in self._pending:
                return self._pending[job_id]
            handle_id = job_id or uuid.uuid4().hex
            outcome: Future[Any] = Future()
            handle = InlineJobHandle(handle_id, outcome)
            if job_id is not None:
                self._pending[job_id] = handle
                outcome.add_done_callback(lambda _outcome: self._forget(job_id, handle))
        self._submit(_Attempt(handle_id, func, args, kwargs, outcome))
        return handle

    def status(self) -> QueueStatus:
        return QueueStatus(mode="inline", workers=self._threads, queued=self._waiting)

    def _submit(self, attempt: _Attempt) -> None:
        with self._lock:
            self._waiting += 1
        self._executor.submit(self._run, attempt)

    def _run(self, attempt: _Attempt) -> None:
        with self._lock:
            self._waiting -= 1
        try:
            result = attempt.func(*attempt.args, **attempt.kwargs)
        except Exception as exc:
            self._failed(attempt, exc)
        else:
            attempt.outcome.set_result(result)

    def _failed(self, attempt: _Attempt, exc: Exception) -> None:
        name = _dotted(attempt.func)
        if attempt.number <= len(self._retry_delays):
            delay = self._retry_delays[attempt.number - 1]
            log.warning("Job %s (%s) failed (%r); retrying in %gs", attempt.job_id, name, exc, delay)
            retry = replace(attempt, number=attempt.number + 1)
            timer = threading.Timer(delay, self._submit, [retry])
            timer.daemon = True
            timer.start()
            return
        log.exception("Job %s (%s) failed", attempt.job_id, name, exc_info=exc)
        run = FailedRun(attempt.job_id, name, attempt.args, attempt.kwargs, _error_text(exc), attempt.number)
        report_final_failure(run)
        attempt.outcome.set_exception(exc)

    def _forget(self, job_id: str, handle: InlineJobHandle) -> None:
        with self._lock:
            if self._pending.get(job_id) is handle:
                del self._pending[job_id]


def rq_exception_handler(job: Job, exc_type: type[BaseException], exc_value: BaseException, tb: Any) -> bool:
    """Installed in every RQ worker: report a job whose last retry failed (RQ calls this before it
    schedules a retry, so a job with retries left is not final). True lets RQ go on as usual
    (failed-job registry, logs)."""
    if job.should_retry:
        return True
    prefix = _NOT_JOB_ID_CHARS.sub("-", get_settings().redis_prefix) + "-"
    attempts = len(RETRY_DELAYS_SECONDS) + 1 if job.retries_left is not None else 1
    run = FailedRun(
        job.id.removeprefix(prefix), job.func_name, tuple(job.args), dict(job.kwargs), _error_text(exc_value), attempts
    )
    report_final_failure(run)
    return True


@lru_cache(maxsize=1)
def get_queue() -> JobQueue:
    """The process-wide job queue, chosen once from settings (tests call ``get_queue.cache_clear()``)."""
    settings = get_settings()
    if settings.redis_url.strip():
        fallback = InlineQueue(settings.job_threads)  # its threads start only if Redis ever fails
        return RQQueue(redis_client(), queue_name(), id_prefix=settings.redis_prefix, fallback=fallback)
    return InlineQueue(settings.job_threads)


# --- enqueue after commit -------------------------------------------------------------------

_AFTER_COMMIT_KEY = "revoque.after_commit_jobs"


@dataclass(frozen=True)
class _DeferredJob:
    transaction: SessionTransaction | None
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def enqueue_after_commit(session: Session, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Enqueue ``func(*args, **kwargs)`` once ``session``'s outermost transaction commits; drop it
    if that transaction (or the savepoint it was registered in) rolls back. ``job_id=`` is passed
    on to ``JobQueue.enqueue``."""
    _check_job(func, kwargs.get("job_id"))
    if _AFTER_COMMIT_KEY not in session.info:
        session.info[_AFTER_COMMIT_KEY] = []
        event.listen(session, "after_commit", _enqueue_deferred)
        event.listen(session, "after_soft_rollback", _drop_rolled_back)
        event.listen(session, "after_transaction_end", _drop_leftovers)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info[_AFTER_COMMIT_KEY].append(_DeferredJob(transaction, func, args, kwargs))


def _enqueue_deferred(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the data is not committed yet
    jobs, session.info[_AFTER_COMMIT_KEY] = session.info[_AFTER_COMMIT_KEY], []
    for job in jobs:
        try:
            get_queue().enqueue(job.func, *job.args, **job.kwargs)
        except Exception:
            # The data is committed: raising here would make the caller report a failure that did
            # not happen (and retry it). Log loudly instead; jobs are idempotent and can be re-run.
            log.exception("Could not enqueue %s.%s after commit", job.func.__module__, job.func.__qualname__)


def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info[_AFTER_COMMIT_KEY] = [
        job for job in session.info[_AFTER_COMMIT_KEY] if not _within(job.transaction, previous_transaction)
    ]


def _drop_leftovers(session: Session, transaction: SessionTransaction) -> None:
    """Closing a session without commit rolls back without a rollback event; forget its jobs."""
    if transaction.parent is None:
        session.info[_AFTER_COMMIT_KEY] = []


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    """Whether ``transaction`` is ``ancestor`` or nested inside it. None (registered before the
    session began a transaction) belongs to the next outermost transaction as a whole."""
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
