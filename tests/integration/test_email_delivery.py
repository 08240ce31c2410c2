"""Every store email through the real mail path: the service writes the outbox row, the transaction
commits, the in-process queue runs ``jobs.deliver_email``, and a real SMTP server (aiosmtpd) on
localhost receives a multipart message with a plain-text and an HTML part."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from revoque.db import session_scope
from revoque.models import Order, OrderStatus, OutboxEmail, PaymentMethod, PaymentStatus, User
from revoque.services import accounts, emails, orders, pricing
from revoque.services.checkout import order_url
from revoque.settings import get_settings
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.server import free_port

MALICIOUS_TITLE = "<script>alert(1)</script> Tote"
CUSTOMER = "ada@example.com"


@dataclass
class Inbox:
    """What the SMTP server accepted: (envelope sender, recipients, parsed message)."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook name
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(database, monkeypatch) -> Iterator[Inbox]:
    """A real SMTP server on a free localhost port, with SMTP_URL pointing at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        use_settings(monkeypatch, smtp_url=f"smtp://127.0.0.1:{port}")
        yield inbox
    finally:
        controller.stop()


def wait_until_sent(email_id: int, timeout: float = 15) -> OutboxEmail:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            email = session.get(OutboxEmail, email_id)
        if email.status in ("sent", "failed") or time.monotonic() > deadline:
            return email
        time.sleep(0.05)


def prepared_order(status: str = OrderStatus.PENDING, **fields) -> int:
    with session_scope(write=True) as session:
        config = pricing.get_store_config(session)
        config.bank_name, config.bank_account_name, config.bank_account_number = (
            "Zenith Bank",
            "Revoque Ltd",
            "0123456789",
        )
        config.contact_email = "help@revoque.example"
        session.add(config)
        product = add_product(session, MALICIOUS_TITLE, variants=[({"Colour": "Red"}, 1_250_000, 5)])
        (variant,) = variants_of(session, product)
        order = add_order(session, [(variant, 2)], email=CUSTOMER, status=status, **fields)
        order.shipping_method_name = "Standard delivery (Lagos)"
        order.shipping_address = {"name": "Ada Obi", "line1": "12 Admiralty Way", "city": "Lekki", "state": "Lagos"}
        session.add(order)
        return order.id


def latest_outbox(session: Session, kind: str) -> OutboxEmail:
    return session.exec(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id.desc())).first()


def send_confirmation() -> tuple[int, str, str]:
    order_id = prepared_order()
    with session_scope() as session:
        order = session.get(Order, order_id)
        email = emails.send_order_confirmation(session, order)
        return email.id, order.number, order_url(order.number)


def send_payment_received() -> tuple[int, str, str]:
    order_id = prepared_order(OrderStatus.PAID, payment_status=PaymentStatus.PAID)
    with session_scope() as session:
        order = session.get(Order, order_id)
        email = emails.send_payment_received(session, order)
        return email.id, order.number, order_url(order.number)


def send_shipped() -> tuple[int, str, str]:
    """Through the order status machine: moving an order to shipped is what sends this email."""
    order_id = prepared_order(OrderStatus.PROCESSING, payment_status=PaymentStatus.PAID)
    with session_scope(write=True) as session:
        order = session.get(Order, order_id)
        orders.transition(session, order, OrderStatus.SHIPPED, actor="staff@revoque.example")
        email = latest_outbox(session, emails.KIND_ORDER_SHIPPED)
        return email.id, order.number, order_url(order.number)


def send_refund() -> tuple[int, str, str]:
    order_id = prepared_order(
        OrderStatus.PAID, payment_status=PaymentStatus.PARTIALLY_REFUNDED, payment_method=PaymentMethod.CARD
    )
    with session_scope() as session:
        order = session.get(Order, order_id)
        email = emails.send_refund_issued(session, order, 500_000)
        return email.id, order.number, order_url(order.number)


def send_password_reset() -> tuple[int, str, str]:
    """Through the accounts service, like the "forgot password" page."""
    prepared_order()  # the product with the hostile title exists, though a reset never shows it
    with session_scope() as session:
        accounts.sign_up(session, CUSTOMER, "a long enough password", "Ada Obi")
    with session_scope() as session:
        accounts.request_password_reset(session, CUSTOMER)
        email = latest_outbox(session, emails.KIND_PASSWORD_RESET)
        link = next(word for word in email.body_text.split() if "/reset-password?token=" in word)
        assert session.exec(select(User)).one().email == CUSTOMER
        return email.id, "", link


SENDERS: dict[str, Callable[[], tuple[int, str, str]]] = {
    emails.KIND_ORDER_CONFIRMATION: send_confirmation,
    emails.KIND_PAYMENT_RECEIVED: send_payment_received,
    emails.KIND_ORDER_SHIPPED: send_shipped,
    emails.KIND_REFUND: send_refund,
    emails.KIND_PASSWORD_RESET: send_password_reset,
}


@pytest.mark.parametrize("kind", list(SENDERS))
def test_each_email_reaches_the_smtp_server_as_text_and_html(smtp, kind):
    email_id, number, link = SENDERS[kind]()
    sent = wait_until_sent(email_id)
    assert (sent.status, sent.error, sent.kind) == ("sent", "", kind)
    assert sent.sent_at is not None

    (sender, recipients, message) = _only_message(smtp)
    settings = get_settings()
    assert message["From"] == settings.mail_from and sender == "orders@revoque.local"
    assert message["To"] == CUSTOMER and recipients == [CUSTOMER]
    assert message["Subject"] == sent.subject
    assert number in sent.subject
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    markup = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert text.strip() == sent.body_text.strip() and markup.strip() == sent.body_html.strip()
    assert link in text and link.replace("&", "&amp;") in markup
    assert "<script>" not in markup
    if kind != emails.KIND_PASSWORD_RESET:
        assert number in text and number in markup
    if kind in (emails.KIND_ORDER_CONFIRMATION, emails.KIND_PAYMENT_RECEIVED, emails.KIND_ORDER_SHIPPED):
        assert MALICIOUS_TITLE in text and "&lt;script&gt;alert(1)&lt;/script&gt; Tote" in markup
    if kind == emails.KIND_ORDER_CONFIRMATION:
        assert "Zenith Bank" in text and "0123456789" in markup  # unpaid bank transfer: how to pay


def test_a_shipped_email_is_not_sent_when_the_status_change_rolls_back(smtp):
    order_id = prepared_order(OrderStatus.PROCESSING, payment_status=PaymentStatus.PAID)
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        orders.transition(session, session.get(Order, order_id), OrderStatus.SHIPPED, actor="staff@revoque.example")
        raise RuntimeError("the admin request failed after the transition")
    time.sleep(0.3)
    assert smtp.messages == []
    with session_scope() as session:
        assert session.get(Order, order_id).status == OrderStatus.PROCESSING
        assert session.exec(select(OutboxEmail)).all() == []


def _only_message(inbox: Inbox) -> tuple[str, list[str], EmailMessage]:
    deadline = time.monotonic() + 5  # the server records the message just before it answers 250
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    with inbox.lock:
        assert len(inbox.messages) == 1, [m[2]["Subject"] for m in inbox.messages]
        return inbox.messages[0]
