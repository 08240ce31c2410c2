"""Import benchmark: a 10,000-row product spreadsheet into an empty store, then the same file again.

For each database (PostgreSQL, SQLite) it migrates a fresh database, writes a template sheet of
2,000 products with 5 sizes each (as .xlsx, the slower format to read), and times the dry run
(read, check, plan) and the import itself (read, check, write in batches). Re-indexing jobs are
recorded, not run: embeddings are excluded, as the target says. A second import of the same file
(nothing to change) shows the cost of an idempotent re-run. It prints rows/s and the process's peak
resident memory. Target: the 10,000-row import in ≤ 30 s on this machine. It asserts nothing.

    python bench/import.py [--rows 10000] [--database postgresql sqlite]
    BENCH_QUICK=1 python bench/import.py            # 2,000 rows per database
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from revoque.adapters import queue as queue_module
from revoque.db import session_scope, upgrade_database
from revoque.services.product_import import apply_import, preview_import
from revoque.services.sheets import SheetSpec, write_xlsx
from tests.conftest import drop_pg_database, pg_admin, pg_url, reset_caches
from tests.support.recorded_jobs import RecordedJobs

TARGET_SECONDS = 30.0
SIZES = ("S", "M", "L", "XL", "XXL")
COLUMNS = ("handle", "title", "description", "status", "brand", "category", "tags", "option1_name", "option1_value")
COLUMNS += ("sku", "price", "compare_at_price", "stock", "weight_grams")


def workbook(rows: int) -> bytes:
    def lines():
        for number in range(rows // len(SIZES)):
            for size in SIZES:
                yield [
                    f"bench-tee-{number}",
                    f"Bench Tee {number}",
                    f"<p>Soft cotton tee number {number}.</p><ul><li>Machine wash</li></ul>",
                    "active",
                    f"Brand {number % 40}",
                    f"Fashion > Line {number % 12} > Tees {number % 48}",
                    f"cotton, summer-{number % 10}",
                    "Size",
                    size,
                    f"BT-{number}-{size}",
                    f"{4_000 + number % 900}.50",
                    "" if number % 4 else f"{6_000 + number % 900}",
                    str(number % 25),
                    str(180 + SIZES.index(size) * 20),
                ]

    return write_xlsx([SheetSpec("Products", COLUMNS, lines())])


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(database: str, data: bytes, rows: int, tmp: Path) -> None:
    pg_name = None
    if database == "postgresql":
        pg_name = f"revoque_bench_{uuid.uuid4().hex[:8]}"
        pg_admin(f'CREATE DATABASE "{pg_name}"')
        os.environ["DATABASE_URL"] = pg_url(pg_name)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'import.db'}"
    os.environ["DATA_DIR"] = str(tmp)
    reset_caches()
    recorder = RecordedJobs()
    original_queue = queue_module.get_queue
    queue_module.get_queue = recorder
    try:
        upgrade_database()
        started = time.perf_counter()
        with session_scope() as session:
            preview = preview_import(session, data, "bench.xlsx")
        dry_run = time.perf_counter() - started
        started = time.perf_counter()
        first = apply_import(data, "bench.xlsx")
        imported = time.perf_counter() - started
        started = time.perf_counter()
        second = apply_import(data, "bench.xlsx")
        again = time.perf_counter() - started
    finally:
        queue_module.get_queue = original_queue
        reset_caches()
        if pg_name:
            drop_pg_database(pg_name)
    assert preview.counts.variants_created == rows and first.counts.variants_created == rows
    assert second.counts.variants_unchanged == rows
    verdict = "meets target" if imported <= TARGET_SECONDS else "MISSES target"
    print(
        f"{database:<11}{rows:>7}{dry_run:>10.1f}{imported:>10.1f}{rows / imported:>10.0f}{again:>10.1f}"
        f"{peak_mb():>11.0f}  {len(recorder.jobs)} index jobs queued  {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000 if os.environ.get("BENCH_QUICK") else 10_000)
    parser.add_argument("--database", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    args = parser.parse_args()
    rows = args.rows - args.rows % len(SIZES)
    data = workbook(rows)
    print(
        f"import of a {rows:,}-row .xlsx ({len(data) / 1e6:.1f} MB), embeddings excluded; target ≤ {TARGET_SECONDS:g} s"
    )
    print(f"{'database':<11}{'rows':>7}{'dry s':>10}{'import s':>10}{'rows/s':>10}{'again s':>10}{'peak MB':>11}")
    for database in args.database:
        with tempfile.TemporaryDirectory(prefix="revoque-bench-", ignore_cleanup_errors=True) as tmp:
            run(database, data, rows, Path(tmp))


if __name__ == "__main__":
    main()
