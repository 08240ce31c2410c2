"""Exports as jobs: orders and products to .xlsx in the private exports bucket, a signed link that
expires, the exports history, and the blank import template."""

from __future__ import annotations

import io
from datetime import UTC, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from revoque import jobs
from revoque.adapters.storage import EXPORTS, get_storage, verify_signed_request
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import DataExport, Order, OrderStatus, PaymentStatus
from revoque.models.base import utcnow
from revoque.services.exports import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    export_link,
    list_exports,
    request_export,
    run_export,
    template_workbook,
)
from revoque.services.import_parsing import TEMPLATE_COLUMNS
from revoque.services.product_import import preview_import
from tests.factories import add_order, add_product, variants_of
from tests.support.recorded_jobs import record_jobs

ADDRESS = {"name": "Ada Okafor", "line1": "12 Admiralty Way", "city": "Lagos", "state": "Lagos", "country": "NG"}


def sheet_rows(data: bytes, title: str) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return list(workbook[title].iter_rows(values_only=True))


def place_orders() -> dict[str, str]:
    """Three orders in three states; returns status -> order number."""
    with session_scope() as session:
        kettle = add_product(session, "Pour-Over Kettle", variants=[({}, 1_850_050, 20)])
        towels = add_product(session, "Linen Towels", variants=[({"Colour": "Sage"}, 600_000, 20)])
        kettle_variant, towel_variant = variants_of(session, kettle)[0], variants_of(session, towels)[0]
        numbers = {}
        for status, lines in (
            (OrderStatus.PAID, [(kettle_variant, 1), (towel_variant, 3)]),
            (OrderStatus.PENDING, [(towel_variant, 1)]),
            (OrderStatus.CANCELLED, [(kettle_variant, 2)]),
        ):
            order = add_order(session, lines, status=status, email=f"{status}@example.com")
            order.shipping_address = ADDRESS
            if status == OrderStatus.PAID:
                order.payment_status = PaymentStatus.PAID
            session.add(order)
            numbers[str(status)] = order.number
    return numbers


