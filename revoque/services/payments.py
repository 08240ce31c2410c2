"""Card payments: starting an attempt, finalising it exactly once, webhooks, and refunds.

Payment attempts
----------------
Every "Pay by card" click is a new ``Payment`` with its own reference; a declined or abandoned
attempt stays on record and the shopper simply starts another. The gateway is only ever called
outside database transactions, so a slow provider never holds a row lock.

Finalising, exactly once
------------------------
The shopper's return to the store (callback), the gateway's webhook and any later verify may arrive
in any order, any number of times, at the same moment. ``finalize`` asks the gateway how the
transaction stands, then locks the order and the payment rows (order first, as everywhere) and
applies the answer only if the payment has not already been settled. So one payment succeeds, the
order moves to paid once, and the invoice and "payment received" work is enqueued once, after the
commit, under a fixed job id. An amount or currency that differs from what was asked is never
accepted: the payment is flagged for staff and the order stays unpaid.

Webhooks
--------
``record_webhook`` checks the signature, stores the event under a unique key (a replay hits the
unique index and is acknowledged as a duplicate) and enqueues its processing; it answers fast so
the gateway does not time out. ``process_payment_event`` does the work and may be retried.

Refunds
-------
Staff refund a card-paid order in full or in part; the amount is reserved by a pending ``Refund``
row before the gateway is asked, so two refunds at once can never exceed what was paid. The
gateway's refund webhook (or, in the sandbox, its immediate answer) settles it: a full refund moves
the order to refunded (restocking goods not yet shipped), a partial one marks it partially refunded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.payments import SANDBOX_DECISIONS, GatewayError, SandboxGateway, VerifyResult, get_gateway
from revoque.adapters.queue import enqueue_after_commit
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import Order, OrderStatus, Payment, PaymentEvent, PaymentMethod, PaymentStatus, Refund
from revoque.models.base import utcnow
from revoque.services import emails, orders
from revoque.services.money import format_money
from revoque.services.pricing import get_store_config
from revoque.settings import get_settings

log = logging.getLogger(__name__)

CALLBACK_PATH = "/checkout/return"
SYSTEM_ACTOR = "system"


class PaymentState(StrEnum):
    """``Payment.status``. FLAGGED: the gateway took money that does not match the order (or the
    order was already paid); staff must look, the order is not marked paid by it."""

    INITIALIZED = "initialized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"
    FLAGGED = "flagged"


class RefundState(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class EventState(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


REFUND_EVENTS = {"refund.processed": RefundState.PROCESSED, "refund.failed": RefundState.FAILED}


@dataclass(frozen=True)
class FinalizeOutcome:
    status: str  # a PaymentState value, or "pending" while the gateway has no final answer
    order_number: str


@dataclass(frozen=True)
class PaymentSummary:
    """What the sandbox and return pages show about one payment attempt."""

    reference: str
    order_number: str
    amount_text: str  # "₦12,500"
    status: str
    provider: str


# --- starting an attempt -----------------------------------------------------------------------


def begin_card_payment(order_id: int) -> str:
    """Open a new payment attempt for an unpaid pending order; returns the URL to send the shopper to.

    The attempt is committed before the gateway is called, so the reference exists by the time the
    gateway (or the shopper) reports back; if the gateway cannot be reached the attempt is marked
    failed and the GatewayError is raised for the page to show."""
    gateway = get_gateway()
    with session_scope(write=True) as session:
        order = _lock_order(session, order_id)
        _check_payable(session, order)
        payment = Payment(
            order_id=order.id,
            provider=gateway.provider,
            reference=_new_reference(session, order),
            amount=order.total,
            currency=order.currency,
        )
        session.add(payment)
        email, number = order.email, order.number
    callback_url = get_settings().base_url.rstrip("/") + CALLBACK_PATH
    try:
        result = gateway.initialize(
            payment.reference, payment.amount, payment.currency, email, callback_url, {"order_number": number}
        )
    except GatewayError as exc:
        _update_payment(payment.reference, status=PaymentState.FAILED, gateway_response=str(exc))
        raise
    _update_payment(payment.reference, authorization_url=result.authorization_url)
    return result.authorization_url


def awaiting_card_payment(order: Order) -> bool:
    """Whether the order page should offer to pay by card (again): a card order still waiting for
    its money. ``begin_card_payment`` re-checks everything under a lock when the shopper clicks."""
    return (
        order.payment_method == PaymentMethod.CARD
        and order.status == OrderStatus.PENDING
        and order.payment_status == PaymentStatus.UNPAID
    )


def cancel_unpaid_card_orders(now: datetime | None = None) -> list[str]:
    """Cancel card orders whose payment never completed within RESERVATION_MINUTES of placing them,
    putting their stock back, like an expired checkout hold. A payment that still arrives later is
    recorded and flagged for a refund by ``finalize``. Returns the cancelled order numbers."""
    cutoff = (now or utcnow()) - timedelta(minutes=get_settings().reservation_minutes)
    with session_scope() as session:
        candidates = session.exec(
            select(Order.id).where(
                Order.payment_method == PaymentMethod.CARD,
                Order.status == OrderStatus.PENDING,
                Order.payment_status == PaymentStatus.UNPAID,
                Order.created_at < cutoff,
            )
        ).all()
    return [number for order_id in candidates if (number := _cancel_if_still_unpaid(order_id))]


def _cancel_if_still_unpaid(order_id: int) -> str:
    with session_scope(write=True) as session:
        order = _lock_order(session, order_id)
        if not awaiting_card_payment(order) or _payments(session, order.id, PaymentState.SUCCEEDED):
            return ""
        orders.transition(
            session,
            order,
            OrderStatus.CANCELLED,
            actor="system",
            message="The card payment was not completed in time, so the order was cancelled.",
        )
        return order.number


def _check_payable(session: Session, order: Order) -> None:
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError("This order was cancelled, so it can't be paid.")
    if order.payment_status != PaymentStatus.UNPAID:
        raise ValidationError("This order has already been paid.")
    if order.status != OrderStatus.PENDING:
        raise ValidationError("This order can't be paid by card any more. Please contact us.")
    if not get_store_config(session).card_payments_enabled:
        raise ValidationError("Card payments are not available right now. Please contact us to pay another way.")
    if _payments(session, order.id, PaymentState.FLAGGED):
        raise ValidationError("We're checking an earlier payment for this order and will be in touch shortly.")


def _new_reference(session: Session, order: Order) -> str:
    """``RVQ-100042-3-a1b2c3d4e5f60718``: the order, the attempt's number and a random part, so
    references never repeat (even across databases sharing one gateway account) and stay readable.
    The random part is 64 bits because a reference is a capability: the return page and the sandbox
    page act on it and lead to the order's signed link, and order numbers are sequential."""
    attempts = session.exec(select(func.count()).select_from(Payment).where(Payment.order_id == order.id)).one()
    return f"{order.number}-{attempts + 1}-{secrets.token_hex(8)}"


