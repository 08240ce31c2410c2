"""Invoice PDFs: generated into the private invoices bucket, versioned on regeneration, downloadable
through a signed link, and readable (text extracted with pdfium, page 1 rendered to
test-results/invoices/ for a look)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from revoque import jobs
from revoque.adapters.storage import INVOICES, get_storage
from revoque.api import build_api
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import Invoice, Order, OrderLine, PaymentMethod, PaymentStatus, StoreConfig
from revoque.services.invoices import (
    BUILTIN_FONTS,
    InvoiceData,
    generate_invoice,
    invoice_download_url,
    load_fonts,
    render_invoice_pdf,
)
from revoque.services.money import format_money
from revoque.services.pricing import compute_totals, get_store_config
from revoque.settings import PROJECT_ROOT
from tests.factories import add_coupon, add_order, add_product, variants_of

RESULTS = PROJECT_ROOT / "test-results" / "invoices"
ADDRESS = {
    "name": "Ada Okafor",
    "line1": "12 Admiralty Way",
    "line2": "Lekki Phase 1",
    "city": "Lagos",
    "state": "Lagos",
    "postal_code": "106104",
    "country": "NG",
    "phone": "+234 803 555 0101",
}
TITLES = ["Ceramic Pour-Over Kettle", "Linen Tea Towels", "Shea Butter Hand Cream"]


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def save_page_png(pdf: bytes, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    pdfium.PdfDocument(pdf)[0].render(scale=2).to_pil().save(path)
    return path


def wait_until_gone(key: str, timeout: float = 10) -> bool:
    """The previous version is deleted by a job queued after commit (a thread in embedded mode)."""
    deadline = time.monotonic() + timeout
    while get_storage().exists(key, bucket=INVOICES):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def make_order(*, paid: bool = False, prices_include_tax: bool = True) -> int:
    """Three lines and the WELCOME10 coupon, totals computed as checkout does."""
    with session_scope(write=True) as session:
        kettle = add_product(session, TITLES[0], variants=[({"Colour": "Matte Black"}, 1_850_000, 10)])
        towels = add_product(session, TITLES[1], variants=[({"Pack": "Set of 3"}, 450_050, 10)])
        cream = add_product(session, TITLES[2], variants=[({}, 199_950, 10)])
        lines = [(variants_of(session, kettle)[0], 2), (variants_of(session, towels)[0], 1)]
        lines.append((variants_of(session, cream)[0], 3))
        order = add_order(
            session,
            lines,
            payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
            payment_method=PaymentMethod.CARD if paid else PaymentMethod.BANK_TRANSFER,
        )
        coupon = add_coupon(session, "WELCOME10", value=1000)
        totals = compute_totals(order.subtotal, order.subtotal // 10, 250_000, 750, prices_include_tax)
        order.coupon_id, order.coupon_code = coupon.id, coupon.code
        order.discount, order.tax, order.shipping, order.total = totals.discount, totals.tax, 250_000, totals.total
        order.tax_rate_bp, order.prices_include_tax = 750, prices_include_tax
        order.shipping_method_name = "Standard delivery"
        order.shipping_address = order.billing_address = ADDRESS
        config = get_store_config(session)
        config.bank_name, config.bank_account_name, config.bank_account_number = (
            "Zenith Bank",
            "Revoque Ltd",
            "1012345678",
        )
        config.contact_email, config.contact_phone = "hello@revoque.test", "+234 1 700 0000"
        config.contact_address = "5 Broad Street, Lagos"
        session.add_all([order, config])
        return order.id


def test_an_invoice_for_three_lines_and_a_coupon(database):
    order_id = make_order()
    with session_scope(write=True) as session:
        invoice = generate_invoice(session, order_id)
        order = session.get(Order, order_id)
    assert invoice.number == f"INV-{order.number}"
    assert (invoice.version, invoice.storage_key) == (1, f"{order.number}/invoice-v1.pdf")
    assert invoice.generated_at is not None
    pdf = get_storage().read(invoice.storage_key, bucket=INVOICES)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in [
        invoice.number,
        order.number,
        *TITLES,
        "Matte Black",
        "Set of 3",
        "Ada Okafor",
        "ada@example.com",
        "Discount (WELCOME10)",
        f"-{format_money(order.discount, 'NGN')}",
        format_money(order.total, "NGN"),
        f"Includes {format_money(order.tax, 'NGN')} VAT (7.5%)",
        "Unpaid",
        "Bank transfer",
        "Zenith Bank",
        "1012345678",
        "hello@revoque.test",
    ]:
        assert expected in text, expected
    assert "₦" in text and "NGN " not in text
    png = save_page_png(pdf, "invoice.png")
    assert png.stat().st_size > 10_000


def test_regenerating_bumps_the_version_and_removes_the_old_file(database):
    order_id = make_order()
    with session_scope(write=True) as session:
        first = generate_invoice(session, order_id)
    first_key = first.storage_key
    with session_scope(write=True) as session:
        second = generate_invoice(session, order_id)
    assert second.id == first.id and second.version == 2
    assert second.storage_key.endswith("/invoice-v2.pdf")
    assert get_storage().exists(second.storage_key, bucket=INVOICES)
    assert wait_until_gone(first_key)
    with session_scope() as session:
        assert len(session.exec(select(Invoice).where(Invoice.order_id == order_id)).all()) == 1


def test_a_rolled_back_regeneration_keeps_the_current_file(database):
    order_id = make_order()
    with session_scope(write=True) as session:
        current = generate_invoice(session, order_id).storage_key
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        generate_invoice(session, order_id)
        raise RuntimeError("something later in the transaction failed")
    time.sleep(0.3)  # give a wrongly queued deletion time to run
    assert get_storage().exists(current, bucket=INVOICES)
    with session_scope() as session:
        assert session.exec(select(Invoice)).one().storage_key == current


def test_the_job_generates_and_regenerates(database):
    order_id = make_order()
    jobs.generate_invoice(order_id)
    jobs.generate_invoice(order_id)  # a retry or a second payment event: a newer version, one row
    with session_scope() as session:
        invoice = session.exec(select(Invoice)).one()
    assert invoice.version == 2
    assert get_storage().exists(invoice.storage_key, bucket=INVOICES)


def test_concurrent_generations_of_one_order_both_succeed(database):
    order_id = make_order()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            jobs.generate_invoice(order_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with session_scope() as session:
        invoice = session.exec(select(Invoice)).one()
    assert invoice.version == 2
    assert wait_until_gone(invoice.storage_key.replace("-v2.pdf", "-v1.pdf"))


def test_download_link_serves_the_pdf_under_its_number(database):
    order_id = make_order()
    with session_scope() as session:
        assert invoice_download_url(session, order_id) is None
    with session_scope(write=True) as session:
        invoice = generate_invoice(session, order_id)
    with session_scope() as session:
        url = invoice_download_url(session, order_id)
    assert url is not None and url.startswith(f"/files/invoices/{invoice.storage_key}?")
    with TestClient(build_api()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content == get_storage().read(invoice.storage_key, bucket=INVOICES)


def test_paid_orders_with_tax_on_top_show_a_vat_row_and_no_bank_details(database):
    order_id = make_order(paid=True, prices_include_tax=False)
    with session_scope(write=True) as session:
        invoice = generate_invoice(session, order_id)
        order = session.get(Order, order_id)
    text = pdf_text(get_storage().read(invoice.storage_key, bucket=INVOICES))
    assert "VAT (7.5%)" in text and "Includes" not in text
    assert format_money(order.tax, "NGN") in text
    assert "Paid" in text and "Card" in text
    assert "Zenith Bank" not in text and "bank transfer" not in text


def test_an_unknown_order_cannot_be_invoiced(database):
    with pytest.raises(NotFound), session_scope(write=True) as session:
        generate_invoice(session, 987654)


# --- fonts -----------------------------------------------------------------------------------------


def sample_invoice() -> InvoiceData:
    """An invoice built in memory, to render without a database."""
    order = Order(
        number="RVQ-100042",
        cart_id=1,
        email="ada@example.com",
        payment_method=PaymentMethod.BANK_TRANSFER,
        currency="NGN",
        subtotal=4_150_050,
        discount=415_005,
        tax=260_584,
        shipping=250_000,
        total=3_985_045,
        tax_rate_bp=750,
        coupon_code="WELCOME10",
        shipping_method_name="Standard delivery",
        billing_address=ADDRESS,
        shipping_address=ADDRESS,
        created_at=datetime(2025, 3, 4, tzinfo=UTC),
    )
    line = OrderLine(
        order_id=1,
        product_title=TITLES[0],
        variant_title="Matte Black",
        sku="KETTLE-BLK",
        unit_price=1_850_000,
        quantity=2,
        line_total=3_700_000,
    )
    store = StoreConfig(bank_name="Zenith Bank", bank_account_name="Revoque Ltd", bank_account_number="1012345678")
    return InvoiceData("INV-RVQ-100042", datetime(2025, 3, 5, tzinfo=UTC), "Revoque", store, order, [line])


def test_dejavu_is_used_when_the_machine_has_it():
    fonts = load_fonts()
    if not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file():
        pytest.skip("this machine has no DejaVu Sans (the fallback is tested below)")
    assert fonts.has_naira
    text = pdf_text(render_invoice_pdf(sample_invoice(), fonts))
    assert "₦37,000" in text and "₦39,850.45" in text and "NGN" not in text


def test_without_dejavu_amounts_are_written_with_the_currency_code(tmp_path: Path):
    fonts = load_fonts(tmp_path)  # a folder with no fonts in it
    assert fonts == BUILTIN_FONTS
    pdf = render_invoice_pdf(sample_invoice(), fonts)
    text = pdf_text(pdf)
    assert "NGN 37,000" in text and "NGN 39,850.45" in text and "-NGN 4,150.05" in text
    assert "₦" not in text
    save_page_png(pdf, "invoice-helvetica.png")


def test_symbols_the_builtin_fonts_have_are_kept(tmp_path: Path):
    data = sample_invoice()
    data.order.currency = "GBP"
    text = pdf_text(render_invoice_pdf(data, load_fonts(tmp_path)))
    assert "£37,000" in text and "GBP" not in text
