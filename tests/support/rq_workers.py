"""Real ``python -m revoque.worker`` processes for fault tests: started with the test's environment
from the project root (so test job modules import), killed the way a lost machine kills them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """Starts ``python -m revoque.worker`` with this test's environment; kills what is left after."""

    def __init__(self, logs: Path) -> None:
        self._logs = logs
        self._started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with self._log_path(len(self._started)).open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "revoque.worker"],
                cwd=PROJECT_ROOT,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append(process)
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        """What the worker has printed so far (RQ logs to stdout)."""
        return self._log_path(self._started.index(process)).read_text()

    def kill_all(self) -> None:
        for process in self._started:
            kill_tree(process)

    def _log_path(self, number: int) -> Path:
        return self._logs / f"worker-{number}.log"


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    return [grandchild for child in children(pid) for grandchild in (child, *descendants(child))]


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker, its scheduler and the job's process (which RQ puts in a process group of
    its own): everything a lost machine loses, with no chance to clean up."""
    for pid in [process.pid, *descendants(process.pid)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def job_process(worker: subprocess.Popen[bytes]) -> int:
    """The worker's child running the job: RQ gives it a process group of its own."""
    [pid] = [pid for pid in children(worker.pid) if os.getpgid(pid) == pid]
    return pid
