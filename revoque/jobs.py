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
    """Delete checkout holds whose time is up, and cancel card orders whose payment never came
    (their stock goes back). Availability already ignores expired holds; running this twice, or
    late, changes nothing else."""
    from revoque.db import session_scope
    from revoque.services.inventory import release_expired
    from revoque.services.payments import cancel_unpaid_card_orders

    with session_scope(write=True) as session:
        released = release_expired(session)
    return released + len(cancel_unpaid_card_orders())


def process_payment_event(event_id: int) -> str:
    """Act on one stored payment webhook (enqueued by revoque.services.payments.record_webhook).
    Settled events are skipped and every action is idempotent, so retries and replays are safe."""
    from revoque.services.payments import process_payment_event as process

    return process(event_id)


def generate_invoice(order_id: int) -> None:
    """(Re)build an order's invoice PDF; queued after a payment commits. Each run writes the next
    version and retires the previous file, so a retry or a duplicate leaves one current invoice."""
    from revoque.db import session_scope
    from revoque.services.invoices import generate_invoice as build_invoice

    with session_scope(write=True) as session:
        build_invoice(session, order_id)


def delete_file(bucket: str, key: str) -> None:
    """Remove a stored file nothing points at any more (an invoice's previous version), queued once
    the change that replaced it commits. A file already gone is fine, so retries are harmless."""
    from revoque.adapters.storage import get_storage

    get_storage().delete(key, bucket)


def index_product(product_id: int) -> bool:
    """Bring one product's search document in line with the database (queued after any change to
    the product, its stock or its status commits). It reads the current rows, so running it late or
    twice leaves the same document, and drops the search results cached from the old one."""
    from revoque.services.search import index_product as sync

    return sync(product_id)


def reindex_catalog() -> int:
    """Rebuild the whole search index from the catalog while it keeps serving searches."""
    from revoque.services.search import reindex_all

    return reindex_all()


def embed_product(product_id: int) -> int:
    """Re-embed one product into the vector index, or drop it when it is no longer active (queued by
    revoque.services.vector_index.schedule_product_embedding after the change commits). It reads the
    current rows and replaces the point, so running it late or twice leaves the same point. Search
    results and related products cached meanwhile from the old point are dropped once the new one is in."""
    from revoque.db import session_scope
    from revoque.services.vector_index import embed_products, forget_vector_answers

    with session_scope() as session:
        embedded = embed_products(session, [product_id])
    forget_vector_answers()
    return embedded


def reembed_catalog() -> int:
    """Re-embed every active product (queued once after a large import instead of one job per
    product). Points are replaced by id, so a retry or a late run leaves the same collection.
    Search results cached from the old points are dropped at the end."""
    from revoque.services.vector_index import forget_vector_answers, reembed_all

    embedded = reembed_all()
    forget_vector_answers()
    return embedded


def import_products(import_id: int) -> dict:
    """Run one recorded spreadsheet import (revoque.services.product_import.start_import queues it
    after the upload commits), reporting progress on its DataImport row. A finished import is not
    run again; a retry after a crash re-checks the file and writes only what is still different."""
    from revoque.services.product_import import run_import

    return run_import(import_id)


def export_products(export_id: int) -> dict:
    """Write the catalog in the import template to a private .xlsx for one DataExport row."""
    from revoque.services.exports import run_export

    return run_export(export_id)


def export_orders(export_id: int) -> dict:
    """Write the orders (with their lines) to a private .xlsx for one DataExport row."""
    from revoque.services.exports import run_export

    return run_export(export_id)


def reindex_knowledge() -> int:
    """Rebuild the assistant's knowledge collection (FAQ and policy passages). Staff edits queue it
    after they commit under one fixed id (revoque.services.content_admin.KNOWLEDGE_JOB_ID), so a
    burst of edits queues one rebuild while it waits; if the content changes while it runs, it
    rebuilds again. It reads the current rows each time, so a late or repeated run is harmless."""
    from revoque.services.content_admin import rebuild_knowledge

    return rebuild_knowledge()
