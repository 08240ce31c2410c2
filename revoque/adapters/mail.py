"""Email: every message is written to the outbox table; with SMTP_URL it is also delivered by SMTP.

Without SMTP_URL (the embedded default) an email stays in the outbox with status "stored", where
staff and ``python -m revoque.cli outbox`` can read it. With SMTP_URL the row starts "queued" and a
job sends it once the transaction that wrote it commits, so a rolled-back sign-up never mails
anyone. Delivery is idempotent: a row already "sent" is never sent again, whatever retries happen.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from sqlmodel import Session

from revoque.adapters.queue import enqueue_after_commit
from revoque.db import session_scope
from revoque.errors import ConfigError, RevoqueError
from revoque.models import OutboxEmail
from revoque.models.base import utcnow
from revoque.settings import get_settings

SMTP_TIMEOUT_SECONDS = 30
_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
_URL_FORMAT = "SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465"
_ERROR_LIMIT = 1000  # OutboxEmail.error's column size


class MailDeliveryFailed(RevoqueError):
    """The SMTP server refused the message or could not be reached; the outbox row says why."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str
    password: str
    implicit_tls: bool  # smtps://: TLS from the first byte; smtp://: STARTTLS when offered


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://user:pass@host:587`` or ``smtps://user:pass@host:465``; user and password are
    percent-decoded so they may contain ``@`` or ``:``."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise ConfigError(_URL_FORMAT) from exc
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(_URL_FORMAT)
    return SmtpServer(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        implicit_tls=parts.scheme == "smtps",
    )


def _configured_server() -> SmtpServer | None:
    url = get_settings().smtp_url
    return parse_smtp_url(url) if url.strip() else None


def send_email(session: Session, *, to: str, subject: str, text: str, html: str = "", kind: str = "") -> OutboxEmail:
    """Write the email to the outbox and, when SMTP is configured, deliver it after commit."""
    server = _configured_server()  # a malformed SMTP_URL fails here, loudly, not later in a worker
    email = OutboxEmail(
        to=to,
        subject=subject,
        body_text=text,
        body_html=html,
        kind=kind,
        status="queued" if server else "stored",
    )
    session.add(email)
    session.flush()
    if server:
        from revoque.jobs import deliver_email  # jobs import this module; import here to avoid a cycle

        enqueue_after_commit(session, deliver_email, email.id, job_id=f"email-{email.id}")
    return email


def deliver_outbox_email(email_id: int) -> None:
    """Send one outbox row by SMTP and record the outcome. Raises MailDeliveryFailed after recording
    a failure, so the job queue retries it later; a row that is already sent (or gone) is skipped."""
    with session_scope() as session:
        email = session.get(OutboxEmail, email_id)
        if email is None or email.status == "sent":
            return
        message = _build_message(email)
    server = _configured_server()
    error = "SMTP_URL is not set" if server is None else _send(server, message)
    _record_outcome(email_id, error)
    if error:
        raise MailDeliveryFailed(f"Email {email_id} to {message['To']} was not sent: {error}")


def _record_outcome(email_id: int, error: str) -> None:
    """Its own short transaction: no database transaction stays open while talking to SMTP."""
    with session_scope() as session:
        email = session.get(OutboxEmail, email_id)
        if email is None:
            return
        email.status, email.error = ("failed", error[:_ERROR_LIMIT]) if error else ("sent", "")
        email.sent_at = None if error else utcnow()
        session.add(email)


def _build_message(email: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    return message


def _sender_domain() -> str:
    """Message-IDs name the sender's domain (looking up this machine's hostname can be slow)."""
    return parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "localhost"


def _send(server: SmtpServer, message: EmailMessage) -> str:
    """Deliver ``message``; returns "" on success or the reason it failed."""
    try:
        with _connect(server) as smtp:
            smtp.ehlo()
            if not server.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if server.username:
                smtp.login(server.username, server.password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ""


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.implicit_tls:
        return smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    return smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
