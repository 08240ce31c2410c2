"""Checkout: quote a cart, hold its stock, and turn it into exactly one order.

``place_order`` is the one place stock leaves the shelf. In a single transaction it locks the cart
row and the variant rows (PostgreSQL: SELECT … FOR UPDATE in variant-id order; SQLite: an immediate
transaction), re-checks what is available (on hand − other carts' active reservations), writes the
order with line and address snapshots, decrements stock, drops the cart's reservations and marks the
cart converted. ``Order.cart_id`` is unique, so a double click, a retried request or a second tab
finds and returns the order the first attempt made instead of making another.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    PaymentMethod,
    Product,
    StoreConfig,
    StoreEventKind,
    Variant,
)
from revoque.models.base import utcnow
from revoque.services import accounts, analytics, emails, inventory, orders, pricing, search, shipping, store_identity
from revoque.services.accounts import AddressInput
from revoque.services.carts import CartView, StockError, view_cart
from revoque.settings import get_settings

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED_ADDRESS_FIELDS = {
    "name": "Full name",
    "phone": "Phone number",
    "line1": "Street address",
    "city": "City",
    "state": "State",
}


@dataclass
class CheckoutDetails:
    email: str
    address: AddressInput
    shipping_method_id: int | None
    payment_method: str
    coupon_code: str = ""
    note: str = ""
    user_id: int | None = None


@dataclass
class PaymentOption:
    code: str
    label: str
    description: str


@dataclass
class SummaryRow:
    label: str
    value: str


@dataclass
class Quote:
    cart: CartView
    totals: pricing.Totals
    currency: str
    coupon_code: str = ""
    coupon_description: str = ""
    coupon_error: str = ""


class CheckoutError(ValidationError):
    """Checkout cannot go on; the message says what the shopper must change."""


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise CheckoutError("Enter a valid email address, like name@example.com.")
    return email


def validate_address(address: AddressInput) -> dict[str, str]:
    """Field → message for every missing or malformed field (empty when the address is fine)."""
    problems = {
        key: f"{label} is required."
        for key, label in REQUIRED_ADDRESS_FIELDS.items()
        if not getattr(address, key).strip()
    }
    digits = re.sub(r"\D", "", address.phone)
    if address.phone.strip() and not 7 <= len(digits) <= 15:
        problems["phone"] = "Enter a phone number with 7 to 15 digits."
    if len(address.country.strip()) != 2:
        problems["country"] = "Choose a country."
    return problems


def payment_options(config: StoreConfig) -> list[PaymentOption]:
    """Methods the store has switched on, card first when a gateway (or the sandbox) is available."""
    card_label = "Card (Paystack)" if get_settings().paystack_secret_key else "Card (sandbox: no real money moves)"
    bank = f"Pay {config.bank_account_name or 'the store'} by bank transfer; we ship once it arrives."
    options = [
        (
            config.card_payments_enabled,
            PaymentOption(
                PaymentMethod.CARD, card_label, "Visa, Mastercard or Verve; you'll confirm on a secure page."
            ),
        ),
        (
            config.pay_on_delivery_enabled,
            PaymentOption(
                PaymentMethod.PAY_ON_DELIVERY, "Pay on delivery", "Pay in cash or by card when your order arrives."
            ),
        ),
        (config.bank_transfer_enabled, PaymentOption(PaymentMethod.BANK_TRANSFER, "Bank transfer", bank)),
    ]
    return [option for enabled, option in options if enabled]


def bank_details(config: StoreConfig) -> list[SummaryRow]:
    """What a bank-transfer customer needs to pay; blank fields are left out."""
    rows = [
        ("Bank", config.bank_name),
        ("Account name", config.bank_account_name),
        ("Account number", config.bank_account_number),
    ]
    return [SummaryRow(label, value) for label, value in rows if value]


def quote(
    session: Session,
    cart: Cart | None,
    *,
    email: str = "",
    shipping_method_id: int | None = None,
    coupon_code: str = "",
) -> Quote:
    """Totals for the cart as it would be ordered now; a bad coupon is reported, not raised."""
    view = view_cart(session, cart)
    config = pricing.get_store_config(session)
    shipping_price = shipping.get_active_method(session, shipping_method_id).price if shipping_method_id else 0
    discount, code, description, error = 0, "", "", ""
    if coupon_code.strip():
        try:
            applied = pricing.evaluate_coupon(session, coupon_code, view.subtotal, email, view.currency)
            discount, code, description = applied.discount, applied.code, applied.description
        except pricing.CouponError as exc:
            error = str(exc)
    totals = pricing.compute_totals(
        view.subtotal, discount, shipping_price, config.tax_rate_bp, config.prices_include_tax
    )
    return Quote(
        cart=view,
        totals=totals,
        currency=view.currency,
        coupon_code=code,
        coupon_description=description,
        coupon_error=error,
    )


def start_checkout(cart_id: int, now: datetime | None = None) -> dict[int, int]:
    """Hold the cart's stock for RESERVATION_MINUTES; returns variant id → quantity short."""
    with session_scope(write=True) as session:
        short = inventory.reserve_cart(session, cart_id, now)
        cart = session.get(Cart, cart_id)
        if not short and cart is not None:
            analytics.record_event(
                session, StoreEventKind.CHECKOUT_STARTED, user_id=cart.user_id, visitor=analytics.cart_visitor(cart)
            )
        return short


