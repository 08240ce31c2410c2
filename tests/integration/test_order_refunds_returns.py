"""Refunds, returns and invoice regeneration from the orders admin, on SQLite and PostgreSQL, with
the sandbox gateway (the embedded default; refunds are processed at once, or left pending and then
settled by a signed webhook): full and partial refunds, an over-refund refused, staff refused,
double submits made once, returns restocked exactly once (with and without a refund), and the
invoice job queued. The page handlers are driven as a signed-in admin and member of staff."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from revoque.adapters.payments import GatewayError, RefundResult, SandboxGateway, get_gateway, sign_body
from revoque.db import session_scope
from revoque.errors import PermissionDenied, ValidationError
from revoque.models import (
    AuditEntry,
    Invoice,
    Order,
    OrderLine,
    OrderRequest,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentMethod,
    Refund,
    ReturnLine,
    Role,
    Variant,
)
from revoque.pages.admin.orders import AdminOrderState
from revoque.services import order_admin, orders, payments
from revoque.settings import get_settings
from tests.conftest import use_settings
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, page_state, run, token_for
from tests.support.recorded_jobs import RecordedJobs, record_jobs

SCARF = 1_500_000  # ₦15,000
THROW = 500_000  # ₦5,000
STOCK = 10


@pytest.fixture
def jobs(database, monkeypatch) -> RecordedJobs:
    """The sandbox gateway (no Paystack key) and a job queue that runs nothing until told."""
    recorder = record_jobs(monkeypatch)
    use_settings(monkeypatch, paystack_secret_key="", secret_key="test-signing-key")
    get_gateway.cache_clear()
    yield recorder
    get_gateway.cache_clear()


@pytest.fixture
def boss(jobs):
    with session_scope(write=True) as session:
        return add_user(session, "boss@example.com", Role.ADMIN)


@pytest.fixture
def sam(jobs):
    with session_scope(write=True) as session:
        return add_user(session, "sam@example.com", Role.STAFF)


def card_order(scarves: int = 1, throws: int = 0, status: OrderStatus = OrderStatus.PAID) -> str:
    """A card order paid through the sandbox (stock taken), moved on to ``status``; one per test."""
    with session_scope(write=True) as session:
        scarf = variants_of(session, add_product(session, "Kente Scarf", variants=[({}, SCARF, STOCK)]))[0]
        throw = variants_of(session, add_product(session, "Aso Oke Throw", variants=[({}, THROW, STOCK)]))[0]
        lines = [(scarf, scarves)] + ([(throw, throws)] if throws else [])
        order = add_order(session, lines, payment_method=PaymentMethod.CARD)
        order_id, number = order.id, order.number
    payments.begin_card_payment(order_id)
    with session_scope() as session:
        reference = session.exec(select(Payment.reference).where(Payment.order_id == order_id)).one()
    payments.sandbox_decide(reference, "approve")
    assert payments.finalize(reference, "callback").status == "succeeded"
    path = [OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
    for step in path[: path.index(status) + 1] if status in path else []:
        with session_scope(write=True) as session:
            orders.transition(session, session.get(Order, order_id), step, actor="sam@example.com")
    return number


def state_of(number: str) -> tuple[str, str]:
    with session_scope() as session:
        order = order_admin.find_order(session, number)
        return order.status, order.payment_status


def stock(number: str) -> dict[str, int]:
    """Stock on hand of each product on the order, by product title."""
    with session_scope() as session:
        order = order_admin.find_order(session, number)
        rows = session.exec(
            select(OrderLine.product_title, Variant.stock_on_hand)
            .join(Variant, Variant.id == OrderLine.variant_id)
            .where(OrderLine.order_id == order.id)
        ).all()
    return dict(rows)


def line_ids(number: str) -> dict[str, int]:
    with session_scope() as session:
        order = order_admin.find_order(session, number)
        rows = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    return {line.product_title: line.id for line in rows}


def refunds(number: str) -> list[tuple[int, str]]:
    with session_scope() as session:
        order = order_admin.find_order(session, number)
        rows = session.exec(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()
    return [(r.amount, r.status) for r in rows]


def audit_actions() -> list[tuple[str, str, dict | None]]:
    with session_scope() as session:
        return [(e.action, e.actor_email, e.after) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]


def view(number: str) -> order_admin.StaffOrderView:
    with session_scope() as session:
        return order_admin.staff_order_view(session, number)


def count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


# --- refunds ---------------------------------------------------------------------------------------


def test_an_admin_refunds_a_card_order_in_full_and_the_timeline_and_audit_show_it(boss):
    number = card_order(scarves=2)
    assert stock(number) == {"Kente Scarf": STOCK - 2}
    before = view(number)
    assert before.can_refund and before.refundable_text == "₦30,000" and before.refundable_input == "30000"
    assert "refunded" not in [o.value for o in before.next_statuses]  # card money goes back with Refund

    outcome = order_admin.refund(boss, number, None, "Arrived damaged", order_admin.new_request_key())

    assert (outcome.status, outcome.amount_text, outcome.repeated) == ("processed", "₦30,000", False)
    assert outcome.message == "Refunded ₦30,000 to the card."
    assert state_of(number) == ("refunded", "refunded")
    assert refunds(number) == [(3_000_000, "processed")]
    assert stock(number) == {"Kente Scarf": STOCK}  # refunded before shipping: back on the shelf
    after = view(number)
    assert not after.can_refund and after.refund_note == "This order has been refunded in full."
    assert [(r.amount_text, r.status_label, r.reason, r.requested_by) for r in after.refunds] == [
        ("₦30,000", "Refunded", "Arrived damaged", "boss@example.com")
    ]
    staff_note = next(e for e in after.timeline if e.title == "Internal note")
    assert staff_note.message == "Refund of ₦30,000 to the card: Arrived damaged." and staff_note.actor == boss.email
    assert after.timeline[0].title == "Refunded" and after.timeline[0].visible_to_customer
    [(action, actor, entry)] = audit_actions()
    assert (action, actor) == ("order.refund", "boss@example.com")
    assert entry == {
        "status": "refunded",
        "payment_status": "refunded",
        "refund": "₦30,000",
        "refund_status": "processed",
        "reason": "Arrived damaged",
    }


def test_partial_refunds_add_up_and_an_over_refund_is_refused_without_writing_anything(boss):
    number = card_order(scarves=1, throws=2)  # ₦25,000
    first = order_admin.refund(boss, number, 500_000, "One throw was missing", order_admin.new_request_key())
    assert first.message == "Refunded ₦5,000 to the card."
    assert state_of(number) == ("paid", "partially_refunded")
    assert view(number).refundable_text == "₦20,000"

    for amount, message in [(2_000_001, "at most ₦20,000"), (0, "greater than zero"), (-5, "greater than zero")]:
        with pytest.raises(ValidationError, match=message):
            order_admin.refund(boss, number, amount, "Too much", order_admin.new_request_key())
    with pytest.raises(ValidationError, match="Say why"):
        order_admin.refund(boss, number, 100, "   ", order_admin.new_request_key())
    assert refunds(number) == [(500_000, "processed")]
    assert count(OrderRequest) == 1 and len(audit_actions()) == 1

    rest = order_admin.refund(boss, number, None, "Customer changed their mind", order_admin.new_request_key())
    assert rest.amount_text == "₦20,000"
    assert state_of(number) == ("refunded", "refunded")
    assert refunds(number) == [(500_000, "processed"), (2_000_000, "processed")]
    with pytest.raises(ValidationError, match="refunded in full"):
        order_admin.refund(boss, number, None, "Again", order_admin.new_request_key())


def test_a_double_submit_refunds_once(boss):
    number = card_order(scarves=2)
    key = order_admin.new_request_key()
    first = order_admin.refund(boss, number, 1_000_000, "Late delivery", key)
    again = order_admin.refund(boss, number, 1_000_000, "Late delivery", key)
    assert (first.repeated, again.repeated) == (False, True)
    assert again.message == "That refund of ₦10,000 was already made."
    assert refunds(number) == [(1_000_000, "processed")]
    assert [a for a, _, _ in audit_actions()] == ["order.refund"]


def test_two_submits_of_one_form_at_the_same_moment_refund_once(boss):
    number = card_order(scarves=2)
    key = order_admin.new_request_key()

    def submit():
        try:
            return order_admin.refund(boss, number, 1_000_000, "Late delivery", key).repeated
        except ValidationError as exc:  # the other one is still talking to the gateway
            assert "already on its way" in str(exc)
            return "busy"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: submit(), range(2)))
    assert sorted(map(str, results)) in (["False", "True"], ["False", "busy"])
    assert refunds(number) == [(1_000_000, "processed")]


def test_staff_and_customers_are_refused_refunds_and_nothing_changes(boss, sam):
    number = card_order(scarves=1)
    with session_scope(write=True) as session:
        shopper = add_user(session, "shopper@example.com")
    for who in (sam, shopper, None):
        with pytest.raises(PermissionDenied):
            order_admin.refund(who, number, None, "Please", order_admin.new_request_key())
    assert refunds(number) == [] and state_of(number) == ("paid", "paid")
    assert count(OrderRequest) == 0 and audit_actions() == []


def test_orders_not_paid_by_card_are_refunded_outside_the_store(boss):
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Raffia Fan", variants=[({}, THROW, STOCK)]))[0]
        unpaid = add_order(session, [(variant, 1)]).number
        by_transfer = add_order(session, [(variant, 1)], status="paid", payment_status="paid").number
    with pytest.raises(ValidationError, match="Only paid orders"):
        order_admin.refund(boss, unpaid, None, "x", order_admin.new_request_key())
    with pytest.raises(ValidationError, match="wasn't paid by card"):
        order_admin.refund(boss, by_transfer, None, "x", order_admin.new_request_key())
    assert "refunded" in [o.value for o in view(by_transfer).next_statuses]  # marked by hand instead
    assert view(by_transfer).refund_note.startswith("This order wasn't paid by card")


def test_a_gateway_failure_is_reported_and_the_same_form_can_be_sent_again(boss, monkeypatch):
    number = card_order(scarves=1)
    key = order_admin.new_request_key()

    def down(self, reference, amount):
        raise GatewayError("The payment provider could not be reached. Please try again.")

    working = SandboxGateway.refund
    monkeypatch.setattr(SandboxGateway, "refund", down)
    with pytest.raises(GatewayError, match="could not be reached"):
        order_admin.refund(boss, number, None, "Damaged", key)
    assert refunds(number) == [(SCARF, "failed")] and count(OrderRequest) == 0
    assert view(number).can_refund  # a failed refund frees its amount
    monkeypatch.setattr(SandboxGateway, "refund", working)
    assert order_admin.refund(boss, number, None, "Damaged", key).status == "processed"
    assert refunds(number) == [(SCARF, "failed"), (SCARF, "processed")]


def test_a_refund_waiting_for_the_provider_is_settled_by_its_webhook(boss, monkeypatch):
    number = card_order(scarves=2)
    monkeypatch.setattr(
        SandboxGateway, "refund", lambda self, ref, amount: RefundResult("sandbox-refund-77", "pending")
    )
    outcome = order_admin.refund(boss, number, 1_000_000, "Late delivery", order_admin.new_request_key())
    assert outcome.message == "Refund of ₦10,000 sent; the payment provider will confirm it."
    waiting = view(number)
    assert waiting.refunds[0].status_label == "Waiting for the provider"
    assert waiting.refundable_text == "₦20,000"  # the pending amount is reserved
    assert state_of(number) == ("paid", "paid")

    body = b'{"event": "refund.processed", "data": {"refund_reference": "sandbox-refund-77", "amount": 1000000}}'
    signature = sign_body(body, get_settings().signing_key())
    assert payments.record_webhook(body, {"x-paystack-signature": signature}) == (200, "ok")
    with session_scope() as session:
        event_id = session.exec(select(func.max(PaymentEvent.id))).one()
    assert payments.process_payment_event(event_id) == "processed"
    assert state_of(number) == ("paid", "partially_refunded")
    settled = view(number)
    assert settled.refunds[0].status_label == "Refunded"
    assert any(e.message == "Refunded ₦10,000 of ₦30,000 to the card." for e in settled.timeline)


# --- returns ---------------------------------------------------------------------------------------


def test_a_return_restocks_the_chosen_units_exactly_once(sam):
    number = card_order(scarves=3, throws=2, status=OrderStatus.SHIPPED)
    ids = line_ids(number)
    assert stock(number) == {"Kente Scarf": STOCK - 3, "Aso Oke Throw": STOCK - 2}
    key = order_admin.new_request_key()

    first = order_admin.record_return(sam, number, {ids["Kente Scarf"]: 2}, "Wrong colour", key)
    again = order_admin.record_return(sam, number, {ids["Kente Scarf"]: 2}, "Wrong colour", key)

    assert (first.units, first.restocked, first.repeated) == (2, 2, False)
    assert (again.units, again.repeated, again.message) == (2, True, "That return was already recorded.")
    assert stock(number) == {"Kente Scarf": STOCK - 1, "Aso Oke Throw": STOCK - 2}
    lines = {line.title: line for line in view(number).returnable_lines}
    assert [(line.ordered, line.returned, line.returnable) for line in lines.values()] == [(3, 2, 1), (2, 0, 2)]

    with pytest.raises(ValidationError, match="Only 1 of “Kente Scarf” can still come back"):
        order_admin.record_return(sam, number, {ids["Kente Scarf"]: 2}, "More", order_admin.new_request_key())
    rest = {ids["Kente Scarf"]: 1, ids["Aso Oke Throw"]: 2}
    assert order_admin.record_return(sam, number, rest, "Not needed", order_admin.new_request_key()).restocked == 3
    assert stock(number) == {"Kente Scarf": STOCK, "Aso Oke Throw": STOCK}
    with pytest.raises(ValidationError, match="already back in stock"):
        order_admin.record_return(sam, number, {ids["Kente Scarf"]: 1}, "Again", order_admin.new_request_key())

    with session_scope(write=True) as session:  # the order's own restock rule now finds nothing to add
        assert orders.restock_order(session, order_admin.find_order(session, number)) == 0
    assert stock(number) == {"Kente Scarf": STOCK, "Aso Oke Throw": STOCK}
    shown = view(number)
    assert not shown.can_return and shown.return_note == "Everything on this order is already back in stock."
    assert [r.items_text for r in shown.returns] == ["1 × Kente Scarf, 2 × Aso Oke Throw", "2 × Kente Scarf"]
    customer = [e.message for e in shown.timeline if e.visible_to_customer]
    assert "Return received: 2 × Kente Scarf." in customer
    assert [(a, entry["restocked_units"]) for a, _, entry in audit_actions()] == [
        ("order.return", 2),
        ("order.return", 3),
    ]
    assert count(ReturnLine) == 3


def test_a_return_with_a_refund_gives_back_what_the_items_cost(boss, sam):
    number = card_order(scarves=2, throws=1, status=OrderStatus.DELIVERED)  # ₦35,000
    ids = line_ids(number)
    with pytest.raises(PermissionDenied):  # refunds are for admins, even with a return
        order_admin.record_return(sam, number, {ids["Kente Scarf"]: 1}, "Faulty", order_admin.new_request_key(), True)
    assert stock(number)["Kente Scarf"] == STOCK - 2 and count(OrderRequest) == 0

    with session_scope() as session:
        plan = order_admin.plan_return(session, boss, number, {ids["Kente Scarf"]: 1}, refund=True)
    assert plan.summary == "Return 1 × Kente Scarf and put it back in stock, and refund ₦15,000 to the card."
    outcome = order_admin.record_return(
        boss, number, {ids["Kente Scarf"]: 1}, "Faulty", order_admin.new_request_key(), refund=True
    )
    assert outcome.message == "Return recorded: 1 item back in stock. Refunded ₦15,000 to the card."
    assert state_of(number) == ("delivered", "partially_refunded")
    assert refunds(number) == [(SCARF, "processed")]
    assert stock(number)["Kente Scarf"] == STOCK - 1
    assert view(number).returns[0].refund_text == "₦15,000 refunded"
    assert [a for a, _, _ in audit_actions()] == ["order.return", "order.refund"]

    too_much = {ids["Aso Oke Throw"]: 1}
    with pytest.raises(ValidationError, match="at most ₦20,000"):
        order_admin.record_return(boss, number, too_much, "x", order_admin.new_request_key(), True, 2_500_000)
    assert stock(number)["Aso Oke Throw"] == STOCK - 1  # nothing restocked when the refund is refused up front


def test_a_discount_is_shared_out_over_the_returned_items(boss):
    number = card_order(scarves=2, status=OrderStatus.SHIPPED)
    with session_scope(write=True) as session:  # as if a 10 % coupon had applied
        order = order_admin.find_order(session, number)
        order.discount = order.subtotal // 10
        session.add(order)
    with session_scope() as session:
        plan = order_admin.plan_return(session, boss, number, {line_ids(number)["Kente Scarf"]: 1}, refund=True)
    assert plan.refund_amount == 1_350_000


def test_returns_wait_until_the_goods_have_left_the_store(sam):
    number = card_order(scarves=1, status=OrderStatus.PROCESSING)
    assert view(number).return_note.startswith("Returns are for orders that have shipped")
    with pytest.raises(ValidationError, match="Returns are for orders that have shipped"):
        order_admin.record_return(sam, number, {line_ids(number)["Kente Scarf"]: 1}, "x", order_admin.new_request_key())
    with pytest.raises(ValidationError, match="Choose how many"):
        order_admin.record_return(sam, number, {line_ids(number)["Kente Scarf"]: 0}, "x", order_admin.new_request_key())
    assert stock(number) == {"Kente Scarf": STOCK - 1} and count(ReturnLine) == 0


# --- invoices --------------------------------------------------------------------------------------


def test_regenerating_the_invoice_queues_the_job_once_the_change_commits(sam, jobs):
    number = card_order(scarves=1)
    jobs.jobs.clear()
    with session_scope(write=True) as session:
        assert order_admin.regenerate_invoice(session, sam, number) == 0
        assert jobs.named("generate_invoice") == []  # not before the commit
    [job] = jobs.named("generate_invoice")
    with session_scope() as session:
        order_id = order_admin.find_order(session, number).id
    assert job.job_id == f"invoice-regenerate-{order_id}" and job.args == (order_id,)
    job.run()
    assert view(number).invoice_version == 1 and view(number).invoice_url
    with session_scope(write=True) as session:
        assert order_admin.regenerate_invoice(session, sam, number) == 1
    jobs.named("generate_invoice")[-1].run()
    shown = view(number)
    assert shown.invoice_version == 2 and shown.invoice_text.startswith("Version 2 · ")
    assert count(Invoice) == 1
    assert [(a, entry) for a, _, entry in audit_actions()] == [
        ("order.invoice", {"invoice": "regenerate", "version": 0}),
        ("order.invoice", {"invoice": "regenerate", "version": 1}),
    ]
    with session_scope(write=True) as session:
        shopper = add_user(session, "shopper@example.com")
    with pytest.raises(PermissionDenied), session_scope(write=True) as session:
        order_admin.regenerate_invoice(session, shopper, number)


# --- the page --------------------------------------------------------------------------------------


def said(response) -> str:
    """A handler's toast or redirect as text (the naira sign arrives escaped for JavaScript)."""
    return event_text(response).replace("\\u20a6", "₦")


