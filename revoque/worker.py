"""``python -m revoque.worker [--burst] [--queues NAME ...]``: an RQ worker for the store's jobs.

Run as many as the job load needs, on any machine that reaches the same Redis and database.
Each worker also runs RQ's scheduler (one at a time holds its lock), which is what re-enqueues
jobs waiting out their retry pause.
"""

from __future__ import annotations

import argparse
import socket
import sys
import uuid
from collections.abc import Sequence

from rq import Queue, Worker

from revoque.adapters.queue import DEFAULT_QUEUE, queue_name, rq_exception_handler
from revoque.adapters.redis_conn import REDIS_DOWN_ERRORS, redacted_url, redis_client
from revoque.settings import get_settings

EXIT_NOT_CONFIGURED = 2
EXIT_REDIS_DOWN = 1


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
    worker = Worker(queues, connection=connection, name=_worker_name(), exception_handlers=[rq_exception_handler])
    worker.work(burst=args.burst, with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
