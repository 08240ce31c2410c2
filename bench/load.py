"""Load benchmark: simulated shoppers over the real websocket protocol, PostgreSQL + Redis, 3 workers.

Serves the prod build as the Procfile does (``reflex run --env prod`` with ``GRANIAN_WORKERS=3``
backend workers sharing state in Redis, one RQ worker beside it) on a fresh PostgreSQL database with
the seeded demo catalog, and drives it on loopback with N concurrent shoppers, each a browser tab
spoken for by ``bench/_shopper.py`` (Socket.IO to ``/_event``, exactly the messages the compiled
frontend sends). A shopper's journey, with 0.5–2 s of thinking before each step (seeded):

    land on the home page (connect + hydrate) → a category from the menu → a product (from the
    category, or one of a few scarce products) → pick another variant → add to cart → type a search
    (two pauses, so two suggestion requests) → submit it → the results page → and for a share of
    journeys, checkout: the form (contact, address, delivery, pay on delivery) → place order → the
    order page.

Before each run a few products are made scarce (2 of each variant) and old holds are cleared, so
shoppers compete for the last units; after each run the database must show no oversell: for every
tracked variant, units ordered during the run ≤ stock at the start, and stock left = start − ordered.
A warm-up (12 shoppers who all check out; checked for oversell, latencies not reported) first brings
every worker past its first requests and loads its search model.

Latency is measured per step, from sending its event to the update that shows it done (Reflex 0.10
no longer sends ``final`` on the last update): a page is done when ``is_hydrated`` turns true after
its whole on_load chain; an interaction when the update that changes what the shopper sees arrives
(the cart count, the suggestions, the next checkout step, the redirect after placing the order).
Errors: socket failures, no answer within 15 s, and Reflex's backend-exception toasts. The app's own
refusals ("only 2 left", "some items just sold out") are answers, counted apart.

Each run also prints the CPU seconds used by the store's processes, its PostgreSQL backends and the
load generator (from /proc), since all share the machine's 2 cores, and the store log is kept in
``test-results/bench/load-store.log``. Targets (200 shoppers): step p95 ≤ 250 ms and zero errors;
zero oversell. The benchmark exits non-zero on a crash or an oversell, never on a missed latency
target.

    python bench/load.py [--shoppers 50 200] [--seconds 60] [--journeys-each 20]
                         [--checkout-share 0.15] [--seed 7]
    BENCH_QUICK=1 python bench/load.py       # 20 and 50 shoppers, 15 s each (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reflex as rx
from sqlalchemy import delete, func
from sqlmodel import col, select

from bench._shopper import (
    FrontendBuild,
    Tab,
    TabError,
    any_of,
    changed,
    has_value,
    read_frontend_build,
    redirect_target,
    var,
)
from revoque.db import session_scope
from revoque.models import Order, OrderLine, PaymentMethod, Product, ProductStatus, Reservation, Variant
from revoque.pages.category import CategoryState
from revoque.pages.checkout import CheckoutState
from revoque.pages.order import OrderPageState
from revoque.pages.product import ProductState
from revoque.pages.search import SearchState
from revoque.services.catalog_cache import invalidate_everything
from revoque.state.cart import CartState
from revoque.state.nav import NavState
from revoque.state.search_box import SearchBoxState
from tests.conftest import drop_pg_database, pg_admin, pg_url, reset_caches
from tests.support.server import PROJECT_ROOT, RunningStore, run_cli, running_store, tool_env

QUICK = bool(os.environ.get("BENCH_QUICK"))
TARGET_SHOPPERS = 200
TARGET_P95_MS = 250
BACKEND_WORKERS = 3
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STEP_TIMEOUT_S = 15.0
THINK_S = (0.5, 2.0)
SCARCE_PRODUCTS = 4
SCARCE_STOCK = 2
SCARCE_SHARE = 0.35  # of product visits go to a scarce product, so checkouts collide on them
WARM_UP_SHOPPERS = 12  # one journey each before measuring (first requests, caches, the search model)
READY_PROBES = 9  # search pages opened at once, all answered with the model, before measuring
READY_WAIT_S = 180
DYNAMIC_ROUTES = ("/category/[slug]", "/product/[slug]", "/collection/[slug]", "/order/[number]")
SEARCH_WORDS = ("shirt", "dress", "sneakers", "backpack", "watch", "earbuds", "headphones", "cream", "boots", "linen")
ADDRESS = {
    "name": "Load Shopper",
    "phone": "08031234567",
    "line1": "1 Bench Road",
    "city": "Ikeja",
    "region": "Lagos",
}
BACKEND_EXCEPTION = "[Reflex Backend Exception]"
EXCEPTION_LINE = re.compile(r"^(?:[\w]+\.)*(\w+(?:Error|Exception)): (.*)$", re.MULTILINE)
PAY_ON_DELIVERY = PaymentMethod.PAY_ON_DELIVERY.value  # places the order with no gateway in between


def handler(state: type[rx.State], name: str) -> str:
    """The event name the browser sends for ``state.name`` (checked against the real handlers)."""
    if name not in state.event_handlers:
        raise RuntimeError(f"{state.__name__} has no event handler {name!r}: update bench/load.py")
    return f"{state.get_full_name()}.{name}"


NAV, CART, PRODUCT = NavState.get_full_name(), CartState.get_full_name(), ProductState.get_full_name()
CATEGORY, SEARCH_BOX = CategoryState.get_full_name(), SearchBoxState.get_full_name()
CHECKOUT, ORDER_PAGE = CheckoutState.get_full_name(), OrderPageState.get_full_name()
SEARCH_PAGE = SearchState.get_full_name()
CHOOSE = handler(ProductState, "choose")
ADD = handler(CartState, "add")
SET_TEXT, SUBMIT_SEARCH = handler(SearchBoxState, "set_text"), handler(SearchBoxState, "submit")
SET_FIELD = handler(CheckoutState, "set_field")
SUBMIT_CONTACT, CHOOSE_SHIPPING = handler(CheckoutState, "submit_contact"), handler(CheckoutState, "choose_shipping")
SUBMIT_DELIVERY, CHOOSE_PAYMENT = handler(CheckoutState, "submit_delivery"), handler(CheckoutState, "choose_payment")
SUBMIT_PAYMENT, PLACE_ORDER = handler(CheckoutState, "submit_payment"), handler(CheckoutState, "place_order")


# --- figures -----------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile, as the other benchmarks report it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float


def summarise(samples: list[float]) -> Summary:
    if not samples:
        return Summary(0, 0.0, 0.0, 0.0, 0.0)
    return Summary(
        len(samples), percentile(samples, 0.5), percentile(samples, 0.95), percentile(samples, 0.99), max(samples)
    )


@dataclass
class Stats:
    """Everything one run measured. A step is one thing a shopper does (a page, a click)."""

    samples: dict[str, list[float]] = field(default_factory=dict)  # step kind -> ms
    errors: Counter[str] = field(default_factory=Counter)  # step kind -> steps that failed
    reasons: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    steps: int = 0  # started; each counts once in errors however it failed
    events_sent: int = 0  # websocket events (the connect's hydrate included)
    journeys_started: int = 0
    journeys: int = 0  # finished
    orders: int = 0
    loop_lag_ms: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def sample(self, kind: str, ms: float) -> None:
        self.samples.setdefault(kind, []).append(ms)

    def error(self, kind: str, reason: str) -> None:
        self.errors[kind] += 1
        self.reasons[f"{kind}: {reason}"] += 1

    def all_samples(self) -> list[float]:
        return [ms for samples in self.samples.values() for ms in samples]


# --- a shopper ---------------------------------------------------------------------------------------


class JourneyOver(Exception):
    """The journey stops here: a step failed, or the run's time is up."""


