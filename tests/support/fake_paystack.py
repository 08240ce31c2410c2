"""A small stand-in for Paystack's REST API, so the real PaystackGateway code runs in tests.

It speaks the documented endpoints and answer shapes (``{"status": bool, "message", "data"}``):
``POST /transaction/initialize``, ``GET /transaction/verify/:reference`` and ``POST /refund``, and
checks the ``Authorization: Bearer <secret>`` header. Tests steer it: ``complete(reference, …)``
decides how a transaction ends (and can report a different amount or currency, as a tampered or
misconfigured charge would), and ``charge_event``/``refund_event`` build the webhook payloads Paystack
would send, which ``signed_webhook`` signs like Paystack does.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from revoque.adapters.payments import SIGNATURE_HEADER, sign_body, sign_timestamped
from tests.support.http_fake import FakeApiHandler, LocalServer, serving

SECRET_KEY = "sk_test_fake_paystack_secret"


@dataclass
class Transaction:
    id: int
    reference: str
    amount: int
    currency: str
    email: str
    callback_url: str
    metadata: dict[str, Any]
    status: str = "abandoned"  # what Paystack reports before the customer pays
    gateway_response: str = "The transaction was not completed"
    paid_at: str | None = None
    reported_amount: int | None = None  # what verify says was charged, when a test overrides it
    reported_currency: str | None = None


@dataclass
class FakeRefund:
    id: int
    transaction: Transaction
    amount: int
    status: str = "pending"


@dataclass
class FakePaystack:
    url: str = ""
    secret_key: str = SECRET_KEY
    transactions: dict[str, Transaction] = field(default_factory=dict)
    refunds: dict[int, FakeRefund] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every call
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(4_099_000_001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test controls -----------------------------------------------------------------------

    def complete(
        self, reference: str, status: str = "success", *, amount: int | None = None, currency: str | None = None
    ) -> None:
        """End the transaction as ``status`` (success, failed, abandoned); ``amount``/``currency``
        change what verify reports as charged."""
        with self._lock:
            transaction = self.transactions[reference]
            transaction.status = status
            transaction.gateway_response = {"success": "Approved", "failed": "Declined"}.get(status, "Abandoned")
            transaction.paid_at = _now() if status == "success" else None
            transaction.reported_amount, transaction.reported_currency = amount, currency

    def charge_event(self, reference: str) -> dict[str, Any]:
        """The ``charge.success`` webhook Paystack sends for a completed transaction."""
        return {"event": "charge.success", "data": self._transaction_data(self.transactions[reference])}

    def refund_event(self, refund_id: int, status: str = "processed") -> dict[str, Any]:
        """A ``refund.processed`` / ``refund.failed`` webhook for a refund made through ``POST /refund``."""
        refund = self.refunds[refund_id]
        refund.status = status
        return {
            "event": f"refund.{status}",
            "data": {
                "status": status,
                "transaction_reference": refund.transaction.reference,
                "refund_reference": str(refund.id),
                "amount": refund.amount,
                "currency": refund.transaction.currency,
                "processor": "fake",
                "customer": {"email": refund.transaction.email},
                "integration": 1,
                "domain": "test",
            },
        }

    # --- the API -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, authorization: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((method, path))
            if authorization != f"Bearer {self.secret_key}":
                return 401, {"status": False, "message": "Invalid key"}
            if method == "POST" and path == "/transaction/initialize":
                return self._initialize(body)
            if method == "GET" and path.startswith("/transaction/verify/"):
                return self._verify(path.removeprefix("/transaction/verify/"))
            if method == "POST" and path == "/refund":
                return self._refund(body)
            return 404, {"status": False, "message": "Not found"}

    def _initialize(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        missing = [key for key in ("email", "amount", "reference") if not body.get(key)]
        if missing:
            return 400, {"status": False, "message": f"{missing[0]} is required"}
        reference = str(body["reference"])
        if reference in self.transactions:
            return 400, {"status": False, "message": "Duplicate Transaction Reference"}
        transaction = Transaction(
            id=next(self._ids),
            reference=reference,
            amount=int(body["amount"]),
            currency=str(body.get("currency") or "NGN"),
            email=str(body["email"]),
            callback_url=str(body.get("callback_url") or ""),
            metadata=body.get("metadata") or {},
        )
        self.transactions[reference] = transaction
        access_code = f"ac_{transaction.id}"
        data = {
            "authorization_url": f"https://checkout.paystack.com/{access_code}",
            "access_code": access_code,
            "reference": reference,
        }
        return 200, {"status": True, "message": "Authorization URL created", "data": data}

    def _verify(self, reference: str) -> tuple[int, dict[str, Any]]:
        transaction = self.transactions.get(reference)
        if transaction is None:
            return 400, {"status": False, "message": "Transaction reference not found"}
        return 200, {"status": True, "message": "Verification successful", "data": self._transaction_data(transaction)}

    def _refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        transaction = self.transactions.get(str(body.get("transaction", "")))
        if transaction is None or transaction.status != "success":
            return 400, {"status": False, "message": "Transaction not found or not refundable"}
        refunded = sum(r.amount for r in self.refunds.values() if r.transaction is transaction and r.status != "failed")
        amount = int(body.get("amount") or transaction.amount - refunded)
        if amount <= 0 or refunded + amount > transaction.amount:
            return 400, {"status": False, "message": "Refund amount cannot be more than the transaction amount"}
        refund = FakeRefund(id=next(self._ids), transaction=transaction, amount=amount)
        self.refunds[refund.id] = refund
        data = {
            "transaction": self._transaction_data(transaction),
            "integration": 1,
            "deducted_amount": 0,
            "channel": None,
            "merchant_note": "",
            "customer_note": "",
            "status": refund.status,
            "refunded_by": "tests@revoque.test",
            "expected_at": _now(),
            "currency": transaction.currency,
            "domain": "test",
            "amount": amount,
            "fully_deducted": False,
            "id": refund.id,
            "createdAt": _now(),
            "updatedAt": _now(),
        }
        return 200, {"status": True, "message": "Refund has been queued for processing", "data": data}

    def _transaction_data(self, transaction: Transaction) -> dict[str, Any]:
        return {
            "id": transaction.id,
            "domain": "test",
            "status": transaction.status,
            "reference": transaction.reference,
            "amount": transaction.amount if transaction.reported_amount is None else transaction.reported_amount,
            "requested_amount": transaction.amount,
            "message": None,
            "gateway_response": transaction.gateway_response,
            "paid_at": transaction.paid_at,
            "created_at": _now(),
            "channel": "card",
            "currency": transaction.reported_currency or transaction.currency,
            "metadata": transaction.metadata,
            "customer": {"email": transaction.email},
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def signed_webhook(
    payload: dict[str, Any], secret: str | bytes = SECRET_KEY, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook delivery, signed as Paystack does (or in the timestamped
    form when ``timestamp`` is given)."""
    body = json.dumps(payload).encode()
    signature = sign_body(body, secret) if timestamp is None else sign_timestamped(body, secret, timestamp)
    return body, {"content-type": "application/json", SIGNATURE_HEADER: signature}


def post_webhook(
    url: str, payload: dict[str, Any], secret: str | bytes = SECRET_KEY, timestamp: int | None = None
) -> httpx.Response:
    """Sign and POST a webhook event to ``url`` (e.g. a running store's /api/webhooks/paystack)."""
    body, headers = signed_webhook(payload, secret, timestamp)
    return httpx.post(url, content=body, headers=headers, timeout=10)


class _Handler(FakeApiHandler):
    invalid_json = (400, {"status": False, "message": "Invalid JSON"})
    empty_body: Any = {}


@contextmanager
def running_fake_paystack() -> Iterator[FakePaystack]:
    """A fake Paystack on a free local port, for the duration of the ``with`` block."""
    fake = FakePaystack()
    server = LocalServer(_Handler, fake)
    fake.url = server.url
    with serving(server, "fake-paystack"):
        yield fake
