"""Store settings on a real database (SQLite and PostgreSQL): the form's rules, saving (admins only,
audited before → after), and the new settings taking effect for the next cart's total and the
next order while orders already placed keep their tax; the page refuses staff. The currency: chosen
only while the store has no orders (relabelled, not converted), shown at once everywhere prices
are, refused once an order exists (also when the first order and the change race), and orders
keep the currency they were placed in."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlmodel import select

from revoque.adapters.search import PRICE_BUCKETS, SearchQuery
from revoque.db import session_scope
from revoque.errors import PermissionDenied
from revoque.models import AuditEntry, Cart, CartLine, Order, Role, StoreConfig, Variant
from revoque.pages.admin.settings import AdminSettingsState
from revoque.services import (
    accounts,
    assistant,
    carts,
    catalog,
    checkout,
    emails,
    order_admin,
    orders,
    pricing,
    search,
    shipping,
    store_identity,
    store_settings,
)
from revoque.services.accounts import AddressInput
from revoque.services.admin_forms import FormInvalid
from revoque.services.checkout import CheckoutDetails
from revoque.state.admin import ADMIN_ONLY_MESSAGE
from revoque.state.nav import NavState
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, frame, page_state, run, token_for

FORM = {
    "store_name": "Revoque",
    "contact_email": " Hello@Shop.NG ",
    "contact_phone": "+234 803 123 4567",
    "contact_address": "12 Admiralty Way, Lekki",
    "tax_mode": "exclusive",
    "tax_rate": "10",
    "card_payments_enabled": "on",
    "pay_on_delivery_enabled": "",
    "bank_transfer_enabled": "on",
    "bank_name": "Zenith Bank",
    "bank_account_name": "Shop Ltd",
    "bank_account_number": "101 234 5678",
}
URL = "http://localhost:3000/admin/settings"
ADDRESS = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")


def form(**changes) -> dict:
    return {**FORM, **changes}


def problems(**changes) -> dict[str, str]:
    with pytest.raises(FormInvalid) as refused:
        store_settings.parse_settings_form(form(**changes), "NGN")
    return refused.value.problems


def user(role: str, email: str):
    with session_scope(write=True) as session:
        return add_user(session, email, role)


def save(actor, **changes) -> None:
    data = store_settings.parse_settings_form(form(**changes), "NGN")
    with session_scope(write=True) as session:
        store_settings.update_settings(session, actor, data)


@pytest.fixture
def variant_id(database) -> int:
    """A ₦10,000 variant, the default delivery methods and the store's settings row."""
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Adire Scarf", variants=[({}, 1_000_000, 10)]))[0]
        shipping.ensure_default_methods(session)
        pricing.get_store_config(session)
        return variant.id


def new_cart(variant_id: int) -> int:
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        session.add(CartLine(cart_id=cart.id, variant_id=variant_id, quantity=1))
        return cart.id


def cart_totals(cart_id: int) -> pricing.Totals:
    with session_scope() as session:
        return checkout.quote(session, session.get(Cart, cart_id)).totals


def place(cart_id: int, payment: str = "pay_on_delivery") -> Order:
    with session_scope() as session:
        method_id = shipping.list_active_methods(session)[-1].id  # pick-up: free, so the total is the goods
    return checkout.place_order(cart_id, CheckoutDetails("ada@example.com", ADDRESS, method_id, payment))


