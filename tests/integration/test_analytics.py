"""Funnel events from the real shopper actions: a product view, add to cart, checkout start and the
order, all lined up under one visitor; refused actions count nothing; and a failure to record never
stops the shopper."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

import revoque.pages  # noqa: F401  (registers every state, as the app does)
from revoque.db import session_scope
from revoque.models import CartLine, StoreEvent, StoreEventKind, Variant
from revoque.services import analytics, carts, checkout, pricing, shipping
from revoque.services.accounts import AddressInput
from revoque.services.carts import StockError
from revoque.services.checkout import CheckoutDetails
from revoque.state.analytics import AnalyticsState
from revoque.state.cart import CartState
from revoque.state.session import SessionState
from tests.conftest import use_settings
from tests.factories import add_product, variants_of
from tests.support.admin import add_user, page_state

ADDRESS = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")


@pytest.fixture
def shop(database) -> tuple[int, int]:
    """(product id, variant id) of a product with 3 in stock, with delivery methods and settings."""
    with session_scope(write=True) as session:
        product = add_product(session, "Adire Shirt", variants=[({}, 1_500_000, 3)])
        shipping.ensure_default_methods(session)
        pricing.get_store_config(session)
        return product.id, variants_of(session, product)[0].id


def events() -> list[tuple[str, int | None, str]]:
    with session_scope() as session:
        rows = session.exec(select(StoreEvent).order_by(StoreEvent.id)).all()
    return [(e.kind, e.product_id, e.visitor) for e in rows]


def add(token: str, variant_id: int, quantity: int = 1) -> int:
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=token)
        carts.add_item(session, cart, variant_id, quantity)
        return cart.id


def details() -> CheckoutDetails:
    with session_scope() as session:
        method_id = shipping.list_active_methods(session)[0].id
    return CheckoutDetails(
        email="ada@example.com", address=ADDRESS, shipping_method_id=method_id, payment_method="pay_on_delivery"
    )


def test_a_guest_journey_records_each_step_under_one_visitor(shop):
    product_id, variant_id = shop
    token = carts.new_token()
    cart_id = add(token, variant_id)
    assert checkout.start_checkout(cart_id) == {}
    checkout.place_order(cart_id, details())
    visitor = carts.hash_token(token)
    assert events() == [
        (StoreEventKind.ADD_TO_CART, product_id, visitor),
        (StoreEventKind.CHECKOUT_STARTED, None, visitor),
        (StoreEventKind.ORDER_PLACED, None, visitor),
    ]


def test_a_signed_in_customer_is_counted_by_account(shop):
    _, variant_id = shop
    with session_scope(write=True) as session:
        user = add_user(session, "ada@example.com")
        cart = carts.open_cart(session, token=carts.new_token(), user_id=user.id)
        carts.add_item(session, cart, variant_id)
    with session_scope() as session:
        [event] = session.exec(select(StoreEvent)).all()
    assert (event.visitor, event.user_id) == (f"user:{user.id}", user.id)


def test_refused_steps_count_nothing(shop):
    _, variant_id = shop
    with pytest.raises(StockError):
        add(carts.new_token(), variant_id, quantity=4)  # only 3 in stock
    cart_id = add(carts.new_token(), variant_id, quantity=3)
    with session_scope(write=True) as session:  # one sold elsewhere meanwhile
        variant = session.get(Variant, variant_id)
        variant.stock_on_hand = 2
        session.add(variant)
    assert checkout.start_checkout(cart_id) != {}
    assert [kind for kind, _, _ in events()] == [StoreEventKind.ADD_TO_CART]


def test_a_failure_to_record_never_stops_the_shopper(shop, monkeypatch):
    _, variant_id = shop

    def broken_event(kind, product_id, user_id, visitor):  # a row the database refuses (no such product)
        return StoreEvent(kind=str(kind), product_id=10**9, user_id=user_id, visitor=visitor)

    monkeypatch.setattr(analytics, "_event", broken_event)
    token = carts.new_token()
    cart_id = add(token, variant_id, quantity=2)
    assert checkout.start_checkout(cart_id) == {}
    order = checkout.place_order(cart_id, details())
    with session_scope() as session:
        assert session.exec(select(CartLine).where(CartLine.cart_id == cart_id)).one().quantity == 2
    assert order.number.startswith("RVQ-")
    assert events() == []


def test_recording_a_view_with_the_database_down_is_logged_not_raised(database, monkeypatch, caplog):
    use_settings(monkeypatch, database_url="postgresql://nobody@127.0.0.1:1/nowhere")
    assert analytics.record_event_now(StoreEventKind.PRODUCT_VIEW, product_id=1, visitor="x") is False
    assert "could not record the product_view event" in caplog.text


def test_the_product_page_view_gives_a_guest_a_visitor_key_that_matches_their_later_cart(shop):
    product_id, variant_id = shop
    state = page_state(AnalyticsState, "")
    asyncio.run(state._count_view(product_id))
    cart_state = state.parent_state.get_substate(CartState.get_full_name().split(".")[1:])
    assert cart_state.cart_token != ""  # the browser now has its cart token
    add(cart_state.cart_token, variant_id)
    [(view, viewed, viewer), (added, _, adder)] = events()
    assert (view, viewed, added) == (StoreEventKind.PRODUCT_VIEW, product_id, StoreEventKind.ADD_TO_CART)
    assert viewer == adder == carts.hash_token(cart_state.cart_token)


def test_a_signed_in_view_is_counted_by_account_and_junk_is_ignored(shop):
    product_id, _ = shop
    state = page_state(AnalyticsState, "")
    with session_scope(write=True) as session:
        user = add_user(session, "bola@example.com")
    state.parent_state.get_substate(SessionState.get_full_name().split(".")[1:])._user_id = user.id
    asyncio.run(state._count_view(product_id))
    asyncio.run(state._count_view("not a number"))
    asyncio.run(state._count_view(10**9))  # no such product: refused by the database, ignored
    assert events() == [(StoreEventKind.PRODUCT_VIEW, product_id, f"user:{user.id}")]
