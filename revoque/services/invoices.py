"""Invoices: one PDF per order, rebuilt whenever the order's money changes (after payment, a refund).

The PDF is kept in the private ``invoices`` bucket under ``<order number>/invoice-v<version>.pdf``
and reached only through signed, expiring links. Regenerating writes the next version's file and
points the ``Invoice`` row at it; the previous file is deleted by a job once that change commits, so
a regeneration that rolls back never leaves the order pointing at a deleted file.

The invoice number is ``INV-<order number>``, fixed for the order's lifetime, and the invoice date is
when it was first issued: regenerating changes the content, not the document's identity.

Amounts are printed with the currency's symbol, which for the naira (₦) needs a font that has the
glyph. DejaVu Sans is used when the machine has it (Debian's ``fonts-dejavu-core``); otherwise the
PDF falls back to the built-in Helvetica, which has no ₦, and amounts read ``NGN 12,500`` instead.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from revoque.adapters.queue import enqueue_after_commit
from revoque.adapters.storage import INVOICES, StorageError, get_storage
from revoque.errors import NotFound
from revoque.models import Invoice, Order, OrderLine, PaymentMethod, PaymentStatus, StoreConfig
from revoque.models.base import utcnow
from revoque.services.accounts import address_lines
from revoque.services.money import currency_info, format_money
from revoque.services.pricing import as_utc, format_percent_bp, get_store_config
from revoque.services.store_identity import name_of

log = logging.getLogger(__name__)

INVOICE_NUMBER_PREFIX = "INV-"
PDF_CONTENT_TYPE = "application/pdf"
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")

PAGE_MARGIN = 18 * mm
FOOTER_Y = 11 * mm
INK = colors.HexColor("#111827")
MUTED = colors.HexColor("#6B7280")
ACCENT = colors.HexColor("#0F766E")
RULE = colors.HexColor("#E5E7EB")
PANEL = colors.HexColor("#F3F4F6")
PAID_GREEN = colors.HexColor("#15803D")
DUE_AMBER = colors.HexColor("#B45309")
# Product, variant, quantity, unit price, amount: shares of the text width.
LINE_COLUMNS = (0.38, 0.22, 0.08, 0.16, 0.16)
TOTALS_WIDTH = 80 * mm


@dataclass(frozen=True)
class InvoiceFonts:
    regular: str
    bold: str
    has_naira: bool  # False for the built-in Helvetica: amounts are then written "NGN 1,000"


BUILTIN_FONTS = InvoiceFonts("Helvetica", "Helvetica-Bold", has_naira=False)


@dataclass(frozen=True)
class InvoiceData:
    """Everything printed on an invoice, gathered up front so rendering needs no session."""

    number: str
    issued_at: datetime
    store_name: str
    store: StoreConfig
    order: Order
    lines: list[OrderLine]


# --- generating and finding invoices ---------------------------------------------------------------


def invoice_number(order: Order) -> str:
    return f"{INVOICE_NUMBER_PREFIX}{order.number}"


def invoice_storage_key(order: Order, version: int) -> str:
    return f"{order.number}/invoice-v{version}.pdf"


def generate_invoice(session: Session, order_id: int) -> Invoice:
    """Render the order's invoice as it stands now and store it as the next version.

    Safe to run again at any time (that is how an invoice is refreshed). Call it in a write
    transaction: the invoice row is locked, so two regenerations of one order queue up instead of
    both writing the same version."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id} to invoice")
    invoice = _locked_invoice_row(session, order)
    pdf = render_invoice_pdf(load_invoice_data(session, order, invoice))
    previous_key = invoice.storage_key
    invoice.version += 1
    invoice.storage_key = invoice_storage_key(order, invoice.version)
    invoice.generated_at = utcnow()
    get_storage().put(invoice.storage_key, pdf, PDF_CONTENT_TYPE, bucket=INVOICES)
    session.add(invoice)
    session.flush()
    if previous_key and previous_key != invoice.storage_key:
        _delete_after_commit(session, previous_key)
    return invoice


def invoice_download_url(session: Session, order_id: int) -> str | None:
    """A signed link that downloads the order's invoice as ``INV-….pdf``; None when no invoice has
    been generated yet, or when the file store cannot sign a link right now (the order page then
    simply shows no invoice link rather than failing). Callers check the viewer may see the order."""
    invoice = session.exec(select(Invoice).where(col(Invoice.order_id) == order_id)).first()
    if invoice is None or not invoice.storage_key:
        return None
    try:
        return get_storage().signed_url(invoice.storage_key, INVOICES, download=f"{invoice.number}.pdf")
    except StorageError:
        log.warning("Could not sign a link to invoice %s", invoice.number, exc_info=True)
        return None


