"""The store's settings as admins edit them: the store's name and currency, contact details, tax
(rate, and whether prices include it), bank-transfer details, and which payment methods checkout
offers.

They live in the single ``StoreConfig`` row, which checkout, pricing, payments, emails, invoices
and the assistant read afresh on every quote and order (``pricing.get_store_config``), so a change
applies to the next cart total and the next order; orders already placed keep the tax rate and
mode they were priced with (``Order.tax_rate_bp``, ``Order.prices_include_tax``).

The name starts as ``STORE_NAME`` and, once saved here, shows at once in the storefront's header,
footer, home page and titles, in emails, invoices and the assistant (``store_identity``). The
currency starts as ``STORE_CURRENCY`` and may be changed here only while the store has no orders:
every price is an integer in the currency's minor unit, so a change relabels the amounts without
converting them, and orders must stay in the currency they were charged in (``store_identity``
explains the rule and how it holds against a concurrent first order). Only currencies the store can
format to two decimals and Paystack can charge are offered.

Only admins may change settings: the page's guard refuses staff first and ``update_settings``
checks the actor's role again. Every change is audited with the fields before → after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from revoque.errors import PermissionDenied
from revoque.models import Role, StoreConfig, User
from revoque.services import admin_forms, audit, pricing, store_identity
from revoque.services.admin_forms import FormInvalid, Problems
from revoque.services.money import currency_info, format_money
from revoque.settings import get_settings

TAX_MODES = {"inclusive": True, "exclusive": False}
EXAMPLE_PRICE = 1_000_000  # the ₦10,000 item the tax example is worked on
EDITABLE_FIELDS = [
    "store_name",
    "currency",
    "contact_email",
    "contact_phone",
    "contact_address",
    "tax_rate_bp",
    "prices_include_tax",
    "card_payments_enabled",
    "pay_on_delivery_enabled",
    "bank_transfer_enabled",
    "bank_name",
    "bank_account_name",
    "bank_account_number",
]
ADMIN_ONLY_MESSAGE = "Only an admin can change the store settings."
CURRENCY_FIXED_MESSAGE = (
    "The store has orders, so its currency can no longer change: orders and payments stay in the currency "
    "they were charged in."
)


@dataclass
class SettingsValues:
    """The form's fields as text and switches (what is stored, or what the admin just typed)."""

    store_name: str = ""
    currency: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    contact_address: str = ""
    tax_mode: str = "inclusive"
    tax_rate: str = "7.5"
    card_payments_enabled: bool = True
    pay_on_delivery_enabled: bool = True
    bank_transfer_enabled: bool = True
    bank_name: str = ""
    bank_account_name: str = ""
    bank_account_number: str = ""


@dataclass
class SettingsView:
    """Everything the settings page shows: the editable values and the fixed facts beside them."""

    values: SettingsValues
    currency: str  # "NGN (₦)"
    currency_fixed: str  # why the currency cannot change (the store has orders), or "" while it can
    card_gateway: str  # "Paystack" or "the sandbox gateway (no real money moves)"
    tax_example: str  # "A ₦10,000 item costs ₦10,000, of which ₦698 is VAT."
    updated_text: str


@dataclass(frozen=True)
class SettingsInput:
    store_name: str
    currency: str
    contact_email: str
    contact_phone: str
    contact_address: str
    tax_rate_bp: int
    prices_include_tax: bool
    card_payments_enabled: bool
    pay_on_delivery_enabled: bool
    bank_transfer_enabled: bool
    bank_name: str
    bank_account_name: str
    bank_account_number: str


def tax_example(tax_rate_bp: int, prices_include_tax: bool, currency: str) -> str:
    """What the tax setting means for one item, in words."""
    price = format_money(EXAMPLE_PRICE, currency)
    if not tax_rate_bp:
        return f"No tax is charged: a {price} item costs {price}."
    totals = pricing.compute_totals(EXAMPLE_PRICE, 0, 0, tax_rate_bp, prices_include_tax)
    tax, total = format_money(totals.tax, currency), format_money(totals.total, currency)
    if prices_include_tax:
        return f"A {price} item costs {total}, of which {tax} is VAT."
    return f"A {price} item costs {total}: {price} plus {tax} VAT."


def currency_label(code: str) -> str:
    """``NGN`` → ``NGN (₦)``: how the page names a currency."""
    info = currency_info(code)
    return f"{info.code} ({info.symbol.strip()})"


