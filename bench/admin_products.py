"""Admin product table benchmark: 50,000 products, the table's service call and the page in Chromium.

Fills a fresh database with generated products (``bench/_catalog.py``: bulk inserts of the real
catalog tables, ~6 variants a product), then:

1. times ``product_admin.list_products`` — the whole service call the /admin/products page makes, in
   a fresh session each time — for page 1 (newest first), deep pages (the last tenth of the table),
   title searches, SKU searches, and filters (status + a department's category subtree + stock,
   sorted by price). It also counts the SQL statements and rows each call reads, to show that only
   the shown page is loaded;
2. unless ``--no-browser``: serves the prod build on that database (as ``make run`` does), signs an
   admin in, and times full navigations to /admin/products with the same kinds of query until the
   rows are on screen (like ``bench/page_load.py``). The generated products' pictures are stored
   (hard links to one small JPEG under ``DATA_DIR/media``), so the table's thumbnails load as real
   ones do, rather than as 25 uncacheable "not found" answers per page competing with the page's
   own request.

Target: admin product table page load p95 ≤ 500 ms. It prints figures and asserts nothing.

    python bench/admin_products.py [--products 50000] [--samples 40] [--loads 10]
                                   [--database sqlite|postgresql] [--no-browser]
    BENCH_QUICK=1 python bench/admin_products.py     # 5,000 products, 10 samples, 4 loads
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from bench._catalog import DEPARTMENTS, CatalogReport, write_catalog
from revoque.db import get_engine, session_scope, upgrade_database
from revoque.services.product_admin import PAGE_SIZE, ProductFilters, list_products
from tests.conftest import reset_caches
from tests.support.sql import recorded_statements

QUICK = bool(os.environ.get("BENCH_QUICK"))
TARGET_P95_MS = 500
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench password 42"
HYDRATED = "[data-testid=hydrated][data-hydrated=true]"
ROWS_READY = "[data-testid=admin-product-row]"
TITLE_WORDS = ("shirt", "linen", "sneakers", "leather bag", "wireless", "dress", "cotton", "watch", "kids", "oil")


@dataclass
class Case:
    kind: str
    filters: ProductFilters
    page: int = 1

    def query(self) -> str:
        values = {
            "q": self.filters.q,
            "status": self.filters.status,
            "category": self.filters.category_id or "",
            "stock": self.filters.stock,
            "sort": "" if self.filters.sort == "newest" else self.filters.sort,
            "page": self.page if self.page > 1 else "",
        }
        return urlencode({k: v for k, v in values.items() if v})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- the store --------------------------------------------------------------------------------------


def store_env(database: str, tmp: Path) -> tuple[dict[str, str], str | None]:
    """Settings for a fresh store under ``tmp``, whatever the shell's environment says."""
    env = {"DATA_DIR": str(tmp), "REDIS_URL": "", "MEILI_URL": "", "QDRANT_URL": "", "SUPABASE_URL": ""}
    if database == "sqlite":
        return {**env, "DATABASE_URL": f"sqlite:///{tmp / 'admin-bench.db'}"}, None
    from tests.conftest import pg_admin, pg_url

    name = f"revoque_bench_{uuid.uuid4().hex[:8]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    return {**env, "DATABASE_URL": pg_url(name)}, name


def fill(count: int) -> CatalogReport:
    upgrade_database()
    started = time.perf_counter()
    with get_engine().begin() as connection:
        report = write_catalog(connection, count)
    if get_engine().dialect.name == "postgresql":
        with get_engine().begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(
        f"catalog: {report.products:,} products ({report.active:,} active), {report.variants:,} variants, "
        f"{report.categories} categories, written in {time.perf_counter() - started:.1f} s"
    )
    return report


def store_thumbnails(data_dir: Path, count: int) -> None:
    """``products/bench/<n>.jpg`` (the generator's image keys) for every product: one JPEG, linked."""
    folder = data_dir / "media" / "products" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    original = folder / "original.jpg"
    Image.new("RGB", (160, 160), (200, 140, 60)).save(original, "JPEG", quality=80)
    for number in range(1, count + 1):
        target = folder / f"{number}.jpg"
        if not target.exists():
            os.link(original, target)


