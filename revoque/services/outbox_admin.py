"""The mail outbox as staff read it: every email the store wrote, newest first, by status, with a
search on recipient and subject, one email's text and HTML, and resending one that failed.

Statuses (``revoque.adapters.mail``): "stored" emails stay in the outbox because no SMTP server is
set; "queued" ones wait for the delivery job; "sent" ones went out; "failed" ones were refused or
could not reach the server, with the reason in ``error``. Resending puts a failed email back to
"queued" and queues the same delivery job (``revoque.jobs.deliver_email``, job id
``email-<id>``) once the change commits; delivery skips a row already sent, so a double click never
mails anyone twice. Each resend is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.queue import enqueue_after_commit
from revoque.errors import NotFound, ValidationError
from revoque.models import OutboxEmail, User
from revoque.services import audit
from revoque.services.catalog import clamp_page
from revoque.services.pricing import as_utc
from revoque.services.queries import contains_any
from revoque.settings import get_settings

PAGE_SIZE = 25
STATUS_LABELS = {"queued": "Pending", "sent": "Sent", "stored": "Kept in outbox", "failed": "Failed"}
STATUS_ORDER = ("failed", "queued", "sent", "stored")
NO_SMTP_MESSAGE = (
    "Email delivery is off (SMTP_URL is not set), so emails stay in the outbox. Set SMTP_URL to send them."
)


@dataclass
class OutboxFilters:
    status: str = ""
    q: str = ""  # part of the recipient or the subject


@dataclass
class OutboxRow:
    id: int
    recipient: str  # (not ``to``: that name is taken by Reflex's Var.to)
    subject: str
    kind_label: str
    status: str
    status_label: str
    created_text: str
    error: str


@dataclass
class OutboxPage:
    items: list[OutboxRow]
    total: int
    page: int
    pages: int


@dataclass
class StatusCount:
    status: str
    label: str
    count: int


@dataclass
class OutboxView:
    id: int
    recipient: str  # (not ``to``: that name is taken by Reflex's Var.to)
    subject: str
    kind_label: str
    status: str
    status_label: str
    created_text: str
    sent_text: str
    error: str
    body_text: str
    body_html: str
    can_resend: bool


def kind_label(kind: str) -> str:
    """ "order_confirmation" → "Order confirmation"."""
    return kind.replace("_", " ").capitalize() if kind else "Other"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = as_utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def smtp_configured() -> bool:
    return bool(get_settings().smtp_url.strip())


def parse_filters(params: dict[str, str]) -> OutboxFilters:
    status = params.get("status", "")
    return OutboxFilters(status=status if status in STATUS_LABELS else "", q=params.get("q", "").strip()[:100])


def _filtered(statement, filters: OutboxFilters):
    if filters.status:
        statement = statement.where(OutboxEmail.status == filters.status)
    if filters.q:
        statement = statement.where(contains_any(filters.q, OutboxEmail.to, OutboxEmail.subject))
    return statement


def list_emails(
    session: Session, filters: OutboxFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> OutboxPage:
    """Newest first, a page at a time; a page past the end gives the last page."""
    filters = filters or OutboxFilters()
    total = session.exec(_filtered(select(func.count()).select_from(OutboxEmail), filters)).one()
    page, pages = clamp_page(page, total, page_size)
    emails = session.exec(
        _filtered(select(OutboxEmail), filters)
        .order_by(col(OutboxEmail.created_at).desc(), col(OutboxEmail.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return OutboxPage([_row(email) for email in emails], total, page, pages)


def _row(email: OutboxEmail) -> OutboxRow:
    return OutboxRow(
        id=email.id,
        recipient=email.to,
        subject=email.subject,
        kind_label=kind_label(email.kind),
        status=email.status,
        status_label=STATUS_LABELS.get(email.status, email.status.capitalize()),
        created_text=_when(email.created_at),
        error=email.error,
    )


def status_counts(session: Session) -> list[StatusCount]:
    """How many emails have each status (for the status tabs), failed first."""
    counts = dict(session.exec(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
    return [StatusCount(status, STATUS_LABELS[status], int(counts.get(status, 0))) for status in STATUS_ORDER]


def get_email(session: Session, email_id: int) -> OutboxEmail:
    email = session.get(OutboxEmail, email_id)
    if email is None:
        raise NotFound("There is no such email in the outbox.")
    return email


_TOKEN_VALUE = re.compile(r"(token=)[^\s\"'&<>]+")


def hide_tokens(body: str) -> str:
    """The email as staff may read it: a password-reset link's token would let whoever reads the
    outbox take over the account, so its value is blanked (the email sent, or resent, keeps it)."""
    return _TOKEN_VALUE.sub(r"\1[hidden]", body)


def email_view(session: Session, email_id: int) -> OutboxView:
    email = get_email(session, email_id)
    row = _row(email)
    return OutboxView(
        id=email.id,
        recipient=email.to,
        subject=email.subject,
        kind_label=row.kind_label,
        status=email.status,
        status_label=row.status_label,
        created_text=row.created_text,
        sent_text=_when(email.sent_at),
        error=email.error,
        body_text=hide_tokens(email.body_text),
        body_html=hide_tokens(email.body_html),
        can_resend=email.status == "failed",
    )


def resend_email(session: Session, actor: User, email_id: int) -> OutboxEmail:
    """Send a failed email again, by the delivery job, once this transaction commits."""
    email = session.exec(
        select(OutboxEmail)
        .where(OutboxEmail.id == email_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if email is None:
        raise NotFound("There is no such email in the outbox.")
    if email.status != "failed":
        label = STATUS_LABELS.get(email.status, email.status).lower()
        raise ValidationError(f"Only failed emails can be sent again; this one is {label}.")
    if not smtp_configured():
        raise ValidationError(NO_SMTP_MESSAGE)
    before = audit.snapshot(email, ["status", "error"])
    email.status, email.error = "queued", ""
    session.add(email)
    session.flush()
    after = audit.snapshot(email, ["status", "error"])
    audit.record(session, actor, "email.resend", email, before, after, f"{email.subject} → {email.to}")
    enqueue_after_commit(session, jobs.deliver_email, email.id, job_id=f"email-{email.id}")
    return email
