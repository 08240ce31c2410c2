"""Page-load benchmark: navigation → hydrated with data, for home, category and product pages.

Runs the prod build with the seeded demo catalog (as `make run` does) and drives Debian's Chromium.
Each sample is one full navigation (`page.goto`) until the page's data is on screen. Prints median
and p95 per page against the targets (median ≤ 300 ms, p95 ≤ 600 ms); it asserts nothing.

    python bench/page_load.py [--loads 20] [--database sqlite|postgresql]
    BENCH_QUICK=1 python bench/page_load.py      # 5 loads per page, for CI
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Page, sync_playwright
from sqlmodel import Session, select

from revoque.db import build_engine
from revoque.models import Category, Product
from tests.support.server import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, running_store

TARGET_MEDIAN_MS = 300
TARGET_P95_MS = 600
DATA_READY = {
    "home": "[data-testid=featured] [data-testid=product-card]",
    "category": "[data-testid=product-card]",
    "product": "[data-testid=sku]",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_load(page: Page, url: str, ready_selector: str) -> float:
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("[data-testid=hydrated][data-hydrated=true]", state="attached")
    page.wait_for_selector(ready_selector, state="visible")
    return (time.perf_counter() - started) * 1000


def urls_to_visit(database_url: str, base: str) -> dict[str, list[str]]:
    """Different products and categories each load, so no page is only ever measured warm."""
    engine = build_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        products = session.exec(select(Product.slug).where(Product.status == "active").order_by(Product.id)).all()
        categories = session.exec(select(Category.slug).where(Category.parent_id.is_(None))).all()
    engine.dispose()
    return {
        "home": [f"{base}/"],
        "category": [f"{base}/category/{slug}" for slug in categories],
        "product": [f"{base}/product/{slug}" for slug in products],
    }


def measure(base_urls: dict[str, list[str]], loads: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        timed_load(page, base_urls["home"][0], DATA_READY["home"])  # compile caches, first assets
        for kind, urls in base_urls.items():
            results[kind] = [timed_load(page, urls[i % len(urls)], DATA_READY[kind]) for i in range(loads)]
        browser.close()
    return results


def report(results: dict[str, list[float]], label: str) -> None:
    print(
        f"\npage load, navigation → hydrated with data ({label}); targets median ≤ {TARGET_MEDIAN_MS} ms, "
        f"p95 ≤ {TARGET_P95_MS} ms"
    )
    print(f"{'page':<10}{'loads':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}  verdict")
    for kind, samples in results.items():
        median, p95 = statistics.median(samples), percentile(samples, 0.95)
        verdict = "meets target" if median <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS else "MISSES target"
        print(f"{kind:<10}{len(samples):>6}{median:>12.0f}{p95:>10.0f}{max(samples):>10.0f}  {verdict}")


def store_env(database: str, data_dir: Path) -> tuple[dict[str, str], str | None]:
    if database == "sqlite":
        return {"DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'bench.db'}", "REDIS_URL": ""}, None
    from tests.conftest import pg_admin, pg_url

    name = f"revoque_bench_{uuid.uuid4().hex[:8]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    env = {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": pg_url(name),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_PREFIX": f"revoque-bench-{name}",
    }
    return env, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=5 if os.environ.get("BENCH_QUICK") else 20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="revoque-bench-", ignore_cleanup_errors=True) as tmp:
        env, pg_name = store_env(args.database, Path(tmp))
        try:
            with running_store(env, PROJECT_ROOT / "test-results" / "bench") as store:
                results = measure(urls_to_visit(env["DATABASE_URL"], store.url), args.loads)
        finally:
            if pg_name:
                from tests.conftest import drop_pg_database

                drop_pg_database(pg_name)
    report(results, f"{args.database}, prod build, {args.loads} loads per page, warm browser")


if __name__ == "__main__":
    main()
