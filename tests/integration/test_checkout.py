"""Checkout on a real database (SQLite and PostgreSQL): no oversell, one order per cart, holds expire."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import func, select

from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import Cart, CartLine, Order, OrderEvent, OrderLine, OutboxEmail, Reservation, Variant
from revoque.models.base import utcnow
from revoque.services import carts, checkout, inventory, pricing, shipping
from revoque.services.accounts import AddressInput
from revoque.services.carts import StockError
from revoque.services.checkout import CheckoutDetails
from tests.factories import add_coupon, add_product, variants_of

ADDRESS = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")


@pytest.fixture
def last_units(database):
    """A variant with exactly 5 left, delivery methods and the store's settings."""
    with session_scope() as session:
        product = add_product(session, "Limited Tote", variants=[({}, 1_000_000, 5)])
        shipping.ensure_default_methods(session)
        pricing.get_store_config(session)
        variant_id = variants_of(session, product)[0].id
    return variant_id


def new_cart(variant_id: int, quantity: int = 1) -> int:
    """A guest cart holding ``quantity`` of the variant, added directly (as if added before stock ran low)."""
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        session.add(CartLine(cart_id=cart.id, variant_id=variant_id, quantity=quantity))
        return cart.id


def details(email: str = "ada@example.com", coupon: str = "") -> CheckoutDetails:
    with session_scope() as session:
        method_id = shipping.list_active_methods(session)[0].id
    return CheckoutDetails(
        email=email, address=ADDRESS, shipping_method_id=method_id, payment_method="pay_on_delivery", coupon_code=coupon
    )


def stock_of(variant_id: int) -> int:
    with session_scope() as session:
        return session.get(Variant, variant_id).stock_on_hand


def count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_fifty_buyers_for_the_last_five_units_make_exactly_five_orders(last_units):
    cart_ids = [new_cart(last_units) for _ in range(50)]
    order_details = details()

    def buy(cart_id: int) -> str:
        try:
            return checkout.place_order(cart_id, order_details).number
        except StockError:
            return "sold out"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(buy, cart_ids))
    assert len([o for o in outcomes if o != "sold out"]) == 5
    assert outcomes.count("sold out") == 45
    assert stock_of(last_units) == 0
    assert count(Order) == 5


def test_one_cart_placed_many_times_at_once_makes_one_order(last_units):
    cart_id = new_cart(last_units, quantity=2)
    order_details = details()
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda _: checkout.place_order(cart_id, order_details).number, range(8)))
    assert len(set(numbers)) == 1
    assert count(Order) == 1
    assert stock_of(last_units) == 3


def test_placing_an_order_snapshots_lines_takes_stock_and_emails(last_units):
    cart_id = new_cart(last_units, quantity=2)
    checkout.start_checkout(cart_id)
    order = checkout.place_order(cart_id, details())
    with session_scope() as session:
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert [(line.product_title, line.quantity, line.line_total) for line in lines] == [
            ("Limited Tote", 2, 2_000_000)
        ]
        assert session.get(Cart, cart_id).status == "converted"
        assert session.exec(select(Reservation).where(Reservation.cart_id == cart_id)).all() == []
        events = session.exec(select(OrderEvent).where(OrderEvent.order_id == order.id)).all()
        assert [(e.kind, e.to_status, e.actor) for e in events] == [("status", "pending", "customer")]
        email = session.exec(select(OutboxEmail).where(OutboxEmail.to == "ada@example.com")).one()
        assert order.number in email.subject and checkout.order_url(order.number) in email.body_text
    assert order.number.startswith("RVQ-")
    assert order.subtotal == 2_000_000 and order.shipping == 250_000
    assert order.total == order.subtotal + order.shipping  # prices include VAT by default
    assert order.shipping_address["city"] == "Lekki"
    assert stock_of(last_units) == 3


def test_a_coupon_discounts_the_order_and_counts_as_used(last_units):
    with session_scope() as session:
        add_coupon(session, "TENOFF", value=1000, usage_limit=1)
    first = checkout.place_order(new_cart(last_units), details(coupon="tenoff"))
    assert first.discount == 100_000 and first.coupon_code == "TENOFF"
    with pytest.raises(pricing.CouponError, match="usage limit"):
        checkout.place_order(new_cart(last_units), details(email="bola@example.com", coupon="TENOFF"))