def cases(report: CatalogReport, samples: int, rng: random.Random) -> list[Case]:
    """``samples`` distinct-ish calls of each kind."""
    pages = max(1, -(-report.products // PAGE_SIZE))
    departments = list(range(1, len(DEPARTMENTS) * 6, 6))  # department ids: each is followed by its 5 subs
    found: list[Case] = []
    for index in range(samples):
        found.append(Case("page 1", ProductFilters()))
        found.append(Case("deep page", ProductFilters(), rng.randint(max(1, pages - pages // 10), pages)))
        words = TITLE_WORDS[index % len(TITLE_WORDS)]
        found.append(Case("title search", ProductFilters(q=words)))
        found.append(Case("SKU search", ProductFilters(q=f"BN-{rng.randint(1, report.products):06d}")))
        found.append(
            Case(
                "filter",
                ProductFilters(
                    status="active",
                    category_id=rng.choice(departments),
                    stock=rng.choice(("in", "low", "out")),
                    sort="price_asc",
                ),
            )
        )
    return found


# --- the service call -------------------------------------------------------------------------------


def measure_service(all_cases: list[Case]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    rows: dict[str, list[int]] = {}
    statements: dict[str, list[int]] = {}
    for case in all_cases[:10]:  # warm caches and the connection pool
        with session_scope() as session:
            list_products(session, case.filters, case.page)
    for case in all_cases:
        with recorded_statements() as sent:
            started = time.perf_counter()
            with session_scope() as session:
                result = list_products(session, case.filters, case.page)
            timings.setdefault(case.kind, []).append((time.perf_counter() - started) * 1000)
        rows.setdefault(case.kind, []).append(len(result.items))
        statements.setdefault(case.kind, []).append(len(sent))
    print(f"\nservice call list_products (fresh session each), target p95 ≤ {TARGET_P95_MS} ms for the whole page")
    print(f"{'query':<14}{'calls':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'rows':>7}{'SQL':>6}")
    for kind, samples in timings.items():
        print(
            f"{kind:<14}{len(samples):>6}{statistics.median(samples):>11.1f}{percentile(samples, 0.95):>9.1f}"
            f"{max(samples):>9.1f}{statistics.median(rows[kind]):>7.0f}{statistics.median(statements[kind]):>6.0f}"
        )
    return timings


# --- the page in Chromium ---------------------------------------------------------------------------


def timed_load(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(HYDRATED, state="attached")
    page.wait_for_selector(ROWS_READY, state="visible", timeout=30_000)
    return (time.perf_counter() - started) * 1000


def measure_pages(env: dict[str, str], all_cases: list[Case], loads: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.support.server import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, run_cli, running_store

    results: dict[str, list[float]] = {}
    with running_store(env, PROJECT_ROOT / "test-results" / "bench", seed=False) as store:
        run_cli(store.env, "create-admin", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{store.url}/admin/products")
            page.wait_for_selector(HYDRATED, state="attached")
            page.get_by_test_id("input-email").fill(ADMIN_EMAIL)
            page.get_by_test_id("input-password").fill(ADMIN_PASSWORD)
            page.get_by_test_id("sign-in-submit").click()
            page.wait_for_selector(ROWS_READY, state="visible", timeout=60_000)
            by_kind: dict[str, list[Case]] = {}
            for case in all_cases:
                by_kind.setdefault(case.kind, []).append(case)
            for kind, kind_cases in by_kind.items():
                for index in range(loads):
                    query = kind_cases[index % len(kind_cases)].query()
                    url = f"{store.url}/admin/products" + (f"?{query}" if query else "")
                    results.setdefault(kind, []).append(timed_load(page, url))
            browser.close()
    print(f"\n/admin/products in Chromium, navigation → rows on screen; target p95 ≤ {TARGET_P95_MS} ms")
    print(f"{'query':<14}{'loads':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  verdict")
    for kind, samples in results.items():
        p95 = percentile(samples, 0.95)
        verdict = "meets target" if p95 <= TARGET_P95_MS else "MISSES target"
        print(
            f"{kind:<14}{len(samples):>6}{statistics.median(samples):>11.0f}{p95:>9.0f}{max(samples):>9.0f}  {verdict}"
        )
    return results


def run(args: argparse.Namespace, tmp: Path, cleanup: list[Callable[[], None]]) -> None:
    env, pg_name = store_env(args.database, tmp)
    if pg_name:
        from tests.conftest import drop_pg_database

        cleanup.append(lambda: drop_pg_database(pg_name))
    os.environ.update(env)
    reset_caches()
    report = fill(args.products)
    all_cases = cases(report, args.samples, random.Random(11))
    measure_service(all_cases)
    reset_caches()  # the store gets the database to itself
    if not args.no_browser:
        store_thumbnails(tmp, report.products)
        measure_pages(env, all_cases, args.loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5_000 if QUICK else 50_000)
    parser.add_argument("--samples", type=int, default=10 if QUICK else 40, help="service calls per query kind")
    parser.add_argument("--loads", type=int, default=4 if QUICK else 10, help="page loads per query kind")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--no-browser", action="store_true", help="time the service call only")
    args = parser.parse_args()
    print(f"admin product table benchmark ({args.database}, {args.products:,} products)")
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="revoque-bench-", ignore_cleanup_errors=True) as tmp:
        try:
            run(args, Path(tmp), cleanup)
        finally:
            reset_caches()
            for step in cleanup:
                step()


if __name__ == "__main__":
    main()