T = TypeVar("T")


@dataclass(frozen=True)
class Load:
    shoppers: int
    seconds: float
    journeys: int  # budget for the whole run
    checkout_share: float
    seed: int


@dataclass
class Run:
    """What one run's shoppers share: its bounds (a deadline, a journey budget) and its figures."""

    load: Load
    scarce_slugs: list[str]
    stats: Stats = field(default_factory=Stats)
    started: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        return self.started + self.load.seconds

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def start_journey(self) -> bool:
        if self.over() or self.stats.journeys_started >= self.load.journeys:
            return False
        self.stats.journeys_started += 1
        return True


def order_refused(update: dict) -> bool:
    """place_order answered with a message instead of a redirect (e.g. the stock ran out)."""
    return bool(var((update.get("delta") or {}).get(CHECKOUT, {}), "error", ""))


@dataclass
class Shopper:
    number: int
    run: Run
    base_url: str
    build: FrontendBuild
    rng: random.Random
    tab: Tab | None = None

    async def shop(self, ramp_s: float) -> None:
        await asyncio.sleep(self.rng.uniform(0, ramp_s))
        while self.run.start_journey():
            await self.journey()

    async def journey(self) -> None:
        tab = self.tab = Tab(self.base_url, self.build, STEP_TIMEOUT_S)
        try:
            await self.step("home (connect)", lambda: tab.open("/"), think=False)
            await self.step("category page", lambda: tab.navigate(self.pick_category()))
            await self.step("product page", lambda: tab.navigate(self.pick_product()))
            await self.choose_variant()
            await self.add_to_cart()
            await self.search()
            if self.rng.random() < self.run.load.checkout_share and var(tab.view(CART), "count", 0) > 0:
                await self.checkout()
            self.run.stats.journeys += 1
        except JourneyOver:
            pass
        finally:
            self.run.stats.events_sent += tab.sent
            await tab.close()

    async def step(self, kind: str, action: Callable[[], Awaitable[T]], think: bool = True) -> T:
        """Think, then time one step; a failed step ends the journey, and so does the deadline."""
        if think:
            await asyncio.sleep(self.rng.uniform(*THINK_S))
        if self.run.over():
            raise JourneyOver
        stats, errors_before = self.run.stats, self.tab.backend_errors
        stats.steps += 1
        started = time.perf_counter()
        try:
            result = await action()
        except TabError as exc:
            stats.error(kind, str(exc))
            raise JourneyOver from exc
        stats.sample(kind, (time.perf_counter() - started) * 1000)
        if self.tab.backend_errors > errors_before:
            stats.error(kind, "backend exception")
        return result

    # -- choices a shopper makes from what is on screen --------------------------------------------

    def pick_category(self) -> str:
        return self.rng.choice(var(self.tab.view(NAV), "menu"))["href"]

    def pick_product(self) -> str:
        cards = var(self.tab.view(CATEGORY), "items", [])
        if not cards or self.rng.random() < SCARCE_SHARE:
            return f"/product/{self.rng.choice(self.run.scarce_slugs)}"
        return self.rng.choice(cards)["href"]

    async def choose_variant(self) -> None:
        """Click another value the picker offers as available, if there is one."""
        options = [
            (row["index"], choice["value"])
            for row in var(self.tab.view(PRODUCT), "option_rows", [])
            for choice in row["choices"]
            if choice["available"] and not choice["selected"]
        ]
        if options:
            index, value = self.rng.choice(options)
            payload = {"option_index": index, "value": value}
            await self.step("choose variant", lambda: self.tab.call(CHOOSE, payload, changed(PRODUCT, "selection")))

    async def add_to_cart(self) -> None:
        variant = var(self.tab.view(PRODUCT), "variant")
        if not variant or not variant["in_stock"]:
            self.run.stats.refusals["shown sold out"] += 1
            return
        payload = {"variant_id": variant["id"], "quantity": 1}
        done = await self.step("add to cart", lambda: self.tab.call(ADD, payload, has_value(CART, "busy", False)))
        if var(done["delta"][CART], "count") is None:  # refused: no cart reload, an error toast instead
            self.run.stats.refusals["add to cart refused"] += 1

    async def search(self) -> None:
        """Type with one pause mid-word (the box is debounced: one event per pause), then Enter."""
        word = self.rng.choice(SEARCH_WORDS)
        suggested = has_value(SEARCH_BOX, "loading", False)
        for text in (word[:3], word):
            await self.step("search suggest", lambda text=text: self.tab.call(SET_TEXT, {"value": text}, suggested))
        form = {"form": {"q": word}}
        done = await self.step("search submit", lambda: self.tab.call(SUBMIT_SEARCH, form, redirect_target))
        await self.step("search results", lambda: self.tab.navigate(redirect_target(done)), think=False)

    async def checkout(self) -> None:
        since = self.tab.mark()
        await self.step("checkout page", lambda: self.tab.navigate("/checkout"))
        if any(redirect_target(u) for u in self.tab.updates[since:]):  # stock could not be held
            self.run.stats.refusals["checkout: sold out"] += 1
            return
        for name, value in {"email": f"shopper-{self.number}@example.com", **ADDRESS}.items():
            await self.step(
                "checkout field",
                lambda name=name, value=value: self.tab.call(
                    SET_FIELD, {"field": name, "value": value}, changed(CHECKOUT, name)
                ),
            )
        await self.checkout_step(SUBMIT_CONTACT, 2)
        method = {"method_id": str(var(self.tab.view(CHECKOUT), "shipping_options")[0]["id"])}
        await self.step("checkout step", lambda: self.tab.call(CHOOSE_SHIPPING, method, changed(CHECKOUT, "summary")))
        await self.checkout_step(SUBMIT_DELIVERY, 3)
        if var(self.tab.view(CHECKOUT), "payment_method") != PAY_ON_DELIVERY:
            code = {"code": PAY_ON_DELIVERY}
            await self.step("checkout step", lambda: self.tab.call(CHOOSE_PAYMENT, code, changed(CHECKOUT)))
        await self.checkout_step(SUBMIT_PAYMENT, 4)
        await self.place_order()

    async def checkout_step(self, name: str, expected_step: int) -> None:
        await self.step("checkout step", lambda: self.tab.call(name, None, changed(CHECKOUT, "step", "errors")))
        if var(self.tab.view(CHECKOUT), "step") != expected_step:
            self.run.stats.error("checkout step", f"form refused: {var(self.tab.view(CHECKOUT), 'errors')}")
            raise JourneyOver

    async def place_order(self) -> None:
        done = await self.step(
            "place order", lambda: self.tab.call(PLACE_ORDER, None, any_of(redirect_target, order_refused))
        )
        target = redirect_target(done)
        if target is None:
            self.run.stats.refusals["place order refused"] += 1
            return
        self.run.stats.orders += 1
        await self.step("order page", lambda: self.tab.navigate(target), think=False)
        if var(self.tab.view(ORDER_PAGE), "not_found"):
            self.run.stats.error("order page", "placed order not found")


