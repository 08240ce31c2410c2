"""Coupons, store config, shipping methods and the order lifecycle on SQLite and on PostgreSQL."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import (
    Coupon,
    CouponKind,
    CouponRedemption,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    ShippingMethod,
    StoreConfig,
    Variant,
)
from revoque.services import orders, pricing, shipping
from revoque.services.demo_commerce import ensure_demo_coupons
from revoque.services.orders import TransitionError
from revoque.services.pricing import CouponError
from tests.factories import add_coupon, add_order, add_product, variants_of

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STAFF = "staff@revoque.ng"


@pytest.fixture
def variant_id(database) -> int:
    """One ₦10,000 variant with 10 in stock."""
    with session_scope() as session:
        return variants_of(session, add_product(session, "Adire Scarf", variants=[({}, 1_000_000, 10)]))[0].id


def stock(variant_id: int) -> int:
    with session_scope() as session:
        return session.get(Variant, variant_id).stock_on_hand


def order_with(variant_id: int, quantity: int = 3, **fields) -> int:
    with session_scope() as session:
        return add_order(session, [(session.get(Variant, variant_id), quantity)], **fields).id


def evaluate(code: str, subtotal: int = 5_000_000, email: str = "ada@example.com") -> pricing.AppliedCoupon:
    with session_scope() as session:
        return pricing.evaluate_coupon(session, code, subtotal, email, "NGN", now=NOW)


def redeem(code: str, variant_id: int, email: str) -> None:
    with session_scope() as session:
        coupon = session.exec(select(Coupon).where(Coupon.code == code)).one()
        order = add_order(session, [(session.get(Variant, variant_id), 1)], email=email)
        pricing.redeem_coupon(session, coupon.id, order.id, email)


def refusal(code: str, **kwargs) -> str:
    with pytest.raises(CouponError) as refused:
        evaluate(code, **kwargs)
    return str(refused.value)


# --- coupons ---------------------------------------------------------------------------------------


def test_codes_are_trimmed_and_case_insensitive_and_unknown_ones_named(database):
    with session_scope() as session:
        add_coupon(session, "WELCOME10", value=1000)
    applied = evaluate("  welcome10 ", subtotal=1_234_567)
    assert (applied.code, applied.discount, applied.description) == ("WELCOME10", 123_457, "10% off")
    assert refusal(" nope ") == "We don't recognise the code “NOPE”."
    assert refusal("   ") == "Enter a coupon code."


def test_date_and_status_refusals(database):
    with session_scope() as session:
        add_coupon(session, "OFF", active=False)
        add_coupon(session, "SOON", starts_at=datetime(2026, 3, 3, 9, tzinfo=UTC))
        add_coupon(session, "LATE", ends_at=datetime(2026, 2, 28, 23, tzinfo=UTC))
        add_coupon(session, "OLD", ends_at=datetime(2025, 12, 24, tzinfo=UTC), min_subtotal=10**9)
        add_coupon(session, "NOW", starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(seconds=1))
    assert refusal("off") == "This code is no longer active."
    assert refusal("soon") == "This code starts on 3 March."
    assert refusal("late") == "This code expired on 28 February."
    assert refusal("old") == "This code expired on 24 December 2025."  # dates are checked before the minimum
    assert evaluate("now").discount == 500_000


def test_minimum_subtotal_names_the_amount(database):
    with session_scope() as session:
        add_coupon(session, "BIG", kind=CouponKind.FIXED, value=100_000, min_subtotal=2_000_000)
    assert refusal("big", subtotal=1_999_999) == "This code needs a subtotal of ₦20,000."
    assert evaluate("big", subtotal=2_000_000).discount == 100_000


def test_total_usage_limit(variant_id):
    with session_scope() as session:
        add_coupon(session, "TWICE", usage_limit=2)
    redeem("TWICE", variant_id, "a@example.com")
    assert evaluate("twice", email="c@example.com").discount == 500_000
    redeem("TWICE", variant_id, "b@example.com")
    assert refusal("twice", email="c@example.com") == "This code has reached its usage limit."


def test_per_customer_limit_matches_emails_case_insensitively(variant_id):
    with session_scope() as session:
        add_coupon(session, "ONCE", per_customer_limit=1)
        add_coupon(session, "TWO", per_customer_limit=2)
    redeem("ONCE", variant_id, "Ada@Example.com")
    assert refusal("once", email=" ada@example.COM") == "You've already used this code."
    assert evaluate("once", email="bola@example.com").discount == 500_000
    assert evaluate("once", email="").discount == 500_000  # checked again when the order is placed
    redeem("TWO", variant_id, "ada@example.com")
    redeem("TWO", variant_id, "ada@example.com")
    assert refusal("two") == "You've already used this code 2 times, the most allowed per customer."


def test_code_restricted_to_listed_customers(database):
    with session_scope() as session:
        add_coupon(session, "VIP", customers=["vip@example.com"])
    assert refusal("vip", email="ada@example.com") == "This code isn't available for your account."
    assert refusal("vip", email="") == "Sign in or enter your email to use this code."
    assert evaluate("vip", email="VIP@example.com ").discount == 500_000


def test_fixed_and_percent_discounts(database):
    with session_scope() as session:
        add_coupon(session, "FIVEK", kind=CouponKind.FIXED, value=500_000)
        add_coupon(session, "EIGHTH", value=1250)
    fixed = evaluate("fivek", subtotal=300_000)
    assert (fixed.discount, fixed.description) == (300_000, "₦5,000 off")
    percent = evaluate("eighth", subtotal=1_000_004)
    assert (percent.discount, percent.description) == (125_001, "12.5% off")  # 125_000.5 → 125_001


def test_redeeming_records_the_order_and_locking_returns_the_coupon(variant_id):
    with session_scope() as session:
        coupon_id = add_coupon(session, "ONE").id
    redeem("ONE", variant_id, "Ada@Example.com")
    with session_scope() as session:
        redemption = session.exec(select(CouponRedemption)).one()
        assert (redemption.coupon_id, redemption.email) == (coupon_id, "ada@example.com")
        assert pricing.lock_coupon(session, coupon_id).code == "ONE"
        with pytest.raises(NotFound):
            pricing.lock_coupon(session, coupon_id + 1000)


def test_concurrent_orders_cannot_overuse_a_coupon(variant_id):
    """Two checkouts race for a code with one use left: lock, re-check, redeem — only one wins."""
    with session_scope() as session:
        add_coupon(session, "LAST", usage_limit=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def place(email: str) -> None:
        applied = evaluate("LAST", email=email)  # both see the code as usable
        barrier.wait()
        try:
            with session_scope(write=True) as session:
                pricing.lock_coupon(session, applied.coupon_id)
                pricing.evaluate_coupon(session, "LAST", 5_000_000, email, "NGN", now=NOW)
                order = add_order(session, [(session.get(Variant, variant_id), 1)], email=email)
                pricing.redeem_coupon(session, applied.coupon_id, order.id, email)
            outcomes.append("placed")
        except CouponError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=place, args=(f"{name}@example.com",)) for name in ("ada", "bola")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["This code has reached its usage limit.", "placed"]
    with session_scope() as session:
        assert len(session.exec(select(CouponRedemption)).all()) == 1


def test_demo_coupons_are_created_once_and_behave_as_advertised(database):
    with session_scope() as session:
        ensure_demo_coupons(session, now=NOW)
        ensure_demo_coupons(session, now=NOW)
        assert sorted(c.code for c in session.exec(select(Coupon))) == ["EXPIRED20", "SAVE5K", "WELCOME10"]
    assert evaluate("welcome10", subtotal=1_000_000).discount == 100_000
    assert refusal("save5k", subtotal=2_999_999) == "This code needs a subtotal of ₦30,000."
    assert evaluate("save5k", subtotal=3_000_000).discount == 500_000
    assert refusal("expired20") == "This code expired on 28 February."


# --- store config and shipping ---------------------------------------------------------------------


def test_store_config_is_created_once_with_defaults(database):
    with session_scope() as session:
        config = pricing.get_store_config(session)
        assert (config.id, config.tax_rate_bp, config.prices_include_tax) == (1, 750, True)
        config.tax_rate_bp = 500
    with session_scope() as session:
        assert pricing.get_store_config(session).tax_rate_bp == 500
        assert len(session.exec(select(StoreConfig)).all()) == 1


def test_store_config_survives_losing_the_creation_race(database, monkeypatch):
    with session_scope() as loser:
        monkeypatch.setattr(loser, "get", lambda *args, **kwargs: None)  # it saw no row…
        with session_scope() as winner:  # …then another request created it first
            winner.add(StoreConfig(id=1, tax_rate_bp=300))
        assert pricing.get_store_config(loser).tax_rate_bp == 300
        shipping.ensure_default_methods(loser)  # the failed insert left the transaction usable
    with session_scope() as session:
        assert len(session.exec(select(StoreConfig)).all()) == 1
        assert len(shipping.list_active_methods(session)) == 4


def test_default_shipping_methods_are_created_once(database):
    with session_scope() as session:
        shipping.ensure_default_methods(session)
        shipping.ensure_default_methods(session)
    with session_scope() as session:
        options = shipping.list_active_methods(session)
    assert [(o.name, o.price_text, o.is_pickup) for o in options] == [
        ("Standard delivery (Lagos)", "₦2,500", False),
        ("Standard delivery (rest of Nigeria)", "₦4,500", False),
        ("Express delivery (Lagos, same day)", "₦6,000", False),
        ("Pick up in store (Lekki)", "Free", True),
    ]
    assert options[2].estimate == "Same day if ordered before 12:00"


def test_inactive_or_missing_methods_cannot_be_chosen(database):
    with session_scope() as session:
        shipping.ensure_default_methods(session)
        lagos = session.exec(select(ShippingMethod).where(ShippingMethod.position == 0)).one()
        lagos.active = False
        pickup_id = session.exec(select(ShippingMethod).where(ShippingMethod.is_pickup)).one().id
    with session_scope() as session:
        assert shipping.list_active_methods(session)[0].name == "Standard delivery (rest of Nigeria)"
        assert shipping.get_active_method(session, pickup_id).price == 0
        for method_id in (lagos.id, 9999, None):
            with pytest.raises(NotFound, match=re.escape("Choose a delivery method.")):
                shipping.get_active_method(session, method_id)


# --- orders ----------------------------------------------------------------------------------------


def move(order_id: int, status: OrderStatus) -> None:
    with session_scope(write=True) as session:
        orders.transition(session, session.get(Order, order_id), status, actor=STAFF)


def test_order_numbers_come_from_the_id_and_stay_unique_under_concurrency(variant_id):
    numbers: list[tuple[int, str]] = []

    def place_five() -> None:
        for _ in range(5):
            with session_scope(write=True) as session:
                order = add_order(session, [(session.get(Variant, variant_id), 1)], take_stock=False)
                numbers.append((order.id, order.number))

    threads = [threading.Thread(target=place_five) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(numbers) == 20
    assert all(re.fullmatch(r"RVQ-1\d{5}", number) for _, number in numbers)
    assert all(number == orders.order_number_for(order_id) for order_id, number in numbers)
    assert len({number for _, number in numbers}) == 20
    with session_scope() as session:
        assert sorted(o.number for o in session.exec(select(Order))) == sorted(n for _, n in numbers)


def test_cancelling_restocks_exactly_once(variant_id):
    order_id = order_with(variant_id, 3)
    assert stock(variant_id) == 7
    move(order_id, OrderStatus.CANCELLED)
    assert stock(variant_id) == 10
    with pytest.raises(TransitionError, match=re.escape("This order is already cancelled.")):
        move(order_id, OrderStatus.CANCELLED)
    with session_scope(write=True) as session:
        assert orders.restock_order(session, session.get(Order, order_id)) == 0
        assert all(line.restocked for line in session.exec(select(OrderLine)))
    assert stock(variant_id) == 10


def test_two_staff_cancelling_at_once_restock_once(variant_id):
    order_id = order_with(variant_id, 4)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def cancel() -> None:
        barrier.wait()
        try:
            move(order_id, OrderStatus.CANCELLED)
            outcomes.append("cancelled")
        except TransitionError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["This order is already cancelled.", "cancelled"]
    assert stock(variant_id) == 10


def test_refund_restocks_only_goods_that_never_left(variant_id):
    kept = order_with(variant_id, 2, status=OrderStatus.PAID, payment_status=PaymentStatus.PAID)
    sent = order_with(variant_id, 3, status=OrderStatus.SHIPPED, payment_status=PaymentStatus.PAID)
    assert stock(variant_id) == 5
    move(kept, OrderStatus.REFUNDED)
    assert stock(variant_id) == 7
    move(sent, OrderStatus.REFUNDED)
    assert stock(variant_id) == 7
    with session_scope() as session:
        assert {session.get(Order, i).payment_status for i in (kept, sent)} == {PaymentStatus.REFUNDED}


def test_unpaid_orders_cannot_be_refunded(variant_id):
    order_id = order_with(variant_id, status=OrderStatus.PROCESSING, payment_method=PaymentMethod.PAY_ON_DELIVERY)
    with pytest.raises(TransitionError, match=re.escape("An order that hasn't been paid can't be refunded.")):
        move(order_id, OrderStatus.REFUNDED)
    assert stock(variant_id) == 7


def test_variants_without_inventory_tracking_are_not_restocked(variant_id):
    with session_scope() as session:
        session.get(Variant, variant_id).track_inventory = False
    order_id = order_with(variant_id, 3)
    move(order_id, OrderStatus.CANCELLED)
    assert stock(variant_id) == 10
    with session_scope() as session:
        assert session.exec(select(OrderLine).where(OrderLine.order_id == order_id)).one().restocked


def test_mark_paid_moves_a_pending_order_once(variant_id):
    order_id = order_with(variant_id)
    for _ in range(2):  # verify, callback and webhook may all report the same payment
        with session_scope(write=True) as session:
            orders.mark_paid(session, session.get(Order, order_id), actor="system", reference="TRF-1")
    with session_scope() as session:
        order = session.get(Order, order_id)
        assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
        events = session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id)).all()
    assert [(e.kind, e.from_status, e.to_status, e.message) for e in events] == [
        ("status", "pending", "paid", "Payment received (reference TRF-1).")
    ]


def test_mark_paid_on_delivery_keeps_the_status(variant_id):
    order_id = order_with(variant_id, status=OrderStatus.PROCESSING, payment_method=PaymentMethod.PAY_ON_DELIVERY)
    with session_scope(write=True) as session:
        event = orders.mark_paid(session, session.get(Order, order_id), actor=STAFF)
        assert (event.kind, event.from_status, event.to_status, event.message) == (
            "payment",
            "unpaid",
            "paid",
            "Payment received.",
        )
    with session_scope() as session:
        order = session.get(Order, order_id)
        assert (order.status, order.payment_status) == (OrderStatus.PROCESSING, PaymentStatus.PAID)


def test_timeline_for_staff_and_for_the_customer(variant_id):
    order_id = order_with(variant_id)
    start = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)
    with session_scope(write=True) as session:
        order = session.get(Order, order_id)
        orders.record_event(
            session, order, "status", to_status="pending", actor="customer", message="Order placed.", now=start
        )
        orders.mark_paid(session, order, actor=STAFF, now=start + timedelta(minutes=1))
        orders.add_note(session, order, "Customer asked for gift wrap.", STAFF, False, now=start + timedelta(minutes=2))
        orders.add_note(session, order, "  Wrapped in adire.  ", STAFF, True, now=start + timedelta(minutes=3))
        orders.transition(session, order, OrderStatus.PROCESSING, actor=STAFF, now=start + timedelta(minutes=4))
        orders.transition(
            session, order, OrderStatus.SHIPPED, actor=STAFF, message="GIG 123", now=start + timedelta(minutes=5)
        )
    with session_scope() as session:
        staff = orders.order_timeline(session, order_id, customer_view=False)
        customer = orders.order_timeline(session, order_id, customer_view=True)
    assert [(e.title, e.message, e.actor) for e in staff] == [
        ("Order placed", "Order placed.", "customer"),
        ("Payment confirmed", "Payment received.", STAFF),
        ("Internal note", "Customer asked for gift wrap.", STAFF),
        ("Note", "Wrapped in adire.", STAFF),
        ("Being prepared", "", STAFF),
        ("Shipped", "GIG 123", STAFF),
    ]
    assert [e.title for e in customer] == ["Order placed", "Payment confirmed", "Note", "Being prepared", "Shipped"]
    assert {e.actor for e in customer} == {"You", "Revoque"}
    assert customer[0].created_text == "3 Mar 2026, 14:05 UTC"
    assert customer[0].created_at == start


def test_notes_must_have_sensible_length(variant_id):
    order_id = order_with(variant_id)
    with session_scope() as session:
        order = session.get(Order, order_id)
        with pytest.raises(ValidationError, match=re.escape("Write a note before saving it.")):
            orders.add_note(session, order, "   ", STAFF, True)
        with pytest.raises(ValidationError, match=re.escape("Notes can be at most 1,000 characters.")):
            orders.add_note(session, order, "x" * 1001, STAFF, False)
