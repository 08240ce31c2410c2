"""What the browser receives never holds a secret or another person's data.

Two shoppers (and a member of staff) use real pages through real handlers on one simulated tab each
way a shared computer is used: one signs in, opens every account page, checkout, an order and the
chat; signs out; the next one signs in. After every step the whole client state (what a hydrate
sends: every state's vars, computed ones included) is scanned for password hashes, session, reset
and chat token values and hashes, SECRET_KEY, the Paystack secret key, and the other person's
email, name, phone, address, order number and chat messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlmodel import select

import revoque.revoque  # noqa: F401  (registers every page: the scan covers every state)
from revoque.db import session_scope
from revoque.models import ChatMessage, ChatRole, Conversation, OrderStatus, OutboxEmail, User
from revoque.pages.account.addresses import AddressesState
from revoque.pages.account.orders import OrderDetailState, OrdersState
from revoque.pages.account.profile import ProfileState
from revoque.pages.account.sign_in import SignInState
from revoque.pages.account.wishlist import WishlistPageState
from revoque.pages.admin.orders import AdminOrdersState
from revoque.pages.checkout import CheckoutState
from revoque.pages.order import OrderPageState
from revoque.services import accounts
from revoque.services.accounts import AddressInput
from revoque.state.assistant import AssistantState
from revoque.state.cart import CartState
from revoque.state.nav import NavState
from revoque.state.session import SessionState
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.tab import Tab

SECRET_KEY = "sk-store-signing-3f9a1c7e5b2d4a6c"
PAYSTACK_SECRET = "sk_test_paystack_9c1e4b7a2d5f8e3b"


@dataclass
class Person:
    email: str
    password: str
    name: str
    phone: str
    street: str
    chat_text: str = ""
    chat_token: str = ""
    order_number: str = ""
    password_hash: str = ""
    reset_token: str = ""
    user_id: int = 0


ADA = Person("ada.nwosu@example.com", "correct horse 1", "Ada Nwosu", "+234 803 555 0101", "14 Kofoworola Crescent")
BAYO = Person("bayo.adeyemi@example.com", "battery staple 2", "Bayo Adeyemi", "+234 805 555 0202", "3 Opebi Link")


def _create(session, person: Person, variant) -> Person:
    user = accounts.sign_up(session, person.email, person.password, person.name)
    accounts.update_profile(session, user.id, name=person.name, phone=person.phone)
    accounts.add_address(
        session,
        user.id,
        AddressInput(name=person.name, phone=person.phone, line1=person.street, city="Lagos", state="Lagos"),
    )
    order = add_order(session, [(variant, 1)], email=person.email, status=OrderStatus.DELIVERED)
    order.user_id = user.id
    session.add(order)
    accounts.add_to_wishlist(session, user.id, variant.product_id)
    chat_token = accounts.new_token()
    conversation = Conversation(token_hash=accounts.hash_token(chat_token), user_id=user.id)
    session.add(conversation)
    session.flush()
    text = f"Is order {order.number} going to {person.street} yet?"
    session.add(ChatMessage(conversation_id=conversation.id, role=ChatRole.USER, text=text))
    accounts.request_password_reset(session, person.email)
    session.flush()
    body = session.exec(select(OutboxEmail.body_text).where(OutboxEmail.to == person.email)).all()[-1]
    return Person(
        **{
            **person.__dict__,
            "user_id": user.id,
            "order_number": order.number,
            "password_hash": user.password_hash,
            "chat_token": chat_token,
            "chat_text": text,
            "reset_token": re.search(r"token=([\w-]+)", body).group(1),
        }
    )


@pytest.fixture
def people(database, monkeypatch):
    use_settings(monkeypatch, secret_key=SECRET_KEY, paystack_secret_key=PAYSTACK_SECRET)
    with session_scope(write=True) as session:
        product = add_product(session, "Adire Silk Scarf", variants=[({}, 1_500_000, 20)])
        variant = variants_of(session, product)[0]
        ada, bayo = _create(session, ADA, variant), _create(session, BAYO, variant)
        accounts.create_admin(session, "owner@revoque.ng", "owner password 3")
    return ada, bayo, variant.id


def sign_in(tab: Tab, person_email: str, password: str) -> str:
    tab.go("/sign-in?next=/account")
    tab.run(SignInState, "submit", {"email": person_email, "password": password})
    token = tab.state(SessionState).token
    assert token and tab.state(SessionState).signed_in, tab.state(SignInState).error
    return token


def use_every_page(tab: Tab, person: Person, variant_id: int) -> None:
    """Everything a customer can open, each page's on_load run as the browser would."""
    pages = [
        ("/", NavState, "load_frame"),
        ("/account", ProfileState, "load"),
        ("/account/addresses", AddressesState, "load"),
        ("/account/orders", OrdersState, "load"),
        (f"/account/orders/{person.order_number}", OrderDetailState, "load"),
        (f"/order/{person.order_number}", OrderPageState, "load"),
        ("/account/wishlist", WishlistPageState, "load"),
    ]
    for path, state, handler in pages:
        tab.go(path).run(state, handler)
    tab.run(CartState, "add", variant_id)
    tab.go("/checkout").run(CheckoutState, "load")
    tab.state(AssistantState).token = person.chat_token
    tab.run(AssistantState, "toggle")


