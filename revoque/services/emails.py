"""The store's emails: order confirmation, payment received, order shipped, refund, password reset.

Every email has a plain-text part and an HTML part that say the same things. There is no template
engine: small functions build strings, and every value put into HTML goes through ``html.escape``
(``_e``), so a product called ``<script>…`` arrives as text. The HTML is one shared layout (store
name header, a white card, a call-to-action button, a footer with the store's contact details from
``StoreConfig``) using tables and inline CSS, which is what email clients render reliably, at most
600 px wide so it reads well on a phone.

Rendering is pure: ``render_*`` take the order, its lines and the store config and return an
``EmailContent``, so templates are tested without a database. ``send_*`` load what a template needs
and hand the result to ``revoque.adapters.mail.send_email``, which writes the outbox row in the
caller's transaction; with ``SMTP_URL`` set, a job (``revoque.jobs.deliver_email``) delivers it
through the mail adapter once that transaction commits. So every email is sent by a job, and an
order (or a status change) that rolls back mails no one.

Who sends what: checkout sends the confirmation, ``orders.transition`` the "shipped" email,
``accounts.request_password_reset`` the reset link, and the payments code "payment received" and
"refund". Checkout and accounts import this module, so it imports them (for ``order_url`` and
``address_lines``) inside the functions that use them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr

from sqlmodel import Session, select

from revoque.adapters.mail import send_email
from revoque.models import (
    Order,
    OrderLine,
    OutboxEmail,
    PaymentMethod,
    PaymentStatus,
    ShippingMethod,
    StoreConfig,
    User,
)
from revoque.services.money import format_money
from revoque.services.pricing import as_utc, format_percent_bp, get_store_config
from revoque.services.store_identity import name_of
from revoque.settings import get_settings

KIND_ORDER_CONFIRMATION = "order_confirmation"
KIND_PAYMENT_RECEIVED = "payment_received"
KIND_ORDER_SHIPPED = "order_shipped"
KIND_REFUND = "refund"
KIND_PASSWORD_RESET = "password_reset"

PAYMENT_METHOD_LABELS = {
    PaymentMethod.CARD: "Card",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.PAY_ON_DELIVERY: "Pay on delivery",
}

# Colours and type: the storefront's teal, dark enough for white button text (contrast 5.5:1).
_BRAND = "#0f766e"
_BRAND_SOFT = "#f0fdfa"
_BRAND_LINE = "#99f6e4"
_INK = "#111827"
_BODY = "#374151"
_MUTED = "#6b7280"
_LINE = "#e5e7eb"
_PAGE = "#f3f4f6"
_TABLE = 'role="presentation" cellspacing="0" cellpadding="0" border="0"'  # a layout table, not data
_FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _e(value: object) -> str:
    """Escape anything that goes into HTML, quotes included (values also land in attributes)."""
    return html.escape(str(value), quote=True)


# --- sending -----------------------------------------------------------------------------------------


def send_order_confirmation(session: Session, order: Order) -> OutboxEmail:
    content = render_order_confirmation(order, _order_lines(session, order), get_store_config(session))
    return _send(session, order.email, content, KIND_ORDER_CONFIRMATION)


def send_payment_received(session: Session, order: Order) -> OutboxEmail:
    content = render_payment_received(order, _order_lines(session, order), get_store_config(session))
    return _send(session, order.email, content, KIND_PAYMENT_RECEIVED)


def send_order_shipped(session: Session, order: Order) -> OutboxEmail:
    method = session.get(ShippingMethod, order.shipping_method_id) if order.shipping_method_id else None
    content = render_order_shipped(order, _order_lines(session, order), get_store_config(session), method)
    return _send(session, order.email, content, KIND_ORDER_SHIPPED)


def send_refund_issued(session: Session, order: Order, amount: int) -> OutboxEmail:
    """``amount`` is what this refund returns, in minor units of ``order.currency``."""
    content = render_refund_issued(order, amount, get_store_config(session))
    return _send(session, order.email, content, KIND_REFUND)


def send_password_reset(session: Session, user: User, link: str, minutes: int) -> OutboxEmail:
    content = render_password_reset(user.name, link, minutes, get_store_config(session))
    return _send(session, user.email, content, KIND_PASSWORD_RESET)


def _send(session: Session, to: str, content: EmailContent, kind: str) -> OutboxEmail:
    return send_email(session, to=to, subject=content.subject, text=content.text, html=content.html, kind=kind)


def _order_lines(session: Session, order: Order) -> list[OrderLine]:
    return list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))


# --- the templates -----------------------------------------------------------------------------------


def render_order_confirmation(order: Order, lines: Sequence[OrderLine], config: StoreConfig) -> EmailContent:
    store = name_of(config)
    link = _order_link(order)
    payment_title, payment_paragraphs, payment_rows = _payment_instructions(order, config)
    intro = f"Thank you for shopping with {store}. We've received your order and will email you again when it ships."
    details = _order_details(order)

    text = _text_email(
        config,
        _greeting(order),
        intro,
        f"Order {order.number} · placed {_day(order)}",
        _text_section(payment_title, payment_paragraphs, payment_rows),
        _text_section("Order summary", [_text_items(lines, order.currency) + "\n", _text_totals(order)]),
        *(_text_section(title, [], [(line, "") for line in body]) for title, body in details),
        f"View your order: {link}",
    )
    body = "".join(
        [
            _h1("Thank you for your order!"),
            _p(_greeting(order)),
            _p(intro),
            _order_badge(order),
            _callout(payment_title, payment_paragraphs, payment_rows),
            _h2("Order summary"),
            _items_table(lines, order.currency),
            _totals_table(order),
            _info_columns(details),
            _button("View your order", link),
        ]
    )
    return EmailContent(
        subject=f"Your {store} order {order.number} is confirmed",
        text=text,
        html=_layout(
            config, title=f"Order {order.number} confirmed", preheader=intro, body=body, note=_note(order, config)
        ),
    )


def render_payment_received(order: Order, lines: Sequence[OrderLine], config: StoreConfig) -> EmailContent:
    total = format_money(order.total, order.currency)
    link = _order_link(order)
    intro = f"We've received your payment of {total} for order {order.number}. Thank you!"
    next_step = "We're preparing your order now and will email you again when it's on its way."
    rows = [
        ("Order", order.number),
        ("Amount paid", total),
        ("Payment method", _method_label(order.payment_method)),
    ]

    text = _text_email(
        config,
        _greeting(order),
        intro,
        next_step,
        _text_section("Payment", [], rows),
        _text_section("Your items", [_text_items(lines, order.currency)]),
        f"View your order: {link}",
    )
    body = "".join(
        [
            _h1("Payment received"),
            _p(_greeting(order)),
            _p(intro),
            _key_values(rows),
            _p(next_step),
            _h2("Your items"),
            _items_table(lines, order.currency),
            _button("View your order", link),
        ]
    )
    return EmailContent(
        subject=f"Payment received for order {order.number}",
        text=text,
        html=_layout(config, title="Payment received", preheader=intro, body=body, note=_note(order, config)),
    )


def render_order_shipped(
    order: Order, lines: Sequence[OrderLine], config: StoreConfig, method: ShippingMethod | None = None
) -> EmailContent:
    link = _order_link(order)
    pickup = bool(method and method.is_pickup)
    method_name = order.shipping_method_name or (method.name if method else "")
    if pickup:
        heading, subject = "Your order is ready for pickup", f"Your order {order.number} is ready for pickup"
        intro = f"Good news: your order {order.number} is ready to collect."
    else:
        heading, subject = "Your order is on its way", f"Your order {order.number} has shipped"
        intro = f"Good news: your order {order.number} has shipped and is on its way to you."
    rows = [("Order", order.number)]
    if method_name:
        rows.append(("Delivery method", method_name))
    if method and method.estimate:
        rows.append(("Estimated delivery" if not pickup else "When", method.estimate))
    closing = []
    if order.payment_method == PaymentMethod.PAY_ON_DELIVERY and order.payment_status == PaymentStatus.UNPAID:
        total = format_money(order.total, order.currency)
        when = "you collect it" if pickup else "it arrives"
        closing.append(f"Please have {total} ready to pay when {when}, in cash or by card.")
    closing.append("You can follow your order and see every update on its page.")
    address = _address(order)

    text = _text_email(
        config,
        _greeting(order),
        intro,
        _text_section("Delivery", [], rows),
        _text_section("Delivering to", [], [(line, "") for line in address]) if address and not pickup else "",
        _text_section("In this delivery", [_text_items(lines, order.currency)]),
        *closing,
        f"Track your order: {link}",
    )
    body = "".join(
        [
            _h1(heading),
            _p(_greeting(order)),
            _p(intro),
            _key_values(rows),
            _info_columns([("Delivering to", address)]) if address and not pickup else "",
            _h2("In this delivery"),
            _items_table(lines, order.currency, prices=False),
            *(_p(paragraph) for paragraph in closing),
            _button("Track your order", link),
        ]
    )
    return EmailContent(
        subject=subject,
        text=text,
        html=_layout(config, title=heading, preheader=intro, body=body, note=_note(order, config)),
    )


def render_refund_issued(order: Order, amount: int, config: StoreConfig) -> EmailContent:
    money = format_money(amount, order.currency)
    link = _order_link(order)
    full = amount >= order.total
    if full:
        heading = "Your refund is on its way"
        intro = f"We've refunded {money}, the full amount of your order {order.number}."
    elif order.payment_status == PaymentStatus.REFUNDED:
        heading = "Your refund is on its way"
        intro = f"We've refunded {money} for your order {order.number}, which completes the refund of your order."
    else:
        heading = "Your partial refund is on its way"
        paid = format_money(order.total, order.currency)
        intro = f"We've refunded {money} of the {paid} you paid for order {order.number}."
    if order.payment_method == PaymentMethod.CARD:
        timing = (
            "The money goes back to the card you paid with. Depending on your bank, it can take "
            "5 to 10 business days to show on your statement."
        )
    else:
        timing = "The money goes back to your bank account; it can take a few business days to arrive."
    rows = [
        ("Order", order.number),
        ("Refunded", money),
        ("Refund type", "Full refund" if full else "Partial refund"),
        ("Order total", format_money(order.total, order.currency)),
    ]

    text = _text_email(
        config,
        _greeting(order),
        intro,
        _text_section("Refund", [], rows),
        timing,
        f"View your order: {link}",
    )
    body = "".join(
        [
            _h1(heading),
            _p(_greeting(order)),
            _p(intro),
            _key_values(rows),
            _p(timing),
            _button("View your order", link),
        ]
    )
    return EmailContent(
        subject=f"Refund of {money} for order {order.number}",
        text=text,
        html=_layout(config, title=heading, preheader=intro, body=body, note=_note(order, config)),
    )


def render_password_reset(name: str, link: str, minutes: int, config: StoreConfig) -> EmailContent:
    store = name_of(config)
    greeting = f"Hi {name}," if name else "Hi,"
    intro = f"Someone (hopefully you) asked to reset the password of your {store} account."
    expiry = f"The link works once and expires in {minutes} minutes."
    ignore = "If you didn't ask for this, you can ignore this email: your password stays the same."

    text = _text_email(config, greeting, intro, f"Choose a new password here: {link}", f"{expiry} {ignore}")
    body = "".join(
        [
            _h1("Reset your password"),
            _p(greeting),
            _p(intro),
            _button("Choose a new password", link),
            _p(expiry),
            _p(ignore),
            _link_fallback(link),
        ]
    )
    note = f"You're receiving this because a password reset was requested for your {store} account."
    return EmailContent(
        subject=f"Reset your {store} password",
        text=text,
        html=_layout(config, title="Reset your password", preheader=intro, body=body, note=note),
    )


# --- what the order templates share -------------------------------------------------------------------


def _order_link(order: Order) -> str:
    from revoque.services.checkout import order_url  # checkout imports this module

    return order_url(order.number)


def _address(order: Order) -> list[str]:
    from revoque.services.accounts import address_lines  # accounts imports this module

    return address_lines(order.shipping_address or {})


def _greeting(order: Order) -> str:
    name = str((order.shipping_address or {}).get("name", "")).strip()
    return f"Hi {name}," if name else "Hi,"


def _day(order: Order) -> str:
    moment = as_utc(order.created_at)
    return f"{moment.day} {moment:%B %Y}"


def _method_label(code: str) -> str:
    return PAYMENT_METHOD_LABELS.get(code, code.replace("_", " ").capitalize())


def _note(order: Order, config: StoreConfig) -> str:
    return f"You're receiving this email about order {order.number} placed at {name_of(config)}."


def _payment_instructions(order: Order, config: StoreConfig) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(title, paragraphs, label/value rows) telling the customer how, or that, they paid."""
    total = format_money(order.total, order.currency)
    if order.payment_status != PaymentStatus.UNPAID:
        return "Payment received", [f"We've received your payment of {total}. Thank you!"], []
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        bank = [
            ("Bank", config.bank_name),
            ("Account name", config.bank_account_name),
            ("Account number", config.bank_account_number),
        ]
        rows = [(label, value) for label, value in bank if value]
        if not rows:
            return "How to pay", [f"Please pay {total} by bank transfer. Contact us for our bank account details."], []
        return (
            "How to pay by bank transfer",
            [
                f"Please transfer {total} to the account below, using {order.number} as the payment reference.",
                "We'll start preparing your order as soon as the money arrives.",
            ],
            [*rows, ("Amount", total), ("Reference", order.number)],
        )
    if order.payment_method == PaymentMethod.PAY_ON_DELIVERY:
        return (
            "Pay on delivery",
            [f"Please have {total} ready when your order arrives. You can pay in cash or by card."],
            [],
        )
    if order.payment_method == PaymentMethod.CARD:
        return (
            "Card payment",
            [
                f"We're waiting for your card payment of {total} to be confirmed.",
                "If you didn't finish paying, open your order to try again.",
            ],
            [],
        )
    return "Payment", [f"Amount due: {total}."], []


