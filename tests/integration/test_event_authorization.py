"""Every event handler a browser can call and every HTTP route, checked against the store's rules.

The inventory is Reflex's own registry of event handlers (what ``/_event`` dispatches to) after the
app is imported, so a handler added anywhere shows up here. The rules:

1. Reflex's internal handlers are the known few.
2. Admin pages: every state of ``revoque/pages/admin`` inherits ``AdminPageState``; every one of their
   handlers refuses guests and customers (the matrix in ``test_admin_access.py`` calls them all).
3. Every other handler is in ``REVIEWED`` with what it trusts from the browser. A new handler fails
   here until someone reviews it and adds a line.
4. Handlers that take an id (or a number, reference, token) from the browser are in ``OWNERSHIP``
   and each is called with another customer's id: nothing of theirs is shown or changed.
5. No generated setters: auto-setters are off, every ``set_*`` handler is written out in the app's
   own code, ``setvar`` (which every state has) reaches only those, and the field-taking setters
   refuse fields outside their list.
6. Every HTTP route is in ``ROUTES`` with its rule, and the rule is checked.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import reflex as rx
from reflex_base import constants
from reflex_base.config import get_state_auto_setters
from reflex_base.registry import RegistrationContext
from sqlmodel import func, select
from starlette.testclient import TestClient

import revoque
import revoque.revoque  # registers every page, so the registry holds every handler
from revoque.adapters.payments import get_gateway
from revoque.adapters.storage import get_storage
from revoque.api import build_api
from revoque.db import session_scope
from revoque.models import (
    Address,
    CartLine,
    ChatMessage,
    ChatRole,
    Conversation,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Review,
    ShippingMethod,
    Variant,
    WishlistItem,
)
from revoque.pages.account.addresses import AddressesState
from revoque.pages.account.orders import OrderDetailState
from revoque.pages.account.wishlist import WishlistPageState
from revoque.pages.checkout import CheckoutState
from revoque.pages.checkout_return import CheckoutReturnState
from revoque.pages.order import OrderPageState
from revoque.pages.pay_sandbox import SandboxPaymentState
from revoque.pages.product import ProductExtrasState, ProductState
from revoque.services import accounts, payments
from revoque.services.accounts import AddressInput
from revoque.services.carts import find_cart
from revoque.state.admin import AdminFrameState, AdminPageState
from revoque.state.assistant import AssistantState
from revoque.state.cart import CartState
from revoque.state.nav import NavState
from revoque.state.session import SessionState, safe_next_path
from revoque.state.wishlist import WishlistState
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.tab import Tab

# --- 1-3: the inventory ---------------------------------------------------------------------------

REFLEX_INTERNAL = {
    "hydrate",
    "hydrate_and_load",
    "set_is_hydrated",
    "on_load_internal",
    "update_vars_internal",  # sets client-storage vars only (the session, cart and chat tokens)
    "handle_frontend_exception",
    "setvar",
}

PUBLIC = "public: catalog data, or this tab's own screen state"
OWN = "the signed-in viewer's own rows, resolved from the session token on the server"
FORM = "a form: input validated by the service; acts for the viewer or on nobody's data"
ID = "takes an id from the browser: ownership checked (OWNERSHIP)"
CAPABILITY = "acts on an unguessable value from the URL (reset token, payment reference, signed order key)"

REVIEWED: dict[str, str] = {
    "AddressesState.load": OWN,
    "AddressesState.open_new": PUBLIC,
    "AddressesState.open_edit": ID,
    "AddressesState.set_dialog_open": PUBLIC,
    "AddressesState.save": ID,  # edits the address picked from the viewer's own list, re-checked
    "AddressesState.delete": ID,
    "AddressesState.make_default": ID,
    "OrdersState.load": OWN,
    "OrderDetailState.load": ID,  # the order number in the URL
    "ForgotPasswordState.load": PUBLIC,
    "ForgotPasswordState.submit": FORM,  # same answer for every email; rate limited
    "ResetPasswordState.load": CAPABILITY,
    "ResetPasswordState.submit": CAPABILITY,
    "ChangePasswordState.submit": OWN,  # needs the current password
    "ProfileState.load": OWN,
    "ProfileState.save": OWN,
    "SignInState.load": PUBLIC,
    "SignInState.submit": FORM,  # throttled per email and address; ?next= only to this site
    "SignUpState.load": PUBLIC,
    "SignUpState.submit": FORM,  # rate limited per address
    "WishlistPageState.load": OWN,
    "WishlistPageState.remove": ID,
    "WishlistState.load": OWN,
    "WishlistState.toggle": ID,
    "CategoryState.load": PUBLIC,
    "CategoryState.change_sort": PUBLIC,
    "CollectionState.load": PUBLIC,
    "CollectionState.change_sort": PUBLIC,
    "HomeState.load": PUBLIC,
    "SearchState.load": PUBLIC,
    "SearchState.change_sort": PUBLIC,
    "SearchState.clear_filters": PUBLIC,
    "SearchState.toggle_facet": PUBLIC,
    "SearchState.toggle_in_stock": PUBLIC,
    "SearchBoxState.set_text": PUBLIC,
    "SearchBoxState.key_down": PUBLIC,
    "SearchBoxState.focus": PUBLIC,
    "SearchBoxState.blur": PUBLIC,
    "SearchBoxState.choose": PUBLIC,
    "SearchBoxState.submit": PUBLIC,  # redirects only to a product or the results page
    "ProductState.load": OWN,  # the product, its public reviews, whether the viewer may write one
    "ProductState.choose": PUBLIC,  # only values the product offers
    "ProductState.set_quantity": PUBLIC,
    "ProductState.show_image": PUBLIC,
    "ProductExtrasState.set_review_field": PUBLIC,  # only rating, title and body
    "ProductExtrasState.submit_review": ID,  # the product on screen; delivered-to-the-viewer rule
    "RecommendationsState.fetch": PUBLIC,
    "CartState.add": ID,  # variant ids are public, but only active products may be bought
    "CartState.change_quantity": ID,
    "CartState.remove": ID,
    "CartState.after_sign_in": OWN,
    "CartState.set_drawer_open": PUBLIC,
    "CartState.start_new_cart": PUBLIC,
    "CheckoutState.load": OWN,  # this tab's cart and the viewer's saved addresses
    "CheckoutState.set_field": PUBLIC,  # only the form's own fields
    "CheckoutState.submit_contact": PUBLIC,
    "CheckoutState.choose_shipping": ID,  # only a method the page offered
    "CheckoutState.submit_delivery": PUBLIC,
    "CheckoutState.choose_payment": PUBLIC,  # checked against the offered methods on submit
    "CheckoutState.submit_payment": PUBLIC,
    "CheckoutState.go_to_step": PUBLIC,
    "CheckoutState.apply_coupon": FORM,  # failures rate limited
    "CheckoutState.remove_coupon": PUBLIC,
    "CheckoutState.use_saved_address": ID,
    "CheckoutState.place_order": OWN,  # the cart and user resolved at load, on the server
    "CheckoutReturnState.finish": CAPABILITY,
    "OrderPageState.load": CAPABILITY,  # the order's signed key, or the signed-in owner
    "OrderPageState.pay_again": OWN,  # only the order load admitted
    "OrderPageState.watch_invoice": OWN,
    "SandboxPaymentState.load": CAPABILITY,
    "SandboxPaymentState.decide": CAPABILITY,
    "AssistantState.toggle": OWN,  # history only of the viewer's (or this tab's guest) conversation
    "AssistantState.close": PUBLIC,
    "AssistantState.set_draft": PUBLIC,
    "AssistantState.new_conversation": PUBLIC,
    "AssistantState.submit": FORM,
    "AssistantState.send_text": FORM,
    "AssistantState.answer": ID,  # runs only for the message this tab queued; rate limited
    "NavState.load_frame": OWN,
    "NavState.load_identity": PUBLIC,  # the store's name and currency, the same for everyone
    "SessionState.require_signed_in": OWN,
    "SessionState.sign_out": OWN,
}


def registered_handlers() -> list[tuple[type, str]]:
    """(state class, handler name) for everything ``/_event`` can dispatch to."""
    found = []
    for registered in RegistrationContext.get().event_handlers.values():
        handler = registered.handler
        state_cls = handler.state or registered.states[-1]
        found.append((state_cls, handler.fn.__name__))
    return found


def app_states() -> list[type]:
    found, todo = [], list(rx.State.get_substates())
    while todo:
        state_cls = todo.pop()
        todo.extend(state_cls.get_substates())
        if state_cls.__module__.startswith("revoque."):
            found.append(state_cls)
    return found


def storefront_handlers() -> dict[str, tuple[type, str]]:
    return {
        f"{cls.__name__}.{name}": (cls, name)
        for cls, name in registered_handlers()
        if cls.__module__.startswith("revoque.") and not issubclass(cls, AdminPageState) and name != "setvar"
    }


def test_reflex_internal_handlers_are_the_known_few():
    internal = {name for cls, name in registered_handlers() if cls.__module__.startswith("reflex.")}
    assert internal <= REFLEX_INTERNAL, internal - REFLEX_INTERNAL


def test_every_admin_page_state_is_guarded():
    """test_admin_access.py calls every handler of every AdminPageState as a guest and a customer."""
    admin_states = [cls for cls in app_states() if cls.__module__.startswith("revoque.pages.admin")]
    assert len(admin_states) >= 4
    unguarded = [cls.__name__ for cls in admin_states if not issubclass(cls, AdminPageState)]
    assert unguarded == []
    # the frame's state only shows what the guard decided: it has no handler of its own
    assert set(AdminFrameState.event_handlers) == {"setvar"}


def test_every_other_handler_is_reviewed():
    found = storefront_handlers()
    unreviewed = sorted(set(found) - set(REVIEWED))
    assert unreviewed == [], f"review these handlers and add them to REVIEWED: {unreviewed}"
    assert sorted(set(REVIEWED) - set(found)) == [], "REVIEWED names handlers that no longer exist"


def test_every_handler_taking_an_id_is_an_ownership_case():
    id_params = re.compile(r"(_id|^number|^reference|^token)$")
    for key, (cls, name) in storefront_handlers().items():
        params = list(inspect.signature(cls.event_handlers[name].fn).parameters)[1:]
        if any(id_params.search(p) for p in params):
            assert REVIEWED[key] == ID, key
    assert {key for key, rule in REVIEWED.items() if rule == ID} == set(OWNERSHIP)


# --- 5: setters -----------------------------------------------------------------------------------

EXPLICIT_SETTERS = {
    "AddressesState.set_dialog_open": "dialog_open",
    "CartState.set_drawer_open": "drawer_open",
    "CheckoutState.set_field": "email, coupon_input and the address fields only",
    "ProductState.set_quantity": "quantity, 1-99",
    "ProductExtrasState.set_review_field": "rating, title, body only",
    "AssistantState.set_draft": "draft",
    "SearchBoxState.set_text": "text (and its suggestions)",
}


def test_state_auto_setters_are_off():
    assert get_state_auto_setters() is False


def test_every_setter_is_written_out_in_the_app_and_reviewed():
    for cls in app_states():
        for name, handler in cls.event_handlers.items():
            if not name.startswith("set_"):
                continue
            assert handler.fn.__module__.startswith("revoque."), (cls.__name__, name)  # not generated
            if not issubclass(cls, AdminPageState):  # admin setters admit first (test_admin_access)
                assert f"{cls.__name__}.{name}" in EXPLICIT_SETTERS, (cls.__name__, name)


def test_setvar_reaches_only_the_written_setters():
    """``setvar(name, value)`` calls ``set_<name>``: for no var of any state may that be anything but
    a reviewed setter (``set_is_hydrated`` is Reflex's own flag)."""
    for cls in app_states():
        for var in [*cls.get_fields(), *(cls._backend_vars or {}), *cls.computed_vars]:
            setter = getattr(cls, f"set_{var}", None)
            if setter is None or var == "is_hydrated":
                continue
            assert f"{cls.__name__}.set_{var}" in EXPLICIT_SETTERS or issubclass(cls, AdminPageState), (cls, var)


@pytest.mark.parametrize(
    ("state_cls", "var", "value"),
    [
        (SessionState, "token", "stolen"),
        (SessionState, "_user_id", 1),
        (SessionState, "_role", "admin"),
        (AdminFrameState, "access", "granted"),
        (CheckoutState, "_user_id", 1),
        (CheckoutState, "_cart_id", 1),
        (CheckoutState, "step", 4),
        (ProductExtrasState, "product_id", 1),
        (OrderPageState, "_order_id", 1),
        (CartState, "cart_token", "someone-elses"),
    ],
)
def test_setvar_cannot_set_what_has_no_setter(state_cls, var, value):
    tab = Tab()
    before = getattr(tab.state(state_cls), var)
    with pytest.raises(AttributeError):
        tab.run(state_cls, "setvar", var, value)
    assert getattr(tab.state(state_cls), var) == before


def test_field_setters_ignore_fields_outside_their_list():
    tab = Tab()
    for field, value in [("_user_id", 7), ("_cart_id", 7), ("step", 4), ("coupon_code", "FREE100"), ("errors", {})]:
        tab.run(CheckoutState, "set_field", field, value)
    checkout = tab.state(CheckoutState)
    assert (checkout._user_id, checkout._cart_id, checkout.step, checkout.coupon_code) == (None, None, 1, "")
    tab.run(ProductExtrasState, "set_review_field", "product_id", "42")
    assert tab.state(ProductExtrasState).product_id == 0
    for junk in ["0", "100", "-1", "²", "abc", "1.5"]:
        tab.run(ProductState, "set_quantity", junk)
    assert tab.state(ProductState).quantity == 1


@pytest.mark.parametrize(
    "target", ["https://evil.test", "//evil.test", "/\\evil.test", "/\t/evil.test", "/\n/evil.test", "\\\\evil.test"]
)
def test_sign_in_never_redirects_off_the_site(target):
    assert safe_next_path(target) == "/account"
    assert safe_next_path("/account/orders?page=2") == "/account/orders?page=2"


# --- 4: ownership ---------------------------------------------------------------------------------


@dataclass
class Shop:
    ada: int  # user ids
    bayo: int
    ada_address: int
    bayo_address: int
    ada_order: str  # order number
    ada_chat_token: str
    variant: int
    draft_variant: int
    product_slug: str
    hidden_method: int


@pytest.fixture
def shop(database, monkeypatch) -> Shop:
    use_settings(monkeypatch, paystack_secret_key="", secret_key="authorization-test-key")
    get_gateway.cache_clear()
    with session_scope(write=True) as session:
        product = add_product(session, "Aso Oke Runner", variants=[({}, 250_000, 30)])
        draft = add_product(session, "Unreleased Throw", status="draft")
        variant, draft_variant = variants_of(session, product)[0].id, variants_of(session, draft)[0].id
        ada = accounts.sign_up(session, "ada@example.com", "ada password 1", "Ada Obi")
        bayo = accounts.sign_up(session, "bayo@example.com", "bayo password 2", "Bayo Ade")
        home = AddressInput(name="Ada Obi", line1="5 Bode Thomas Street", city="Lagos", state="Lagos")
        ada_address = accounts.add_address(session, ada.id, home)
        work = AddressInput(name="Bayo Ade", line1="1 Awolowo Road", city="Ikeja", state="Lagos")
        bayo_address = accounts.add_address(session, bayo.id, work)
        order = add_order(
            session, [(variants_of(session, product)[0], 1)], email=ada.email, status=OrderStatus.DELIVERED
        )
        order.user_id = ada.id
        session.add(order)
        accounts.add_to_wishlist(session, ada.id, product.id)
        chat_token = accounts.new_token()
        conversation = Conversation(token_hash=accounts.hash_token(chat_token), user_id=ada.id)
        session.add(conversation)
        session.flush()
        session.add(ChatMessage(conversation_id=conversation.id, role=ChatRole.USER, text="Where is my Aso Oke?"))
        hidden = ShippingMethod(name="Staff courier", price=0, active=False)
        session.add_all([hidden, ShippingMethod(name="Standard delivery", price=150_000)])
        session.flush()
        shop = Shop(
            ada.id, bayo.id, ada_address.id, bayo_address.id, order.number, chat_token,
            variant, draft_variant, product.slug, hidden.id,
        )  # fmt: skip
    ada_tab = signed_in("ada@example.com", "ada password 1")
    ada_tab.run(CartState, "add", variant, 2)
    yield shop
    get_gateway.cache_clear()


def signed_in(email: str, password: str, ip: str = "10.0.0.9") -> Tab:
    with session_scope(write=True) as session:
        _user, token = accounts.sign_in(session, email, password, ip)
    tab = Tab(ip=ip)
    tab.state(SessionState).token = token
    tab.run(NavState, "load_frame")
    return tab


def bayo() -> Tab:
    return signed_in("bayo@example.com", "bayo password 2", ip="10.0.0.10")


def ada_address(shop: Shop) -> Address:
    with session_scope() as session:
        return session.get(Address, shop.ada_address)


def ada_cart_lines(shop: Shop) -> list[tuple[int, int]]:
    with session_scope() as session:
        cart = find_cart(session, user_id=shop.ada)
        rows = session.exec(select(CartLine).where(CartLine.cart_id == cart.id)).all()
        return [(line.variant_id, line.quantity) for line in rows]


def ada_wishlist(shop: Shop) -> set[int]:
    with session_scope() as session:
        return set(session.exec(select(WishlistItem.product_id).where(WishlistItem.user_id == shop.ada)).all())


def case_delete_address(shop: Shop) -> None:
    tab = bayo().go("/account/addresses")
    tab.run(AddressesState, "delete", shop.ada_address)
    assert ada_address(shop) is not None
    assert any("That address does not exist." in message for message in tab.messages), tab.messages


def case_make_default(shop: Shop) -> None:
    before = ada_address(shop)
    bayo().go("/account/addresses").run(AddressesState, "make_default", shop.ada_address, "billing")
    after = ada_address(shop)
    assert (after.is_default_billing, after.user_id) == (before.is_default_billing, shop.ada)


def case_open_edit(shop: Shop) -> None:
    tab = bayo().go("/account/addresses")
    tab.run(AddressesState, "load")
    tab.run(AddressesState, "open_edit", shop.ada_address)
    state = tab.state(AddressesState)
    assert state._editing_id is None and state.draft["line1"] == ""  # a blank new-address form


def case_save(shop: Shop) -> None:
    """Even with another customer's id as the one being edited (a stale list), the save is refused."""
    tab = bayo().go("/account/addresses")
    tab.state(AddressesState)._editing_id = shop.ada_address
    form = {"name": "Bayo", "line1": "Hijacked 1", "city": "Abuja", "state": "FCT", "country": "NG"}
    tab.run(AddressesState, "save", form)
    assert ada_address(shop).line1 == "5 Bode Thomas Street"
    assert tab.state(AddressesState).error


def case_use_saved_address(shop: Shop) -> None:
    tab = bayo()
    tab.run(CartState, "add", shop.variant)
    tab.go("/checkout").run(CheckoutState, "load")
    tab.run(CheckoutState, "use_saved_address", shop.ada_address)
    assert tab.state(CheckoutState).line1 != "5 Bode Thomas Street"


def case_order_detail(shop: Shop) -> None:
    tab = bayo().go(f"/account/orders/{shop.ada_order}")
    tab.run(OrderDetailState, "load")
    assert tab.state(OrderDetailState).order is None and tab.state(OrderDetailState).not_found


def case_cart_change_quantity(shop: Shop) -> None:
    bayo().run(CartState, "change_quantity", shop.variant, 9)
    assert ada_cart_lines(shop) == [(shop.variant, 2)]


def case_cart_remove(shop: Shop) -> None:
    bayo().run(CartState, "remove", shop.variant)
    assert ada_cart_lines(shop) == [(shop.variant, 2)]


def case_cart_add(shop: Shop) -> None:
    """Variant ids are public; what is not for sale (a draft) cannot be bought."""
    tab = bayo()
    tab.run(CartState, "add", shop.draft_variant)
    assert tab.state(CartState).count == 0 and tab.messages


def case_wishlist_toggle(shop: Shop) -> None:
    with session_scope() as session:
        product_id = session.exec(select(WishlistItem.product_id).where(WishlistItem.user_id == shop.ada)).one()
    tab = bayo()
    tab.run(WishlistState, "toggle", product_id)  # Bayo saves it ...
    tab.run(WishlistState, "toggle", product_id)  # ... and unsaves it: only Bayo's list changes
    assert ada_wishlist(shop) == {product_id}


def case_wishlist_remove(shop: Shop) -> None:
    (product_id,) = ada_wishlist(shop)
    bayo().run(WishlistPageState, "remove", product_id)
    assert ada_wishlist(shop) == {product_id}


def case_submit_review(shop: Shop) -> None:
    """Only customers the product was delivered to may review it: Ada may, Bayo may not."""
    tab = bayo().go(f"/product/{shop.product_slug}")
    tab.run(ProductState, "load")
    for field, value in [("rating", "5"), ("title", "Great"), ("body", "Lovely")]:
        tab.run(ProductExtrasState, "set_review_field", field, value)
    tab.run(ProductExtrasState, "submit_review")
    assert tab.state(ProductExtrasState).review_errors
    tab.run(ProductExtrasState, "set_review_field", "rating", "²")  # junk is a message, not a crash
    tab.run(ProductExtrasState, "submit_review")
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Review)).one() == 0