def secrets_of(person: Person, session_token: str = "") -> dict[str, str]:
    found = {
        "password hash": person.password_hash,
        "reset token": person.reset_token,
        "reset token hash": accounts.hash_token(person.reset_token),
        "chat token hash": accounts.hash_token(person.chat_token),
    }
    if session_token:
        found["session token hash"] = accounts.hash_token(session_token)
    return found


def personal_data_of(person: Person, session_token: str) -> dict[str, str]:
    return {
        "email": person.email,
        "name": person.name.split()[-1],
        "phone": person.phone,
        "street": person.street,
        "order number": person.order_number,
        "chat message": person.chat_text,
        "chat token": person.chat_token,
        "session token": session_token,
    }


def leaks(client_json: str, values: dict[str, str]) -> list[str]:
    return sorted(label for label, value in values.items() if value and value in client_json)


STORE_SECRETS = {"SECRET_KEY": SECRET_KEY, "Paystack secret key": PAYSTACK_SECRET}


def test_a_customers_own_pages_show_their_data_and_no_secret(people):
    ada, bayo, variant_id = people
    tab = Tab()
    token = sign_in(tab, ada.email, ada.password)
    use_every_page(tab, ada, variant_id)
    seen = tab.client_json()

    # the scan sees what the pages show (so an empty state cannot pass it) ...
    assert leaks(seen, personal_data_of(ada, token)) == sorted(personal_data_of(ada, token))
    assert tab.state(OrderPageState).order is not None and tab.state(AssistantState).items
    # ... and never a secret, nor anything of the other customer
    assert leaks(seen, {**secrets_of(ada, token), **secrets_of(bayo), **STORE_SECRETS}) == []
    assert leaks(seen, personal_data_of(bayo, "")) == []


def test_the_next_person_on_the_same_tab_sees_nothing_of_the_last(people):
    ada, bayo, variant_id = people
    tab = Tab()
    ada_token = sign_in(tab, ada.email, ada.password)
    use_every_page(tab, ada, variant_id)
    tab.go("/account").run(SessionState, "sign_out")
    assert tab.redirects[-1] == "/"

    after_sign_out = tab.client_json()
    assert leaks(after_sign_out, personal_data_of(ada, ada_token)) == []

    bayo_token = sign_in(tab, bayo.email, bayo.password)
    tab.go("/").run(NavState, "load_frame")
    tab.go("/account").run(ProfileState, "load")
    seen = tab.client_json()
    assert bayo.email in seen
    assert leaks(seen, personal_data_of(ada, ada_token)) == []
    assert leaks(seen, {**secrets_of(ada, ada_token), **secrets_of(bayo, bayo_token), **STORE_SECRETS}) == []


def test_a_customer_signing_in_after_staff_sees_no_admin_data(people):
    ada, bayo, _variant_id = people
    tab = Tab()
    sign_in(tab, "owner@revoque.ng", "owner password 3")
    tab.go("/admin/orders").run(AdminOrdersState, "load")
    assert ada.email in tab.client_json()  # the orders list shows customers' emails to staff

    tab.go("/admin/orders").run(SessionState, "sign_out")
    sign_in(tab, bayo.email, bayo.password)
    tab.go("/").run(NavState, "load_frame")
    assert leaks(tab.client_json(), personal_data_of(ada, "")) == []


def test_another_customers_order_link_without_its_key_shows_nothing(people):
    ada, bayo, _variant_id = people
    tab = Tab(ip="10.0.0.2")
    sign_in(tab, bayo.email, bayo.password)
    for path, state in [
        (f"/order/{ada.order_number}", OrderPageState),
        (f"/account/orders/{ada.order_number}", OrderDetailState),
    ]:
        tab.go(path).run(state, "load")
        assert tab.state(state).order is None and tab.state(state).not_found, path
    assert leaks(tab.client_json(), personal_data_of(ada, "")) == ["order number"]  # only the URL bar's own text
    guest = Tab(ip="10.0.0.3")
    guest.go(f"/order/{ada.order_number}?key=not-the-key").run(OrderPageState, "load")
    assert guest.state(OrderPageState).not_found


def test_backend_only_vars_hold_the_identity_and_are_never_sent(people):
    ada, _bayo, _variant_id = people
    tab = Tab()
    sign_in(tab, ada.email, ada.password)
    session_state = tab.state(SessionState)
    assert session_state._user_id == ada.user_id and session_state._role == "customer"
    sent = tab.client_state()[SessionState.get_full_name()]
    assert not {"_user_id", "_role"} & {name.split("_rx_state_")[0] for name in sent}
    with session_scope() as session:
        assert session.get(User, ada.user_id).password_hash not in tab.client_json()
