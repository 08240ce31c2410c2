"""A stand-in job queue that records what would run, so a test decides when each job runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from revoque.adapters import queue as queue_module


@dataclass
class RecordedJob:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    job_id: str | None

    def run(self) -> Any:
        return self.func(*self.args, **self.kwargs)


class RecordedJobs:
    """Replaces ``get_queue()``: ``enqueue`` records the job and runs nothing."""

    mode = "inline"

    def __init__(self) -> None:
        self.jobs: list[RecordedJob] = []
        self._lock = threading.Lock()

    def __call__(self) -> RecordedJobs:
        return self

    def cache_clear(self) -> None:  # tests.conftest.reset_caches clears get_queue's cache
        pass

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any) -> None:
        with self._lock:
            self.jobs.append(RecordedJob(func, args, kwargs, job_id))

    def named(self, name: str) -> list[RecordedJob]:
        return [job for job in self.jobs if job.func.__name__ == name]

    def run_all(self) -> None:
        """Run and forget every recorded job, oldest first."""
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            job.run()


def record_jobs(monkeypatch: pytest.MonkeyPatch) -> RecordedJobs:
    recorder = RecordedJobs()
    monkeypatch.setattr(queue_module, "get_queue", recorder)
    return recorder