# --- one run -----------------------------------------------------------------------------------------


async def watch_loop_lag(stats: Stats, until: float) -> None:
    """How late a 100 ms timer fires in the client: if the load generator itself is starved of CPU,
    its latencies are too high, and this says so."""
    while time.monotonic() < until:
        started = time.perf_counter()
        await asyncio.sleep(0.1)
        stats.loop_lag_ms.append(max(0.0, (time.perf_counter() - started - 0.1) * 1000))


async def drive(base_url: str, build: FrontendBuild, load: Load, scarce: list[str]) -> Run:
    """Start ``load.shoppers`` shoppers over the first quarter of the run (at most 10 s), as a crowd
    arrives, and let each do journeys until the run's time or journey budget is used up."""
    run = Run(load, scarce)
    ramp = min(10.0, load.seconds / 4)
    crowd = [Shopper(i, run, base_url, build, random.Random(load.seed * 100_003 + i)) for i in range(load.shoppers)]
    lag = asyncio.create_task(watch_loop_lag(run.stats, run.deadline))
    await asyncio.gather(*(shopper.shop(ramp) for shopper in crowd))
    lag.cancel()
    run.stats.elapsed = time.monotonic() - run.started
    return run


async def wait_until_search_ready(base_url: str, build: FrontendBuild) -> tuple[bool, float]:
    """Each backend worker loads the embedding model in the background on its first search and
    answers keyword-only ("degraded") until it is ready; loading it costs seconds of CPU that must not
    fall inside a measured run. Open READY_PROBES search pages at once (they land on every worker)
    until none is degraded. Returns (ready, seconds waited)."""
    started = time.monotonic()

    async def degraded() -> bool:
        tab = Tab(base_url, build, STEP_TIMEOUT_S)
        try:
            await tab.open(f"/search?q={SEARCH_WORDS[0]}")
            return bool(var(tab.view(SEARCH_PAGE), "degraded"))
        finally:
            await tab.close()

    while time.monotonic() - started < READY_WAIT_S:
        if not any(await asyncio.gather(*(degraded() for _ in range(READY_PROBES)))):
            return True, time.monotonic() - started
        await asyncio.sleep(2)
    return False, time.monotonic() - started


