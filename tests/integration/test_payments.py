"""Card payments on SQLite and PostgreSQL: the real PaystackGateway against a fake Paystack, the
sandbox gateway, the webhook route, exactly-once finalisation under concurrency, and refunds."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

import revoque.adapters.queue as queue_module
from revoque.adapters.payments import UNREACHABLE, GatewayError, get_gateway, sign_body
from revoque.api import build_api
from revoque.db import session_scope
from revoque.errors import ValidationError
from revoque.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    OutboxEmail,
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
    Refund,
    Variant,
)
from revoque.services import orders, payments
from revoque.services.payments import FinalizeOutcome
from revoque.settings import get_settings
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.fake_paystack import SECRET_KEY, FakePaystack, running_fake_paystack, signed_webhook

BASE_URL = "http://shop.test"
UNIT_PRICE = 1_250_000  # ₦12,500
ORDER_TOTAL = 2 * UNIT_PRICE  # ₦25,000
STOCK = 5
STAFF = "admin@revoque.ng"
PRODUCT_NUMBERS = itertools.count(1)


class RecordingQueue:
    """Stands in for the job queue: records what would be enqueued (name, args, job id), runs nothing."""

    mode = "inline"

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...], str | None]] = []
        self._lock = threading.Lock()

    def __call__(self) -> RecordingQueue:  # replaces get_queue()
        return self

    def cache_clear(self) -> None:  # tests.conftest.reset_caches clears get_queue's cache
        pass

    def enqueue(self, func, *args, job_id: str | None = None, **kwargs) -> None:
        with self._lock:
            self.jobs.append((func.__name__, args, job_id))

    def job_ids(self, name: str) -> list[str | None]:
        return [job_id for func_name, _args, job_id in self.jobs if func_name == name]


@pytest.fixture(scope="module")
def fake_paystack() -> Iterator[FakePaystack]:
    with running_fake_paystack() as fake:
        yield fake


@pytest.fixture
def jobs(monkeypatch) -> RecordingQueue:
    recorder = RecordingQueue()
    monkeypatch.setattr(queue_module, "get_queue", recorder)
    return recorder


@pytest.fixture
def sandbox(database, monkeypatch, jobs) -> Iterator[None]:
    """The embedded default: no Paystack key, so the sandbox gateway."""
    use_settings(monkeypatch, base_url=BASE_URL, paystack_secret_key="", secret_key="test-signing-key")
    get_gateway.cache_clear()
    yield
    get_gateway.cache_clear()


@pytest.fixture
def paystack(database, fake_paystack, monkeypatch, jobs) -> Iterator[FakePaystack]:
    """The real PaystackGateway, pointed at the fake Paystack."""
    use_settings(monkeypatch, base_url=BASE_URL, paystack_secret_key=SECRET_KEY, paystack_base_url=fake_paystack.url)
    get_gateway.cache_clear()
    yield fake_paystack
    get_gateway.cache_clear()


def new_order(**fields) -> int:
    """A pending card order for 2 × ₦12,500 of a new product (its stock already taken: 5 → 3)."""
    with session_scope(write=True) as session:
        product = add_product(session, f"Aso Oke Throw {next(PRODUCT_NUMBERS)}", variants=[({}, UNIT_PRICE, STOCK)])
        variant = variants_of(session, product)[0]
        return add_order(session, [(variant, 2)], payment_method=PaymentMethod.CARD, **fields).id


def order(order_id: int) -> Order:
    with session_scope() as session:
        return session.get(Order, order_id)


def payments_of(order_id: int) -> list[Payment]:
    with session_scope() as session:
        return list(session.exec(select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)))


def reference_of(url: str, order_id: int) -> str:
    """The latest attempt's reference (checking it is the one whose URL was returned)."""
    payment = payments_of(order_id)[-1]
    assert payment.authorization_url == url
    return payment.reference


def paid_events(order_id: int) -> int:
    with session_scope() as session:
        statement = select(func.count()).select_from(OrderEvent)
        return session.exec(statement.where(OrderEvent.order_id == order_id, OrderEvent.to_status == "paid")).one()


def emails(kind: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == kind)).one()


def stock_left(order_id: int) -> int:
    with session_scope() as session:
        statement = select(Variant.stock_on_hand).join(OrderLine, OrderLine.variant_id == Variant.id)
        return session.exec(statement.where(OrderLine.order_id == order_id)).one()


def deliver(payload: dict) -> int:
    """Receive a signed webhook and process it, as the queued job would."""
    body, headers = signed_webhook(payload)
    assert payments.record_webhook(body, headers) == (200, "ok")
    with session_scope() as session:
        event_id = session.exec(select(func.max(PaymentEvent.id))).one()
    payments.process_payment_event(event_id)
    return event_id