def test_the_form_names_every_problem():
    assert problems(
        contact_email="hello@",
        contact_phone="12",
        tax_mode="sometimes",
        tax_rate="101",
        card_payments_enabled="",
        bank_transfer_enabled="",
        bank_account_number="12AB",
    ) == {
        "contact_email": "Email must be an email address, like hello@example.com.",
        "contact_phone": "Phone must have 7 to 15 digits, like +234 803 123 4567.",
        "tax_mode": "Choose whether prices include tax or tax is added at checkout.",
        "tax_rate": "Tax rate must be between 0 and 100%.",
        "payments": "Switch on at least one payment method: shoppers need one to pay.",
        "bank_account_number": "Account number must be digits only.",
    }
    assert problems(bank_name="", bank_account_name=" ", bank_account_number="") == {
        "bank_name": "Bank transfer is on, so shoppers need the bank.",
        "bank_account_name": "Bank transfer is on, so shoppers need the account name.",
        "bank_account_number": "Bank transfer is on, so shoppers need the account number.",
    }
    assert problems(bank_account_number="12345") == {
        "bank_account_number": "A Nigerian (NUBAN) account number has 10 digits."
    }
    assert problems(tax_rate="7.125") == {"tax_rate": "Tax rate can have at most 2 decimal places, like 7.25."}
    data = store_settings.parse_settings_form(form(tax_rate="0", bank_transfer_enabled="", bank_name=""), "NGN")
    assert (data.tax_rate_bp, data.prices_include_tax, data.contact_email, data.bank_account_number) == (
        0,
        False,
        "hello@shop.ng",
        "1012345678",
    )
    assert (data.card_payments_enabled, data.pay_on_delivery_enabled, data.bank_transfer_enabled) == (
        True,
        False,
        False,
    )


def test_new_settings_apply_to_the_next_cart_and_order_and_placed_orders_keep_their_tax(variant_id):
    admin = user(Role.ADMIN, "boss@example.com")
    before = place(new_cart(variant_id))
    assert (before.tax_rate_bp, before.prices_include_tax, before.tax, before.total) == (750, True, 69_767, 1_000_000)

    save(admin)  # 10 %, added on top
    cart_id = new_cart(variant_id)
    totals = cart_totals(cart_id)
    assert (totals.tax, totals.total, totals.tax_rate_bp, totals.prices_include_tax) == (
        100_000,
        1_100_000,
        1000,
        False,
    )
    after = place(cart_id, "bank_transfer")
    assert (after.tax_rate_bp, after.prices_include_tax, after.tax, after.total) == (1000, False, 100_000, 1_100_000)
    with session_scope() as session:
        kept = session.get(Order, before.id)
        assert (kept.tax, kept.total, kept.tax_rate_bp) == (69_767, 1_000_000, 750)
        codes = [o.code for o in checkout.payment_options(pricing.get_store_config(session))]
    assert codes == ["card", "bank_transfer"]  # pay on delivery was switched off
    with pytest.raises(checkout.CheckoutError, match=r"Choose a payment method\."):
        place(new_cart(variant_id), "pay_on_delivery")


def test_saving_is_audited_before_and_after(variant_id):
    admin = user(Role.ADMIN, "boss@example.com")
    save(admin)
    save(admin)  # the same values again: nothing changed, nothing recorded
    with session_scope() as session:
        [entry] = session.exec(select(AuditEntry)).all()
        config = session.get(StoreConfig, pricing.STORE_CONFIG_ID)
    assert (entry.action, entry.actor_email, entry.entity_type, entry.entity_id) == (
        "settings.update",
        "boss@example.com",
        "storeconfig",
        "1",
    )
    assert entry.before == {
        "tax_rate_bp": 750,
        "prices_include_tax": True,
        "pay_on_delivery_enabled": True,
        "contact_email": "",
        "contact_phone": "",
        "contact_address": "",
        "bank_name": "",
        "bank_account_name": "",
        "bank_account_number": "",
    }
    assert entry.after["tax_rate_bp"] == 1000 and entry.after["contact_email"] == "hello@shop.ng"
    assert config.bank_account_number == "1012345678"


def test_staff_cannot_change_settings_even_by_calling_the_service(variant_id):
    sam = user(Role.STAFF, "sam@example.com")
    with pytest.raises(PermissionDenied):
        save(sam)
    with session_scope() as session:
        assert session.get(StoreConfig, pricing.STORE_CONFIG_ID).tax_rate_bp == 750
        assert session.exec(select(AuditEntry)).all() == []