def test_bad_details_are_refused_with_clear_messages(last_units):
    cart_id = new_cart(last_units)
    with pytest.raises(RevoqueError, match="valid email"):
        checkout.place_order(cart_id, details(email="not-an-email"))
    bad = details()
    bad.address = AddressInput(name="Ada", line1="", city="")
    with pytest.raises(RevoqueError, match="required"):
        checkout.place_order(cart_id, bad)
    bad = details()
    bad.payment_method = "bitcoin"
    with pytest.raises(RevoqueError, match="payment method"):
        checkout.place_order(cart_id, bad)
    assert count(Order) == 0 and stock_of(last_units) == 5


def test_a_reservation_holds_stock_until_it_expires(last_units):
    holder = new_cart(last_units, quantity=5)
    other = new_cart(last_units)
    started = utcnow()
    assert checkout.start_checkout(holder, now=started) == {}
    with session_scope() as session:
        variant = session.get(Variant, last_units)
        assert inventory.availability(session, [variant], other, now=started)[last_units] == 0
        assert inventory.availability(session, [variant], holder, now=started)[last_units] == 5
        later = started + timedelta(minutes=16)
        assert inventory.availability(session, [variant], other, now=later)[last_units] == 5
    with pytest.raises(StockError, match="out of stock"):
        checkout.place_order(other, details())
    with session_scope(write=True) as session:
        assert inventory.release_expired(session, now=started + timedelta(minutes=16)) == 1
    assert checkout.place_order(other, details()).number


def test_checkout_reports_what_it_could_not_hold(last_units):
    holder = new_cart(last_units, quantity=4)
    greedy = new_cart(last_units, quantity=3)
    assert checkout.start_checkout(holder) == {}
    assert checkout.start_checkout(greedy) == {last_units: 2}


def test_guest_cart_merges_into_the_customers_cart_capped_by_stock(last_units):
    from revoque.models import User

    with session_scope(write=True) as session:
        user = User(email="ada@example.com", password_hash="x")
        session.add(user)
        session.flush()
        mine = carts.open_cart(session, token=carts.new_token(), user_id=user.id)
        session.add(CartLine(cart_id=mine.id, variant_id=last_units, quantity=3))
        guest_token = carts.new_token()
        guest = carts.open_cart(session, token=guest_token)
        session.add(CartLine(cart_id=guest.id, variant_id=last_units, quantity=4))
        user_id = user.id
    with session_scope(write=True) as session:
        merged = carts.merge_guest_cart(session, guest_token, user_id)
        view = carts.view_cart(session, merged)
    assert view.count == 5  # 3 + 4, capped by the 5 in stock
    with session_scope() as session:
        assert session.exec(select(Cart).where(Cart.status == "merged")).one()


def test_adding_more_than_is_available_is_refused(last_units):
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token())
        carts.add_item(session, cart, last_units, 4)
        with pytest.raises(StockError, match="Only 5 of Limited Tote left"):
            carts.add_item(session, cart, last_units, 2)
        with pytest.raises(RevoqueError, match="between 1 and 99"):
            carts.add_item(session, cart, last_units, 0)


def test_a_customers_first_order_saves_the_address_as_default(last_units):
    from revoque.models import User
    from revoque.services import accounts

    with session_scope(write=True) as session:
        user = User(email="ada@example.com", password_hash="x")
        session.add(user)
        session.flush()
        user_id = user.id
    first, second = details(), details()
    first.user_id = second.user_id = user_id
    checkout.place_order(new_cart(last_units), first)
    second.address = AddressInput(name="Ada Obi", phone="08031234567", line1="5 Other St", city="Ikeja", state="Lagos")
    checkout.place_order(new_cart(last_units), second)
    with session_scope() as session:
        saved = accounts.list_addresses(session, user_id)
    assert [(a.line1, a.is_default_shipping) for a in saved] == [("12 Admiralty Way", True)]


def test_a_cart_holds_a_bounded_number_of_different_items(database):
    with session_scope(write=True) as session:
        product = add_product(
            session, "Bead Bracelet", variants=[({"Colour": f"Shade {i}"}, 150_000, 5) for i in range(41)]
        )
        variant_ids = [variant.id for variant in variants_of(session, product)]
        cart = carts.open_cart(session, token=carts.new_token())
        for variant_id in variant_ids[: carts.MAX_CART_LINES]:
            carts.add_item(session, cart, variant_id)
        carts.add_item(session, cart, variant_ids[0])  # more of an item already in the cart is fine
        with pytest.raises(RevoqueError, match="up to 40 different items"):
            carts.add_item(session, cart, variant_ids[-1])
        assert carts.view_cart(session, cart).count == carts.MAX_CART_LINES + 1