def case_choose_shipping(shop: Shop) -> None:
    tab = bayo()
    tab.run(CartState, "add", shop.variant)
    tab.go("/checkout").run(CheckoutState, "load")
    for method in [str(shop.hidden_method), "junk", "-1"]:
        tab.run(CheckoutState, "choose_shipping", method)
        assert tab.state(CheckoutState).shipping_method_id == "" and tab.state(CheckoutState).errors
    offered = str(tab.state(CheckoutState).shipping_options[0].id)
    tab.run(CheckoutState, "choose_shipping", offered)
    assert tab.state(CheckoutState).shipping_method_id == offered


def case_assistant_answer(shop: Shop) -> None:
    """A chat token from elsewhere shows nothing; ``answer`` called straight from a browser does nothing."""
    tab = bayo()
    tab.state(AssistantState).token = shop.ada_chat_token
    tab.run(AssistantState, "toggle")
    assert tab.state(AssistantState).items == []
    tab.run(AssistantState, "answer", "Where is my order?")
    assert tab.state(AssistantState).items == []
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(ChatMessage)).one() == 1  # only Ada's


OWNERSHIP: dict[str, Callable[[Shop], None]] = {
    "AddressesState.delete": case_delete_address,
    "AddressesState.make_default": case_make_default,
    "AddressesState.open_edit": case_open_edit,
    "AddressesState.save": case_save,
    "CheckoutState.use_saved_address": case_use_saved_address,
    "CheckoutState.choose_shipping": case_choose_shipping,
    "OrderDetailState.load": case_order_detail,
    "CartState.add": case_cart_add,
    "CartState.change_quantity": case_cart_change_quantity,
    "CartState.remove": case_cart_remove,
    "WishlistState.toggle": case_wishlist_toggle,
    "WishlistPageState.remove": case_wishlist_remove,
    "ProductExtrasState.submit_review": case_submit_review,
    "AssistantState.answer": case_assistant_answer,
}