def load_invoice_data(session: Session, order: Order, invoice: Invoice) -> InvoiceData:
    lines = session.exec(select(OrderLine).where(col(OrderLine.order_id) == order.id).order_by(col(OrderLine.id)))
    config = get_store_config(session)
    return InvoiceData(
        number=invoice.number,
        issued_at=invoice.created_at,
        store_name=name_of(config),
        store=config,
        order=order,
        lines=list(lines),
    )


def _locked_invoice_row(session: Session, order: Order) -> Invoice:
    """The order's invoice row, locked (FOR UPDATE on PostgreSQL; SQLite write transactions are
    already serialised), created on first use. Two first runs may both find no row: the loser's
    insert fails on the unique order_id inside a savepoint and it locks the winner's row instead."""
    invoice = _select_invoice_for_update(session, order.id)
    if invoice is not None:
        return invoice
    try:
        with session.begin_nested():
            invoice = Invoice(order_id=order.id, number=invoice_number(order))
            session.add(invoice)
        return invoice
    except IntegrityError:
        return _select_invoice_for_update(session, order.id)


def _select_invoice_for_update(session: Session, order_id: int) -> Invoice | None:
    query = select(Invoice).where(col(Invoice.order_id) == order_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def _delete_after_commit(session: Session, key: str) -> None:
    from revoque.jobs import delete_file  # jobs import services; import here to avoid a cycle

    enqueue_after_commit(session, delete_file, INVOICES, key)


# --- fonts -----------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_fonts(font_dir: Path = DEJAVU_DIR) -> InvoiceFonts:
    """DejaVu Sans from ``font_dir`` (registered with reportlab once per process) when both its
    regular and bold faces are there, else the built-in Helvetica."""
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        log.info("DejaVu Sans not found in %s; invoices use Helvetica and write NGN for ₦", font_dir)
        return BUILTIN_FONTS
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return InvoiceFonts("DejaVuSans", "DejaVuSans-Bold", has_naira=True)


# --- rendering -------------------------------------------------------------------------------------


class _Typesetter:
    """Paragraph styles and money formatting for one invoice, in the fonts chosen for it."""

    def __init__(self, fonts: InvoiceFonts, currency: str) -> None:
        self.fonts = fonts
        self.currency = currency

        def style(name: str, size: float, bold: bool = False, color: Color = INK, **extra: Any) -> ParagraphStyle:
            font = fonts.bold if bold else fonts.regular
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.35, textColor=color, **extra)

        self.brand = style("brand", 18, bold=True)
        self.title = style("title", 22, bold=True, color=ACCENT, alignment=TA_RIGHT)
        self.body = style("body", 9)
        self.body_right = style("body_right", 9, alignment=TA_RIGHT)
        self.strong = style("strong", 9, bold=True)
        self.strong_right = style("strong_right", 9, bold=True, alignment=TA_RIGHT)
        self.muted = style("muted", 8, color=MUTED)
        self.muted_right = style("muted_right", 8, color=MUTED, alignment=TA_RIGHT)
        self.label = style("label", 7.5, bold=True, color=MUTED)
        self.total = style("total", 11, bold=True)
        self.total_right = style("total_right", 11, bold=True, alignment=TA_RIGHT)

    def money(self, minor: int) -> str:
        """``₦12,500``, or ``NGN 12,500`` when the font has no glyph for the currency's symbol."""
        text = format_money(minor, self.currency)
        symbol = currency_info(self.currency).symbol
        if self.fonts.has_naira or _latin1_printable(symbol):
            return text
        return text.replace(symbol, f"{currency_info(self.currency).code} ", 1)

    def text(self, value: str, style: ParagraphStyle) -> Paragraph:
        """A paragraph of plain text (escaped: titles and addresses are shopper input, not markup)."""
        return Paragraph(_escape(value), style)

    def lines(self, values: list[str], style: ParagraphStyle) -> Paragraph:
        return Paragraph("<br/>".join(_escape(value) for value in values), style)