def test_orders_export_job_writes_a_private_workbook_with_an_expiring_link(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    numbers = place_orders()
    with session_scope() as session:
        record = request_export(
            session, "orders", filters={"statuses": ["paid", "pending"]}, requested_by="staff@example.com"
        )
        export_id = record.id
        assert recorded.jobs == []  # queued after commit
    (job,) = recorded.jobs
    assert (job.func, job.args, job.job_id) == (jobs.export_orders, (export_id,), f"export-orders-{export_id}")
    with session_scope() as session:
        (pending,) = list_exports(session)
        assert (pending.status, pending.ready) == ("pending", False)
        with pytest.raises(NotFound):
            export_link(session, export_id)

    result = job.run()
    assert (result["id"], result["kind"], result["rows"]) == (export_id, "orders", 2)
    with session_scope() as session:
        record = session.get(DataExport, export_id)
        assert record.status == "succeeded" and record.row_count == 2 and record.requested_by == "staff@example.com"
        assert record.filename.startswith("revoque-orders-") and record.filename.endswith(".xlsx")
        data = get_storage().read(record.storage_key, EXPORTS)
        assert record.size_bytes == len(data) == result["bytes"]
        paid = session.exec(select(Order).where(Order.number == numbers["paid"])).one()

    orders = sheet_rows(data, "Orders")
    assert orders[0] == ORDER_COLUMNS
    by_number = {row[0]: dict(zip(ORDER_COLUMNS, row, strict=True)) for row in orders[1:]}
    assert sorted(by_number) == sorted([numbers["paid"], numbers["pending"]])  # the cancelled one is filtered out
    first = by_number[numbers["paid"]]
    assert (first["Status"], first["Payment status"], first["Email"]) == ("paid", "paid", "paid@example.com")
    assert (first["Customer"], first["City"], first["Items"]) == ("Ada Okafor", "Lagos", 4)
    assert Decimal(str(first["Total"])) == Decimal("36500.50")  # 18,500.50 + 3 x 6,000, as a number
    placed = paid.created_at.astimezone(UTC) if paid.created_at.tzinfo else paid.created_at
    assert first["Placed (UTC)"] == placed.replace(tzinfo=None, microsecond=0)
    lines = sheet_rows(data, "Lines")
    assert lines[0] == LINE_COLUMNS
    assert sorted((row[0], row[3], row[6]) for row in lines[1:]) == sorted(
        [
            (numbers["paid"], "Pour-Over Kettle", 1),
            (numbers["paid"], "Linen Towels", 3),
            (numbers["pending"], "Linen Towels", 1),
        ]
    )

    with session_scope() as session:
        link = export_link(session, export_id, expires_in=60)
    url = urlparse(link.url)
    query = parse_qs(url.query)
    bucket, key = url.path.removeprefix("/files/").split("/", 1)
    assert (bucket, key) == (EXPORTS, record.storage_key)
    assert query["download"] == [record.filename]
    expires = int(query["expires"][0])
    assert verify_signed_request(bucket, key, expires, query["sig"][0])
    assert not verify_signed_request(bucket, key, expires, query["sig"][0], now=expires + 1)  # expired
    assert not verify_signed_request(bucket, "orders/other.xlsx", expires, query["sig"][0])
    assert abs((link.expires_at - utcnow()) - timedelta(seconds=60)) < timedelta(seconds=5)

    assert run_export(export_id)["rows"] == 2  # a finished export is not rebuilt
    with session_scope() as session:
        assert session.get(DataExport, export_id).storage_key == record.storage_key


def test_products_export_job_is_the_import_template(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    with session_scope() as session:
        add_product(session, "Indigo Shirt", variants=[({"Size": "S"}, 1_500_000, 3), ({"Size": "M"}, 1_600_000, 0)])
        export_id = request_export(session, "products").id
    recorded.jobs[0].run()
    with session_scope() as session:
        (entry,) = list_exports(session, kind="products")
        assert (entry.ready, entry.row_count) == (True, 2)
        data = get_storage().read(session.get(DataExport, export_id).storage_key, EXPORTS)
        rows = sheet_rows(data, "Products")
        assert rows[0] == TEMPLATE_COLUMNS
        assert [dict(zip(TEMPLATE_COLUMNS, row, strict=True))["sku"] for row in rows[1:]] == [
            "INDIGO-SHIRT-S",
            "INDIGO-SHIRT-M",
        ]
        checked = preview_import(session, data, entry.filename)
    assert (checked.counts.products_unchanged, checked.counts.variants_unchanged) == (1, 2)
    assert checked.problems == []


def test_a_failed_export_is_recorded(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    with session_scope() as session:
        export_id = request_export(session, "products").id

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(get_storage()), "put", broken)
    with pytest.raises(OSError):
        recorded.jobs[0].run()
    with session_scope() as session:
        record = session.get(DataExport, export_id)
        assert (record.status, record.error) == ("failed", "The export failed (OSError)")


def test_export_requests_are_checked(database):
    with session_scope() as session:
        with pytest.raises(ValidationError, match="Unknown export"):
            request_export(session, "customers")
        with pytest.raises(ValidationError, match="is not a date"):
            request_export(session, "orders", filters={"date_from": "last week"})


def test_order_date_filters_are_whole_days(database, monkeypatch):
    recorded = record_jobs(monkeypatch)
    numbers = place_orders()
    today = utcnow().date()
    with session_scope() as session:
        first = session.exec(select(Order).where(Order.number == numbers["paid"])).one()
        first.created_at = utcnow() - timedelta(days=3)
        session.add(first)
        request_export(session, "orders", filters={"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert recorded.jobs[0].run()["rows"] == 2


def test_the_blank_template_has_the_columns_and_help():
    data = template_workbook()
    assert sheet_rows(data, "Products") == [TEMPLATE_COLUMNS]
    help_rows = dict(sheet_rows(data, "Help")[1:])
    assert list(help_rows) == list(TEMPLATE_COLUMNS)
    assert "Category path" in help_rows["category"]
    assert help_rows["option3_value"] == help_rows["option1_value"]