@pytest.mark.parametrize("handler", sorted(OWNERSHIP))
def test_another_customers_id_shows_and_changes_nothing(shop, handler):
    OWNERSHIP[handler](shop)


def test_the_owner_still_can(shop):
    """The same calls work for the customer they belong to (so the refusals above are real)."""
    tab = signed_in("ada@example.com", "ada password 1")
    tab.go(f"/account/orders/{shop.ada_order}").run(OrderDetailState, "load")
    assert tab.state(OrderDetailState).order.number == shop.ada_order
    tab.go("/account/addresses").run(AddressesState, "make_default", shop.ada_address, "billing")
    assert ada_address(shop).is_default_billing
    tab.run(CartState, "change_quantity", shop.variant, 3)
    assert ada_cart_lines(shop) == [(shop.variant, 3)]
    tab.state(AssistantState).token = shop.ada_chat_token
    tab.run(AssistantState, "toggle")
    assert [item.text for item in tab.state(AssistantState).items] == ["Where is my Aso Oke?"]


def test_capabilities_are_unguessable_and_unknown_ones_show_nothing(shop):
    """Payment references lead to an order's signed link, so they carry 64 random bits; an unknown
    reference, a wrong order key or a made-up reset token gets "not found" and nothing else."""
    with session_scope(write=True) as session:
        variant = session.get(Variant, shop.variant)
        order = add_order(session, [(variant, 1)], email="ada@example.com", payment_method=PaymentMethod.CARD)
        order.payment_status = PaymentStatus.UNPAID
        order_id, number = order.id, order.number
    url = payments.begin_card_payment(order_id)
    reference = url.rsplit("/", 1)[-1]
    assert re.fullmatch(rf"{re.escape(number)}-1-[0-9a-f]{{16}}", reference)

    tab = bayo()
    tab.go(f"/pay/sandbox/{number}-1-000000").run(SandboxPaymentState, "load")
    assert not tab.state(SandboxPaymentState).payable and tab.state(SandboxPaymentState).error
    tab.run(SandboxPaymentState, "decide", "approve")
    assert tab.state(SandboxPaymentState).error and not tab.redirects
    tab.go(f"/checkout/return?reference={number}-1-000000").run(CheckoutReturnState, "finish")
    assert tab.state(CheckoutReturnState).not_found and tab.state(CheckoutReturnState).order_link == ""
    tab.go(f"/order/{number}?key=0000").run(OrderPageState, "load")
    assert tab.state(OrderPageState).not_found and tab.state(OrderPageState).order is None
    tab.run(OrderPageState, "pay_again")
    assert not tab.redirects


