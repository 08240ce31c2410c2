"""A private redis-server for fault tests, on a free port of its own: tests stop, freeze and restart
it without touching the shared Redis on 6379 that other test runs use.

It keeps an append-only file in its folder, as a production Redis that holds RQ's queues should,
so a restart brings back what was stored before it stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

from tests.support.server import free_port

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client of the test's own, with timeouts, for looking at what the store wrote."""
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def start(self) -> None:
        """Start (or start again) on the same port and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "yes",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_up()

    def stop(self) -> None:
        """Shut down as an operator's restart does (SIGTERM: flush the append-only file, exit)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def freeze(self) -> None:
        """Stop the process without closing anything: connections are accepted by the kernel but
        never answered, like a Redis stuck or behind a broken network."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGCONT)

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self._log_tail()}")
            with suppress(redis.RedisError):
                if client.ping():
                    client.close()
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server did not answer on {self.port}:\n{self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self) -> str:
        log = self.folder / "redis.log"
        return log.read_text()[-2000:] if log.exists() else ""


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    """A started private Redis, stopped afterwards whatever happened."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