def test_the_settings_page_is_for_admins_only(variant_id):
    staff = page_state(AdminSettingsState, token_for(Role.STAFF.value), URL)
    assert run(AdminSettingsState.load, staff) is None
    assert frame(staff).access == "admin_only"
    assert (staff.loaded, staff.values.store_name, staff.tax_example) == (False, "", "")
    assert ADMIN_ONLY_MESSAGE in event_text(run(AdminSettingsState.save, staff, form()))
    with session_scope() as session:
        assert session.get(StoreConfig, pricing.STORE_CONFIG_ID).tax_rate_bp == 750

    admin = page_state(AdminSettingsState, token_for(Role.ADMIN.value), URL)
    run(AdminSettingsState.load, admin)
    assert frame(admin).access == "granted" and admin.loaded
    assert (admin.values.tax_rate, admin.values.tax_mode, admin.currency) == ("7.5", "inclusive", "NGN (₦)")
    assert admin.tax_example == "A ₦10,000 item costs ₦10,000, of which ₦697.67 is VAT."
    refused = run(AdminSettingsState.save, admin, form(tax_rate="abc"))
    assert "Tax rate must be a number of percent" in event_text(refused)
    assert admin.errors == {"tax_rate": "Tax rate must be a number of percent, like 7.5."}
    assert admin.values.tax_rate == "abc" and admin.values.tax_mode == "exclusive"  # kept as typed
    assert "Settings saved" in event_text(run(AdminSettingsState.save, admin, form()))
    assert admin.errors == {} and admin.values.tax_rate == "10"
    assert admin.tax_example == "A ₦10,000 item costs ₦11,000: ₦10,000 plus ₦1,000 VAT."


def test_a_renamed_store_shows_its_new_name_at_once_and_a_blank_name_is_refused(variant_id):
    admin = user(Role.ADMIN, "boss@example.com")
    assert problems(store_name="  ") == {
        "store_name": "Give the store a name: shoppers see it on every page and email."
    }
    assert "store_name" in problems(store_name="x" * 61)
    with session_scope() as session:
        assert store_identity.store_name(session) == "Revoque"  # STORE_NAME until an admin renames it (and cached)
    save(admin, store_name="  Lagos   Looms ")
    order = place(new_cart(variant_id), "bank_transfer")
    with session_scope() as session:
        assert store_identity.store_name(session) == "Lagos Looms"
        config = pricing.get_store_config(session)
        [entry] = session.exec(select(AuditEntry)).all()
        confirmation = emails.render_order_confirmation(session.get(Order, order.id), [], config)
        timeline = orders.order_timeline(session, order.id, customer_view=True)
    assert (entry.before["store_name"], entry.after["store_name"]) == ("", "Lagos Looms")
    assert confirmation.subject.startswith("Your Lagos Looms order") and "Lagos Looms" in confirmation.html
    assert {event.actor for event in timeline} <= {"You", "Lagos Looms"}
    assert "You are the shopping assistant of Lagos Looms" in assistant.system_prompt("Lagos Looms", "NGN")

    save(admin, store_name="Revoque")  # back to the deployment's name: stored as "follow STORE_NAME"
    with session_scope() as session:
        assert pricing.get_store_config(session).store_name == ""
        assert store_identity.store_name(session) == "Revoque"


# --- the currency ---------------------------------------------------------------------------------


def storefront_prices(cart_id: int) -> dict[str, str]:
    """What a shopper sees priced: the product page, a listing card, the cart, a delivery option, a
    price word in a search, and a coupon's description."""
    with session_scope() as session:
        page = catalog.get_product(session, "adire-scarf")
        [card] = catalog.list_products(session).items
        cart = carts.view_cart(session, session.get(Cart, cart_id))
        delivery = shipping.list_active_methods(session)[0]
        _query, note = search.understand(session, SearchQuery(text="scarf under 20000"))
        band = search.price_label(PRICE_BUCKETS[0], store_identity.currency(session))
    return {
        "page": page.variants[0].price_text,
        "card": card.price_text,
        "cart": cart.subtotal_text,
        "delivery": delivery.price_text,
        "search": note,
        "band": band,
    }