# --- 6: HTTP routes -------------------------------------------------------------------------------

ROUTES = {
    "/api/health": "public status; names failures by kind, never a URL, password or key",
    "/api/webhooks/paystack": "signature (HMAC of the body with the gateway secret) before anything is read",
    "/media/{key:path}": "public images bucket only; keys validated (no traversal, no private buckets)",
    "/files/{bucket}/{key:path}": "private buckets; a valid, unexpired signature per file (test_storage.py)",
}
REFLEX_ROUTES = {
    "/ping": "liveness text",
    "/_health": "Reflex's own health: database/Redis up or down, no details",
    "/_event": "the websocket: every event goes through the handlers reviewed above",
    "/_upload": "POST runs an upload handler (admin ones admit first); GET serves Reflex's upload "
    "folder, which this store never writes to",
}


def test_every_route_is_reviewed():
    assert {route.path for route in build_api().routes} == set(ROUTES)
    app_routes = revoque.revoque.app._api.routes
    reflex_paths = {getattr(route, "path", "") for route in app_routes} | {str(constants.Endpoint.UPLOAD)}
    assert reflex_paths <= {*REFLEX_ROUTES, ""}, reflex_paths - set(REFLEX_ROUTES)


def test_the_store_never_writes_to_reflexs_public_upload_folder():
    package = Path(revoque.__file__).parent
    assert [path.name for path in package.rglob("*.py") if "get_upload_dir" in path.read_text()] == []