# --- the store and its stock -------------------------------------------------------------------------


def use_store_settings(env: dict[str, str]) -> None:
    """Point this process's services at the store's database and Redis (stock checks, cache drops)."""
    os.environ.update(env)
    reset_caches()


def make_scarce() -> list[str]:
    """Slugs of a few active products with the fewest variants (two or more, so there is a choice);
    each variant gets SCARCE_STOCK, so a handful of checkouts sells them out."""
    with session_scope() as session:
        counted = (
            select(Product.slug, func.count(Variant.id))
            .join(Variant, col(Variant.product_id) == Product.id)
            .where(Product.status == ProductStatus.ACTIVE.value, col(Variant.track_inventory))
            .group_by(Product.id, Product.slug)
            .having(func.count(Variant.id) >= 2)
            .order_by(func.count(Variant.id), Product.id)
        )
        return [slug for slug, _count in session.exec(counted).all()[:SCARCE_PRODUCTS]]


def restock(scarce: list[str]) -> dict[int, int]:
    """Before each run: scarce products back to SCARCE_STOCK a variant, the last run's holds gone,
    caches dropped (this bypasses the services). Returns every tracked variant's starting stock."""
    with session_scope(write=True) as session:
        ids = select(Product.id).where(col(Product.slug).in_(scarce))
        for variant in session.exec(select(Variant).where(col(Variant.product_id).in_(ids))).all():
            variant.stock_on_hand = SCARCE_STOCK
            session.add(variant)
        session.exec(delete(Reservation))
    invalidate_everything()
    with session_scope() as session:
        rows = session.exec(select(Variant.id, Variant.stock_on_hand).where(col(Variant.track_inventory))).all()
    return dict(rows)