def pay(fake: FakePaystack, order_id: int) -> str:
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    fake.complete(reference)
    assert payments.finalize(reference, "callback").status == "succeeded"
    return reference


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- Paystack: initialize → verify → finalize ---------------------------------------------------


def test_a_card_payment_is_initialized_verified_and_marks_the_order_paid_once(paystack, jobs):
    order_id = new_order()
    number = order(order_id).number
    url = payments.begin_card_payment(order_id)

    reference = reference_of(url, order_id)
    assert url.startswith("https://checkout.paystack.com/")
    assert reference.startswith(f"{number}-1-")
    sent = paystack.transactions[reference]
    assert (sent.amount, sent.currency, sent.email) == (ORDER_TOTAL, "NGN", "ada@example.com")
    assert sent.metadata == {"order_number": number}
    assert sent.callback_url == f"{BASE_URL}/checkout/return"

    # Paystack reports a transaction the shopper has not paid yet as abandoned; a later success wins.
    assert payments.finalize(reference, "callback") == FinalizeOutcome("abandoned", number)
    assert order(order_id).status == OrderStatus.PENDING

    paystack.complete(reference)
    assert payments.finalize(reference, "callback") == FinalizeOutcome("succeeded", number)
    paid = order(order_id)
    assert (paid.status, paid.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
    payment = payments_of(order_id)[0]
    assert payment.status == "succeeded" and payment.paid_at is not None
    assert paid_events(order_id) == 1
    assert jobs.job_ids("generate_invoice") == [f"invoice-{order_id}"]
    assert emails("payment_received") == 1

    calls = len(paystack.requests)
    assert payments.finalize(reference, "verify") == FinalizeOutcome("succeeded", number)
    assert len(paystack.requests) == calls  # a settled payment is not verified again
    assert paid_events(order_id) == 1
    assert len(jobs.job_ids("generate_invoice")) == 1


def test_a_declined_card_keeps_the_order_pending_and_a_retry_is_a_new_attempt(paystack):
    order_id = new_order()
    first = reference_of(payments.begin_card_payment(order_id), order_id)
    paystack.complete(first, "failed")
    assert payments.finalize(first, "callback").status == "failed"
    assert (order(order_id).status, order(order_id).payment_status) == (OrderStatus.PENDING, PaymentStatus.UNPAID)
    assert payments.awaiting_card_payment(order(order_id))

    second = reference_of(payments.begin_card_payment(order_id), order_id)
    assert second != first and "-2-" in second
    paystack.complete(second)
    assert payments.finalize(second, "callback").status == "succeeded"
    assert [p.status for p in payments_of(order_id)] == ["failed", "succeeded"]
    assert order(order_id).status == OrderStatus.PAID
    assert not payments.awaiting_card_payment(order(order_id))


def test_an_unreachable_gateway_gives_a_clear_error_and_the_attempt_is_closed(paystack, monkeypatch):
    order_id = new_order()
    use_settings(monkeypatch, paystack_base_url=closed_port_url())
    get_gateway.cache_clear()
    with pytest.raises(GatewayError) as error:
        payments.begin_card_payment(order_id)
    assert str(error.value) == UNREACHABLE == "The payment provider could not be reached. Please try again."
    [attempt] = payments_of(order_id)
    assert attempt.status == "failed" and attempt.authorization_url == ""
    assert order(order_id).status == OrderStatus.PENDING


def test_a_wrong_secret_key_is_reported_as_refused(paystack, monkeypatch):
    order_id = new_order()
    use_settings(monkeypatch, paystack_secret_key="sk_test_wrong")
    get_gateway.cache_clear()
    with pytest.raises(GatewayError, match="refused the request: Invalid key"):
        payments.begin_card_payment(order_id)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": OrderStatus.CANCELLED}, "This order was cancelled, so it can't be paid."),
        ({"status": OrderStatus.PAID, "payment_status": PaymentStatus.PAID}, "This order has already been paid."),
    ],
)
def test_paid_and_cancelled_orders_cannot_start_a_payment(paystack, fields, message):
    order_id = new_order(**fields)
    with pytest.raises(ValidationError, match=message):
        payments.begin_card_payment(order_id)
    assert payments_of(order_id) == []


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        (25_000, "USD", "Paid $250 in USD but the order is ₦25,000 in NGN."),
        (ORDER_TOTAL - 100, "NGN", "Paid ₦24,999 in NGN but the order is ₦25,000 in NGN."),
    ],
)
def test_an_amount_or_currency_mismatch_is_flagged_and_not_paid(paystack, jobs, amount, currency, reason):
    order_id = new_order()
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    paystack.complete(reference, amount=amount, currency=currency)

    assert payments.finalize(reference, "callback").status == "flagged"
    assert payments.finalize(reference, "callback").status == "flagged"  # and stays so, quietly
    [payment] = payments_of(order_id)
    assert (payment.status, payment.flagged_reason) == ("flagged", reason)
    assert (order(order_id).status, order(order_id).payment_status) == (OrderStatus.PENDING, PaymentStatus.UNPAID)
    with session_scope() as session:
        notes = session.exec(select(OrderEvent).where(OrderEvent.kind == "note")).all()
    assert len(notes) == 1 and reason in notes[0].message and notes[0].visible_to_customer is False
    assert jobs.job_ids("generate_invoice") == []
    with pytest.raises(ValidationError, match="checking an earlier payment"):
        payments.begin_card_payment(order_id)