def test_each_route_keeps_its_rule(database, monkeypatch):
    secret = "route-test-secret-key-5d1c"
    redis_password = "redis-pass-77ab"
    use_settings(monkeypatch, secret_key=secret, redis_url=f"redis://:{redis_password}@127.0.0.1:1/0")
    storage = get_storage()
    storage.put("inv/1.pdf", b"%PDF private", "application/pdf", bucket="invoices")
    storage.put("products/x.jpg", b"\xff\xd8 public", "image/jpeg")
    with TestClient(build_api()) as client:
        health = client.get("/api/health")
        assert secret not in health.text and redis_password not in health.text
        assert client.post("/api/webhooks/paystack", content=b'{"event":"charge.success","data":{}}').status_code == 401
        assert client.get("/media/products/x.jpg").content == b"\xff\xd8 public"
        for path in ["/media/../invoices/inv/1.pdf", "/media/invoices/inv/1.pdf", "/media/%2e%2e/invoices/inv/1.pdf"]:
            assert client.get(path).status_code == 404, path
        assert client.get("/files/invoices/inv/1.pdf").status_code == 403
        signed = storage.signed_url("inv/1.pdf", "invoices")
        assert client.get(signed).content == b"%PDF private"
        assert client.get(signed.replace("inv/1.pdf", "inv/2.pdf")).status_code == 403