def _order_details(order: Order) -> list[tuple[str, list[str]]]:
    """(title, lines) blocks: where it goes, how it gets there, how it is paid for."""
    blocks = [
        ("Delivery address", _address(order)),
        ("Delivery method", [order.shipping_method_name] if order.shipping_method_name else []),
        ("Payment method", [_method_label(order.payment_method)]),
    ]
    return [(title, body) for title, body in blocks if body]


def _line_name(line: OrderLine) -> str:
    return line.product_title + (f" ({line.variant_title})" if line.variant_title else "")


def _total_rows(order: Order) -> tuple[list[tuple[str, str]], tuple[str, str], str]:
    """(rows above the total, the total row, a VAT note below it or "")."""
    money = lambda minor: format_money(minor, order.currency)  # noqa: E731
    rows = [("Subtotal", money(order.subtotal))]
    if order.discount:
        rows.append(
            (f"Discount ({order.coupon_code})" if order.coupon_code else "Discount", f"-{money(order.discount)}")
        )
    rows.append(("Delivery", money(order.shipping) if order.shipping else "Free"))
    note = ""
    if order.tax_rate_bp:
        rate = format_percent_bp(order.tax_rate_bp)
        if order.prices_include_tax:
            note = f"Includes {money(order.tax)} VAT ({rate})"
        else:
            rows.append((f"VAT ({rate})", money(order.tax)))
    return rows, ("Total", money(order.total)), note