# --- the webhook route ----------------------------------------------------------------------------


def event_count() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(PaymentEvent)).one()


def test_the_webhook_route_checks_signatures_stores_once_and_acknowledges_replays(paystack, jobs):
    order_id = new_order()
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    paystack.complete(reference)
    body, headers = signed_webhook(paystack.charge_event(reference))

    with TestClient(build_api()) as client:
        forged = client.post("/api/webhooks/paystack", content=body, headers=signed_webhook({}, "sk_wrong")[1])
        unsigned = client.post("/api/webhooks/paystack", content=body, headers={"content-type": "application/json"})
        assert (forged.status_code, unsigned.status_code) == (401, 401)
        assert event_count() == 0

        first = client.post("/api/webhooks/paystack", content=body, headers=headers)
        assert (first.status_code, first.json()) == (200, {"message": "ok"})
        replay = client.post("/api/webhooks/paystack", content=body, headers=headers)
        assert (replay.status_code, replay.json()) == (200, {"message": "duplicate"})

        garbage = b"not json"
        bad = client.post(
            "/api/webhooks/paystack", content=garbage, headers={"x-paystack-signature": sign_body(garbage, SECRET_KEY)}
        )
        assert bad.status_code == 400

    assert event_count() == 1
    with session_scope() as session:
        event = session.exec(select(PaymentEvent)).one()
    assert (event.event_type, event.status, event.provider) == ("charge.success", "received", "paystack")
    assert event.event_key == f"charge.success:{paystack.transactions[reference].id}"
    assert jobs.job_ids("process_payment_event") == [f"payment-event-{event.id}"]

    assert payments.process_payment_event(event.id) == "processed"
    assert order(order_id).status == OrderStatus.PAID
    assert payments.process_payment_event(event.id) == "processed"  # a retried job changes nothing
    assert paid_events(order_id) == 1


def test_a_hundred_concurrent_replays_and_the_callback_pay_the_order_exactly_once(paystack, jobs):
    order_id = new_order()
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    paystack.complete(reference)
    body, headers = signed_webhook(paystack.charge_event(reference))
    start = threading.Barrier(101)

    def webhook() -> str:
        start.wait()
        _status, message = payments.record_webhook(body, headers)
        with session_scope() as session:
            event_id = session.exec(select(PaymentEvent.id)).one()
        payments.process_payment_event(event_id)
        return message

    def callback() -> str:
        start.wait()
        return payments.finalize(reference, "callback").status

    with ThreadPoolExecutor(max_workers=101) as pool:
        webhooks = [pool.submit(webhook) for _ in range(100)]
        returned = pool.submit(callback)
        messages = sorted(future.result() for future in webhooks)

    assert messages == ["duplicate"] * 99 + ["ok"]
    assert returned.result() == "succeeded"
    assert [p.status for p in payments_of(order_id)] == ["succeeded"]
    assert paid_events(order_id) == 1
    assert jobs.job_ids("generate_invoice") == [f"invoice-{order_id}"]
    assert emails("payment_received") == 1
    with session_scope() as session:
        assert session.exec(select(PaymentEvent.status)).all() == ["processed"]


