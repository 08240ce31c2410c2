"""Start the store's production build on a free port for browser tests and benchmarks.

The server runs exactly as `make run` does (`reflex run --env prod --single-port`) against its own
database and data folder, so tests never touch a developer's store or assume a port is free.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class RunningStore:
    url: str
    env: dict[str, str]
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment the Makefile sets: project-local bun/node, no telemetry, offline models."""
    tools = PROJECT_ROOT / ".tools" / "node_modules"
    bun_dirs = [str(p) for p in (tools / "@oven").glob("bun-linux-*/bin")]
    env = dict(os.environ)
    env.update(
        PATH=os.pathsep.join([*bun_dirs, str(tools / ".bin"), str(Path(sys.executable).parent), env.get("PATH", "")]),
        REFLEX_USE_SYSTEM_BUN="true",
        NPM_CONFIG_REGISTRY="https://registry.npmjs.org",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        BUN_INSTALL_CACHE_DIR=str(PROJECT_ROOT / ".tools" / "bun-cache"),
        REFLEX_DIR=str(PROJECT_ROOT / ".tools" / "reflex"),
        HF_HUB_OFFLINE="1",
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "revoque.cli", *args], cwd=PROJECT_ROOT, env=env, check=True)


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the store exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with (
                urllib.request.urlopen(f"{url}/ping", timeout=2) as response,
                urllib.request.urlopen(f"{url}/", timeout=5) as page,
            ):
                if response.status == 200 and page.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the store did not answer within {timeout:.0f}s:\n{log_path.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole process group (reflex starts granian workers), then SIGKILL stragglers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def running_store(
    extra_env: dict[str, str], log_dir: Path, seed: bool = True, timeout: float = 300
) -> Iterator[RunningStore]:
    """Migrate (and seed) the configured database, serve the prod build, stop it afterwards."""
    port = free_port()
    env = tool_env({"BASE_URL": f"http://127.0.0.1:{port}", **extra_env})
    run_cli(env, "setup" if seed else "migrate")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"store-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port", "--backend-port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = _start_worker(env, log_dir) if env.get("REDIS_URL") else None
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log_path, timeout)
        yield RunningStore(url=url, env=env, log_path=log_path)
    finally:
        _stop(process)
        if worker is not None:
            _stop(worker)


def _start_worker(env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """With Redis, jobs (invoices, emails) go to RQ: run a real worker beside the store."""
    with (log_dir / "worker.log").open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "revoque.worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