def place_order(cart_id: int, details: CheckoutDetails, now: datetime | None = None) -> Order:
    """Turn the cart into one order, whatever happens concurrently (see the module docstring)."""
    now = now or utcnow()
    email = normalise_email(details.email)
    problems = validate_address(details.address)
    if problems:
        raise CheckoutError(next(iter(problems.values())))
    try:
        with session_scope(write=True) as session:
            order = _place(session, cart_id, details, email, now)
            session.flush()
            return order
    except IntegrityError:
        # Another transaction made the order for this cart between our check and insert.
        with session_scope() as session:
            existing = session.exec(select(Order).where(Order.cart_id == cart_id)).first()
        if existing is None:
            raise
        return existing


def _place(session: Session, cart_id: int, details: CheckoutDetails, email: str, now: datetime) -> Order:
    cart = session.exec(select(Cart).where(Cart.id == cart_id).with_for_update()).first()
    if cart is None:
        raise NotFound("Your cart has expired. Add the items again to check out.")
    existing = session.exec(select(Order).where(Order.cart_id == cart_id)).first()
    if existing is not None:
        return existing
    if cart.status != "open":
        raise CheckoutError("This cart has already been checked out.")
    lines = session.exec(select(CartLine).where(CartLine.cart_id == cart_id).order_by(CartLine.variant_id)).all()
    if not lines:
        raise CheckoutError("Your cart is empty.")
    variants = inventory.lock_variants(session, [line.variant_id for line in lines])
    _check_stock(session, cart_id, lines, variants, now)
    method = shipping.get_active_method(session, details.shipping_method_id)
    _check_payment_method(session, details.payment_method)
    order = _new_order(session, cart, details, email, method, lines, variants)
    sold_out = False
    for line in lines:
        variant = variants[line.variant_id]
        if variant.track_inventory:
            sold_out |= inventory.move_stock(session, variant, -line.quantity)
    search.schedule_stock_index(
        session, *(variant.product_id for variant in variants.values()), availability_changed=sold_out
    )
    if order.user_id and not accounts.list_addresses(session, order.user_id):
        accounts.add_address(session, order.user_id, details.address)  # a first order fills the address book
    inventory.release_cart(session, cart_id)
    cart.status = "converted"
    session.add(cart)
    orders.record_event(session, order, kind="status", to_status=order.status, actor="customer", now=now)
    emails.send_order_confirmation(session, order)
    analytics.record_event(
        session, StoreEventKind.ORDER_PLACED, user_id=order.user_id, visitor=analytics.cart_visitor(cart)
    )
    return order


