"""Card payment gateways behind one interface: Paystack's REST API, and a local sandbox.

``get_gateway()`` picks one from settings: Paystack when PAYSTACK_SECRET_KEY is set, otherwise the
sandbox, whose "payment page" is the store's own ``/pay/sandbox/<reference>`` where the shopper
approves, declines or abandons; no real money moves. Services see only ``PaymentGateway`` and never
learn which vendor is behind it.

Webhook signatures
------------------
Paystack signs every webhook with ``x-paystack-signature``: the hex HMAC-SHA512 of the raw body
keyed with the secret key. A timestamped form, ``t=<unix seconds>,v1=<hex>`` signed over
``f"{t}.{body}"``, is accepted in the same header; it is rejected when ``t`` is more than
``SIGNATURE_TOLERANCE_SECONDS`` away from now, so a captured delivery cannot be replayed later.
The pure functions below are shared by both gateways and by the tests' fake Paystack.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx
from sqlmodel import select

from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import Payment
from revoque.models.base import utcnow
from revoque.settings import get_settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-paystack-signature"
SIGNATURE_TOLERANCE_SECONDS = 300
GATEWAY_TIMEOUT_SECONDS = 10.0
UNREACHABLE = "The payment provider could not be reached. Please try again."
UNREADABLE = "The payment provider sent an answer we could not read. Please try again."

VerifyStatus = Literal["success", "failed", "abandoned", "pending"]
RefundStatus = Literal["pending", "processed", "failed"]

# Paystack's transaction statuses, folded into ours; anything else (ongoing, queued, processing…)
# is still in flight and reads as "pending".
_PAYSTACK_STATUSES: dict[str, VerifyStatus] = {
    "success": "success",
    "failed": "failed",
    "reversed": "failed",
    "abandoned": "abandoned",
}
_PAYSTACK_REFUND_STATUSES: dict[str, RefundStatus] = {"processed": "processed", "failed": "failed"}

# The currencies Paystack charges in (its "Supported currencies" list). The sandbox takes any, but a
# store may switch to Paystack later, so the store's currency is chosen from these.
PAYSTACK_CURRENCIES = frozenset({"NGN", "GHS", "ZAR", "KES", "USD", "XOF", "EGP", "RWF"})

# The sandbox page's three buttons, and how each decision is written on ``Payment.gateway_response``.
SANDBOX_DECISIONS = {"approve": "sandbox:approved", "decline": "sandbox:declined", "abandon": "sandbox:abandoned"}
_SANDBOX_STATUSES: dict[str, VerifyStatus] = {
    "sandbox:approved": "success",
    "sandbox:declined": "failed",
    "sandbox:abandoned": "abandoned",
}


class GatewayError(RevoqueError):
    """The gateway could not be reached or refused the request; the message is safe to show."""


@dataclass(frozen=True)
class InitResult:
    authorization_url: str  # where to send the shopper to pay
    access_code: str


@dataclass(frozen=True)
class VerifyResult:
    status: VerifyStatus
    amount: int  # minor units actually charged, as the gateway reports it
    currency: str
    gateway_response: str
    paid_at: datetime | None


@dataclass(frozen=True)
class RefundResult:
    provider_reference: str
    status: RefundStatus


class PaymentGateway(Protocol):
    provider: str  # stored on Payment.provider

    def initialize(
        self, reference: str, amount: int, currency: str, email: str, callback_url: str, metadata: dict[str, Any]
    ) -> InitResult:
        """Open a transaction for ``amount`` minor units; the shopper pays at the returned URL."""
        ...

    def verify(self, reference: str) -> VerifyResult:
        """Ask the gateway (never the shopper's browser) how the transaction stands."""
        ...

    def refund(self, reference: str, amount: int | None) -> RefundResult:
        """Refund ``amount`` minor units of the transaction, or all of it when ``None``."""
        ...

    def verify_signature(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether a webhook delivery really comes from the gateway."""
        ...


# --- webhook signatures ------------------------------------------------------------------------


def _key_bytes(secret: str | bytes) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode()


def sign_body(raw_body: bytes, secret: str | bytes) -> str:
    """Paystack's signature: hex HMAC-SHA512 of the raw body."""
    return hmac.new(_key_bytes(secret), raw_body, hashlib.sha512).hexdigest()


def sign_timestamped(raw_body: bytes, secret: str | bytes, timestamp: int) -> str:
    """The timestamped header value ``t=<unix>,v1=<hex>``, signed over ``f"{t}.{body}"``."""
    digest = sign_body(f"{timestamp}.".encode() + raw_body, secret)
    return f"t={timestamp},v1={digest}"


def check_signature(
    raw_body: bytes,
    header: str,
    secret: str | bytes,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` signs ``raw_body`` with ``secret``, in either form (see module docstring).

    An empty secret never verifies anything, so a store without a key cannot be fooled by an
    empty signature."""
    header = header.strip()
    if not header or not secret:
        return False
    if not header.startswith("t="):
        return hmac.compare_digest(sign_body(raw_body, secret), header.lower())
    fields = dict(part.strip().partition("=")[::2] for part in header.split(","))
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign_timestamped(raw_body, secret, timestamp)
    return hmac.compare_digest(expected, f"t={timestamp},v1={fields.get('v1', '').lower()}")


def header_value(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name from any mapping (Starlette's headers or a plain dict)."""
    return next((value for key, value in headers.items() if key.lower() == name), "")


# --- Paystack ----------------------------------------------------------------------------------


class PaystackGateway:
    """Paystack's REST API over httpx: every answer is ``{"status": bool, "message", "data"}``."""

    provider = "paystack"

    def __init__(self, secret_key: str, base_url: str, timeout: float = GATEWAY_TIMEOUT_SECONDS) -> None:
        self._secret_key = secret_key
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {secret_key}", "Accept": "application/json"},
            timeout=timeout,
        )

    def initialize(
        self, reference: str, amount: int, currency: str, email: str, callback_url: str, metadata: dict[str, Any]
    ) -> InitResult:
        body = {
            "email": email,
            "amount": amount,
            "currency": currency,
            "reference": reference,
            "callback_url": callback_url,
            "metadata": metadata,
        }
        data = self._call("POST", "/transaction/initialize", body)
        return InitResult(authorization_url=_text(data, "authorization_url"), access_code=_text(data, "access_code"))

    def verify(self, reference: str) -> VerifyResult:
        data = self._call("GET", f"/transaction/verify/{quote(reference, safe='')}")
        try:
            return VerifyResult(
                status=_PAYSTACK_STATUSES.get(str(data.get("status")), "pending"),
                amount=int(data["amount"]),
                currency=str(data["currency"]).upper(),
                gateway_response=str(data.get("gateway_response") or ""),
                paid_at=datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("Paystack verify for %s returned an unreadable transaction: %r", reference, data)
            raise GatewayError(UNREADABLE) from exc

    def refund(self, reference: str, amount: int | None) -> RefundResult:
        body: dict[str, Any] = {"transaction": reference}
        if amount is not None:
            body["amount"] = amount
        data = self._call("POST", "/refund", body)
        status = _PAYSTACK_REFUND_STATUSES.get(str(data.get("status")), "pending")
        return RefundResult(provider_reference=_text(data, "id"), status=status)

    def verify_signature(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        return check_signature(raw_body, header_value(headers, SIGNATURE_HEADER), self._secret_key)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API call; network trouble, a non-2xx answer or ``status: false`` raise GatewayError."""
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            log.warning("Paystack %s %s failed: %r", method, path, exc)
            raise GatewayError(UNREACHABLE) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        if response.is_success and payload.get("status") is True and isinstance(payload.get("data"), dict):
            return payload["data"]
        message = str(payload.get("message") or f"HTTP {response.status_code}")
        log.warning("Paystack %s %s answered %s: %s", method, path, response.status_code, message)
        if response.status_code >= 500 or not payload:
            raise GatewayError(UNREACHABLE)
        raise GatewayError(f"The payment provider refused the request: {message}")


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value in (None, ""):
        log.warning("Paystack answer lacks %r: %r", key, data)
        raise GatewayError(UNREADABLE)
    return str(value)


# --- sandbox -----------------------------------------------------------------------------------


class SandboxGateway:
    """The embedded default: the shopper decides on the store's own sandbox page (recorded on the
    Payment by ``revoque.services.payments.sandbox_decide``) and ``verify`` reads that decision back.
    Refunds are processed at once. Webhooks are signed with the store's SECRET_KEY, so the webhook
    route can be exercised without Paystack."""

    provider = "sandbox"

    def initialize(
        self, reference: str, amount: int, currency: str, email: str, callback_url: str, metadata: dict[str, Any]
    ) -> InitResult:
        # Relative: the sandbox page is on this site, so it works at whatever address the shopper uses.
        url = f"/pay/sandbox/{quote(reference, safe='')}"
        return InitResult(authorization_url=url, access_code=f"sandbox-{secrets.token_hex(8)}")

    def verify(self, reference: str) -> VerifyResult:
        with session_scope() as session:
            payment = session.exec(select(Payment).where(Payment.reference == reference)).first()
        if payment is None:
            raise GatewayError("This payment could not be found.")
        status = _SANDBOX_STATUSES.get(payment.gateway_response, "pending")
        paid_at = utcnow() if status == "success" else None
        return VerifyResult(status, payment.amount, payment.currency, payment.gateway_response, paid_at)

    def refund(self, reference: str, amount: int | None) -> RefundResult:
        return RefundResult(provider_reference=f"sandbox-refund-{secrets.token_hex(8)}", status="processed")

    def verify_signature(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        return check_signature(raw_body, header_value(headers, SIGNATURE_HEADER), get_settings().signing_key())


@lru_cache(maxsize=1)
def get_gateway() -> PaymentGateway:
    """The process-wide gateway, chosen once from settings (tests call ``get_gateway.cache_clear()``)."""
    settings = get_settings()
    if settings.paystack_secret_key.strip():
        return PaystackGateway(settings.paystack_secret_key.strip(), settings.paystack_base_url)
    return SandboxGateway()