def _allowed_currencies() -> list[str]:
    """The offered currencies, and ``STORE_CURRENCY`` (the store's default, whatever it is)."""
    offered = [info.code for info in store_identity.currency_choices()]
    default = get_settings().store_currency
    return offered if default in offered else [*offered, default]


def currency_options() -> list[tuple[str, str]]:
    """(code, label) for each currency an admin may choose."""
    return [(code, currency_label(code)) for code in _allowed_currencies()]


def _values(config: StoreConfig) -> SettingsValues:
    return SettingsValues(
        store_name=store_identity.name_of(config),
        currency=store_identity.currency_of(config),
        contact_email=config.contact_email,
        contact_phone=config.contact_phone,
        contact_address=config.contact_address,
        tax_mode="inclusive" if config.prices_include_tax else "exclusive",
        tax_rate=admin_forms.percent_text(config.tax_rate_bp),
        card_payments_enabled=config.card_payments_enabled,
        pay_on_delivery_enabled=config.pay_on_delivery_enabled,
        bank_transfer_enabled=config.bank_transfer_enabled,
        bank_name=config.bank_name,
        bank_account_name=config.bank_account_name,
        bank_account_number=config.bank_account_number,
    )


def settings_view(session: Session) -> SettingsView:
    settings = get_settings()
    config = pricing.get_store_config(session)
    currency = store_identity.currency_of(config)
    moment = pricing.as_utc(config.updated_at)
    return SettingsView(
        values=_values(config),
        currency=currency_label(currency),
        currency_fixed=CURRENCY_FIXED_MESSAGE if store_identity.has_orders(session) else "",
        card_gateway="Paystack" if settings.paystack_secret_key else "the sandbox gateway (no real money moves)",
        tax_example=tax_example(config.tax_rate_bp, config.prices_include_tax, currency),
        updated_text=f"{moment.day} {moment:%b %Y, %H:%M} UTC",
    )


def values_from(form: dict) -> SettingsValues:
    """What the admin typed, so a refused form comes back as they left it."""
    mode = admin_forms.text(form, "tax_mode")
    return SettingsValues(
        store_name=admin_forms.text(form, "store_name"),
        currency=admin_forms.text(form, "currency").upper(),
        contact_email=admin_forms.text(form, "contact_email"),
        contact_phone=admin_forms.text(form, "contact_phone"),
        contact_address=admin_forms.text(form, "contact_address"),
        tax_mode=mode if mode in TAX_MODES else "inclusive",
        tax_rate=admin_forms.text(form, "tax_rate"),
        card_payments_enabled=admin_forms.flag(form, "card_payments_enabled"),
        pay_on_delivery_enabled=admin_forms.flag(form, "pay_on_delivery_enabled"),
        bank_transfer_enabled=admin_forms.flag(form, "bank_transfer_enabled"),
        bank_name=admin_forms.text(form, "bank_name"),
        bank_account_name=admin_forms.text(form, "bank_account_name"),
        bank_account_number=admin_forms.text(form, "bank_account_number"),
    )


def _store_name(problems: Problems, value: str) -> str:
    name = " ".join(value.split())
    if not name:
        problems.add("store_name", "Give the store a name: shoppers see it on every page and email.")
    elif len(name) > store_identity.MAX_NAME:
        problems.add("store_name", f"Keep the name to {store_identity.MAX_NAME} characters or fewer.")
    return name


def _unknown_currency(code: str, current: str) -> str:
    """Why ``code`` cannot be chosen, or "" when it can (keeping the current one always can)."""
    allowed = _allowed_currencies()
    if code == current or code in allowed:
        return ""
    return f"Choose one of the currencies offered: {', '.join(allowed)}."


def _currency(problems: Problems, value: str, current: str) -> str:
    """The chosen code; a form without one (the control is disabled once the store has orders, and
    a disabled control sends nothing) keeps ``current``."""
    code = value.upper() or current
    if refusal := _unknown_currency(code, current):
        problems.add("currency", refusal)
    return code