def _check_stock(
    session: Session, cart_id: int, lines: list[CartLine], variants: dict[int, Variant], now: datetime
) -> None:
    available = inventory.availability(session, variants.values(), cart_id, now)
    for line in lines:
        variant = variants.get(line.variant_id)
        if variant is None:
            raise CheckoutError("An item in your cart is no longer sold. Remove it to continue.")
        if line.quantity > available[variant.id]:
            product = session.get(Product, variant.product_id)
            name = product.title + (f" ({variant.title})" if variant.title else "")
            left = available[variant.id]
            raise StockError(f"{name} is out of stock." if left == 0 else f"Only {left} of {name} left.")


def _check_payment_method(session: Session, code: str) -> None:
    if code not in {option.code for option in payment_options(pricing.get_store_config(session))}:
        raise CheckoutError("Choose a payment method.")


def _new_order(session: Session, cart: Cart, details: CheckoutDetails, email: str, method, lines, variants) -> Order:
    currency = store_identity.currency_for_order(session)  # locks the settings row against a currency change
    config = pricing.get_store_config(session)
    subtotal = sum(variants[line.variant_id].price * line.quantity for line in lines)
    discount, coupon = 0, None
    if details.coupon_code.strip():
        applied = pricing.evaluate_coupon(session, details.coupon_code, subtotal, email, currency)
        pricing.lock_coupon(session, applied.coupon_id)
        applied = pricing.evaluate_coupon(session, details.coupon_code, subtotal, email, currency)  # under the lock
        discount, coupon = applied.discount, applied
    totals = pricing.compute_totals(subtotal, discount, method.price, config.tax_rate_bp, config.prices_include_tax)
    order = Order(
        cart_id=cart.id,
        user_id=details.user_id or cart.user_id,
        email=email,
        payment_method=details.payment_method,
        currency=currency,
        subtotal=totals.subtotal,
        discount=totals.discount,
        tax=totals.tax,
        shipping=totals.shipping,
        total=totals.total,
        prices_include_tax=totals.prices_include_tax,
        tax_rate_bp=totals.tax_rate_bp,
        coupon_id=coupon.coupon_id if coupon else None,
        coupon_code=coupon.code if coupon else "",
        shipping_method_id=method.id,
        shipping_method_name=method.name,
        shipping_address=asdict(details.address),
        billing_address=asdict(details.address),
        customer_note=details.note.strip()[:1000],
    )
    orders.assign_order_number(session, order)
    session.add_all(_order_lines(session, order, lines, variants))
    if coupon:
        pricing.redeem_coupon(session, coupon.coupon_id, order.id, email)
    return order


def _order_lines(
    session: Session, order: Order, lines: list[CartLine], variants: dict[int, Variant]
) -> list[OrderLine]:
    snapshots = []
    for line in lines:
        variant = variants[line.variant_id]
        product = session.get(Product, variant.product_id)
        snapshots.append(
            OrderLine(
                order_id=order.id,
                variant_id=variant.id,
                product_id=product.id,
                product_title=product.title,
                variant_title=variant.title,
                sku=variant.sku,
                unit_price=variant.price,
                quantity=line.quantity,
                line_total=variant.price * line.quantity,
            )
        )
    return snapshots


def order_access_key(number: str) -> str:
    """A key that lets whoever placed the order (guests included) open its page from the email link."""
    return hmac.new(get_settings().signing_key(), f"order:{number}".encode(), hashlib.sha256).hexdigest()[:32]


def check_order_access(number: str, key: str) -> bool:
    return hmac.compare_digest(order_access_key(number), key or "")


def order_path(number: str) -> str:
    """The order page with its access key: the page a shopper lands on after checkout or payment."""
    return f"/order/{number}?key={order_access_key(number)}"


def order_url(number: str) -> str:
    return get_settings().base_url + order_path(number)
