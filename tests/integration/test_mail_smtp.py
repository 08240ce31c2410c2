"""Email through a real SMTP conversation with a local test server: queued after commit, sent once,
and a server that is down leaves the outbox row failed with the reason."""

from __future__ import annotations

import time

import pytest

from revoque import jobs
from revoque.adapters.mail import MailDeliveryFailed, send_email
from revoque.db import session_scope
from revoque.models import OutboxEmail
from tests.conftest import use_settings
from tests.support.server import free_port
from tests.support.smtp_server import smtp_server


def wait_for_status(email_id: int, wanted: str, timeout: float = 10) -> OutboxEmail:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            email = session.get(OutboxEmail, email_id)
        if email.status == wanted or time.monotonic() > deadline:
            return email
        time.sleep(0.05)


def test_without_smtp_the_email_stays_in_the_outbox(database):
    with session_scope() as session:
        email = send_email(session, to="ada@example.com", subject="Hello", text="Hi Ada")
    assert wait_for_status(email.id, "stored", timeout=0).status == "stored"


def test_with_smtp_the_email_is_sent_after_commit_and_only_once(database, monkeypatch):
    with smtp_server() as (port, mailbox):
        use_settings(monkeypatch, smtp_url=f"smtp://shop%40revoque.test:s3cret@127.0.0.1:{port}")
        with session_scope() as session:
            email = send_email(
                session,
                to="ada@example.com",
                subject="Your order RV-1001",
                text="Thanks for your order.",
                html="<p>Thanks for your order.</p>",
                kind="order_confirmation",
            )
            assert email.status == "queued"
            time.sleep(0.2)
            assert mailbox.messages == [], "nothing is sent before the transaction commits"
        sent = wait_for_status(email.id, "sent")
        assert (sent.status, sent.error) == ("sent", "") and sent.sent_at is not None
        (received,) = mailbox.messages
        assert received.login == "shop@revoque.test:s3cret"
        assert received.recipients == ["ada@example.com"]
        assert received.message["Subject"] == "Your order RV-1001"
        assert received.message["From"] == "Revoque <orders@revoque.local>"
        assert received.message.get_body(("plain",)).get_content().strip() == "Thanks for your order."
        assert "<p>Thanks" in received.message.get_body(("html",)).get_content()
        jobs.deliver_email(email.id)  # a retry of a sent email sends nothing
        assert len(mailbox.messages) == 1


def test_a_rolled_back_transaction_sends_nothing(database, monkeypatch):
    with smtp_server() as (port, mailbox):
        use_settings(monkeypatch, smtp_url=f"smtp://127.0.0.1:{port}")
        with pytest.raises(RuntimeError), session_scope() as session:
            send_email(session, to="ada@example.com", subject="Never", text="Never sent")
            raise RuntimeError("the sign-up failed")
        time.sleep(0.3)
        assert mailbox.messages == []


def test_a_server_that_is_down_marks_the_email_failed(database, monkeypatch):
    use_settings(monkeypatch, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    with session_scope() as session:
        email = OutboxEmail(to="ada@example.com", subject="Hello", body_text="Hi Ada", status="queued")
        session.add(email)
    with pytest.raises(MailDeliveryFailed, match="was not sent"):
        jobs.deliver_email(email.id)
    failed = wait_for_status(email.id, "failed", timeout=0)
    assert failed.status == "failed" and "refused" in failed.error.lower()
    assert failed.sent_at is None