def test_a_failing_event_is_marked_failed_and_re_raised_for_a_retry(paystack, monkeypatch):
    order_id = new_order()
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    paystack.complete(reference)
    body, headers = signed_webhook(paystack.charge_event(reference))
    assert payments.record_webhook(body, headers) == (200, "ok")
    with session_scope() as session:
        event_id = session.exec(select(PaymentEvent.id)).one()

    use_settings(monkeypatch, paystack_base_url=closed_port_url())
    get_gateway.cache_clear()
    with pytest.raises(GatewayError):
        payments.process_payment_event(event_id)
    with session_scope() as session:
        failed = session.get(PaymentEvent, event_id)
    assert (failed.status, failed.error) == ("failed", UNREACHABLE)

    use_settings(monkeypatch, paystack_base_url=paystack.url)
    get_gateway.cache_clear()
    assert payments.process_payment_event(event_id) == "processed"
    assert order(order_id).status == OrderStatus.PAID


def test_unknown_events_and_unknown_references_are_ignored(paystack):
    assert payments.process_payment_event(deliver({"event": "transfer.success", "data": {"id": 7}})) == "ignored"
    stranger = {"event": "charge.success", "data": {"id": 8, "reference": "not-from-this-store"}}
    assert payments.process_payment_event(deliver(stranger)) == "ignored"


# --- refunds ----------------------------------------------------------------------------------------


def refunds_of(order_id: int) -> list[Refund]:
    with session_scope() as session:
        return list(session.exec(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))


def test_a_full_refund_processed_by_webhook_refunds_the_order_and_restocks(paystack):
    order_id = new_order()
    pay(paystack, order_id)
    assert stock_left(order_id) == STOCK - 2

    refund = payments.request_refund(order_id, None, STAFF, "Damaged in transit")
    assert (refund.status, refund.amount, refund.requested_by) == ("pending", ORDER_TOTAL, STAFF)
    assert int(refund.provider_reference) in paystack.refunds
    assert order(order_id).status == OrderStatus.PAID  # nothing changes until Paystack confirms

    deliver(paystack.refund_event(int(refund.provider_reference)))
    assert refunds_of(order_id)[0].status == "processed"
    refunded = order(order_id)
    assert (refunded.status, refunded.payment_status) == (OrderStatus.REFUNDED, PaymentStatus.REFUNDED)
    assert stock_left(order_id) == STOCK
    assert emails("refund") == 1
    with pytest.raises(ValidationError, match="Only paid orders can be refunded"):
        payments.request_refund(order_id, None, STAFF, "")


def test_partial_refunds_add_up_to_a_full_refund(paystack):
    order_id = new_order()
    pay(paystack, order_id)

    first = payments.request_refund(order_id, 500_000, STAFF, "One item missing")
    with pytest.raises(ValidationError, match="at most ₦20,000"):
        payments.request_refund(order_id, 2_000_001, STAFF, "")  # the pending ₦5,000 is reserved
    with pytest.raises(ValidationError, match="greater than zero"):
        payments.request_refund(order_id, 0, STAFF, "")

    # The webhook can arrive before the store recorded Paystack's refund id: matched by transaction.
    event = paystack.refund_event(int(first.provider_reference))
    with session_scope(write=True) as session:
        session.get(Refund, first.id).provider_reference = ""
    deliver(event)
    partly = order(order_id)
    assert (partly.status, partly.payment_status) == (OrderStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
    with session_scope() as session:
        [entry] = session.exec(select(OrderEvent).where(OrderEvent.to_status == "partially_refunded")).all()
    assert entry.message == "Refunded ₦5,000 of ₦25,000 to the card."
    assert stock_left(order_id) == STOCK - 2

    rest = payments.request_refund(order_id, None, STAFF, "Customer returned the rest")
    assert rest.amount == ORDER_TOTAL - 500_000
    deliver(paystack.refund_event(int(rest.provider_reference)))
    assert order(order_id).payment_status == PaymentStatus.REFUNDED
    assert order(order_id).status == OrderStatus.REFUNDED
    assert [r.status for r in refunds_of(order_id)] == ["processed", "processed"]


def test_a_failed_refund_is_noted_for_staff_and_frees_the_amount(paystack):
    order_id = new_order()
    pay(paystack, order_id)
    refund = payments.request_refund(order_id, None, STAFF, "")
    deliver(paystack.refund_event(int(refund.provider_reference), "failed"))

    assert refunds_of(order_id)[0].status == "failed"
    assert order(order_id).payment_status == PaymentStatus.PAID
    with session_scope() as session:
        note = session.exec(select(OrderEvent).where(OrderEvent.kind == "note")).one()
    assert "failed at the payment provider" in note.message and not note.visible_to_customer
    assert payments.request_refund(order_id, None, STAFF, "Second try").amount == ORDER_TOTAL


def test_only_card_paid_orders_can_be_refunded(paystack):
    unpaid = new_order()
    with pytest.raises(ValidationError, match="Only paid orders"):
        payments.request_refund(unpaid, None, STAFF, "")
    by_transfer = new_order(status=OrderStatus.PAID, payment_status=PaymentStatus.PAID)
    with pytest.raises(ValidationError, match="wasn't paid by card"):
        payments.request_refund(by_transfer, None, STAFF, "")


# --- the sandbox gateway --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "status"), [("approve", "succeeded"), ("decline", "failed"), ("abandon", "abandoned")]
)
def test_the_sandbox_page_decision_settles_the_payment(sandbox, jobs, decision, status):
    order_id = new_order()
    url = payments.begin_card_payment(order_id)
    reference = reference_of(url, order_id)
    assert url == f"/pay/sandbox/{reference}"
    summary = payments.payment_summary(reference)
    assert (summary.amount_text, summary.provider, summary.status) == ("₦25,000", "sandbox", "initialized")

    assert payments.finalize(reference, "callback").status == "pending"  # no decision yet
    payments.sandbox_decide(reference, decision)
    assert payments.finalize(reference, "callback").status == status
    paid = status == "succeeded"
    assert order(order_id).status == (OrderStatus.PAID if paid else OrderStatus.PENDING)
    assert jobs.job_ids("generate_invoice") == ([f"invoice-{order_id}"] if paid else [])
    with pytest.raises(ValidationError, match="already finished"):
        payments.sandbox_decide(reference, "approve")