def test_an_admin_relabels_the_currency_before_the_first_order_and_the_storefront_follows_at_once(variant_id):
    admin = user(Role.ADMIN, "boss@example.com")
    cart_id = new_cart(variant_id)
    before = storefront_prices(cart_id)  # read through the cache, which must not keep serving ₦ below
    assert before == {
        "page": "₦10,000",
        "card": "₦10,000",
        "cart": "₦10,000",
        "delivery": "₦2,500",
        "search": "Under ₦20,000",
        "band": "Under ₦10,000",
    }

    save(admin, currency="usd")
    assert storefront_prices(cart_id) == {  # the same amounts, relabelled: nothing is converted
        "page": "$10,000",
        "card": "$10,000",
        "cart": "$10,000",
        "delivery": "$2,500",
        "search": "Under $20,000",
        "band": "Under $10,000",
    }
    with session_scope() as session:
        assert (pricing.get_store_config(session).currency, store_identity.currency(session)) == ("USD", "USD")
        [entry] = session.exec(select(AuditEntry)).all()
        quote = checkout.quote(session, session.get(Cart, cart_id))
    assert (quote.currency, quote.totals.subtotal) == ("USD", 1_000_000)
    assert (entry.action, entry.before["currency"], entry.after["currency"]) == ("settings.update", "", "USD")

    order = place(cart_id, "bank_transfer")
    with session_scope() as session:
        placed = session.get(Order, order.id)
        confirmation = emails.render_order_confirmation(placed, [], pricing.get_store_config(session))
    assert (placed.currency, placed.subtotal, placed.total) == ("USD", 1_000_000, 1_100_000)  # the form's 10 % on top
    assert "$11,000" in confirmation.text and "₦" not in confirmation.text
    with pytest.raises(FormInvalid):  # back to ₦? Not any more: the store has an order
        save(admin, currency="NGN")


def test_once_an_order_exists_the_currency_is_fixed_and_the_page_says_why(variant_id):
    admin = user(Role.ADMIN, "boss@example.com")
    place(new_cart(variant_id))
    data = store_settings.parse_settings_form(form(currency="GHS"), "NGN")
    with pytest.raises(FormInvalid) as refused, session_scope(write=True) as session:
        store_settings.update_settings(session, admin, data)
    assert refused.value.problems == {"currency": store_settings.CURRENCY_FIXED_MESSAGE}
    with session_scope() as session:
        assert (pricing.get_store_config(session).currency, store_identity.currency(session)) == ("", "NGN")
        assert session.exec(select(AuditEntry)).all() == []  # nothing else of the form was saved either

    page = page_state(AdminSettingsState, token_for(Role.ADMIN.value), URL)
    run(AdminSettingsState.load, page)
    assert (page.currency_fixed, page.currency, page.values.currency) == (
        store_settings.CURRENCY_FIXED_MESSAGE,
        "NGN (₦)",
        "NGN",
    )
    run(AdminSettingsState.save, page, form(currency="GHS"))
    assert page.errors == {"currency": store_settings.CURRENCY_FIXED_MESSAGE}
    assert "Settings saved" in event_text(run(AdminSettingsState.save, page, form()))  # the disabled menu sends nothing


def test_only_offered_currencies_are_accepted_and_only_by_admins(variant_id):
    offered = "Choose one of the currencies offered: NGN, USD, GHS, KES, ZAR."
    assert [code for code, _label in store_settings.currency_options()] == ["NGN", "USD", "GHS", "KES", "ZAR"]
    assert problems(currency="JPY") == {"currency": offered}  # no minor unit: "12.50" would misprice
    assert problems(currency="EUR") == {"currency": offered}  # Paystack cannot charge it
    assert problems(currency="XYZ") == {"currency": offered}
    assert store_settings.parse_settings_form(form(currency=""), "KES").currency == "KES"  # kept as it is
    admin, sam = user(Role.ADMIN, "boss@example.com"), user(Role.STAFF, "sam@example.com")
    smuggled = replace(store_settings.parse_settings_form(form(), "NGN"), currency="JPY")  # past the form's check
    with pytest.raises(FormInvalid, match="currencies offered"), session_scope(write=True) as session:
        store_settings.update_settings(session, admin, smuggled)
    with pytest.raises(PermissionDenied):
        save(sam, currency="USD")
    staff_page = page_state(AdminSettingsState, token_for(Role.STAFF.value), URL)
    assert ADMIN_ONLY_MESSAGE in event_text(run(AdminSettingsState.save, staff_page, form(currency="USD")))
    with session_scope() as session:
        assert store_identity.currency(session) == "NGN"
        assert session.exec(select(AuditEntry)).all() == []


