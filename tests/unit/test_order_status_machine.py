"""Every (from, to) pair of order statuses, paid and unpaid, through ``transition`` on a real session."""

import re
from collections.abc import Iterator
from itertools import product

import pytest
from sqlmodel import Session, SQLModel, select

import revoque.models  # noqa: F401  (registers every table for create_all)
from revoque.db import build_engine
from revoque.errors import ValidationError
from revoque.models import Cart, Order, OrderEvent, OrderStatus, PaymentStatus
from revoque.services.orders import TransitionError, check_transition, next_statuses, transition

S = OrderStatus
# Written out by hand, independently of orders.ALLOWED, so a slip in either one fails a test.
ALLOWED_PAIRS = {
    (S.PENDING, S.PAID),
    (S.PENDING, S.PROCESSING),
    (S.PENDING, S.CANCELLED),
    (S.PAID, S.PROCESSING),
    (S.PAID, S.CANCELLED),
    (S.PAID, S.REFUNDED),
    (S.PROCESSING, S.SHIPPED),
    (S.PROCESSING, S.CANCELLED),
    (S.PROCESSING, S.REFUNDED),
    (S.SHIPPED, S.DELIVERED),
    (S.SHIPPED, S.REFUNDED),
    (S.DELIVERED, S.REFUNDED),
}
CLEAR_MESSAGE = re.compile(
    r"^(An order that (is [a-z ]+|hasn't been paid) can't be [a-z ]+|This order is already [a-z ]+)\.$"
)


def expected_allowed(source: OrderStatus, target: OrderStatus, paid: bool) -> bool:
    return (source, target) in ALLOWED_PAIRS and (paid or target != S.REFUNDED)


@pytest.fixture(scope="module")
def engine():
    engine = build_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
        session.rollback()


def new_order(session: Session, status: OrderStatus, paid: bool) -> Order:
    cart = Cart(token_hash=f"cart-{status}-{paid}")
    session.add(cart)
    session.flush()
    order = Order(
        number=f"T-{cart.id}",
        cart_id=cart.id,
        email="ada@example.com",
        status=status,
        payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
        payment_method="bank_transfer",
        currency="NGN",
        subtotal=100_000,
        total=100_000,
    )
    session.add(order)
    session.flush()
    return order


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "unpaid"])
@pytest.mark.parametrize(("source", "target"), list(product(OrderStatus, OrderStatus)))
def test_every_transition(session, source, target, paid):
    order = new_order(session, source, paid)
    if expected_allowed(source, target, paid):
        event = transition(session, order, target, actor="staff@revoque.ng", message="ok")
        assert order.status == target
        assert (event.kind, event.from_status, event.to_status, event.actor) == (
            "status",
            source,
            target,
            "staff@revoque.ng",
        )
        if target in (S.PAID, S.REFUNDED):
            assert order.payment_status == (PaymentStatus.PAID if target == S.PAID else PaymentStatus.REFUNDED)
        return
    with pytest.raises(TransitionError) as refused:
        transition(session, order, target, actor="staff@revoque.ng")
    assert CLEAR_MESSAGE.match(str(refused.value)), str(refused.value)
    assert order.status == source
    assert session.exec(select(OrderEvent).where(OrderEvent.order_id == order.id)).all() == []


@pytest.mark.parametrize(
    ("source", "target", "paid", "message"),
    [
        (S.SHIPPED, S.CANCELLED, True, "An order that is shipped can't be cancelled."),
        (S.DELIVERED, S.PENDING, True, "An order that is delivered can't be moved back to pending."),
        (S.PROCESSING, S.PAID, False, "An order that is being processed can't be marked as paid."),
        (S.PENDING, S.SHIPPED, False, "An order that is pending can't be marked as shipped."),
        (S.PROCESSING, S.REFUNDED, False, "An order that hasn't been paid can't be refunded."),
        (S.SHIPPED, S.SHIPPED, True, "This order is already shipped."),
        (S.CANCELLED, S.PROCESSING, False, "An order that is cancelled can't be changed."),
        (S.REFUNDED, S.REFUNDED, True, "This order is already refunded."),
        (S.REFUNDED, S.PAID, False, "An order that is refunded can't be changed."),
    ],
)
def test_refusal_messages(source, target, paid, message):
    with pytest.raises(TransitionError) as refused:
        check_transition(source, target, paid)
    assert str(refused.value) == message


def test_next_statuses_lists_the_moves_in_lifecycle_order():
    assert next_statuses(S.PENDING, paid=False) == [S.PAID, S.PROCESSING, S.CANCELLED]
    assert next_statuses("processing", paid=True) == [S.SHIPPED, S.CANCELLED, S.REFUNDED]
    assert next_statuses(S.PROCESSING, paid=False) == [S.SHIPPED, S.CANCELLED]
    assert next_statuses(S.CANCELLED, paid=True) == []


def test_unknown_status_is_a_validation_error():
    with pytest.raises(ValidationError, match=re.escape("“lost” is not an order status.")):
        check_transition(S.PENDING, "lost", paid=False)