def order_page(role: str, number: str) -> AdminOrderState:
    state = page_state(AdminOrderState, token_for(role), f"http://localhost:3000/admin/orders/{number}")
    run(AdminOrderState.load, state)
    return state


def test_an_admin_refunds_from_the_page_after_confirming_and_a_second_click_does_nothing(jobs):
    number = card_order(scarves=2)
    state = order_page("admin", number)
    assert state.order.can_refund and state.order.refundable_input == "30000"

    response = run(AdminOrderState.prepare_refund, state, {"amount": "12,500", "reason": "Late"})
    assert said(response) == "" and state.confirm_open == "refund"
    assert state.confirm_text == f"Refund ₦12,500 to the card that paid for {number}?"
    assert refunds(number) == []  # nothing happens before the confirmation
    response = run(AdminOrderState.confirm, state)
    assert "Refunded ₦12,500 to the card." in said(response)
    assert run(AdminOrderState.confirm, state) is None  # the double click: nothing left to confirm
    assert refunds(number) == [(1_250_000, "processed")]
    assert state.order.payment_status == "partially_refunded" and state.confirm_open == ""

    response = run(AdminOrderState.prepare_refund, state, {"amount": "50000", "reason": "Late"})
    assert "You can refund at most ₦17,500." in said(response) and state.confirm_open == ""