# --- plain text ---------------------------------------------------------------------------------------


def _text_email(config: StoreConfig, *paragraphs: str) -> str:
    body = "\n\n".join(paragraph.rstrip() for paragraph in paragraphs if paragraph)
    return f"{body}\n\n-- \n" + "\n".join(_footer_lines(config)) + "\n"


def _text_section(title: str, paragraphs: Iterable[str], rows: Iterable[tuple[str, str]] = ()) -> str:
    lines = [title.upper()]
    lines += [paragraph for paragraph in paragraphs if paragraph]
    lines += [f"  {label}: {value}" if value else f"  {label}" for label, value in rows]
    return "\n".join(lines)


def _text_items(lines: Sequence[OrderLine], currency: str) -> str:
    return "\n".join(
        f"  {line.quantity} × {_line_name(line)} — {format_money(line.line_total, currency)}" for line in lines
    )


def _text_totals(order: Order) -> str:
    rows, (total_label, total), note = _total_rows(order)
    out = [f"  {label}: {value}" for label, value in rows] + [f"  {total_label}: {total}"]
    return "\n".join(out + ([f"  {note}"] if note else []))


def _footer_lines(config: StoreConfig) -> list[str]:
    settings = get_settings()
    contact = [value for value in (_contact_email(config), config.contact_phone) if value]
    store = name_of(config)
    lines = [f"{store} · {settings.store_tagline}" if settings.store_tagline else store]
    if contact:
        lines.append("Questions? " + " · ".join(contact))
    if config.contact_address:
        lines.append(config.contact_address)
    return lines