def last_order_id() -> int:
    with session_scope() as session:
        return session.exec(select(func.coalesce(func.max(Order.id), 0))).one()


def oversold(starting: dict[int, int], after_order: int) -> list[str]:
    """Variants whose orders placed during the run exceed their starting stock, or whose stock left
    does not match (start − ordered): either means a lost update somewhere."""
    with session_scope() as session:
        ordered = dict(
            session.exec(
                select(OrderLine.variant_id, func.sum(OrderLine.quantity))
                .where(OrderLine.order_id > after_order)
                .group_by(OrderLine.variant_id)
            ).all()
        )
        left = dict(session.exec(select(Variant.id, Variant.stock_on_hand).where(col(Variant.track_inventory))).all())
    problems = []
    for variant_id, stock in starting.items():
        sold = int(ordered.get(variant_id, 0))
        if sold > stock or left[variant_id] < 0 or left[variant_id] != stock - sold:
            problems.append(f"variant {variant_id}: stock {stock}, ordered {sold}, left {left[variant_id]}")
    return problems


def scarce_units_sold(after_order: int, scarce: list[str]) -> tuple[int, int]:
    """(units of the scarce products ordered in the run, units they had)."""
    with session_scope() as session:
        ids = session.exec(
            select(Variant.id).join(Product, col(Product.id) == Variant.product_id).where(col(Product.slug).in_(scarce))
        ).all()
        sold = session.exec(
            select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
                OrderLine.order_id > after_order, col(OrderLine.variant_id).in_(ids)
            )
        ).one()
    return int(sold), SCARCE_STOCK * len(ids)


def logged_exceptions(log_path: Path, since_bytes: int) -> list[str]:
    """``Type: message`` of each backend exception the store logged since then (the log wraps long
    lines, so the message is cut at the first wrap)."""
    with log_path.open("rb") as log:
        log.seek(since_bytes)
        chunks = log.read().decode(errors="replace").split(BACKEND_EXCEPTION)[1:]
    found = []
    for chunk in chunks:
        raised = EXCEPTION_LINE.search(chunk)
        found.append(f"{raised.group(1)}: {raised.group(2).strip()}" if raised else "unknown exception")
    return found


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used so far: the store (its backend workers and RQ worker), the PostgreSQL backends
    serving its database, and this load generator. On a 2-core machine they share, this shows whether
    the store or the generator ran out of CPU."""

    store: float
    database: float
    generator: float

    def __sub__(self, other: CpuUse) -> CpuUse:
        return CpuUse(self.store - other.store, self.database - other.database, self.generator - other.generator)


def cpu_use(store_marker: str, database: str) -> CpuUse:
    """From /proc: store processes carry ``store_marker`` (their REDIS_PREFIX) in their environment;
    PostgreSQL names each backend's database in its process title."""
    ticks, store, db = os.sysconf("SC_CLK_TCK"), 0.0, 0.0
    marker, db_title = f"REDIS_PREFIX={store_marker}".encode(), f" {database} ".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            title, environ = (proc / "cmdline").read_bytes().replace(b"\0", b" "), (proc / "environ").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if db_title in title + b" ":
            db += used
        elif marker in environ:
            store += used
    return CpuUse(store, db, time.process_time())


