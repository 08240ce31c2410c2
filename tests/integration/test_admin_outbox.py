"""The mail outbox admin on a real database (SQLite and PostgreSQL): the list by status with search and
pages, one email's text and HTML, and resending a failed email through the real delivery job to a
local SMTP server (audited, only failed ones, only when SMTP is configured); the page handlers too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from revoque import jobs
from revoque.db import session_scope
from revoque.errors import ValidationError
from revoque.models import AuditEntry, OutboxEmail, Role
from revoque.models.base import utcnow
from revoque.pages.admin.outbox import AdminEmailState, AdminOutboxState
from revoque.services import outbox_admin
from revoque.services.outbox_admin import NO_SMTP_MESSAGE, OutboxFilters
from tests.conftest import use_settings
from tests.support.admin import add_user, event_text, page_state, run, token_for
from tests.support.recorded_jobs import record_jobs
from tests.support.smtp_server import smtp_server

URL = "http://localhost:3000/admin/outbox"


@pytest.fixture
def outbox(database) -> dict[str, int]:
    """30 stored emails, one sent, one pending and one that failed; returns the ids of the last three."""
    start = utcnow() - timedelta(days=1)
    with session_scope(write=True) as session:
        for n in range(30):
            session.add(
                OutboxEmail(
                    to=f"buyer{n}@example.com",
                    subject=f"Order RVQ-{100000 + n} confirmed",
                    body_text="Thanks",
                    kind="order_confirmation",
                    status="stored",
                    created_at=start + timedelta(minutes=n),
                )
            )
        special = {
            "sent": OutboxEmail(
                to="ada@example.com",
                subject="Your order shipped",
                body_text="On its way",
                status="sent",
                kind="order_shipped",
            ),
            "queued": OutboxEmail(to="bola@example.com", subject="Payment received", body_text="Paid", status="queued"),
            "failed": OutboxEmail(
                to="chi@example.com",
                subject="Reset your password",
                body_text="Open this link",
                body_html="<p>Open <a href='https://x'>this link</a></p><script>alert(1)</script>",
                kind="password_reset",
                status="failed",
                error="SMTPRecipientsRefused: chi@example.com",
            ),
        }
        session.add_all(special.values())
        session.flush()
        return {name: email.id for name, email in special.items()}


def staff():
    with session_scope(write=True) as session:
        return add_user(session, "sam@example.com", Role.STAFF)


def resend(actor, email_id: int) -> None:
    with session_scope(write=True) as session:
        outbox_admin.resend_email(session, actor, email_id)


def status_of(email_id: int) -> tuple[str, str]:
    with session_scope() as session:
        email = session.get(OutboxEmail, email_id)
        return email.status, email.error


def test_the_list_filters_by_status_searches_and_pages(outbox):
    with session_scope() as session:
        everything = outbox_admin.list_emails(session)
        assert (everything.total, everything.pages, len(everything.items)) == (33, 2, 25)
        assert everything.items[0].subject == "Reset your password"  # newest first
        failed = outbox_admin.list_emails(session, OutboxFilters(status="failed")).items
        assert [(r.recipient, r.status_label, r.kind_label, r.error) for r in failed] == [
            ("chi@example.com", "Failed", "Password reset", "SMTPRecipientsRefused: chi@example.com")
        ]
        assert [r.subject for r in outbox_admin.list_emails(session, OutboxFilters(q="RVQ-10002")).items] == [
            f"Order RVQ-{100000 + n} confirmed" for n in range(29, 19, -1)
        ]
        assert [r.recipient for r in outbox_admin.list_emails(session, OutboxFilters(q="ADA@")).items] == [
            "ada@example.com"
        ]
        last = outbox_admin.list_emails(session, page=7)
        assert (last.page, len(last.items), last.items[-1].recipient) == (2, 8, "buyer0@example.com")
        counts = {c.status: (c.label, c.count) for c in outbox_admin.status_counts(session)}
        assert counts == {
            "failed": ("Failed", 1),
            "queued": ("Pending", 1),
            "sent": ("Sent", 1),
            "stored": ("Kept in outbox", 30),
        }
        assert outbox_admin.parse_filters({"status": "bogus", "q": " x "}) == OutboxFilters(status="", q="x")


def test_one_email_shows_its_text_and_html(outbox):
    with session_scope() as session:
        view = outbox_admin.email_view(session, outbox["failed"])
        sent = outbox_admin.email_view(session, outbox["sent"])
    assert (view.recipient, view.status_label, view.body_text, view.can_resend) == (
        "chi@example.com",
        "Failed",
        "Open this link",
        True,
    )
    assert "<script>" in view.body_html  # shown as stored; the page puts it in a sandboxed frame
    assert (sent.can_resend, sent.body_html) == (False, "")


def test_a_failed_email_is_sent_again_by_the_delivery_job(outbox, monkeypatch):
    recorded = record_jobs(monkeypatch)
    sam = staff()
    with pytest.raises(ValidationError) as no_smtp:
        resend(sam, outbox["failed"])
    assert str(no_smtp.value) == NO_SMTP_MESSAGE
    with smtp_server() as (port, mailbox):
        use_settings(monkeypatch, smtp_url=f"smtp://127.0.0.1:{port}")
        recorded = record_jobs(monkeypatch)  # settings changed: the queue is looked up afresh
        for name in ("sent", "queued"):
            with pytest.raises(ValidationError, match="Only failed emails can be sent again"):
                resend(sam, outbox[name])
        resend(sam, outbox["failed"])
        assert status_of(outbox["failed"]) == ("queued", "")
        [job] = recorded.jobs
        assert (job.func, job.args, job.job_id) == (
            jobs.deliver_email,
            (outbox["failed"],),
            f"email-{outbox['failed']}",
        )
        job.run()
        job.run()  # a retry or a double click: already sent, nobody is mailed twice
        assert status_of(outbox["failed"])[0] == "sent"
        assert [m.recipients for m in mailbox.messages] == [["chi@example.com"]]
        assert mailbox.messages[0].message["Subject"] == "Reset your password"
    with session_scope() as session:
        [entry] = session.exec(select(AuditEntry)).all()
    assert (entry.action, entry.entity_type, entry.actor_email) == ("email.resend", "outboxemail", "sam@example.com")
    assert entry.before == {"status": "failed", "error": "SMTPRecipientsRefused: chi@example.com"}
    assert entry.after == {"status": "queued", "error": ""}


def test_staff_read_and_resend_through_the_pages(outbox, monkeypatch):
    token = token_for(Role.STAFF.value)
    listing = page_state(AdminOutboxState, token, f"{URL}?status=stored&q=buyer1&page=1")
    run(AdminOutboxState.load, listing)
    assert (listing.status, listing.q, listing.total) == ("stored", "buyer1", 11)
    assert listing.query == "status=stored&q=buyer1" and listing.search_query == "q=buyer1"
    assert not listing.smtp_on
    assert "/admin/outbox?status=stored&q=chi" in event_text(run(AdminOutboxState.search, listing, {"q": "chi"}))

    detail = page_state(AdminEmailState, token, f"{URL}/{outbox['failed']}")
    run(AdminEmailState.load, detail)
    assert detail.email.subject == "Reset your password" and detail.email.can_resend
    assert NO_SMTP_MESSAGE in event_text(run(AdminEmailState.resend, detail))
    with smtp_server() as (port, _mailbox):
        use_settings(monkeypatch, smtp_url=f"smtp://127.0.0.1:{port}")
        recorded = record_jobs(monkeypatch)
        assert "Sending the email again" in event_text(run(AdminEmailState.resend, detail))
        assert detail.email.status == "queued" and not detail.email.can_resend
        assert len(recorded.jobs) == 1

    missing = page_state(AdminEmailState, token, f"{URL}/999999")
    run(AdminEmailState.load, missing)
    assert missing.not_found and missing.email is None


def test_staff_never_read_a_password_reset_token(database):
    from revoque.services import accounts

    with session_scope(write=True) as session:
        user = add_user(session, "ngozi@example.com")
        accounts.request_password_reset(session, user.email)
        email = session.exec(select(OutboxEmail).where(OutboxEmail.to == user.email)).one()
        stored = email.body_text + email.body_html
        view = outbox_admin.email_view(session, email.id)
    assert "reset-password?token=" in stored and "token=[hidden]" not in stored  # the email keeps its link
    assert "token=[hidden]" in view.body_text and "token=[hidden]" in view.body_html
    token = stored.split("token=", 1)[1][:20]
    assert token not in view.body_text + view.body_html