def _update_payment(reference: str, **fields: Any) -> None:
    with session_scope(write=True) as session:
        payment = session.exec(select(Payment).where(Payment.reference == reference)).one()
        for name, value in fields.items():
            setattr(payment, name, value[:300] if name == "gateway_response" else value)
        session.add(payment)


# --- the sandbox page --------------------------------------------------------------------------


def payment_summary(reference: str) -> PaymentSummary:
    """The attempt with this reference, for the sandbox and return pages; NotFound if unknown."""
    with session_scope() as session:
        payment = _payment(session, reference)
        order = session.get(Order, payment.order_id)
        return PaymentSummary(
            reference=payment.reference,
            order_number=order.number,
            amount_text=format_money(payment.amount, payment.currency),
            status=payment.status,
            provider=payment.provider,
        )


def sandbox_decide(reference: str, decision: str) -> None:
    """Record the shopper's choice on the sandbox page; ``finalize`` then reads it via verify."""
    if decision not in SANDBOX_DECISIONS:
        raise ValidationError(f"“{decision}” is not a sandbox decision: use approve, decline or abandon.")
    with session_scope(write=True) as session:
        payment = _lock_payment(session, reference)
        if payment.provider != SandboxGateway.provider:
            raise ValidationError("This payment is not a sandbox payment.")
        if payment.status != PaymentState.INITIALIZED:
            raise ValidationError("This payment attempt is already finished.")
        payment.gateway_response = SANDBOX_DECISIONS[decision]
        session.add(payment)


