"""The Reflex application: storefront pages, and the non-UI HTTP routes on the backend."""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import reflex as rx

import revoque.pages  # noqa: F401  (registers every page)
from revoque.adapters.queue import get_queue
from revoque.adapters.state_manager import survive_redis_outages
from revoque.api import build_api
from revoque.api.caching import ImmutableBuildAssets
from revoque.api.limits import UploadSizeLimit
from revoque.api.security import SecurityHeaders
from revoque.api.status import CatalogNotFoundStatus
from revoque.db import check_database
from revoque.jobs import release_expired_reservations
from revoque.services.failed_jobs import install_recorder
from revoque.services.search import warm_up
from revoque.services.vector_index import load_model_before_serving
from revoque.settings import get_settings

RESERVATION_SWEEP_SECONDS = 60
HANDLER_THREADS = 16  # per web worker, for handlers' database and cache round trips (see below)
log = logging.getLogger(__name__)
install_recorder()  # jobs run in this process that use up their retries are kept for staff

app = rx.App(
    stylesheets=["/styles.css"],
    api_transformer=[build_api(), CatalogNotFoundStatus, ImmutableBuildAssets, UploadSizeLimit, SecurityHeaders],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
if get_settings().redis_url:
    survive_redis_outages(app, get_settings().redis_url)  # browser tabs keep working while Redis is down


@app.register_lifespan_task
def give_handlers_threads() -> None:
    """Handlers wait for PostgreSQL and Redis in worker threads (``revoque/state/blocking.py``).
    With asyncio's default pool (cores + 4 = 6 threads), a worker serving a few dozen tabs had
    every thread waiting on a query while the CPU had room, and the tabs' events queued for a
    thread. Each thread holds at most two pooled connections (``db.build_engine`` allows 30)."""
    executor = ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="revoque-handler")
    asyncio.get_running_loop().set_default_executor(executor)


@app.register_lifespan_task
def fail_fast_without_a_database() -> None:
    """A broken DATABASE_URL stops the backend at start with one message naming the variable."""
    check_database()


@app.register_lifespan_task
def load_search_model() -> None:
    """Runs before this worker takes connections (a plain function blocks the start), so no
    shopper's event waits while the embedding model loads."""
    load_model_before_serving()


@app.register_lifespan_task
async def sweep_expired_reservations() -> None:
    """Every minute, queue the clean-up of expired checkout holds. The fixed job id means several
    backend workers enqueueing at once still run it once; a failure is logged and retried next time."""
    while True:
        await asyncio.sleep(RESERVATION_SWEEP_SECONDS)
        try:
            await asyncio.to_thread(get_queue().enqueue, release_expired_reservations, job_id="release-expired-holds")
        except Exception:
            log.warning("could not queue the reservation sweep", exc_info=True)


@app.register_lifespan_task
async def warm_up_search() -> None:
    """Apply the keyword index's settings (synonyms, searchable and facet fields) once at start, so
    the first shopper's search does not pay for it and a changed setting reaches Meilisearch without
    a reindex. Search is optional: an engine that is down is logged and retried on first use."""
    try:
        await asyncio.to_thread(warm_up)
    except Exception:
        log.warning("could not warm up search at start; search retries on first use", exc_info=True)
