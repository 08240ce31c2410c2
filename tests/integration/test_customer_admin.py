"""Customers admin on a real database (SQLite and PostgreSQL): the searchable, sortable list with
order counts and lifetime values; one account's picture; role changes that only an admin may make,
never on their own account, each written to the audit log; and the page handlers doing the same for
the signed-in viewer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.errors import NotFound, PermissionDenied, ValidationError
from revoque.models import Address, AuditEntry, OrderStatus, Payment, PaymentStatus, Refund, Role, User
from revoque.pages.admin.customers import AdminCustomersState, AdminCustomerState, customers_query
from revoque.services import accounts, customer_admin
from revoque.services.customer_admin import CustomerFilters
from revoque.services.money import format_money
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, frame, page_state, run, session_token, token_for


def money(minor: int) -> str:
    """An amount as the store shows it (the tests' store keeps STORE_CURRENCY, NGN)."""
    return format_money(minor, "NGN")


PRICE = 1_000_000  # ₦10,000.00 a unit


def _order(session, variant, user: User | None, quantity: int, day: int, **kwargs):
    order = add_order(session, [(variant, quantity)], email=user.email if user else "guest@example.com", **kwargs)
    order.user_id = user.id if user else None
    order.created_at = datetime(2027, 3, day, 12, 0, tzinfo=UTC)
    session.add(order)
    session.flush()
    return order


def _refund(session, order, amount: int, status: str = "processed") -> None:
    payment = Payment(
        order_id=order.id,
        provider="sandbox",
        reference=uuid.uuid4().hex,
        amount=order.total,
        currency=order.currency,
        status="succeeded",
    )
    session.add(payment)
    session.flush()
    session.add(Refund(order_id=order.id, payment_id=payment.id, amount=amount, currency=order.currency, status=status))
    session.flush()


def _joined(session, user: User, day: int) -> None:
    user.created_at = datetime(2027, 1, day, 9, 0, tzinfo=UTC)
    session.add(user)


@pytest.fixture
def people(database) -> dict[str, int]:
    """Accounts with orders in every payment state; returns their ids by name.

    Ada: paid 2 units (20,000) with 5,000 refunded · paid 1 unit (10,000) with a refund still pending ·
    fully refunded 3 units · pending unpaid 4 units · cancelled 1 unit → lifetime value 25,000 from 5 orders.
    Bola: paid 4 units → 40,000 from 1 order. A guest order with Ada's email is not hers."""
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Kente Scarf", variants=[({}, PRICE, 100)]))[0]
        ada = add_user(session, "ada@example.com", Role.CUSTOMER, name="Ada Obi")
        bola = add_user(session, "bola@shop.ng", Role.CUSTOMER, name="Bola Ade")
        chidi = add_user(session, "chidi@example.com", Role.CUSTOMER, name="Chidi Eze")
        sam = add_user(session, "sam@example.com", Role.STAFF, name="Sam Staff")
        boss = add_user(session, "boss@example.com", Role.ADMIN, name="Boss Admin")
        for user, day in ((ada, 1), (bola, 2), (chidi, 3), (sam, 4), (boss, 5)):
            _joined(session, user, day)
        paid = {"status": OrderStatus.PAID, "payment_status": PaymentStatus.PAID}
        partial = _order(session, variant, ada, 2, 1, status=OrderStatus.DELIVERED)
        partial.payment_status = PaymentStatus.PARTIALLY_REFUNDED
        session.add(partial)
        _refund(session, partial, 500_000)
        _refund(session, _order(session, variant, ada, 1, 2, **paid), 300_000, status="pending")
        refunded = _order(session, variant, ada, 3, 3, status=OrderStatus.REFUNDED)
        refunded.payment_status = PaymentStatus.REFUNDED
        session.add(refunded)
        _refund(session, refunded, 3_000_000)
        _order(session, variant, ada, 4, 4)
        _order(session, variant, ada, 1, 5, status=OrderStatus.CANCELLED)
        _order(session, variant, bola, 4, 6, **paid)
        _order(session, variant, None, 7, 7, **paid)  # a guest checkout with another email
        guest = _order(session, variant, None, 9, 8, **paid)
        guest.email = "ada@example.com"  # same email as Ada, but not placed from her account
        session.add(guest)
        session.add(
            Address(user_id=ada.id, name="Ada Obi", line1="12 Admiralty Way", city="Lekki", state="Lagos",
                    is_default_shipping=True)
        )  # fmt: skip
        session.add(Address(user_id=ada.id, name="Ada at work", line1="3 Broad St", city="Lagos Island"))
        session.flush()
        return {"ada": ada.id, "bola": bola.id, "chidi": chidi.id, "sam": sam.id, "boss": boss.id}


def _user(user_id: int) -> User:
    with session_scope() as session:
        return session.get(User, user_id)


def _audit() -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def _list(**kwargs) -> customer_admin.CustomerPage:
    page = kwargs.pop("page", 1)
    page_size = kwargs.pop("page_size", customer_admin.PAGE_SIZE)
    with session_scope() as session:
        return customer_admin.list_customers(session, CustomerFilters(**kwargs), page, page_size)


def test_lifetime_value_counts_paid_orders_less_processed_refunds(people):
    with session_scope() as session:
        assert customer_admin.lifetime_value(session, people["ada"]) == 2_000_000 - 500_000 + 1_000_000
        assert customer_admin.lifetime_value(session, people["bola"]) == 4_000_000
        assert customer_admin.lifetime_value(session, people["chidi"]) == 0


def test_the_list_shows_orders_and_lifetime_value_and_sorts_by_them(people):
    by_value = _list(sort="value")
    assert [(r.email, r.orders, r.lifetime_value) for r in by_value.items] == [
        ("bola@shop.ng", 1, 4_000_000),
        ("ada@example.com", 5, 2_500_000),
        ("boss@example.com", 0, 0),  # ties: newest account first
        ("sam@example.com", 0, 0),
        ("chidi@example.com", 0, 0),
    ]
    assert by_value.items[1].lifetime_text == money(2_500_000)
    assert [r.email for r in _list(sort="orders").items][:2] == ["ada@example.com", "bola@shop.ng"]
    assert [r.email for r in _list().items] == [
        "boss@example.com",
        "sam@example.com",
        "chidi@example.com",
        "bola@shop.ng",
        "ada@example.com",
    ]
    assert _list(sort="oldest").items[0].email == "ada@example.com"
    assert [r.name for r in _list(sort="name").items] == ["Ada Obi", "Bola Ade", "Boss Admin", "Chidi Eze", "Sam Staff"]


def test_the_list_searches_filters_by_role_and_pages(people):
    assert [r.email for r in _list(q="OBI").items] == ["ada@example.com"]  # by name, any case
    assert [r.email for r in _list(q="shop.ng").items] == ["bola@shop.ng"]  # by email
    assert [r.email for r in _list(q="100%").items] == []  # wildcards are plain text
    assert [(r.email, r.role_label) for r in _list(role="staff").items] == [("sam@example.com", "Staff")]
    assert _list(role="customer", q="example").total == 2
    second = _list(sort="value", page=2, page_size=2)
    assert (second.total, second.page, second.pages) == (5, 2, 3)
    assert [r.email for r in second.items] == ["boss@example.com", "sam@example.com"]
    assert _list(page=99, page_size=2).page == 3  # past the end: the last page


def test_filters_from_the_url_ignore_junk():
    filters = customer_admin.parse_filters({"q": "  ada ", "role": "owner", "sort": "DROP"})
    assert (filters.q, filters.role, filters.sort) == ("ada", "", "joined")
    assert customers_query(" ada ", "any", "joined") == "q=ada"
    assert customers_query("", "staff", "value") == "role=staff&sort=value"


def test_one_customer_in_full(people):
    with session_scope() as session:
        ada = customer_admin.customer_detail(session, people["ada"])
    assert (ada.name, ada.email, ada.role_label) == ("Ada Obi", "ada@example.com", "Customer")
    assert (ada.order_count, ada.paid_orders, ada.lifetime_value) == (5, 2, 2_500_000)
    assert ada.refunded_text == money(3_500_000)  # every processed refund, the full one included
    assert ada.average_text == money(1_250_000)
    assert [(o.created_text[:10], o.status, o.payment_status, o.refunded_text) for o in ada.orders] == [
        ("5 Mar 2027", "cancelled", "unpaid", ""),
        ("4 Mar 2027", "pending", "unpaid", ""),
        ("3 Mar 2027", "refunded", "refunded", money(3_000_000)),
        ("2 Mar 2027", "paid", "paid", ""),  # the pending refund is not counted yet
        ("1 Mar 2027", "delivered", "partially_refunded", money(500_000)),
    ]
    assert [a.lines[:2] for a in ada.addresses] == [["Ada Obi", "12 Admiralty Way"], ["Ada at work", "3 Broad St"]]
    assert [a.defaults for a in ada.addresses] == ["Default delivery", ""]
    with session_scope() as session, pytest.raises(NotFound):
        customer_admin.customer_detail(session, 999_999)


def test_an_admin_changes_a_role_and_it_is_audited(people):
    boss = _user(people["boss"])
    with session_scope(write=True) as session:
        customer_admin.change_role(session, boss, people["bola"], "staff")
    assert _user(people["bola"]).role == "staff"
    (entry,) = _audit()
    assert (entry.actor_email, entry.action, entry.entity_type, entry.entity_id) == (
        "boss@example.com",
        "customer.role",
        "user",
        str(people["bola"]),
    )
    assert (entry.before, entry.after, entry.summary) == ({"role": "customer"}, {"role": "staff"}, "bola@shop.ng")
    with session_scope(write=True) as session:  # the role it already has: nothing to record
        customer_admin.change_role(session, boss, people["bola"], "staff")
    assert len(_audit()) == 1


def test_staff_cannot_change_roles(people):
    sam = _user(people["sam"])
    with session_scope(write=True) as session, pytest.raises(PermissionDenied, match="Only an admin"):
        customer_admin.change_role(session, sam, people["ada"], "admin")
    assert _user(people["ada"]).role == "customer" and _audit() == []


def test_nobody_changes_their_own_role(people):
    boss = _user(people["boss"])
    with session_scope(write=True) as session, pytest.raises(PermissionDenied, match="your own role"):
        customer_admin.change_role(session, boss, people["boss"], "customer")
    assert _user(people["boss"]).role == "admin" and _audit() == []


def test_a_demoted_admin_cannot_change_roles_with_a_stale_account(people):
    """The actor's row is read again under the lock: an admin demoted meanwhile is refused."""
    with session_scope(write=True) as session:
        other = add_user(session, "other-admin@example.com", Role.ADMIN)
        other_id = other.id
    stale = _user(people["boss"])  # still says admin
    with session_scope(write=True) as session:
        customer_admin.change_role(session, _user(other_id), people["boss"], "staff")
    with session_scope(write=True) as session, pytest.raises(PermissionDenied):
        customer_admin.change_role(session, stale, other_id, "customer")
    assert _user(other_id).role == "admin"
    assert [e.entity_id for e in _audit()] == [str(people["boss"])]


def test_unknown_roles_and_accounts_are_refused(people):
    boss = _user(people["boss"])
    with session_scope(write=True) as session, pytest.raises(ValidationError):
        customer_admin.change_role(session, boss, people["ada"], "owner")
    with session_scope(write=True) as session, pytest.raises(NotFound):
        customer_admin.change_role(session, boss, 999_999, "staff")
    assert _audit() == []


# --- the pages ------------------------------------------------------------------------------------


def test_staff_list_customers_from_the_url_and_filter(people):
    url = "http://localhost:3000/admin/customers?role=customer&sort=value"
    state = page_state(AdminCustomersState, token_for("staff"), url)
    assert run(AdminCustomersState.load, state) is None
    assert (state.role, state.sort, state.total) == ("customer", "value", 3)
    assert [r.email for r in state.rows] == ["bola@shop.ng", "ada@example.com", "chidi@example.com"]
    response = run(AdminCustomersState.apply_filters, state, {"q": " obi ", "role": "any", "sort": "joined"})
    assert '"/admin/customers?q=obi"' in event_text(response)


def _customer_page(token: str, user_id: int) -> AdminCustomerState:
    state = page_state(AdminCustomerState, token, f"http://localhost:3000/admin/customers/{user_id}")
    run(AdminCustomerState.load, state)
    return state


def test_an_admin_changes_a_role_from_the_page(people):
    state = _customer_page(token_for("admin"), people["ada"])
    assert state.customer.lifetime_value == 2_500_000 and not state.is_self
    run(AdminCustomerState.choose_role, state, "staff")
    response = run(AdminCustomerState.change_role, state)
    assert "Role changed to staff." in event_text(response)
    assert state.customer.role == "staff" and _user(people["ada"]).role == "staff"
    assert [e.action for e in _audit()] == ["customer.role"]


def test_staff_are_refused_a_role_change_on_the_page(people):
    state = _customer_page(token_for("staff"), people["ada"])
    assert state.customer.email == "ada@example.com"  # staff may look
    run(AdminCustomerState.choose_role, state, "admin")
    response = run(AdminCustomerState.change_role, state)
    assert "Only an admin can do that" in event_text(response)
    assert _user(people["ada"]).role == "customer" and _audit() == []
    assert frame(state).access == "granted"


def test_an_admin_cannot_change_their_own_role_from_the_page(people):
    token = token_for("admin")
    with session_scope() as session:
        me = accounts.resolve_session(session, token).id
    state = _customer_page(token, me)
    assert state.is_self
    run(AdminCustomerState.choose_role, state, "customer")
    response = run(AdminCustomerState.change_role, state)
    assert "your own role" in event_text(response)
    assert _user(me).role == "admin" and _audit() == []
    assert session_token(state) == token


def test_an_unknown_account_is_not_found(people):
    state = _customer_page(token_for("staff"), 999_999)
    assert state.not_found and state.customer is None and state.loaded


def test_a_customer_opening_a_customer_page_gets_nothing(people):
    state = _customer_page(token_for("customer"), people["ada"])
    assert frame(state).access == "not_allowed"
    assert state.customer is None and not state.loaded