def _phone(problems: Problems, value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if value and not 7 <= len(digits) <= 15:
        problems.add("contact_phone", "Phone must have 7 to 15 digits, like +234 803 123 4567.")
    return admin_forms.optional(problems, "contact_phone", value, "Phone", 40)


def _account_number(problems: Problems, value: str, currency: str) -> str:
    number = re.sub(r"[\s-]", "", value)
    if not number:
        return ""
    if not number.isdigit():
        problems.add("bank_account_number", "Account number must be digits only.")
    elif currency == "NGN" and len(number) != 10:
        problems.add("bank_account_number", "A Nigerian (NUBAN) account number has 10 digits.")
    elif not 6 <= len(number) <= 34:
        problems.add("bank_account_number", "Account number must have 6 to 34 digits.")
    return number


def parse_settings_form(form: dict, current_currency: str) -> SettingsInput:
    """The form as ``SettingsInput``, or ``FormInvalid`` naming every field that is wrong.
    ``current_currency`` is the store's currency now (``store_identity.currency``)."""
    problems = Problems()
    store_name = _store_name(problems, admin_forms.text(form, "store_name"))
    currency = _currency(problems, admin_forms.text(form, "currency"), current_currency)
    contact_email = admin_forms.email(problems, "contact_email", admin_forms.text(form, "contact_email"), "Email")
    contact_phone = _phone(problems, admin_forms.text(form, "contact_phone"))
    contact_address = admin_forms.optional(
        problems, "contact_address", admin_forms.text(form, "contact_address"), "Address", 300
    )
    mode = admin_forms.text(form, "tax_mode")
    if mode not in TAX_MODES:
        problems.add("tax_mode", "Choose whether prices include tax or tax is added at checkout.")
    tax_rate_bp = admin_forms.percent_bp(
        problems, "tax_rate", admin_forms.text(form, "tax_rate"), "Tax rate", allow_zero=True
    )
    switches = {
        name: admin_forms.flag(form, name)
        for name in ("card_payments_enabled", "pay_on_delivery_enabled", "bank_transfer_enabled")
    }
    if not any(switches.values()):
        problems.add("payments", "Switch on at least one payment method: shoppers need one to pay.")
    bank = {
        "bank_name": admin_forms.optional(problems, "bank_name", admin_forms.text(form, "bank_name"), "Bank", 120),
        "bank_account_name": admin_forms.optional(
            problems, "bank_account_name", admin_forms.text(form, "bank_account_name"), "Account name", 120
        ),
        "bank_account_number": _account_number(problems, admin_forms.text(form, "bank_account_number"), currency),
    }
    if switches["bank_transfer_enabled"]:
        labels = {"bank_name": "bank", "bank_account_name": "account name", "bank_account_number": "account number"}
        for name, label in labels.items():
            if not bank[name] and name not in problems:
                problems.add(name, f"Bank transfer is on, so shoppers need the {label}.")
    problems.raise_if_any()
    return SettingsInput(
        store_name=store_name,
        currency=currency,
        contact_email=contact_email,
        contact_phone=contact_phone,
        contact_address=contact_address,
        tax_rate_bp=tax_rate_bp,
        prices_include_tax=TAX_MODES[mode],
        **switches,
        **bank,
    )


def update_settings(session: Session, actor: User, data: SettingsInput) -> StoreConfig:
    """Save the settings (admins only); the next cart total and order use them. A new currency is
    refused (``FormInvalid`` on the currency field) once the store has orders. Returns the row."""
    if actor.role != Role.ADMIN or not actor.is_active:
        raise PermissionDenied(ADMIN_ONLY_MESSAGE)
    config = pricing.lock_store_config(session)  # against a concurrent save, and a first order (see store_identity)
    current = store_identity.currency_of(config)
    new_currency = data.currency != current
    if new_currency:
        fixed = CURRENCY_FIXED_MESSAGE if store_identity.has_orders(session) else ""
        if refusal := _unknown_currency(data.currency, current) or fixed:
            raise FormInvalid({"currency": refusal})
    before = audit.snapshot(config, EDITABLE_FIELDS)
    for name in EDITABLE_FIELDS:
        setattr(config, name, getattr(data, name))
    config.store_name = store_identity.stored_name(data.store_name)
    config.currency = store_identity.stored_currency(data.currency)
    session.add(config)
    session.flush()
    store_identity.invalidate_store_name(session)
    if new_currency:
        store_identity.invalidate_prices(session)
    audit.record(
        session, actor, "settings.update", config, before, audit.snapshot(config, EDITABLE_FIELDS), "Store settings"
    )
    return config