# --- finalising --------------------------------------------------------------------------------


def finalize(reference: str, source: str) -> FinalizeOutcome:
    """Settle the attempt from the gateway's own answer, exactly once (see the module docstring).

    ``source`` ("callback", "webhook", "verify") is logged. Raises NotFound for an unknown
    reference and GatewayError when the gateway cannot answer (webhook jobs are then retried)."""
    with session_scope() as session:
        payment = _payment(session, reference)
        number = session.get(Order, payment.order_id).number
    if payment.status in (PaymentState.SUCCEEDED, PaymentState.FLAGGED):
        return FinalizeOutcome(payment.status, number)
    result = get_gateway().verify(reference)
    with session_scope(write=True) as session:
        order = _lock_order(session, payment.order_id)
        payment = _lock_payment(session, reference)
        status = _apply_verification(session, order, payment, result)
    log.info("Payment %s finalised from %s: %s", reference, source, status)
    return FinalizeOutcome(status, number)


def _apply_verification(session: Session, order: Order, payment: Payment, result: VerifyResult) -> str:
    """Apply the gateway's answer to the locked payment; returns the outcome's status."""
    if payment.status in (PaymentState.SUCCEEDED, PaymentState.FLAGGED):
        return payment.status
    if result.status == "pending":
        return "pending"
    payment.gateway_response = result.gateway_response[:300]
    if result.status != "success":
        payment.status = PaymentState.FAILED if result.status == "failed" else PaymentState.ABANDONED
        session.add(payment)
        return payment.status
    payment.paid_at = result.paid_at or utcnow()
    mismatch = _mismatch(payment, result)
    if mismatch:
        return _flag(session, order, payment, mismatch)
    if orders.mark_paid(session, order, actor=SYSTEM_ACTOR, reference=payment.reference) is None:
        return _flag(session, order, payment, "The order was already paid, so this payment was not needed.")
    payment.status = PaymentState.SUCCEEDED
    session.add(payment)
    if order.status == OrderStatus.CANCELLED:  # an attempt opened before staff cancelled the order
        note = f"Card payment {payment.reference} arrived after the order was cancelled. Refund it."
        orders.add_note(session, order, note, actor=SYSTEM_ACTOR, visible_to_customer=False)
    _after_payment(session, order)
    return payment.status


def _mismatch(payment: Payment, result: VerifyResult) -> str:
    """Why the charge differs from what was asked ("" when it matches exactly)."""
    if result.amount == payment.amount and result.currency.upper() == payment.currency.upper():
        return ""
    paid = format_money(result.amount, result.currency)
    expected = format_money(payment.amount, payment.currency)
    return f"Paid {paid} in {result.currency.upper()} but the order is {expected} in {payment.currency}."


def _flag(session: Session, order: Order, payment: Payment, reason: str) -> str:
    """Keep the money on record for staff without accepting it as the order's payment."""
    payment.status, payment.flagged_reason = PaymentState.FLAGGED, reason[:500]
    session.add(payment)
    note = f"Card payment {payment.reference} needs review: {reason} Check it with the payment provider."
    orders.add_note(session, order, note, actor=SYSTEM_ACTOR, visible_to_customer=False)
    log.warning("Payment %s flagged: %s", payment.reference, reason)
    return payment.status


