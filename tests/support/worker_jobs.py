"""A job for the worker fault tests, importable by a real ``python -m revoque.worker`` started from
the project root (RQ imports job functions by their dotted name)."""

from __future__ import annotations

import time
from pathlib import Path

from revoque import jobs

HANG_SECONDS = 120.0  # longer than any test waits: the attempt only ends by being killed


def hanging_marker(attempts_file: Path) -> Path:
    """Exists once the first attempt has done its work and hangs, ready to be killed."""
    return attempts_file.with_suffix(".hanging")


def attempts(attempts_file: Path) -> int:
    return len(attempts_file.read_text().splitlines()) if attempts_file.exists() else 0


def deliver_email_then_hang_once(email_id: int, attempts_file: str) -> None:
    """The store's email job, after which the first attempt hangs: the worst moment for a worker to
    die, when the email has gone out but RQ has not heard that the job finished. Each attempt adds
    a line to ``attempts_file``."""
    path = Path(attempts_file)
    with path.open("a") as log:
        log.write("attempt\n")
    jobs.deliver_email(email_id)
    if attempts(path) == 1:
        hanging_marker(path).touch()
        time.sleep(HANG_SECONDS)
