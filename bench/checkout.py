"""Checkout benchmark: place-order throughput and latency with 8 concurrent workers.

For each database (PostgreSQL, SQLite) it migrates a fresh database, creates a catalog where some
variants have more buyers than stock, prepares one guest cart per order (untimed), then places all
orders from 8 threads and times each place_order call. It prints orders/s, p50/p95 latency and an
oversell check (ordered quantity ≤ starting stock, no negative stock). Target: ≥ 50 orders/s on
PostgreSQL with zero oversell. It asserts nothing.

    python bench/checkout.py [--orders 400] [--workers 8] [--database postgresql sqlite]
    BENCH_QUICK=1 python bench/checkout.py          # 120 orders per database
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import func, select

from revoque.db import session_scope, upgrade_database
from revoque.models import CartLine, Order, OrderLine, Variant
from revoque.services import carts, checkout, pricing, shipping
from revoque.services.accounts import AddressInput
from revoque.services.carts import StockError
from revoque.services.checkout import CheckoutDetails
from tests.conftest import drop_pg_database, pg_admin, pg_url, reset_caches
from tests.factories import add_product, variants_of

TARGET_ORDERS_PER_SECOND = 50
ADDRESS = AddressInput(name="Bench Buyer", phone="08031234567", line1="1 Bench Road", city="Ikeja", state="Lagos")


def prepare(orders: int, rng: random.Random) -> tuple[list[int], dict[int, int], CheckoutDetails]:
    """Twenty variants; four of them scarce so that buyers compete for the last units."""
    with session_scope(write=True) as session:
        shipping.ensure_default_methods(session)
        pricing.get_store_config(session)
        product = add_product(
            session,
            "Bench Sneaker",
            variants=[({"Size": str(36 + i)}, 1_500_000 + i * 10_000, 5 if i < 4 else orders) for i in range(20)],
        )
        variant_ids = [v.id for v in variants_of(session, product)]
        method_id = shipping.list_active_methods(session)[0].id
    starting = {vid: stock_of(vid) for vid in variant_ids}
    cart_ids = [new_cart(rng.sample(variant_ids, rng.randint(1, 3))) for _ in range(orders)]
    details = CheckoutDetails(
        email="bench@example.com", address=ADDRESS, shipping_method_id=method_id, payment_method="pay_on_delivery"
    )
    return cart_ids, starting, details


def new_cart(variant_ids: list[int]) -> int:
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        session.add_all(CartLine(cart_id=cart.id, variant_id=vid, quantity=1) for vid in variant_ids)
        return cart.id


def stock_of(variant_id: int) -> int:
    with session_scope() as session:
        return session.get(Variant, variant_id).stock_on_hand


def place_all(cart_ids: list[int], details: CheckoutDetails, workers: int) -> tuple[list[float], int, float]:
    def place(cart_id: int) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            checkout.place_order(cart_id, details)
            ok = True
        except StockError:
            ok = False
        return (time.perf_counter() - started) * 1000, ok

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(place, cart_ids))
    elapsed = time.perf_counter() - started
    return [ms for ms, _ in results], sum(ok for _, ok in results), elapsed


def oversold(starting: dict[int, int]) -> list[str]:
    problems = []
    with session_scope() as session:
        for vid, stock in starting.items():
            sold = session.exec(
                select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.variant_id == vid)
            ).one()
            left = session.get(Variant, vid).stock_on_hand
            if sold > stock or left < 0 or left != stock - sold:
                problems.append(f"variant {vid}: stock {stock}, sold {sold}, left {left}")
    return problems


def run(database: str, orders: int, workers: int, tmp: Path) -> None:
    pg_name = None
    if database == "postgresql":
        pg_name = f"revoque_bench_{uuid.uuid4().hex[:8]}"
        pg_admin(f'CREATE DATABASE "{pg_name}"')
        os.environ["DATABASE_URL"] = pg_url(pg_name)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'checkout.db'}"
    os.environ["DATA_DIR"] = str(tmp)
    reset_caches()
    try:
        upgrade_database()
        cart_ids, starting, details = prepare(orders, random.Random(7))
        latencies, placed, elapsed = place_all(cart_ids, details, workers)
        problems = oversold(starting)
        with session_scope() as session:
            order_count = session.exec(select(func.count()).select_from(Order)).one()
    finally:
        reset_caches()
        if pg_name:
            drop_pg_database(pg_name)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    rate = len(cart_ids) / elapsed
    verdict = "meets target" if rate >= TARGET_ORDERS_PER_SECOND and not problems else "MISSES target"
    print(
        f"{database:<11}{len(cart_ids):>8}{placed:>8}{len(cart_ids) - placed:>9}{rate:>12.1f}"
        f"{statistics.median(latencies):>9.1f}{p95:>9.1f}  {problems or 'none'}  "
        f"{'' if database == 'sqlite' else verdict}"
    )
    assert order_count == placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=120 if os.environ.get("BENCH_QUICK") else 400)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    args = parser.parse_args()
    print(
        f"place-order with {args.workers} concurrent workers; target ≥ {TARGET_ORDERS_PER_SECOND} orders/s on "
        "PostgreSQL, zero oversell"
    )
    print(
        f"{'database':<11}{'orders':>8}{'placed':>8}{'sold out':>9}{'orders/s':>12}{'p50 ms':>9}{'p95 ms':>9}  oversell"
    )
    for database in args.database:
        with tempfile.TemporaryDirectory(prefix="revoque-bench-", ignore_cleanup_errors=True) as tmp:
            run(database, args.orders, args.workers, Path(tmp))


if __name__ == "__main__":
    main()