def _latin1_printable(text: str) -> bool:
    """Whether the built-in PDF fonts (WinAnsi encoding) can print ``text``: ``$``, ``€``, ``£`` yes,
    ``₦`` and ``₵`` no."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _long_date(moment: datetime) -> str:
    moment = as_utc(moment)
    return f"{moment.day} {moment:%B %Y}"


def _humanise(value: str) -> str:
    """``pay_on_delivery`` → ``Pay on delivery``: enum values as a reader expects them."""
    return value.replace("_", " ").capitalize()


def render_invoice_pdf(data: InvoiceData, fonts: InvoiceFonts | None = None) -> bytes:
    """The invoice as an A4 PDF: store and invoice details, addresses, the lines, totals, and how to
    pay when a bank transfer is still due."""
    ts = _Typesetter(fonts or load_fonts(), data.order.currency)
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=PAGE_MARGIN,
        rightMargin=PAGE_MARGIN,
        topMargin=PAGE_MARGIN,
        bottomMargin=PAGE_MARGIN + 6 * mm,
        title=f"Invoice {data.number}",
        author=data.store_name,
        subject=f"Invoice for order {data.order.number}",
    )
    width = document.width
    # No frame padding, so every block lines up exactly with the margins and the footer rule.
    frame = Frame(
        document.leftMargin,
        document.bottomMargin,
        width,
        document.height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )

    def footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
        _draw_footer(canvas, doc, data, ts)

    document.addPageTemplates([PageTemplate(id="invoice", frames=[frame], onPage=footer)])
    story: list[Flowable] = [
        _header(data, ts, width),
        Spacer(1, 8 * mm),
        _parties(data, ts, width),
        Spacer(1, 8 * mm),
        _line_table(data, ts, width),
        Spacer(1, 4 * mm),
        _totals(data, ts),
    ]
    if _bank_transfer_due(data):
        story += [Spacer(1, 10 * mm), _bank_details(data, ts, width)]
    document.build(story)
    return buffer.getvalue()


def _header(data: InvoiceData, ts: _Typesetter, width: float) -> Table:
    """Store name and contact on the left; "Invoice" and its numbers and dates on the right."""
    store = data.store
    contact = [line for line in (store.contact_address, store.contact_email, store.contact_phone) if line]
    left = [ts.text(data.store_name, ts.brand), Spacer(1, 2 * mm), ts.lines(contact, ts.muted)]
    facts = [
        ("Invoice number", data.number),
        ("Invoice date", _long_date(data.issued_at)),
        ("Order number", data.order.number),
        ("Order date", _long_date(data.order.created_at)),
    ]
    facts_table = Table(
        [[ts.text(label, ts.muted_right), ts.text(value, ts.strong_right)] for label, value in facts],
        colWidths=[28 * mm, 44 * mm],
        hAlign="RIGHT",
    )
    facts_table.setStyle(TableStyle(_padding(top=1, bottom=1)))
    right = [ts.text("INVOICE", ts.title), Spacer(1, 3 * mm), facts_table]
    table = Table([[left, right]], colWidths=[width * 0.55, width * 0.45])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                *_padding(bottom=6 * mm),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
            ]
        )
    )
    return table


def _parties(data: InvoiceData, ts: _Typesetter, width: float) -> Table:
    """Who is billed, where it goes, and how it is (or will be) paid."""
    order = data.order
    billing = address_lines(order.billing_address or order.shipping_address or {})
    delivery = address_lines(order.shipping_address or {})
    paid = order.payment_status == PaymentStatus.PAID
    status_style = ParagraphStyle("status", parent=ts.strong, textColor=PAID_GREEN if paid else DUE_AMBER)
    columns = [
        [ts.text("BILL TO", ts.label), ts.lines([*billing, order.email], ts.body)],
        [
            ts.text("DELIVERY", ts.label),
            ts.text(order.shipping_method_name or "—", ts.strong),
            ts.lines(delivery, ts.body),
        ],
        [
            ts.text("PAYMENT", ts.label),
            ts.text(_humanise(order.payment_status), status_style),
            ts.text(_humanise(order.payment_method), ts.body),
        ],
    ]
    table = Table([columns], colWidths=[width * 0.4, width * 0.35, width * 0.25])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), *_padding(right=4 * mm)]))
    return table


def _line_table(data: InvoiceData, ts: _Typesetter, width: float) -> Table:
    header = [
        ts.text("PRODUCT", ts.label),
        ts.text("VARIANT", ts.label),
        Paragraph("QTY", ParagraphStyle("qty", parent=ts.label, alignment=TA_RIGHT)),
        Paragraph("UNIT PRICE", ParagraphStyle("unit", parent=ts.label, alignment=TA_RIGHT)),
        Paragraph("AMOUNT", ParagraphStyle("amount", parent=ts.label, alignment=TA_RIGHT)),
    ]
    rows = [
        [
            [ts.text(line.product_title, ts.strong), ts.text(f"SKU {line.sku}", ts.muted)],
            ts.text(line.variant_title or "—", ts.body),
            ts.text(str(line.quantity), ts.body_right),
            ts.text(ts.money(line.unit_price), ts.body_right),
            ts.text(ts.money(line.line_total), ts.body_right),
        ]
        for line in data.lines
    ]
    table = Table([header, *rows], colWidths=[width * share for share in LINE_COLUMNS], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), PANEL),
                ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE),
                *_padding(left=2 * mm, right=2 * mm, top=2.2 * mm, bottom=2.2 * mm),
            ]
        )
    )
    return table


def _totals(data: InvoiceData, ts: _Typesetter) -> Flowable:
    """Subtotal, discount, delivery and VAT, then the total; tax-inclusive prices get a note saying
    how much VAT the total already contains instead of a VAT row that would not add up."""
    order = data.order
    rows: list[tuple[str, str]] = [("Subtotal", ts.money(order.subtotal))]
    if order.discount:
        label = f"Discount ({order.coupon_code})" if order.coupon_code else "Discount"
        rows.append((label, ts.money(-order.discount)))
    rows.append(("Delivery", ts.money(order.shipping) if order.shipping else "Free"))
    rate = format_percent_bp(order.tax_rate_bp)
    if order.tax_rate_bp and not order.prices_include_tax:
        rows.append((f"VAT ({rate})", ts.money(order.tax)))
    cells = [[ts.text(label, ts.body), ts.text(value, ts.body_right)] for label, value in rows]
    cells.append([ts.text("Total", ts.total), ts.text(ts.money(order.total), ts.total_right)])
    vat_note = order.tax_rate_bp and order.prices_include_tax
    if vat_note:
        cells.append([ts.text(f"Includes {ts.money(order.tax)} VAT ({rate})", ts.muted_right), ""])
    table = Table(cells, colWidths=[TOTALS_WIDTH * 0.55, TOTALS_WIDTH * 0.45], hAlign="RIGHT")
    total_row = len(rows)
    table.setStyle(
        TableStyle(
            [
                *([("SPAN", (0, -1), (-1, -1))] if vat_note else []),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                *_padding(left=2 * mm, right=2 * mm, top=1.2 * mm, bottom=1.2 * mm),
                ("LINEABOVE", (0, total_row), (-1, total_row), 1, INK),
                ("TOPPADDING", (0, total_row), (-1, total_row), 2.5 * mm),
            ]
        )
    )
    return KeepTogether(table)


def _bank_transfer_due(data: InvoiceData) -> bool:
    order, store = data.order, data.store
    return (
        order.payment_method == PaymentMethod.BANK_TRANSFER
        and order.payment_status == PaymentStatus.UNPAID
        and bool(store.bank_account_number)
    )


def _bank_details(data: InvoiceData, ts: _Typesetter, width: float) -> Flowable:
    """How to pay by bank transfer, with the order number as the reference staff match payments by."""
    store, order = data.store, data.order
    rows = [
        ("Bank", store.bank_name),
        ("Account name", store.bank_account_name),
        ("Account number", store.bank_account_number),
        ("Reference", order.number),
    ]
    heading = ts.text(f"Please pay {ts.money(order.total)} by bank transfer", ts.strong)
    details = Table(
        [[ts.text(label, ts.muted), ts.text(value, ts.strong)] for label, value in rows if value],
        colWidths=[32 * mm, width - 32 * mm - 10 * mm],
    )
    details.setStyle(TableStyle(_padding(top=0.8 * mm, bottom=0.8 * mm)))
    note = ts.text("Your order is processed as soon as the transfer reaches us.", ts.muted)
    panel = Table([[heading], [details], [note]], colWidths=[width])
    panel.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                ("LINEBEFORE", (0, 0), (0, -1), 2, ACCENT),
                *_padding(left=5 * mm, right=5 * mm, top=1.5 * mm, bottom=1.5 * mm),
                ("TOPPADDING", (0, 0), (-1, 0), 4 * mm),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 4 * mm),
            ]
        )
    )
    return KeepTogether(panel)


def _padding(left: float = 0, right: float = 0, top: float = 0, bottom: float = 0) -> list[tuple]:
    """Table style commands giving every cell the same padding (reportlab's default is 6 pt)."""
    return [
        ("LEFTPADDING", (0, 0), (-1, -1), left),
        ("RIGHTPADDING", (0, 0), (-1, -1), right),
        ("TOPPADDING", (0, 0), (-1, -1), top),
        ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
    ]


def _draw_footer(canvas: Canvas, doc: BaseDocTemplate, data: InvoiceData, ts: _Typesetter) -> None:
    """A rule, the store's contact details and the page number at the foot of every page."""
    store = data.store
    contact = " · ".join(part for part in (data.store_name, store.contact_email, store.contact_phone) if part)
    left, right = doc.leftMargin, doc.pagesize[0] - doc.rightMargin
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, FOOTER_Y + 4 * mm, right, FOOTER_Y + 4 * mm)
    canvas.setFont(ts.fonts.regular, 7.5)
    canvas.setFillColor(MUTED)
    canvas.drawString(left, FOOTER_Y, contact)
    canvas.drawRightString(right, FOOTER_Y, f"{data.number} · Page {doc.page}")
    canvas.restoreState()
