"""Property-based (hypothesis) checks of what checkout writes, on SQLite and PostgreSQL: for any
cart (prices, quantities), tax setting (rate, prices with or without tax), delivery price and coupon
(percent or fixed, any value), the placed order's lines sum to its subtotal, the discount never
exceeds the subtotal, nothing is negative, the total is the sum of its parts, and it is what the
checkout summary quoted."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from revoque.db import session_scope
from revoque.models import Cart, CartLine, CouponKind, OrderLine, ShippingMethod
from revoque.services import carts, checkout, pricing
from revoque.services.accounts import AddressInput
from revoque.services.checkout import CheckoutDetails
from tests.factories import add_coupon, add_product, variants_of

ADDRESS = AddressInput(name="Ada Obi", phone="0803 123 4567", line1="12 Admiralty Way", city="Lekki", state="Lagos")
NUMBERS = itertools.count(1)
LINES = st.lists(
    st.tuples(st.integers(min_value=0, max_value=50_000_000), st.integers(min_value=1, max_value=20)),
    min_size=1,
    max_size=4,
)
COUPONS = st.one_of(
    st.none(),
    st.tuples(st.just(CouponKind.PERCENT), st.integers(min_value=1, max_value=10_000)),
    st.tuples(st.just(CouponKind.FIXED), st.integers(min_value=1, max_value=100_000_000)),
)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=LINES,
    rate=st.integers(min_value=0, max_value=10_000),
    inclusive=st.booleans(),
    delivery=st.integers(min_value=0, max_value=5_000_000),
    coupon=COUPONS,
)
def test_a_placed_orders_money_adds_up(database, lines, rate, inclusive, delivery, coupon):
    n = next(NUMBERS)
    with session_scope(write=True) as session:
        config = pricing.get_store_config(session)
        config.tax_rate_bp, config.prices_include_tax = rate, inclusive
        session.add(config)
        method = ShippingMethod(name=f"Courier {n}", price=delivery)
        session.add(method)
        cart = carts.open_cart(session, token=carts.new_token())
        for index, (price, quantity) in enumerate(lines):
            product = add_product(session, f"Item {n} {index}", variants=[({}, price, 50)])
            session.add(CartLine(cart_id=cart.id, variant_id=variants_of(session, product)[0].id, quantity=quantity))
        code = ""
        if coupon is not None:
            code = f"PROP{n}"
            add_coupon(session, code, kind=coupon[0], value=coupon[1])
        session.flush()
        cart_id, method_id = cart.id, method.id

    with session_scope() as session:
        cart = session.get(Cart, cart_id)
        quote = checkout.quote(session, cart, email="ada@example.com", shipping_method_id=method_id, coupon_code=code)
    details = CheckoutDetails(
        email="ada@example.com",
        address=ADDRESS,
        shipping_method_id=method_id,
        payment_method="pay_on_delivery",
        coupon_code=code,
    )
    order = checkout.place_order(cart_id, details)

    with session_scope() as session:
        order_lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    subtotal = sum(price * quantity for price, quantity in lines)
    assert sorted((line.unit_price, line.quantity) for line in order_lines) == sorted(lines)
    assert all(line.line_total == line.unit_price * line.quantity for line in order_lines)
    assert order.subtotal == sum(line.line_total for line in order_lines) == subtotal
    assert 0 <= order.discount <= order.subtotal
    assert min(order.tax, order.shipping, order.total) >= 0 and order.shipping == delivery
    added_tax = 0 if inclusive else order.tax
    assert order.total == order.subtotal - order.discount + added_tax + order.shipping
    assert order.tax == pricing.compute_totals(subtotal, order.discount, delivery, rate, inclusive).tax
    assert (quote.totals.total, quote.totals.discount, quote.totals.tax) == (order.total, order.discount, order.tax)