def test_orders_keep_the_currency_they_were_placed_in(variant_id, monkeypatch):
    """Past orders are shown in their own currency, even when the store's changes under them (here
    the deployment changes STORE_CURRENCY, which an admin never chose over)."""
    order = place(new_cart(variant_id), "bank_transfer")
    use_settings(monkeypatch, store_currency="GHS")
    cart_id = new_cart(variant_id)
    with session_scope() as session:
        assert store_identity.currency(session) == "GHS"
        kept = session.get(Order, order.id)
        shown = accounts.order_detail(session, kept)
        staff_view = order_admin.staff_order_view(session, kept.number)
        confirmation = emails.render_order_confirmation(kept, [], pricing.get_store_config(session))
        new_cart_text = carts.view_cart(session, session.get(Cart, cart_id)).subtotal_text
    assert (kept.currency, shown.total, staff_view.total, new_cart_text) == ("NGN", "₦10,000", "₦10,000", "GH₵10,000")
    assert "₦10,000" in confirmation.text and "GH₵" not in confirmation.text


def test_the_frame_follows_the_name_and_currency(variant_id):
    """What the storefront header and the admin sidebar bind to (``NavState``)."""
    admin = user(Role.ADMIN, "boss@example.com")
    nav = page_state(NavState, "")
    run(NavState.load_identity, nav)
    assert (nav.store_name, nav.currency, nav.currency_symbol) == ("Revoque", "NGN", "₦")
    save(admin, store_name="Lagos Looms", currency="KES")
    run(NavState.load_identity, nav)
    assert (nav.store_name, nav.currency, nav.currency_symbol) == ("Lagos Looms", "KES", "KSh")
    assert assistant.quick_replies(nav.currency)[0] == "Gifts under KSh20,000"
    assert "Prices are in KES (KSh)" in assistant.system_prompt(nav.store_name, nav.currency)


def test_a_first_order_and_a_currency_change_take_turns(variant_id):
    """The order reads the currency under a shared lock on the settings row; the admin's change
    waits for that order to commit, then sees it and is refused (on SQLite the second writer waits
    for the first anyway)."""
    admin = user(Role.ADMIN, "boss@example.com")
    data = store_settings.parse_settings_form(form(currency="USD"), "NGN")
    order_holds_lock, commit_order = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first_order() -> None:
        with session_scope(write=True) as session:
            outcome["order_currency"] = store_identity.currency_for_order(session)
            add_order(session, [(session.get(Variant, variant_id), 1)])
            order_holds_lock.set()
            commit_order.wait(10)

    def change_currency() -> None:
        order_holds_lock.wait(10)
        try:
            with session_scope(write=True) as session:
                store_settings.update_settings(session, admin, data)
        except FormInvalid as refused:
            outcome["refused"] = refused.problems

    ordering, changing = threading.Thread(target=first_order), threading.Thread(target=change_currency)
    ordering.start()
    changing.start()
    assert order_holds_lock.wait(10)
    changing.join(1)
    assert changing.is_alive()  # still waiting for the order's transaction
    commit_order.set()
    ordering.join(10)
    changing.join(10)
    assert outcome == {"order_currency": "NGN", "refused": {"currency": store_settings.CURRENCY_FIXED_MESSAGE}}
    with session_scope() as session:
        assert store_identity.currency(session) == "NGN"
