"""``GET /api/health``: what a load balancer and an operator need to know, fast and never failing.

The database is the one engine the store cannot sell without (503 when it is down); Redis, the
workers, the search engine and the vector store are reported as "degraded" because the store keeps
selling without them. Each check runs in a thread with a deadline, and the checks run at once, so a
hung engine cannot hang the probe and the probe takes as long as its slowest check, not their sum.
Error details go to the log; the public response names only the kind of failure.

Index lag: ``catalog.active_products`` (one COUNT) against the keyword index's document count and
the vector collection's point count; ``lag`` is how many documents or vectors each index is short
(negative: it still holds products that are gone). Jobs close the gap after every change, so a lag
that stays above zero means the workers are behind or ``python -m revoque.cli reindex`` is needed.
A lag is ``null`` when one side could not be counted. The catalog count failing does not change the
overall status: the database check already says whether the store can sell.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from revoque import jobs
from revoque.adapters.queue import get_queue
from revoque.adapters.redis_conn import redis_client
from revoque.adapters.search import get_search_engine
from revoque.db import check_database, get_engine, session_scope
from revoque.models import Product, ProductStatus
from revoque.services.vector_index import vector_count
from revoque.settings import get_settings

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
PROBE_TIMEOUT_SECONDS = 5.0
PROBE_JOB_ID = "health-probe"


def _version() -> str:
    try:
        return version("revoque")
    except PackageNotFoundError:
        return "dev"


def _failure(check: str, exc: BaseException) -> str:
    log.warning("Health check %s failed: %s", check, exc, exc_info=not isinstance(exc, TimeoutError))
    return type(exc).__name__


async def _run_check(check: str, func: Callable[[], dict[str, Any]], timeout: float) -> dict[str, Any]:
    """``func()`` in a worker thread; a timeout or any exception becomes ``{"ok": False}``."""
    try:
        return await asyncio.wait_for(run_in_threadpool(func), timeout=timeout)
    except Exception as exc:  # a health probe reports failures, it never raises them
        return {"ok": False, "error": _failure(check, exc)}


def _database() -> dict[str, Any]:
    check_database(get_engine())
    return {"ok": True}


def _redis() -> dict[str, Any]:
    redis_client().ping()
    return {"ok": True}


def _workers() -> dict[str, Any]:
    status = get_queue().status()
    return {
        "ok": status.mode == "inline" or status.workers > 0,
        "count": status.workers,
        "queued": status.queued,
    }


def _search() -> dict[str, Any]:
    engine = get_search_engine()
    return {"ok": True, "engine": engine.name, "documents": engine.count()}


def _vectors() -> dict[str, Any]:
    engine = "qdrant" if get_settings().qdrant_url.strip() else "numpy"
    return {"ok": True, "engine": engine, "vectors": vector_count()}


def _catalog() -> dict[str, Any]:
    """Active products: what each index should hold. One indexed COUNT, no rows loaded."""
    with session_scope() as session:
        active = session.exec(select(func.count()).select_from(Product).where(Product.status == ProductStatus.ACTIVE))
        return {"ok": True, "active_products": int(active.one())}


def _lag(catalog: dict[str, Any], index: dict[str, Any], counted: str) -> int | None:
    """Active products minus what the index holds, or None when either could not be counted."""
    if not catalog["ok"] or not index["ok"]:
        return None
    return catalog["active_products"] - index[counted]


def _round_trip() -> dict[str, Any]:
    """One echo job through the broker and back; the fixed job id keeps repeated probes from piling
    up jobs when no worker is consuming them."""
    started = time.monotonic()
    handle = get_queue().enqueue(jobs.echo, "ping", job_id=PROBE_JOB_ID)
    handle.result(timeout=PROBE_TIMEOUT_SECONDS)
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _database_backend() -> str:
    try:
        return make_url(get_settings().sqlalchemy_url).get_backend_name()
    except Exception:  # a malformed DATABASE_URL is reported by the database check itself
        return "unknown"


def _overall(database: dict[str, Any], *optional: dict[str, Any]) -> str:
    if not database["ok"]:
        return "down"
    if not all(check.get("ok", True) for check in optional):
        return "degraded"
    return "ok"


async def health(request: Request) -> JSONResponse:
    """Status of the database, Redis, the job workers and both indexes with their lag behind the
    catalog; ``?deep=1`` also runs a job round trip."""
    settings = get_settings()
    redis_configured = bool(settings.redis_url.strip())

    async def nothing() -> dict[str, Any]:
        return {}

    database, redis, workers, search, vectors, catalog = await asyncio.gather(
        _run_check("database", _database, CHECK_TIMEOUT_SECONDS),
        _run_check("redis", _redis, CHECK_TIMEOUT_SECONDS) if redis_configured else nothing(),
        _run_check("workers", _workers, CHECK_TIMEOUT_SECONDS),
        _run_check("search", _search, CHECK_TIMEOUT_SECONDS),
        _run_check("vectors", _vectors, CHECK_TIMEOUT_SECONDS),
        _run_check("catalog", _catalog, CHECK_TIMEOUT_SECONDS),
    )
    database = {"backend": _database_backend()} | database
    workers = {"mode": "rq" if redis_configured else "inline"} | workers
    if request.query_params.get("deep") == "1" and workers["ok"]:
        workers["round_trip"] = await _run_check("round trip", _round_trip, PROBE_TIMEOUT_SECONDS + 1)
        workers["ok"] = workers["round_trip"]["ok"]
    status = _overall(database, redis, workers, search, vectors)
    body = {
        "status": status,
        "database": database,
        "redis": {"configured": redis_configured} | redis,
        "workers": workers,
        "search": search,
        "vectors": vectors,
        "catalog": catalog,
        "lag": {"search": _lag(catalog, search, "documents"), "vectors": _lag(catalog, vectors, "vectors")},
        "version": _version(),
    }
    return JSONResponse(body, status_code=503 if status == "down" else 200, headers={"Cache-Control": "no-store"})