def _after_payment(session: Session, order: Order) -> None:
    """The work a confirmed payment starts. It runs only in the one transaction that marked the order
    paid; the email is delivered and the invoice made by jobs once that transaction commits (the
    fixed job id also keeps a re-run from queueing the invoice twice)."""
    emails.send_payment_received(session, order)
    enqueue_after_commit(session, jobs.generate_invoice, order.id, job_id=f"invoice-{order.id}")


# --- webhooks ----------------------------------------------------------------------------------


def record_webhook(raw_body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
    """Check, store and queue one webhook delivery; returns the HTTP status and a short message.

    ``headers`` may be Starlette's headers or a plain dict. A bad or missing signature stores
    nothing (401); a replay of a stored event is acknowledged without doing anything (200)."""
    gateway = get_gateway()
    if not gateway.verify_signature(raw_body, headers):
        return 401, "Invalid signature."
    payload = _parse_event(raw_body)
    if payload is None:
        return 400, "The body is not a JSON event with an event name and data."
    event = PaymentEvent(
        provider=gateway.provider,
        event_key=_event_key(payload, raw_body),
        event_type=payload["event"][:60],
        payload=payload,
    )
    try:
        with session_scope(write=True) as session:
            session.add(event)
            session.flush()
            enqueue_after_commit(session, jobs.process_payment_event, event.id, job_id=f"payment-event-{event.id}")
    except IntegrityError:
        return 200, "duplicate"
    return 200, "ok"


def _parse_event(raw_body: bytes) -> dict[str, Any] | None:
    """The event, or None for anything else: not JSON, nested past the parser's depth, NaN or
    Infinity, or text the database cannot store (NUL characters, lone surrogates)."""
    try:
        payload = json.loads(raw_body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        return None
    return payload if isinstance(payload.get("data"), dict) and _storable(payload) else None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _storable(payload: Any) -> bool:
    todo = [payload]  # a loop, not recursion: the payload may be nested as deep as the parser allows
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo.extend([*value.keys(), *value.values()])
        elif isinstance(value, list):
            todo.extend(value)
        elif isinstance(value, str) and ("\x00" in value or _unencodable(value)):
            return False
    return True


def _unencodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _event_key(payload: dict[str, Any], raw_body: bytes) -> str:
    """The same delivery always gets the same key: the event name and the gateway's object id, or
    a hash of the body when the object has no id."""
    object_id = payload["data"].get("id")
    if object_id not in (None, ""):
        return f"{payload['event'][:60]}:{object_id}"[:200]
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def process_payment_event(event_id: int) -> str:
    """Act on a stored webhook event (the job behind ``jobs.process_payment_event``); returns its
    new status. Safe to run again: settled events are skipped and every action is idempotent.
    An error marks the event failed and is re-raised so the queue retries it."""
    with session_scope() as session:
        event = session.get(PaymentEvent, event_id)
        if event is None:
            raise NotFound(f"Payment event {event_id} does not exist.")
        if event.status in (EventState.PROCESSED, EventState.IGNORED):
            return event.status
        event_type, data = event.event_type, event.payload.get("data", {})
    try:
        status = _dispatch(event_type, data)
    except Exception as exc:
        _set_event_status(event_id, EventState.FAILED, error=str(exc) or type(exc).__name__)
        raise
    _set_event_status(event_id, status)
    return status


def _dispatch(event_type: str, data: dict[str, Any]) -> EventState:
    try:
        if event_type == "charge.success":
            finalize(str(data.get("reference", "")), "webhook")
        elif event_type in REFUND_EVENTS:
            _settle_refund_event(data, REFUND_EVENTS[event_type])
        else:
            log.info("Ignoring payment event %s", event_type)
            return EventState.IGNORED
    except NotFound:
        log.warning("Ignoring %s for a payment or refund this store does not know: %r", event_type, data)
        return EventState.IGNORED
    return EventState.PROCESSED


def _set_event_status(event_id: int, status: EventState, error: str = "") -> None:
    with session_scope(write=True) as session:
        event = session.get(PaymentEvent, event_id)
        event.status, event.error, event.processed_at = status, error[:1000], utcnow()
        session.add(event)


# --- refunds -----------------------------------------------------------------------------------


def request_refund(order_id: int, amount: int | None, actor: str, reason: str) -> Refund:
    """Refund ``amount`` minor units (all that is left when ``None``) of the order's card payment.

    ``actor`` is the email of a member of staff the CALLER has already authorised, e.g. with
    ``accounts.require_role(user, Role.ADMIN)``; this function does not check roles. The amount is
    reserved (a pending Refund) before the gateway is called outside the transaction; a gateway
    failure marks the refund failed and raises GatewayError."""
    gateway = get_gateway()
    with session_scope(write=True) as session:
        order = _lock_order(session, order_id)
        payment = _refundable_payment(session, order)
        amount = _check_refund_amount(session, payment, amount)
        refund = Refund(
            order_id=order.id,
            payment_id=payment.id,
            amount=amount,
            currency=payment.currency,
            reason=reason.strip()[:300],
            requested_by=actor,
        )
        session.add(refund)
        session.flush()
    try:
        result = gateway.refund(payment.reference, None if amount == payment.amount else amount)
    except GatewayError:
        _record_refund_answer(refund.id, "", RefundState.FAILED)
        raise
    return _record_refund_answer(refund.id, result.provider_reference, RefundState(result.status))


def _refundable_payment(session: Session, order: Order) -> Payment:
    if not orders.is_paid(order):
        raise ValidationError("Only paid orders can be refunded.")
    succeeded = _payments(session, order.id, PaymentState.SUCCEEDED)
    if not succeeded:
        raise ValidationError("This order wasn't paid by card, so refund it outside the store.")
    return succeeded[-1]


def _check_refund_amount(session: Session, payment: Payment, amount: int | None) -> int:
    """The amount to refund, refusing more than is left once processed and pending refunds count."""
    reserved = _refund_total(session, payment.id, RefundState.PENDING, RefundState.PROCESSED)
    left = payment.amount - reserved
    if left <= 0:
        raise ValidationError("This payment has already been refunded in full.")
    if amount is None:
        return left
    if amount <= 0:
        raise ValidationError("Enter a refund amount greater than zero.")
    if amount > left:
        raise ValidationError(f"You can refund at most {format_money(left, payment.currency)}.")
    return amount


def _record_refund_answer(refund_id: int, provider_reference: str, status: RefundState) -> Refund:
    """Store the gateway's reference and, when it answered with a final status, settle the refund."""
    with session_scope(write=True) as session:
        refund = session.get(Refund, refund_id)
        order = _lock_order(session, refund.order_id)
        refund = _lock_refund(session, refund_id)
        if provider_reference:
            refund.provider_reference = provider_reference[:100]
            session.add(refund)
        if status != RefundState.PENDING:
            _settle_refund(session, order, refund, status)
        return refund


def _settle_refund_event(data: dict[str, Any], status: RefundState) -> None:
    with session_scope(write=True) as session:
        refund = _find_refund(session, data)
        order = _lock_order(session, refund.order_id)
        _settle_refund(session, order, _lock_refund(session, refund.id), status)


def _find_refund(session: Session, data: dict[str, Any]) -> Refund:
    """The refund a gateway event is about: by the gateway's refund reference, or else the oldest
    pending refund of that amount on the transaction (the webhook can beat the store's own
    recording of the reference)."""
    references = [str(data[key]) for key in ("refund_reference", "id") if data.get(key) not in (None, "")]
    if references:
        refund = session.exec(select(Refund).where(col(Refund.provider_reference).in_(references))).first()
        if refund is not None:
            return refund
    payment = session.exec(select(Payment).where(Payment.reference == str(data.get("transaction_reference")))).first()
    statement = select(Refund).where(Refund.payment_id == (payment.id if payment else None))
    statement = statement.where(Refund.status == RefundState.PENDING)
    if str(data.get("amount", "")).isdigit():
        statement = statement.where(Refund.amount == int(data["amount"]))
    refund = session.exec(statement.order_by(Refund.id)).first()
    if refund is None:
        raise NotFound("No refund matches this event.")
    return refund


def _settle_refund(session: Session, order: Order, refund: Refund, status: RefundState) -> None:
    """Apply a processed or failed refund once (a settled refund is left alone)."""
    if refund.status != RefundState.PENDING:
        return
    refund.status = status
    session.add(refund)
    session.flush()
    amount = format_money(refund.amount, refund.currency)
    if status == RefundState.FAILED:
        note = f"The refund of {amount} failed at the payment provider. Try again or refund another way."
        orders.add_note(session, order, note, actor=SYSTEM_ACTOR, visible_to_customer=False)
        return
    payment = session.get(Payment, refund.payment_id)
    if _refund_total(session, payment.id, RefundState.PROCESSED) >= payment.amount:
        _mark_refunded(session, order, f"Refunded {amount} to the card.")
    else:
        _mark_partially_refunded(session, order, payment, amount)
    emails.send_refund_issued(session, order, refund.amount)


def _mark_partially_refunded(session: Session, order: Order, payment: Payment, amount: str) -> None:
    orders.record_event(
        session,
        order,
        orders.EventKind.PAYMENT,
        actor=SYSTEM_ACTOR,
        message=f"Refunded {amount} of {format_money(payment.amount, payment.currency)} to the card.",
        from_status=order.payment_status,
        to_status=PaymentStatus.PARTIALLY_REFUNDED,
    )
    order.payment_status = PaymentStatus.PARTIALLY_REFUNDED.value
    session.add(order)


def _mark_refunded(session: Session, order: Order, message: str) -> None:
    """A full refund: the order becomes refunded where the status rules allow it (restocking goods
    not yet shipped); an order already cancelled keeps its status and only its payment changes."""
    if OrderStatus.REFUNDED in orders.next_statuses(order.status, orders.is_paid(order)):
        orders.transition(session, order, OrderStatus.REFUNDED, actor=SYSTEM_ACTOR, message=message)
        return
    orders.record_event(
        session,
        order,
        orders.EventKind.PAYMENT,
        actor=SYSTEM_ACTOR,
        message=message,
        from_status=order.payment_status,
        to_status=PaymentStatus.REFUNDED,
    )
    order.payment_status = PaymentStatus.REFUNDED.value
    session.add(order)


def _refund_total(session: Session, payment_id: int, *states: RefundState) -> int:
    statement = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment_id, col(Refund.status).in_([s.value for s in states])
    )
    return int(session.exec(statement).one())


# --- rows --------------------------------------------------------------------------------------


def _payment(session: Session, reference: str) -> Payment:
    payment = session.exec(select(Payment).where(Payment.reference == reference)).first()
    if payment is None:
        raise NotFound("This payment could not be found.")
    return payment


def _payments(session: Session, order_id: int, state: PaymentState) -> list[Payment]:
    statement = select(Payment).where(Payment.order_id == order_id, Payment.status == state)
    return list(session.exec(statement.order_by(Payment.id)))


def _lock_order(session: Session, order_id: int) -> Order:
    """The order under a row lock (taken before any payment or refund row, like everywhere else)."""
    statement = select(Order).where(Order.id == order_id).with_for_update()
    order = session.exec(statement.execution_options(populate_existing=True)).first()
    if order is None:
        raise NotFound("This order could not be found.")
    return order


def _lock_payment(session: Session, reference: str) -> Payment:
    statement = select(Payment).where(Payment.reference == reference).with_for_update()
    payment = session.exec(statement.execution_options(populate_existing=True)).first()
    if payment is None:
        raise NotFound("This payment could not be found.")
    return payment


def _lock_refund(session: Session, refund_id: int) -> Refund:
    statement = select(Refund).where(Refund.id == refund_id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).one()