def test_staff_are_refused_a_refund_on_the_page(jobs):
    number = card_order(scarves=1)
    state = order_page("staff", number)
    response = run(AdminOrderState.prepare_refund, state, {"amount": "", "reason": "Please"})
    assert "Only an admin can do that" in said(response)
    assert state.confirm_open == "" and refunds(number) == []
    state._pending = {"kind": "refund", "amount": None, "reason": "x", "key": "forced"}  # even if one got there
    response = run(AdminOrderState.confirm, state)
    assert "Only an admin can do that" in said(response) and refunds(number) == []


def test_staff_record_a_return_from_the_page(jobs):
    number = card_order(scarves=2, status=OrderStatus.SHIPPED)
    state = order_page("staff", number)
    [line] = state.order.returnable_lines
    form = {f"qty-{line.line_id}": "1", "reason": "Too small"}
    run(AdminOrderState.prepare_return, state, form)
    assert state.confirm_open == "return"
    assert state.confirm_text == "Return 1 × Kente Scarf and put it back in stock."
    response = run(AdminOrderState.confirm, state)
    assert "Return recorded: 1 item back in stock." in said(response)
    assert stock(number) == {"Kente Scarf": STOCK - 1}
    assert state.order.returnable_lines[0].returnable == 1

    response = run(AdminOrderState.prepare_return, state, {**form, "refund": "on"})  # a refund needs an admin
    assert "Only an admin can do that" in said(response) and state.confirm_open == ""


def test_staff_regenerate_the_invoice_from_the_page_and_see_the_new_version(jobs):
    number = card_order(scarves=1)
    state = order_page("staff", number)
    jobs.jobs.clear()
    response = run(AdminOrderState.regenerate_invoice, state)
    assert "Invoice queued" in said(response) and state.invoice_waiting
    run(AdminOrderState.check_invoice, state)
    assert state.invoice_waiting  # the job has not run yet
    jobs.run_all()
    run(AdminOrderState.check_invoice, state)
    assert not state.invoice_waiting and state.order.invoice_version == 1
