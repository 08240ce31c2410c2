"""The store's email templates, rendered from in-memory rows: subjects, the facts in the text part,
and an HTML part that escapes whatever a product title, an address or a name contains."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from revoque.models import Order, OrderLine, PaymentMethod, PaymentStatus, ShippingMethod, StoreConfig
from revoque.services import emails
from revoque.services.checkout import order_url
from tests.conftest import use_settings

MALICIOUS = "<script>alert(1)</script>"
ESCAPED = html.escape(MALICIOUS)


@pytest.fixture(autouse=True)
def store_settings(monkeypatch, tmp_path):
    use_settings(
        monkeypatch,
        data_dir=str(tmp_path),
        secret_key="unit-test-secret",
        base_url="https://shop.example",
        store_name="Revoque",
        store_currency="NGN",
    )


def make_order(**fields) -> Order:
    values = dict(
        id=7,
        number="RVQ-100007",
        cart_id=7,
        email="ada@example.com",
        payment_method=PaymentMethod.BANK_TRANSFER,
        payment_status=PaymentStatus.UNPAID,
        currency="NGN",
        subtotal=3_500_000,
        discount=350_000,
        tax=219_767,
        shipping=250_000,
        total=3_400_000,
        tax_rate_bp=750,
        prices_include_tax=True,
        coupon_code="WELCOME10",
        shipping_method_name="Standard delivery (Lagos)",
        created_at=datetime(2027, 3, 3, 14, 5, tzinfo=UTC),
        shipping_address={
            "name": "Ada Obi",
            "line1": "12 Admiralty Way <b>",
            "line2": "",
            "city": "Lekki",
            "state": "Lagos",
            "postal_code": "",
            "phone": "+234 803 000 0000",
            "country": "NG",
        },
    )
    values.update(fields)
    return Order(**values)


def make_lines() -> list[OrderLine]:
    return [
        OrderLine(
            order_id=7,
            product_title=f"Tote {MALICIOUS}",
            variant_title="Red / Large",
            sku="TOTE-RED-L",
            unit_price=1_000_000,
            quantity=2,
            line_total=2_000_000,
        ),
        OrderLine(
            order_id=7,
            product_title="Shea Butter Cream",
            variant_title="",
            sku="SHEA",
            unit_price=750_000,
            quantity=2,
            line_total=1_500_000,
        ),
    ]


def make_config(**fields) -> StoreConfig:
    values = dict(
        id=1,
        bank_name="Zenith Bank",
        bank_account_name="Revoque Stores Ltd",
        bank_account_number="1012345678",
        contact_email="help@revoque.example",
        contact_phone="+234 803 123 4567",
        contact_address="1 Marina, Lagos",
    )
    values.update(fields)
    return StoreConfig(**values)


def render_all() -> dict[str, emails.EmailContent]:
    order, lines, config = make_order(), make_lines(), make_config()
    order.shipping_address = {**order.shipping_address, "name": f"Ada {MALICIOUS}"}  # every order email greets
    return {
        "confirmation": emails.render_order_confirmation(order, lines, config),
        "payment": emails.render_payment_received(order, lines, config),
        "shipped": emails.render_order_shipped(order, lines, config),
        "refund": emails.render_refund_issued(order, 1_000_000, config),
        "reset": emails.render_password_reset(MALICIOUS, "https://shop.example/reset-password?token=t0k", 60, config),
    }


@pytest.mark.parametrize("name", ["confirmation", "payment", "shipped", "refund", "reset"])
def test_every_email_escapes_what_it_shows_and_uses_the_shared_layout(name):
    content = render_all()[name]
    assert MALICIOUS not in content.html and ESCAPED in content.html
    assert "<b>" not in content.html
    assert content.html.startswith("<!DOCTYPE html>") and "max-width:600px" in content.html
    assert "Revoque" in content.html and "help@revoque.example" in content.html  # header and footer
    assert "+234 803 123 4567" in content.html and "1 Marina, Lagos" in content.html
    assert "help@revoque.example" in content.text and "1 Marina, Lagos" in content.text
    assert "\n" not in content.subject and content.subject.strip() == content.subject


@pytest.mark.parametrize("name", ["confirmation", "payment", "shipped", "refund"])
def test_order_emails_link_to_the_order(name):
    content = render_all()[name]
    link = order_url("RVQ-100007")
    assert link.startswith("https://shop.example/order/RVQ-100007?key=")
    assert link in content.text
    assert f'href="{html.escape(link)}"' in content.html
    assert "RVQ-100007" in content.subject and "RVQ-100007" in content.text


def test_the_confirmation_lists_lines_totals_address_and_bank_details():
    content = emails.render_order_confirmation(make_order(), make_lines(), make_config())
    assert content.subject == "Your Revoque order RVQ-100007 is confirmed"
    text = content.text
    for fact in [
        "Hi Ada Obi,",
        f"2 × Tote {MALICIOUS} (Red / Large) — ₦20,000",
        "2 × Shea Butter Cream — ₦15,000",
        "Subtotal: ₦35,000",
        "Discount (WELCOME10): -₦3,500",
        "Delivery: ₦2,500",
        "Total: ₦34,000",
        "Includes ₦2,197.67 VAT (7.5%)",
        "12 Admiralty Way <b>",
        "Lekki, Lagos",
        "Standard delivery (Lagos)",
        "Bank transfer",
        "Bank: Zenith Bank",
        "Account name: Revoque Stores Ltd",
        "Account number: 1012345678",
        "using RVQ-100007 as the payment reference",
        "placed 3 March 2027",
    ]:
        assert fact in text, fact
    for fact in ["Zenith Bank", "Revoque Stores Ltd", "1012345678", "₦34,000", "Red / Large", "Qty 2 × ₦10,000"]:
        assert fact in content.html, fact
    assert "12 Admiralty Way &lt;b&gt;" in content.html
    assert "View your order" in content.html


def test_prices_without_tax_show_a_vat_row():
    order = make_order(prices_include_tax=False, discount=0, coupon_code="", tax=262_500, total=4_012_500)
    content = emails.render_order_confirmation(order, make_lines(), make_config())
    assert "VAT (7.5%): ₦2,625" in content.text and "Includes" not in content.text
    assert "Discount" not in content.text


def test_pay_on_delivery_asks_for_payment_at_the_door_and_shows_no_bank_details():
    order = make_order(payment_method=PaymentMethod.PAY_ON_DELIVERY, shipping=0)
    content = emails.render_order_confirmation(order, make_lines(), make_config())
    assert "Please have ₦34,000 ready when your order arrives" in content.text
    assert "Delivery: Free" in content.text
    assert "Zenith Bank" not in content.text and "Zenith Bank" not in content.html


def test_a_bank_transfer_without_configured_details_says_to_ask():
    config = make_config(bank_name="", bank_account_name="", bank_account_number="")
    content = emails.render_order_confirmation(make_order(), make_lines(), config)
    assert "Contact us for our bank account details" in content.text


def test_a_paid_order_confirmation_says_so_instead_of_asking_for_money():
    order = make_order(payment_method=PaymentMethod.CARD, payment_status=PaymentStatus.PAID)
    content = emails.render_order_confirmation(order, make_lines(), make_config())
    assert "We've received your payment of ₦34,000" in content.text
    assert "Zenith Bank" not in content.text


def test_payment_received():
    content = emails.render_payment_received(make_order(payment_status=PaymentStatus.PAID), make_lines(), make_config())
    assert content.subject == "Payment received for order RVQ-100007"
    assert "We've received your payment of ₦34,000 for order RVQ-100007" in content.text
    assert "Payment method: Bank transfer" in content.text
    assert f"2 × Tote {MALICIOUS} (Red / Large)" in content.text


def test_shipped_names_the_order_delivery_method_and_address():
    method = ShippingMethod(name="Standard delivery (Lagos)", estimate="1–2 business days")
    content = emails.render_order_shipped(make_order(status="shipped"), make_lines(), make_config(), method)
    assert content.subject == "Your order RVQ-100007 has shipped"
    for fact in ["RVQ-100007", "Standard delivery (Lagos)", "1–2 business days", "Lekki, Lagos", "Track your order"]:
        assert fact in content.text and fact in content.html, fact
    assert "ready to pay" not in content.text


def test_shipped_pay_on_delivery_and_pickup():
    order = make_order(payment_method=PaymentMethod.PAY_ON_DELIVERY, shipping_method_name="Pick up in store")
    method = ShippingMethod(name="Pick up in store", estimate="Ready the next business day", is_pickup=True)
    content = emails.render_order_shipped(order, make_lines(), make_config(), method)
    assert content.subject == "Your order RVQ-100007 is ready for pickup"
    assert "Please have ₦34,000 ready to pay when you collect it" in content.text
    assert "Delivering to" not in content.html


@pytest.mark.parametrize(
    ("amount", "payment_status", "phrases"),
    [
        (3_400_000, PaymentStatus.REFUNDED, ["the full amount of your order RVQ-100007", "Full refund"]),
        (1_000_000, PaymentStatus.PARTIALLY_REFUNDED, ["₦10,000 of the ₦34,000 you paid", "Partial refund"]),
        (1_000_000, PaymentStatus.REFUNDED, ["completes the refund of your order", "Partial refund"]),
    ],
)
def test_refunds_say_how_much_and_whether_it_is_all_of_it(amount, payment_status, phrases):
    content = emails.render_refund_issued(make_order(payment_status=payment_status), amount, make_config())
    money = "₦34,000" if amount == 3_400_000 else "₦10,000"
    assert content.subject == f"Refund of {money} for order RVQ-100007"
    assert f"Refunded: {money}" in content.text
    for phrase in phrases:
        assert phrase in content.text and html.escape(phrase) in content.html, phrase


def test_card_refunds_go_back_to_the_card():
    order = make_order(payment_method=PaymentMethod.CARD, payment_status=PaymentStatus.REFUNDED)
    assert "back to the card you paid with" in emails.render_refund_issued(order, 3_400_000, make_config()).text


def test_password_reset_has_the_link_expiry_and_ignore_note():
    link = "https://shop.example/reset-password?token=abc_123-XYZ"
    content = emails.render_password_reset("Ada Obi", link, 45, make_config())
    assert content.subject == "Reset your Revoque password"
    assert "Hi Ada Obi," in content.text and link in content.text
    assert "expires in 45 minutes" in content.text and "expires in 45 minutes" in content.html
    assert "If you didn't ask for this, you can ignore this email" in content.text
    assert f'href="{link}"' in content.html and "Choose a new password" in content.html


def test_links_with_query_characters_are_escaped_in_attributes():
    link = 'https://shop.example/reset-password?token=a&b="c"'
    content = emails.render_password_reset("", link, 60, make_config())
    assert 'href="https://shop.example/reset-password?token=a&amp;b=&quot;c&quot;"' in content.html
    assert "Hi," in content.text


def test_the_footer_falls_back_to_the_sender_address_when_no_contact_email_is_set():
    content = emails.render_password_reset("Ada", "https://shop.example/r", 60, make_config(contact_email=""))
    assert "orders@revoque.local" in content.text and "mailto:orders@revoque.local" in content.html
