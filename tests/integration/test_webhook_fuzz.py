"""Fuzzing ``POST /api/webhooks/paystack`` (hypothesis) on SQLite and PostgreSQL: any body with any
signature gets a 200 or a 4xx with a message saying what was wrong, never a 500, and nothing is
stored unless the delivery is a correctly signed event (stored once, however often it comes).

Bodies are arbitrary bytes, JSON of any shape, events with odd names and ids, NUL characters,
``NaN``, and nesting deep enough to break a recursive parser; signatures are missing, wrong, for
another body, or right. The queued job is recorded, not run: this is about the route itself."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select
from starlette.testclient import TestClient

import revoque.adapters.queue as queue_module
from revoque.adapters.payments import get_gateway, sign_body
from revoque.api import build_api
from revoque.db import session_scope
from revoque.models import PaymentEvent
from tests.conftest import use_settings
from tests.support.fake_paystack import SECRET_KEY

settings.register_profile(
    "revoque", deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)  # no .hypothesis folder in the checkout; failures print their example

ROUTE = "/api/webhooks/paystack"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


class RecordingQueue:
    mode = "inline"

    def __init__(self) -> None:
        self.job_ids: list[str | None] = []

    def __call__(self) -> RecordingQueue:
        return self

    def cache_clear(self) -> None:
        pass

    def enqueue(self, func, *args, job_id: str | None = None, **kwargs) -> None:
        self.job_ids.append(job_id)


@pytest.fixture
def client(database, monkeypatch):
    use_settings(monkeypatch, paystack_secret_key=SECRET_KEY, paystack_base_url="http://127.0.0.1:1")
    get_gateway.cache_clear()
    queue = RecordingQueue()
    monkeypatch.setattr(queue_module, "get_queue", queue)
    with TestClient(build_api(), raise_server_exceptions=False) as test_client:
        yield test_client, queue
    get_gateway.cache_clear()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
EVENT_NAMES = st.one_of(
    st.sampled_from(["charge.success", "refund.processed", "transfer.success", "", "x" * 500, "charge\x00success"]),
    st.text(max_size=30),
    JSON,
)
EVENTS = st.fixed_dictionaries(
    {"event": EVENT_NAMES, "data": st.one_of(JSON, st.fixed_dictionaries({"id": JSON, "reference": JSON}))}
)
BODIES = st.one_of(
    st.binary(max_size=300),
    EVENTS.map(lambda event: json.dumps(event).encode()),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.sampled_from(
        [
            b"",
            b"null",
            b'{"event": "charge.success", "data": {"id": NaN, "reference": Infinity}}',
            b'{"event": "charge.success", "data": {"id": "\\u0000", "reference": "R"}}',
            b'{"event": "\\ud800", "data": {}}',
            b"[" * 50_000 + b"]" * 50_000,
            b'{"event": "charge.success", "data": ' + b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"}",
            '{"event": "charge.success", "data": {"id": "é"}}'.encode("latin-1"),
        ]
    ),
)
SIGNATURES = st.sampled_from(["right", "missing", "wrong", "other body", "upper case", "padded"])


def signature_headers(body: bytes, kind: str) -> dict[str, str]:
    right = sign_body(body, SECRET_KEY)
    value = {
        "right": right,
        "wrong": sign_body(body, "sk_test_not_the_key"),
        "other body": sign_body(body + b" ", SECRET_KEY),
        "upper case": right.upper(),
        "padded": f" {right} ",
    }.get(kind)
    return {"content-type": "application/json", **({"x-paystack-signature": value} if value is not None else {})}


def stored_events() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(PaymentEvent)).one()


def is_event(body: bytes) -> bool:
    """What the service may store: a JSON object with an event name and a data object."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(payload, dict) and isinstance(payload.get("event"), str) and isinstance(payload.get("data"), dict)


@FUZZ
@given(body=BODIES, signature=SIGNATURES)
@example(body=b'{"event": "charge.success", "data": {"id": 1}}', signature="right")
@example(body=b'{"event": "charge\\u0000success", "data": {"id": 2}}', signature="right")
@example(body=b'{"event": "charge.success", "data": {"id": NaN}}', signature="right")
@example(body=b"[" * 50_000 + b"]" * 50_000, signature="right")
def test_any_delivery_gets_a_clear_answer_and_only_signed_events_are_stored(client, body, signature):
    test_client, queue = client
    before, jobs_before = stored_events(), len(queue.job_ids)
    response = test_client.post(ROUTE, content=body, headers=signature_headers(body, signature))

    assert response.status_code in (200, 400, 401), (response.status_code, response.text[:200])
    assert isinstance(response.json()["message"], str) and response.json()["message"]
    added = stored_events() - before
    if response.status_code == 200:
        assert signature in ("right", "upper case", "padded") and is_event(body)
        assert added == (1 if response.json()["message"] == "ok" else 0)
        assert len(queue.job_ids) - jobs_before == added
    else:
        assert added == 0 and len(queue.job_ids) == jobs_before
    if signature in ("missing", "wrong", "other body"):
        assert response.status_code == 401 and response.json() == {"message": "Invalid signature."}


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    test_client, _queue = client
    body = b'{"event": "charge.success", "data": {"pad": "' + b"x" * 1_100_000 + b'"}}'
    response = test_client.post(ROUTE, content=body, headers=signature_headers(body, "right"))
    assert (response.status_code, response.json()) == (413, {"message": "The event is too large."})
    assert stored_events() == 0


def test_a_replayed_event_is_stored_once(client):
    test_client, queue = client
    body = b'{"event": "charge.success", "data": {"id": 77, "reference": "RVQ-1-1-ab"}}'
    answers = [test_client.post(ROUTE, content=body, headers=signature_headers(body, "right")).json() for _ in range(3)]
    assert answers == [{"message": "ok"}, {"message": "duplicate"}, {"message": "duplicate"}]
    assert stored_events() == 1 and len(queue.job_ids) == 1
