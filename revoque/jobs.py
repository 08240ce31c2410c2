"""Job functions run by RQ workers or, in the embedded mode, by the in-process thread pool.

Jobs are thin: they open their own session and call services, so the same rules apply as in a
request. They must be idempotent and safe to retry, because RQ retries failures and a job id may
run again after a crash. Arguments are ids and plain values, never ORM objects.
"""

from __future__ import annotations

from typing import Any


def echo(value: Any) -> Any:
    """The queue round-trip probe used by ``/api/health?deep=1`` and the queue tests: it proves a
    job travels from the web process through the broker to a worker and its result comes back."""
    return value


def deliver_email(email_id: int) -> None:
    """Send one outbox email by SMTP (enqueued by revoque.adapters.mail.send_email after commit).
    A row already sent is skipped, so a retry never mails anyone twice."""
    from revoque.adapters.mail import deliver_outbox_email

    deliver_outbox_email(email_id)


def release_expired_reservations() -> int:
    """Delete checkout holds whose time is up. Availability already ignores expired holds, so this
    only keeps the table small; running it twice, or late, changes nothing else."""
    from revoque.db import session_scope
    from revoque.services.inventory import release_expired

    with session_scope(write=True) as session:
        return release_expired(session)
