"""Delivery methods admin on a real database (SQLite and PostgreSQL): the form's rules, creating and
editing methods that checkout then offers, switching off (never the last one), moving up and down
in the order checkout lists them, and an audit entry for every change; the page handlers too."""

from __future__ import annotations

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.models import AuditEntry, Role, ShippingMethod
from revoque.pages.admin.shipping import AdminShippingState
from revoque.services import shipping, shipping_admin
from revoque.services.admin_forms import FormInvalid
from revoque.services.shipping_admin import LAST_ACTIVE_MESSAGE, ShippingError
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, page_state, run, token_for

FORM = {"name": "  Abuja   express ", "price": "7,500", "estimate": "Next day", "active": "on"}
URL = "http://localhost:3000/admin/shipping"


@pytest.fixture
def methods(database) -> dict[str, int]:
    """The four default methods; returns their ids by first word of the name."""
    with session_scope(write=True) as session:
        shipping.ensure_default_methods(session)
        rows = session.exec(select(ShippingMethod).order_by(ShippingMethod.position)).all()
        return {m.name: m.id for m in rows}


def staff():
    with session_scope(write=True) as session:
        return add_user(session, "sam@example.com", Role.STAFF)


def checkout_names() -> list[str]:
    with session_scope() as session:
        return [option.name for option in shipping.list_active_methods(session)]


def change(func, *args):
    with session_scope(write=True) as session:
        return func(session, *args)


def actions() -> list[tuple[str, dict | None, dict | None]]:
    with session_scope() as session:
        return [(e.action, e.before, e.after) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]


def test_the_form_names_every_problem():
    with pytest.raises(FormInvalid) as refused:
        shipping_admin.parse_shipping_form({"name": "", "price": "", "estimate": "x" * 121}, "NGN")
    assert refused.value.problems == {
        "name": "Name is required.",
        "price": "Price is required: enter 0 for free delivery.",
        "estimate": "Delivery time can be at most 120 characters.",
    }
    with pytest.raises(FormInvalid) as negative:
        shipping_admin.parse_shipping_form({**FORM, "price": "-5"}, "NGN")
    assert negative.value.problems == {"price": "Price can't be negative."}
    data = shipping_admin.parse_shipping_form({**FORM, "is_pickup": "on"}, "NGN")
    assert (data.name, data.price, data.estimate, data.is_pickup, data.active) == (
        "Abuja express",
        750_000,
        "Next day",
        True,
        True,
    )


def test_a_new_method_joins_checkout_at_the_end_and_names_are_unique(methods):
    sam = staff()
    created = change(shipping_admin.create_method, sam, shipping_admin.parse_shipping_form(FORM, "NGN"))
    assert checkout_names()[-1] == "Abuja express"
    assert created.position == 4
    with pytest.raises(FormInvalid) as taken:
        change(
            shipping_admin.create_method,
            sam,
            shipping_admin.parse_shipping_form({**FORM, "name": "ABUJA EXPRESS"}, "NGN"),
        )
    assert taken.value.problems == {"name": "There is already a delivery method called “ABUJA EXPRESS”."}
    [(action, before, after)] = actions()
    assert action == "shipping.create" and before is None
    assert after == {
        "name": "Abuja express",
        "price": 750_000,
        "estimate": "Next day",
        "is_pickup": False,
        "active": True,
    }


def test_editing_changes_what_checkout_shows_and_is_audited(methods):
    sam = staff()
    lagos = methods["Standard delivery (Lagos)"]
    data = shipping_admin.parse_shipping_form(
        {"name": "Lagos delivery", "price": "3000", "estimate": "1 day", "active": "on"}, "NGN"
    )
    change(shipping_admin.update_method, sam, lagos, data)
    with session_scope() as session:
        option = next(o for o in shipping.list_active_methods(session) if o.id == lagos)
        values = shipping_admin.form_values(session, lagos)
    assert (option.name, option.price, option.price_text, option.estimate) == (
        "Lagos delivery",
        300_000,
        "₦3,000",
        "1 day",
    )
    assert (values.name, values.price, values.estimate, values.active) == ("Lagos delivery", "3000", "1 day", True)
    assert actions() == [
        (
            "shipping.update",
            {"name": "Standard delivery (Lagos)", "price": 250_000, "estimate": "1–2 business days"},
            {"name": "Lagos delivery", "price": 300_000, "estimate": "1 day"},
        )
    ]