def keep_log(log_path: Path) -> Path:
    """The store log outlives the run's temporary folder, beside the other benchmarks' output."""
    kept = PROJECT_ROOT / "test-results" / "bench" / "load-store.log"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(log_path, kept)
    return kept


def forget_redis_keys(prefix: str) -> None:
    """The store's cache, counters and queues live under its own prefix on the shared Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


# --- report ------------------------------------------------------------------------------------------

STEP_ORDER = (
    "home (connect)",
    "category page",
    "product page",
    "choose variant",
    "add to cart",
    "search suggest",
    "search submit",
    "search results",
    "checkout page",
    "checkout field",
    "checkout step",
    "place order",
    "order page",
)


@dataclass(frozen=True)
class LevelResult:
    shoppers: int
    stats: Stats
    problems: list[str]
    scarce: tuple[int, int]
    logged_exceptions: list[str]
    cpu: CpuUse

    @property
    def overall(self) -> Summary:
        return summarise(self.stats.all_samples())

    @property
    def error_count(self) -> int:
        return sum(self.stats.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.stats.steps if self.stats.steps else 0.0


def print_level(result: LevelResult) -> None:
    stats, elapsed = result.stats, result.stats.elapsed
    print(
        f"\n{result.shoppers} shoppers, {elapsed:.0f} s: {stats.journeys} journeys ({stats.journeys / elapsed:.2f}/s), "
        f"{stats.steps} steps ({stats.steps / elapsed:.1f}/s), {stats.events_sent} events sent "
        f"({stats.events_sent / elapsed:.1f}/s), {stats.orders} orders"
    )
    print(f"{'step':<16}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    kinds = [k for k in STEP_ORDER if k in stats.samples or k in stats.errors]
    for kind in kinds:
        s = summarise(stats.samples.get(kind, []))
        print(f"{kind:<16}{s.count:>7}{s.p50:>9.0f}{s.p95:>9.0f}{s.p99:>9.0f}{s.max:>9.0f}{stats.errors[kind]:>8}")
    s = result.overall
    print(f"{'all steps':<16}{s.count:>7}{s.p50:>9.0f}{s.p95:>9.0f}{s.p99:>9.0f}{s.max:>9.0f}{result.error_count:>8}")
    lag = summarise(stats.loop_lag_ms)
    print(
        f"errors {result.error_count} of {stats.steps} steps ({result.error_rate:.2%})"
        + (f": {dict(stats.reasons.most_common(5))}" if stats.reasons else "")
        + f"; backend exceptions in the store log: {len(result.logged_exceptions)}"
        + (f" {dict(Counter(result.logged_exceptions).most_common(3))}" if result.logged_exceptions else "")
    )
    print(f"refusals (answers, not errors): {dict(stats.refusals) or 'none'}")
    cpu, cores = result.cpu, os.cpu_count() or 1
    busy = (cpu.store + cpu.database + cpu.generator) / (elapsed * cores)
    print(
        f"CPU seconds: store {cpu.store:.0f} ({cpu.store / max(stats.steps, 1) * 1000:.0f} ms a step), "
        f"PostgreSQL {cpu.database:.0f}, load generator {cpu.generator:.0f}: {busy:.0%} of {cores} cores; "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    sold, had = result.scarce
    print(
        f"scarce products: {sold} of {had} units ordered; oversell: {'; '.join(result.problems) or 'none'}; "
        f"load generator's timer lag p95 {lag.p95:.0f} ms, max {lag.max:.0f} ms"
    )


def print_summary(results: list[LevelResult]) -> None:
    print(f"\nsummary (target at {TARGET_SHOPPERS} shoppers: p95 ≤ {TARGET_P95_MS} ms, zero errors, zero oversell)")
    print(
        f"{'shoppers':>8}{'steps/s':>9}{'events/s':>10}{'journeys/s':>12}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'error rate':>12}{'oversell':>10}  verdict"
    )
    for r in results:
        s = r.overall
        ok = s.p95 <= TARGET_P95_MS and r.error_count == 0 and not r.problems
        verdict = ("meets target" if ok else "MISSES target") if r.shoppers >= TARGET_SHOPPERS else ""
        print(
            f"{r.shoppers:>8}{r.stats.steps / r.stats.elapsed:>9.1f}{r.stats.events_sent / r.stats.elapsed:>10.1f}"
            f"{r.stats.journeys / r.stats.elapsed:>12.2f}{s.p50:>8.0f}{s.p95:>8.0f}{s.p99:>8.0f}{r.error_rate:>12.2%}"
            f"{len(r.problems):>10}  {verdict}"
        )


# --- main --------------------------------------------------------------------------------------------


def measured(store: RunningStore, build: FrontendBuild, load: Load, scarce: list[str]) -> LevelResult:
    """One run on freshly restocked scarce products, checked for oversell afterwards."""
    starting, after_order = restock(scarce), last_order_id()
    log_offset = store.log_path.stat().st_size
    processes = (store.env["REDIS_PREFIX"], store.env["DATABASE_URL"].rsplit("/", 1)[-1])
    cpu_before = cpu_use(*processes)
    stats = asyncio.run(drive(store.url, build, load, scarce)).stats
    cpu = cpu_use(*processes) - cpu_before
    return LevelResult(
        shoppers=load.shoppers,
        stats=stats,
        problems=oversold(starting, after_order),
        scarce=scarce_units_sold(after_order, scarce),
        logged_exceptions=logged_exceptions(store.log_path, log_offset),
        cpu=cpu,
    )


def measure(store: RunningStore, args: argparse.Namespace, scarce: list[str]) -> list[LevelResult]:
    """A warm-up (every shopper checks out; checked for oversell too, its latencies not reported),
    then one run per crowd size."""
    build = read_frontend_build(PROJECT_ROOT / ".web", DYNAMIC_ROUTES)
    warm = measured(store, build, Load(WARM_UP_SHOPPERS, 90, WARM_UP_SHOPPERS, 1.0, args.seed), scarce)
    ready, waited = asyncio.run(wait_until_search_ready(store.url, build))
    print(
        f"warm-up (latency not counted): {warm.stats.journeys} journeys, {warm.stats.orders} orders, "
        f"{warm.error_count} errors {dict(warm.stats.reasons) or ''}, backend exceptions logged: "
        f"{dict(Counter(warm.logged_exceptions)) or 0}, oversell: {'; '.join(warm.problems) or 'none'}; "
        + (f"search model ready after {waited:.0f} s" if ready else f"search still keyword-only after {waited:.0f} s")
    )
    results = [warm]
    for shoppers in args.shoppers:
        load = Load(shoppers, args.seconds, shoppers * args.journeys_each, args.checkout_share, args.seed)
        results.append(measured(store, build, load, scarce))
        print_level(results[-1])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, nargs="+", default=[20, 50] if QUICK else [50, TARGET_SHOPPERS])
    parser.add_argument("--seconds", type=float, default=15 if QUICK else 60, help="per run (ramp-up included)")
    parser.add_argument("--journeys-each", type=int, default=20, help="journey budget per shopper and run")
    parser.add_argument("--checkout-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    load1, load5, load15 = os.getloadavg()
    print(
        f"load: simulated shoppers over the websocket, PostgreSQL + Redis, {BACKEND_WORKERS} backend workers; "
        f"{os.cpu_count()} cores, load average at start {load1:.2f} {load5:.2f} {load15:.2f}"
    )
    name = f"revoque_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"revoque-bench-{name}"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="revoque-bench-", ignore_cleanup_errors=True) as tmp:
            env = {
                "DATA_DIR": tmp,
                "DATABASE_URL": pg_url(name),
                "REDIS_URL": REDIS_URL,
                "REDIS_PREFIX": prefix,
                "GRANIAN_WORKERS": str(BACKEND_WORKERS),
                "MEILI_URL": "",
                "QDRANT_URL": "",
                "SUPABASE_URL": "",
            }
            run_cli(tool_env(env), "setup")
            use_store_settings(env)
            scarce = make_scarce()
            with running_store(env, Path(tmp) / "logs", seed=False) as store:
                results = measure(store, args, scarce)
            kept = keep_log(store.log_path)
            reset_caches()
    finally:
        drop_pg_database(name)
        forget_redis_keys(prefix)
    print_summary(results[1:])
    print(f"store log (for profiling): {kept}")
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