def _contact_email(config: StoreConfig) -> str:
    return config.contact_email or parseaddr(get_settings().mail_from)[1]


# --- HTML ---------------------------------------------------------------------------------------------


def _layout(config: StoreConfig, *, title: str, preheader: str, body: str, note: str = "") -> str:
    """The one HTML frame every email uses: header with the store name, the white card holding
    ``body`` (already-escaped HTML), then the footer with the store's contact details."""
    settings = get_settings()
    store = _e(name_of(config))
    email = _contact_email(config)
    contact = []
    if email:
        contact.append(
            f'<a href="mailto:{_e(email)}" style="color:{_MUTED};text-decoration:underline;">{_e(email)}</a>'
        )
    if config.contact_phone:
        phone = "".join(ch for ch in config.contact_phone if ch.isdigit() or ch == "+")
        contact.append(
            f'<a href="tel:{_e(phone)}" style="color:{_MUTED};text-decoration:none;">{_e(config.contact_phone)}</a>'
        )
    footer = [f'<strong style="color:{_BODY};">{store}</strong>']
    if settings.store_tagline:
        footer[0] += f" · {_e(settings.store_tagline)}"
    if contact:
        footer.append("Questions? " + " · ".join(contact))
    if config.contact_address:
        footer.append(_e(config.contact_address))
    if note:
        footer.append(_e(note))
    footer_html = "".join(f'<p style="margin:0 0 6px;">{line}</p>' for line in footer)
    home = _e(settings.base_url.rstrip("/") + "/")
    initial = _e(name_of(config)[:1].upper())
    preheader_style = (
        "display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;"
        f"font-size:1px;line-height:1px;color:{_PAGE};"
    )
    mark_style = (
        "display:inline-block;width:30px;height:30px;line-height:30px;border-radius:8px;"
        f"background-color:{_BRAND};color:#ffffff;font-size:17px;font-weight:700;text-align:center;"
        "vertical-align:middle;"
    )
    name_style = (
        f"font-size:22px;font-weight:700;letter-spacing:-0.01em;color:{_INK};vertical-align:middle;padding-left:8px;"
    )
    card_style = (
        f"background-color:#ffffff;border-radius:12px;border:1px solid {_LINE};border-top:4px solid {_BRAND};"
        f"padding:32px 36px;color:{_BODY};font-size:15px;line-height:1.6;"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>{_e(title)}</title>
<style>
  @media only screen and (max-width: 620px) {{
    .rv-card {{ padding: 24px 20px !important; }}
    .rv-outer {{ padding: 16px 8px !important; }}
    .rv-col {{ display: block !important; width: 100% !important; max-width: 100% !important; }}
  }}
</style>
</head>
<body style="margin:0;padding:0;background-color:{_PAGE};-webkit-text-size-adjust:100%;">
<div style="{preheader_style}">{_e(preheader)}</div>
<table {_TABLE} width="100%" style="background-color:{_PAGE};">
<tr><td class="rv-outer" align="center" style="padding:32px 16px;">
<table {_TABLE} width="100%" style="max-width:600px;width:100%;font-family:{_FONT};">
<tr><td style="padding:0 4px 20px;">
<a href="{home}" style="text-decoration:none;color:{_INK};">
<span style="{mark_style}">{initial}</span><span style="{name_style}">{store}</span>
</a>
</td></tr>
<tr><td class="rv-card" style="{card_style}">
{body}
</td></tr>
<tr><td style="padding:20px 8px 0;color:{_MUTED};font-size:12px;line-height:1.6;text-align:center;">
{footer_html}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""


def _h1(text: str) -> str:
    return f'<h1 style="margin:0 0 16px;font-size:24px;line-height:1.3;font-weight:700;color:{_INK};">{_e(text)}</h1>'


def _h2(text: str) -> str:
    return (
        f'<h2 style="margin:28px 0 8px;font-size:13px;line-height:1.4;font-weight:700;color:{_MUTED};'
        f'text-transform:uppercase;letter-spacing:0.06em;">{_e(text)}</h2>'
    )


def _p(text: str, *, muted: bool = False) -> str:
    color = _MUTED if muted else _BODY
    return f'<p style="margin:0 0 14px;color:{color};">{_e(text)}</p>'


def _button(label: str, url: str) -> str:
    """A button made of a table cell and a padded link: it works in Outlook, Gmail and Apple Mail."""
    link_style = (
        f"display:inline-block;padding:13px 28px;font-family:{_FONT};font-size:16px;font-weight:600;"
        "line-height:1.2;color:#ffffff;text-decoration:none;border-radius:8px;"
    )
    return (
        f'<table {_TABLE} style="margin:24px 0 20px;">'
        f'<tr><td align="center" bgcolor="{_BRAND}" style="border-radius:8px;background-color:{_BRAND};">'
        f'<a href="{_e(url)}" target="_blank" style="{link_style}">{_e(label)}</a>'
        "</td></tr></table>"
    )


def _link_fallback(url: str) -> str:
    return (
        f'<p style="margin:20px 0 0;padding-top:16px;border-top:1px solid {_LINE};font-size:13px;color:{_MUTED};">'
        "Button not working? Copy this link into your browser:<br>"
        f'<a href="{_e(url)}" style="color:{_BRAND};word-break:break-all;">{_e(url)}</a></p>'
    )


def _order_badge(order: Order) -> str:
    return (
        f'<p style="margin:0 0 20px;font-size:14px;color:{_MUTED};">Order '
        f'<strong style="color:{_INK};">{_e(order.number)}</strong> · placed {_e(_day(order))}</p>'
    )


def _kv_rows(rows: Iterable[tuple[str, str]]) -> str:
    return "".join(
        f'<tr><td style="padding:3px 16px 3px 0;color:{_MUTED};font-size:14px;white-space:nowrap;vertical-align:top;">'
        f"{_e(label)}</td>"
        f'<td style="padding:3px 0;color:{_INK};font-size:14px;font-weight:600;">{_e(value)}</td></tr>'
        for label, value in rows
    )


def _key_values(rows: Sequence[tuple[str, str]]) -> str:
    return (
        f'<table {_TABLE} width="100%" '
        f'style="margin:4px 0 18px;background-color:#f9fafb;border-radius:8px;">'
        f'<tr><td style="padding:14px 16px;"><table {_TABLE}>'
        f"{_kv_rows(rows)}</table></td></tr></table>"
    )


def _callout(title: str, paragraphs: Sequence[str], rows: Sequence[tuple[str, str]]) -> str:
    """A tinted box for what the customer must do next (how to pay)."""
    inner = f'<p style="margin:0 0 8px;font-size:15px;font-weight:700;color:{_INK};">{_e(title)}</p>'
    inner += "".join(f'<p style="margin:0 0 8px;font-size:14px;color:{_BODY};">{_e(p)}</p>' for p in paragraphs)
    if rows:
        inner += f'<table {_TABLE} style="margin:4px 0 0;">{_kv_rows(rows)}</table>'
    return (
        f'<table {_TABLE} width="100%" style="margin:4px 0 8px;">'
        f'<tr><td style="padding:16px 18px;background-color:{_BRAND_SOFT};border:1px solid {_BRAND_LINE};'
        f'border-radius:8px;">{inner}</td></tr></table>'
    )


def _items_table(lines: Sequence[OrderLine], currency: str, *, prices: bool = True) -> str:
    rows = []
    for line in lines:
        detail = [line.variant_title] if line.variant_title else []
        detail.append(
            f"Qty {line.quantity} × {format_money(line.unit_price, currency)}" if prices else f"Qty {line.quantity}"
        )
        amount = (
            f'<td align="right" style="padding:12px 0;border-bottom:1px solid {_LINE};vertical-align:top;'
            f'white-space:nowrap;font-size:15px;font-weight:600;color:{_INK};">'
            f"{_e(format_money(line.line_total, currency))}</td>"
            if prices
            else ""
        )
        rows.append(
            f'<tr><td style="padding:12px 12px 12px 0;border-bottom:1px solid {_LINE};vertical-align:top;">'
            f'<div style="font-size:15px;font-weight:600;color:{_INK};">{_e(line.product_title)}</div>'
            f'<div style="font-size:13px;color:{_MUTED};">{" · ".join(_e(part) for part in detail)}</div>'
            f"</td>{amount}</tr>"
        )
    return f'<table {_TABLE} width="100%" style="margin:0 0 16px;border-top:1px solid {_LINE};">{"".join(rows)}</table>'


def _totals_table(order: Order) -> str:
    rows, (total_label, total), note = _total_rows(order)
    cells = "".join(
        f'<tr><td style="padding:4px 0;color:{_BODY};font-size:14px;">{_e(label)}</td>'
        f'<td align="right" style="padding:4px 0;color:{_INK};font-size:14px;">{_e(value)}</td></tr>'
        for label, value in rows
    )
    cells += (
        f'<tr><td style="padding:12px 0 4px;border-top:1px solid #d1d5db;font-size:17px;font-weight:700;color:{_INK};">'
        f"{_e(total_label)}</td>"
        f'<td align="right" style="padding:12px 0 4px;border-top:1px solid #d1d5db;font-size:17px;font-weight:700;'
        f'color:{_INK};">{_e(total)}</td></tr>'
    )
    if note:
        cells += (
            f'<tr><td colspan="2" align="right" style="padding:0;font-size:12px;color:{_MUTED};">{_e(note)}</td></tr>'
        )
    return f'<table {_TABLE} width="100%" style="margin:12px 0 8px;">{cells}</table>'


def _info_columns(blocks: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Titled blocks in two columns (the first block, e.g. the address, on the left; the rest stacked
    on the right) that become one column on a narrow screen."""
    if not blocks:
        return ""
    columns = [blocks[:1], blocks[1:]] if len(blocks) > 1 else [blocks]
    html_columns = []
    for column in columns:
        sections = "".join(
            f'<div style="font-size:12px;font-weight:700;color:{_MUTED};text-transform:uppercase;'
            f'letter-spacing:0.06em;margin-bottom:4px;">{_e(title)}</div>'
            f'<div style="font-size:14px;line-height:1.55;color:{_INK};margin-bottom:16px;">'
            f"{'<br>'.join(_e(line) for line in body)}</div>"
            for title, body in column
        )
        html_columns.append(
            f'<div class="rv-col" style="display:inline-block;vertical-align:top;width:100%;max-width:252px;'
            f'padding-right:8px;">{sections}</div>'
        )
    return f'<div style="margin:24px 0 0;font-size:0;">{"".join(html_columns)}</div>'