def test_switching_off_hides_a_method_but_the_last_one_stays_on(methods):
    sam = staff()
    ids = list(methods.values())
    for method_id in ids[:3]:
        change(shipping_admin.set_method_active, sam, method_id, False)
    assert checkout_names() == ["Pick up in store (Lekki)"]
    with pytest.raises(ShippingError) as refused:
        change(shipping_admin.set_method_active, sam, ids[3], False)
    assert str(refused.value) == LAST_ACTIVE_MESSAGE
    off = shipping_admin.parse_shipping_form(
        {"name": "Pick up in store (Lekki)", "price": "0"}, "NGN"
    )  # active unticked
    with pytest.raises(FormInvalid) as via_form:
        change(shipping_admin.update_method, sam, ids[3], off)
    assert via_form.value.problems == {"active": LAST_ACTIVE_MESSAGE}
    assert checkout_names() == ["Pick up in store (Lekki)"]
    change(shipping_admin.set_method_active, sam, ids[0], True)
    assert checkout_names() == ["Standard delivery (Lagos)", "Pick up in store (Lekki)"]
    assert [a for a, _, _ in actions()] == ["shipping.deactivate"] * 3 + ["shipping.activate"]


def test_moving_reorders_checkout_and_records_the_order(methods):
    sam = staff()
    names = list(methods)
    express = methods["Express delivery (Lagos, same day)"]
    change(shipping_admin.move_method, sam, express, "up")
    change(shipping_admin.move_method, sam, express, "up")
    assert checkout_names() == [names[2], names[0], names[1], names[3]]
    change(shipping_admin.move_method, sam, express, "up")  # already first: nothing changes
    change(shipping_admin.move_method, sam, methods[names[3]], "down")  # already last
    with pytest.raises(ShippingError):
        change(shipping_admin.move_method, sam, express, "sideways")
    recorded = actions()
    assert [a for a, _, _ in recorded] == ["shipping.reorder", "shipping.reorder"]
    assert recorded[1][1] == {"order": [names[0], names[2], names[1], names[3]]}
    assert recorded[1][2] == {"order": [names[2], names[0], names[1], names[3]]}
    with session_scope() as session:
        rows = shipping_admin.list_methods(session)
    assert [(r.first, r.last) for r in rows] == [(True, False), (False, False), (False, False), (False, True)]


def test_the_list_counts_orders_per_method(methods):
    lagos = methods["Standard delivery (Lagos)"]
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Tote", variants=[({}, 1_000_000, 10)]))[0]
        for _ in range(2):
            order = add_order(session, [(variant, 1)])
            order.shipping_method_id = lagos
            session.add(order)
    with session_scope() as session:
        rows = {r.name: r for r in shipping_admin.list_methods(session)}
    assert rows["Standard delivery (Lagos)"].orders == 2
    assert rows["Pick up in store (Lekki)"].price_text == "Free" and rows["Pick up in store (Lekki)"].is_pickup


def test_staff_manage_methods_through_the_page(methods):
    state = page_state(AdminShippingState, token_for(Role.STAFF.value), URL)
    run(AdminShippingState.load, state)
    assert [r.name for r in state.rows] == list(methods)

    run(AdminShippingState.start_new, state)
    assert state.dialog_open and state.form.id == 0
    response = run(AdminShippingState.save, state, {"name": "", "price": "free"})
    assert "Check the highlighted fields" in event_text(response)
    assert set(state.errors) == {"name", "price"} and state.dialog_open
    run(AdminShippingState.save, state, FORM)
    assert not state.dialog_open and state.rows[-1].name == "Abuja express"

    lagos = methods["Standard delivery (Lagos)"]
    run(AdminShippingState.start_edit, state, lagos)
    assert (state.form.id, state.form.price) == (lagos, "2500")
    run(AdminShippingState.save, state, {"name": "Lagos", "price": "2500", "active": "on"})
    assert state.rows[0].name == "Lagos"
    run(AdminShippingState.move, state, lagos, "down")
    assert [r.id for r in state.rows][:2] == [methods["Standard delivery (rest of Nigeria)"], lagos]
    assert "switched off" in event_text(run(AdminShippingState.set_active, state, lagos, False))
    assert not next(r for r in state.rows if r.id == lagos).active
    run(AdminShippingState.set_dialog_open, state, True)
    assert state.dialog_open
    with session_scope() as session:
        assert len(session.exec(select(AuditEntry)).all()) == 4
