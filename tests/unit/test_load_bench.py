"""The load benchmark's own arithmetic and protocol pieces (bench/load.py, bench/_shopper.py): if they
were wrong, its figures would be too, and no run against the store would say so."""

import dataclasses
import json
import random

import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import Event

from bench._shopper import (
    IS_HYDRATED,
    ROOT_STATE,
    FrontendBuild,
    Packet,
    Tab,
    changed,
    decode,
    encode_connect,
    encode_event,
    has_value,
    hydrated,
    redirect_target,
    router_data,
)
from bench.load import logged_exceptions, percentile, summarise

ROUTES = ("/category/[slug]", "/product/[slug]", "/order/[number]")
CART = f"{ROOT_STATE}.revoque___state___cart____cart_state"
CART_TOKEN = f"{CART}.cart_token_rx_state_"
BUILD = FrontendBuild(state_schema="s", initial_hashes=["h"], local_storage={CART_TOKEN: "revoque_cart"}, routes=ROUTES)


def test_percentiles_are_nearest_rank_whatever_the_order():
    values = [float(v) for v in range(1, 101)]
    random.Random(3).shuffle(values)
    summary = summarise(values)
    assert (summary.count, summary.p50, summary.p95, summary.p99, summary.max) == (100, 51.0, 95.0, 99.0, 100.0)
    assert percentile([7.0], 0.99) == 7.0
    assert summarise([]).count == 0


def test_events_are_framed_as_socket_io_in_the_event_namespace():
    event = {"name": "reflex___state____state.x.add", "payload": {"variant_id": 3}}
    framed = encode_event(event)
    assert framed.startswith('42/_event,["event",')
    assert json.loads(framed[len("42/_event,") :]) == ["event", event]
    connect = encode_connect({"event": event, "state_schema": "abc"})
    assert connect.startswith("40/_event,") and json.loads(connect[len("40/_event,") :])["state_schema"] == "abc"


def test_server_packets_are_decoded():
    update = {"delta": {ROOT_STATE: {IS_HYDRATED: True}}, "events": []}
    assert decode("42/_event," + json.dumps(["event", update])) == Packet("event", "event", update)
    assert decode("2") == Packet("ping")
    assert decode('40/_event,{"sid":"abc"}') == Packet("connected", data={"sid": "abc"})
    assert decode('44/_event,{"message":"refused"}').kind == "refused"
    assert decode("1").kind == "closed"


def test_router_data_carries_the_query_and_the_route_params_as_react_router_does():
    assert router_data("/product/red-shoe?page=2", ROUTES) == {
        "pathname": "/product/red-shoe",
        "asPath": "/product/red-shoe?page=2",
        "query": {"page": "2", "slug": "red-shoe"},
    }
    assert router_data("/", ROUTES) == {"pathname": "/", "asPath": "/"}
    assert router_data("/search?q=linen+shirt", ROUTES)["query"] == {"q": "linen shirt"}
    assert "query" not in router_data("/product/a/b", ROUTES)


def test_the_tab_merges_deltas_and_keeps_local_storage_only_once_hydrated():
    tab = Tab("http://127.0.0.1:1", BUILD, timeout=1)
    snapshot = {ROOT_STATE: {IS_HYDRATED: False}, CART: {"cart_token_rx_state_": "", "count_rx_state_": 0}}
    tab._receive({"delta": snapshot})
    assert tab.local_storage == {}  # the hydrate snapshot is never written back to the browser
    tab._receive({"delta": {CART: {"cart_token_rx_state_": "tok", "busy_rx_state_": False}}})
    assert tab.local_storage == {CART_TOKEN: "tok"}
    assert tab.view(CART) == {"cart_token_rx_state_": "tok", "count_rx_state_": 0, "busy_rx_state_": False}


def frontend_update(spec) -> dict:
    """The StateUpdate a browser receives for an event spec a handler returned."""
    return {"delta": {}, "events": [dataclasses.asdict(event) for event in Event.from_event_type(spec)]}


def test_only_reflex_backend_exceptions_count_as_errors():
    tab = Tab("http://127.0.0.1:1", BUILD, timeout=1)
    tab._receive(frontend_update(rx.toast.error("Only 2 left in stock")))  # the app's answer, not an error
    assert tab.backend_errors == 0
    tab._receive(frontend_update(default_backend_exception_handler(ValueError("boom"))))
    assert tab.backend_errors == 1


def test_done_predicates():
    busy_done = {"delta": {CART: {"busy_rx_state_": False, "count_rx_state_": 2}}}
    assert has_value(CART, "busy", False)(busy_done)
    assert not has_value(CART, "busy", False)({"delta": {CART: {"busy_rx_state_": True}}})
    assert changed(CART, "count")(busy_done) and not changed(CART, "lines")(busy_done)
    assert hydrated({"delta": {ROOT_STATE: {IS_HYDRATED: True}}})
    assert not hydrated({"delta": {ROOT_STATE: {IS_HYDRATED: False}}})
    redirect = {"delta": {}, "events": [{"name": "_redirect", "payload": {"path": "/search?q=bag"}}]}
    assert redirect_target(redirect) == "/search?q=bag" and redirect_target(busy_done) is None


# The store's log as Reflex writes it: a rich console wraps lines at 80 columns.
STORE_LOG = """Warning: Lock for token e7c1 was held too long time_taken=5.337s
[Reflex Backend Exception]
 Traceback (most recent call last):
  File
"/work/main/.venv/lib/python3.11/site-packages/reflex/istate/manager/redis.py",
line 479, in set_state
    raise LockExpiredError(msg)
reflex_base.utils.exceptions.LockExpiredError: Lock expired for token
60f0e998_reflex___state____state.revoque___pages___search____search_state while

[Reflex Backend Exception]
 Traceback (most recent call last):
ValueError: boom
"""


def test_backend_exceptions_are_read_from_the_store_log_since_the_run_began(tmp_path):
    log = tmp_path / "store.log"
    log.write_text(STORE_LOG)
    assert logged_exceptions(log, 0) == ["LockExpiredError: Lock expired for token", "ValueError: boom"]
    assert logged_exceptions(log, len(STORE_LOG.encode()) - 20) == []
