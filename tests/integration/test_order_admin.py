"""Orders admin on a real database (SQLite and PostgreSQL): the filtered list, one order's picture,
and staff changes that follow the status rules and are each written to the audit log; refunding is
refused to staff; the page handlers do the same for the signed-in viewer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.errors import NotFound, PermissionDenied, ValidationError
from revoque.models import AuditEntry, Order, OrderEvent, OrderStatus, PaymentMethod, PaymentStatus, Role, Variant
from revoque.pages.admin.orders import AdminOrdersState, AdminOrderState, orders_query
from revoque.services import order_admin, orders
from revoque.services.order_admin import OrderFilters
from revoque.services.orders import TransitionError
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, frame, page_state, run, token_for


def _order(session, variant, quantity=1, *, email="ada@example.com", day=10, **kwargs) -> Order:
    order = add_order(session, [(variant, quantity)], email=email, **kwargs)
    order.created_at = datetime(2027, 3, day, 12, 0, tzinfo=UTC)
    order.shipping_address = {"name": "Ada Obi", "line1": "12 Admiralty Way", "city": "Lekki", "phone": "0803"}
    session.add(order)
    session.flush()
    return order


@pytest.fixture
def shop(database) -> dict[str, str]:
    """Orders in several states; returns their numbers by name."""
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Kente Scarf", variants=[({}, 1_500_000, 40)]))[0]
        numbers = {
            "pending": _order(session, variant, 2, day=1).number,
            "paid": _order(
                session, variant, day=5, status=OrderStatus.PAID, payment_status=PaymentStatus.PAID, email="bola@x.ng"
            ).number,
            "pod": _order(
                session,
                variant,
                day=9,
                status=OrderStatus.PROCESSING,
                payment_method=PaymentMethod.PAY_ON_DELIVERY,
                email="chi@example.com",
            ).number,
            "cancelled": _order(session, variant, day=12, status=OrderStatus.CANCELLED).number,
        }
        for day in range(13, 31):  # 18 more pending orders (13–28 March), to fill pages
            _order(session, variant, day=min(day, 28), email=f"buyer{day}@example.com")
        return numbers


def _staff(role=Role.STAFF, email="sam@example.com"):
    with session_scope(write=True) as session:
        return add_user(session, email, role)


def _audit() -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def _stock() -> int:
    with session_scope() as session:
        return session.exec(select(Variant)).one().stock_on_hand


def _status(number: str) -> tuple[str, str]:
    with session_scope() as session:
        order = order_admin.find_order(session, number)
        return order.status, order.payment_status


def test_the_list_filters_searches_and_pages(shop):
    with session_scope() as session:
        everything = order_admin.list_orders(session, page_size=10)
        second = order_admin.list_orders(session, page=2, page_size=10)
        pending = order_admin.list_orders(session, OrderFilters(status="pending"), page_size=100)
        paid = order_admin.list_orders(session, OrderFilters(payment_status="paid"))
        by_email = order_admin.list_orders(session, OrderFilters(q="CHI@"))
        by_number = order_admin.list_orders(session, OrderFilters(q=shop["paid"].lower()))
        early = order_admin.list_orders(session, OrderFilters(date_from=date(2027, 3, 5), date_to=date(2027, 3, 9)))
    assert (everything.total, everything.pages, len(second.items)) == (22, 3, 10)
    assert everything.items[0].created_text.startswith("28 Mar 2027")  # newest first
    assert pending.total == 19 and {r.status for r in pending.items} == {"pending"}
    assert [r.number for r in paid.items] == [shop["paid"]]
    assert [r.number for r in by_email.items] == [shop["pod"]]
    assert [r.number for r in by_number.items] == [shop["paid"]]
    assert [r.number for r in early.items] == [shop["pod"], shop["paid"]]  # 5 and 9 March, both ends included
    first_order = next(r for r in pending.items if r.number == shop["pending"])
    assert (first_order.item_count, first_order.total_text, first_order.customer) == (2, "₦30,000", "Ada Obi")


def test_one_order_in_full(shop):
    with session_scope(write=True) as session:
        order = order_admin.find_order(session, shop["pending"])
        orders.add_note(session, order, "Called the customer", "sam@example.com", visible_to_customer=False)
    with session_scope() as session:
        view = order_admin.staff_order_view(session, shop["pending"])
    assert (view.status_label, view.payment_label, view.email, view.customer_name) == (
        "Pending",
        "Unpaid",
        "ada@example.com",
        "Ada Obi",
    )
    assert [(line.title, line.quantity, line.line_total) for line in view.lines] == [("Kente Scarf", 2, "₦30,000")]
    assert view.total == "₦30,000" and view.account == "Guest checkout"
    assert [o.value for o in view.next_statuses] == ["paid", "processing", "cancelled"]
    assert view.timeline[0].message == "Called the customer" and not view.timeline[0].visible_to_customer
    assert view.shipping_address[:2] == ["Ada Obi", "12 Admiralty Way"]
    with pytest.raises(NotFound, match="no order RVQ-1"), session_scope() as session:
        order_admin.staff_order_view(session, "RVQ-1")


def test_staff_move_an_order_on_and_it_is_audited(shop):
    sam = _staff()
    with session_scope(write=True) as session:
        order_admin.change_status(session, sam, shop["paid"], "processing", "Packing today")
    assert _status(shop["paid"]) == ("processing", "paid")
    [entry] = _audit()
    assert (entry.actor_email, entry.action, entry.entity_type, entry.summary) == (
        "sam@example.com",
        "order.status",
        "order",
        shop["paid"],
    )
    assert (entry.before, entry.after) == ({"status": "paid"}, {"status": "processing"})
    with session_scope() as session:
        event = session.exec(select(OrderEvent).order_by(OrderEvent.id.desc())).first()
    assert (event.to_status, event.actor, event.message) == ("processing", "sam@example.com", "Packing today")


def test_a_move_the_rules_forbid_changes_nothing_and_records_nothing(shop):
    sam = _staff()
    with pytest.raises(TransitionError, match="can't be marked as shipped"), session_scope(write=True) as session:
        order_admin.change_status(session, sam, shop["pending"], "shipped")
    with pytest.raises(TransitionError, match="can't be changed"), session_scope(write=True) as session:
        order_admin.change_status(session, sam, shop["cancelled"], "processing")
    assert _status(shop["pending"]) == ("pending", "unpaid")
    assert _audit() == []


def test_refunding_is_for_admins_only(shop):
    sam, boss = _staff(), _staff(Role.ADMIN, "boss@example.com")
    with pytest.raises(PermissionDenied), session_scope(write=True) as session:
        order_admin.change_status(session, sam, shop["paid"], "refunded")
    assert _status(shop["paid"]) == ("paid", "paid") and _audit() == []
    stock_before = _stock()
    with session_scope(write=True) as session:
        order_admin.change_status(session, boss, shop["paid"], "refunded", "Damaged in transit")
    assert _status(shop["paid"]) == ("refunded", "refunded")
    assert [(e.actor_email, e.after) for e in _audit()] == [
        ("boss@example.com", {"status": "refunded", "payment_status": "refunded"})
    ]
    assert _stock() == stock_before + 1  # not shipped yet, so the scarf went back on the shelf


def test_a_customer_account_cannot_change_orders_even_through_the_service(shop):
    with session_scope(write=True) as session:
        shopper = add_user(session, "shopper@example.com")
    with pytest.raises(PermissionDenied), session_scope(write=True) as session:
        order_admin.change_status(session, shopper, shop["pending"], "cancelled")
    assert _status(shop["pending"]) == ("pending", "unpaid")


def test_money_collected_at_the_door_is_recorded_once(shop):
    sam = _staff()
    with session_scope(write=True) as session:
        order_admin.mark_payment_received(session, sam, shop["pod"])
    assert _status(shop["pod"]) == ("processing", "paid")
    with pytest.raises(ValidationError, match="no payment waiting"), session_scope(write=True) as session:
        order_admin.mark_payment_received(session, sam, shop["pod"])
    with pytest.raises(ValidationError, match="changing its status"), session_scope(write=True) as session:
        order_admin.mark_payment_received(session, sam, shop["pending"])
    assert [(e.action, e.before, e.after) for e in _audit()] == [
        ("order.payment", {"payment_status": "unpaid"}, {"payment_status": "paid"})
    ]


def test_notes_for_staff_stay_off_the_customers_timeline(shop):
    sam = _staff()
    with session_scope(write=True) as session:
        order_admin.add_note(session, sam, shop["pending"], "Fragile: double box", False)
        order_admin.add_note(session, sam, shop["pending"], "Your order is being packed", True)
    with pytest.raises(ValidationError, match="Write a note"), session_scope(write=True) as session:
        order_admin.add_note(session, sam, shop["pending"], "   ", True)
    with session_scope() as session:
        order_id = order_admin.find_order(session, shop["pending"]).id
        customer = [e.message for e in orders.order_timeline(session, order_id, customer_view=True)]
        staff = [e.message for e in orders.order_timeline(session, order_id, customer_view=False)]
    assert "Fragile: double box" not in customer and "Your order is being packed" in customer
    assert {"Fragile: double box", "Your order is being packed"} <= set(staff)
    assert [e.after for e in _audit()] == [
        {"note": "Fragile: double box", "visible_to_customer": False},
        {"note": "Your order is being packed", "visible_to_customer": True},
    ]


# --- the pages ------------------------------------------------------------------------------------


def test_staff_list_orders_from_the_url_and_filter(shop):
    url = "http://localhost:3000/admin/orders?status=pending&q=buyer2&page=1"
    state = page_state(AdminOrdersState, token_for("staff"), url)
    assert run(AdminOrdersState.load, state) is None
    assert state.loaded and state.status == "pending" and state.q == "buyer2"
    assert {r.email[:6] for r in state.rows} == {"buyer2"} and state.total == 10  # buyer20 … buyer29
    response = run(AdminOrdersState.apply_filters, state, {"status": "any", "payment": "paid", "q": "", "from": ""})
    assert '"/admin/orders?payment=paid"' in event_text(response)
    assert orders_query("shipped", "any", "2027-03-01", "", " RVQ ") == "status=shipped&from=2027-03-01&q=RVQ"


def _order_page(role: str, number: str) -> AdminOrderState:
    state = page_state(AdminOrderState, token_for(role), f"http://localhost:3000/admin/orders/{number}")
    run(AdminOrderState.load, state)
    return state


def test_staff_update_an_order_from_its_page(shop):
    state = _order_page("staff", shop["paid"])
    assert state.order.number == shop["paid"] and not state.not_found
    response = run(AdminOrderState.change_status, state, {"status": "processing", "message": ""})
    assert "Order moved to processing." in event_text(response)
    assert state.order.status == "processing"
    assert [o.value for o in state.order.next_statuses] == ["shipped", "cancelled", "refunded"]
    response = run(AdminOrderState.change_status, state, {"status": "delivered"})  # not allowed from processing
    assert "can't be marked as delivered" in event_text(response)
    response = run(AdminOrderState.add_note, state, {"note": "Left at reception", "visible_to_customer": "on"})
    assert "Note added." in event_text(response)
    assert state.order.timeline[0].message == "Left at reception" and state.order.timeline[0].visible_to_customer
    assert [e.action for e in _audit()] == ["order.status", "order.note"]


def test_staff_are_refused_a_refund_on_the_page_and_nothing_changes(shop):
    state = _order_page("staff", shop["paid"])
    response = run(AdminOrderState.change_status, state, {"status": "refunded"})
    assert "Only an admin can do that" in event_text(response)
    assert state.order.status == "paid" and _status(shop["paid"]) == ("paid", "paid") and _audit() == []
    assert frame(state).access == "granted"


def test_an_unknown_number_is_not_found(shop):
    state = _order_page("admin", "RVQ-999999")
    assert state.not_found and state.order is None and state.loaded


def test_a_customer_opening_an_order_page_gets_nothing(shop):
    state = _order_page("customer", shop["paid"])
    assert frame(state).access == "not_allowed"
    assert state.order is None and not state.loaded
