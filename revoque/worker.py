"""``python -m revoque.worker [--burst] [--queues NAME ...]``: an RQ worker for the store's jobs.

Run as many as the job load needs, on any machine that reaches the same Redis and database.
Each worker also runs RQ's scheduler (one at a time holds its lock), which is what re-enqueues
jobs waiting out their retry pause.

A worker that dies mid-job (killed, out of memory, machine lost) leaves its job "started" in RQ's
StartedJobRegistry. RQ retries such an abandoned job (or fails it for good, which the failed-job
list records) only once the job's heartbeat has expired, at least 60 s after the last one, and only
when a worker runs its maintenance, every 10 minutes by default. Here a busy worker beats every
``HEARTBEAT_SECONDS``, every idle worker looks for jobs whose heartbeat stopped
``SILENT_AFTER_SECONDS`` ago every ``MAINTENANCE_SECONDS``, and such a job is queued again at once:
it runs again about half a minute after its worker died. Jobs are idempotent, so running one again
after a crash (even one that had done its work but not yet reported it) changes nothing twice.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import uuid
from collections.abc import Sequence
from datetime import timedelta

from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation
from rq.job import JobStatus
from rq.utils import now

from revoque.adapters.queue import DEFAULT_QUEUE, queue_name, rq_exception_handler
from revoque.adapters.redis_conn import REDIS_DOWN_ERRORS, redacted_url, redis_client
from revoque.settings import get_settings

EXIT_NOT_CONFIGURED = 2
EXIT_REDIS_DOWN = 1

HEARTBEAT_SECONDS = 5  # how often a busy worker marks its job alive (RQ's default: 30)
SILENT_AFTER_SECONDS = 15  # three missed heartbeats: the worker is gone (worker clocks must agree, NTP)
MAINTENANCE_SECONDS = 10  # how often a worker cleans up (RQ's default: 600)
# An idle worker blocks on Redis for its TTL - 15 s (RQ's rule) and runs maintenance in between,
# so this TTL makes it wake every MAINTENANCE_SECONDS; a dead worker's key also expires sooner.
WORKER_TTL_SECONDS = MAINTENANCE_SECONDS + 15

log = logging.getLogger(__name__)


def expire_silent_jobs(queue: Queue) -> list[str]:
    """Mark the started jobs of ``queue`` whose heartbeat stopped as expired in RQ's registry, so
    RQ's own clean-up retries them (or, with no retries left, fails them for the failed-job list);
    returns their ids. RQ's registry scores carry a fixed 60 s grace, hence this earlier look."""
    registry = queue.started_job_registry
    cutoff = now() - timedelta(seconds=SILENT_AFTER_SECONDS)
    silent = []
    for entry in queue.connection.zrange(registry.key, 0, -1):
        job = queue.fetch_job(registry.parse_job_id(entry))
        if job is None or job.get_status(refresh=False) != JobStatus.STARTED:
            continue
        if job.last_heartbeat is not None and job.last_heartbeat < cutoff:
            queue.connection.zadd(registry.key, {entry: 0}, xx=True)
            silent.append(job.id)
    return silent


def resume_now(queue: Queue, job_ids: Sequence[str]) -> None:
    """Queue abandoned jobs that RQ just scheduled for a retry at once: they have already waited
    for their heartbeat to go silent, and the retry pause would also wait for RQ's scheduler, whose
    lock a dead worker holds for another minute."""
    registry = queue.scheduled_job_registry
    for job_id in job_ids:
        job = queue.fetch_job(job_id)
        if job is None or job.get_status(refresh=False) != JobStatus.SCHEDULED:
            continue
        try:
            registry.requeue(job_id, at_front=True)
        except InvalidJobOperation:
            continue  # the scheduler (or another worker) queued it first
        log.warning("Job %s was abandoned by a worker that stopped; queued to run again", job_id)


class StoreWorker(Worker):
    """RQ's forking worker that also notices, within seconds, jobs whose worker died."""

    def run_maintenance_tasks(self) -> None:
        silent = {queue.name: expire_silent_jobs(queue) for queue in self.queues}
        super().run_maintenance_tasks()  # RQ's clean-up retries (or fails) the jobs marked expired
        for queue in self.queues:
            resume_now(queue, silent[queue.name])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m revoque.worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    parser.add_argument(
        "--queues",
        nargs="+",
        default=[DEFAULT_QUEUE],
        metavar="NAME",
        help="queue names without the REDIS_PREFIX (default: %(default)s)",
    )
    return parser.parse_args(argv)


def _worker_name() -> str:
    """Named after REDIS_PREFIX so ``rq info`` shows which store a worker serves."""
    return f"{get_settings().redis_prefix}-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    redis_url = get_settings().redis_url.strip()
    if not redis_url:
        print(
            "REDIS_URL is not set: in the embedded mode jobs run in-process and no worker is needed",
            file=sys.stderr,
        )
        return EXIT_NOT_CONFIGURED
    connection = redis_client()
    try:
        connection.ping()
    except REDIS_DOWN_ERRORS as exc:
        print(f"Cannot reach Redis at {redacted_url(redis_url)}: {exc}", file=sys.stderr)
        return EXIT_REDIS_DOWN
    from revoque.services.failed_jobs import install_recorder

    install_recorder()  # jobs that use up their retries are kept for staff to see and retry
    queues = [Queue(queue_name(name), connection=connection) for name in args.queues]
    worker = StoreWorker(
        queues,
        connection=connection,
        name=_worker_name(),
        exception_handlers=[rq_exception_handler],
        job_monitoring_interval=HEARTBEAT_SECONDS,
        maintenance_interval=MAINTENANCE_SECONDS,
        worker_ttl=WORKER_TTL_SECONDS,
    )
    worker.work(burst=args.burst, with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