def test_sandbox_rejects_unknown_decisions_and_refunds_at_once(sandbox):
    order_id = new_order()
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    with pytest.raises(ValidationError, match="use approve, decline or abandon"):
        payments.sandbox_decide(reference, "steal")
    payments.sandbox_decide(reference, "approve")
    payments.finalize(reference, "callback")

    refund = payments.request_refund(order_id, None, STAFF, "Changed mind")
    assert refund.status == "processed" and refund.provider_reference.startswith("sandbox-refund-")
    assert order(order_id).status == OrderStatus.REFUNDED
    assert stock_left(order_id) == STOCK


def test_sandbox_webhooks_are_signed_with_the_store_secret(sandbox):
    body = b'{"event": "ping", "data": {}}'
    key = get_settings().signing_key()
    assert payments.record_webhook(body, {"x-paystack-signature": sign_body(body, SECRET_KEY)})[0] == 401
    assert payments.record_webhook(body, {"x-paystack-signature": sign_body(body, key)}) == (200, "ok")
    with session_scope() as session:
        event = session.exec(select(PaymentEvent)).one()
    assert event.provider == "sandbox" and event.event_key.startswith("sha256:")


def test_a_payment_arriving_after_cancellation_is_noted_and_can_be_refunded(sandbox):
    order_id = new_order()
    reference = reference_of(payments.begin_card_payment(order_id), order_id)
    with session_scope(write=True) as session:
        orders.transition(session, session.get(Order, order_id), OrderStatus.CANCELLED, actor=STAFF)
    payments.sandbox_decide(reference, "approve")

    assert payments.finalize(reference, "callback").status == "succeeded"
    cancelled = order(order_id)
    assert (cancelled.status, cancelled.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.PAID)
    with session_scope() as session:
        note = session.exec(select(OrderEvent).where(OrderEvent.kind == "note")).one()
    assert "arrived after the order was cancelled" in note.message and not note.visible_to_customer

    assert payments.request_refund(order_id, None, STAFF, "Cancelled order").status == "processed"
    refunded = order(order_id)
    assert (refunded.status, refunded.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.REFUNDED)


def test_unpaid_card_orders_are_cancelled_and_restocked_when_their_hold_expires(database):
    from datetime import timedelta

    from revoque.models import Variant
    from revoque.models.base import utcnow
    from revoque.services.payments import cancel_unpaid_card_orders
    from tests.factories import add_order, add_product, variants_of

    with session_scope() as session:
        variant = variants_of(session, add_product(session, "Held Kettle", variants=[({}, 500_000, 4)]))[0]
        stale = add_order(session, [(variant, 2)], payment_method="card")
        fresh = add_order(session, [(variant, 1)], payment_method="card")
        on_delivery = add_order(session, [(variant, 1)], payment_method="pay_on_delivery")
        stale.created_at = utcnow() - timedelta(minutes=40)
        on_delivery.created_at = utcnow() - timedelta(minutes=40)
        session.add_all([stale, on_delivery])
        numbers = (stale.number, fresh.number)
    assert cancel_unpaid_card_orders() == [numbers[0]]
    assert cancel_unpaid_card_orders() == []
    with session_scope() as session:
        assert session.get(Variant, variant.id).stock_on_hand == 2  # 4 − 2 − 1 − 1 + 2 back
