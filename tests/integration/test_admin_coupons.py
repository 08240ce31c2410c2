"""Coupons admin on a real database (SQLite and PostgreSQL): every rule the form carries is checked
with a message naming the field, a saved coupon is exactly what checkout then honours, every change
is audited before → after, and the list counts uses and says why a coupon cannot be used. The page
handlers do the same for a signed-in member of staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.models import AuditEntry, Coupon, CouponCustomer, Role
from revoque.models.base import utcnow
from revoque.pages.admin.coupons import AdminCouponsState, AdminCouponState
from revoque.services import coupon_admin, pricing
from revoque.services.admin_forms import FormInvalid
from revoque.services.coupon_admin import CouponFilters
from revoque.services.pricing import CouponError
from tests.factories import add_coupon, add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, frame, page_state, run, token_for

FORM = {
    "code": " summer25 ",
    "kind": "percent",
    "value": "12.5",
    "min_subtotal": "20,000",
    "starts_on": "",
    "ends_on": "",
    "usage_limit": "100",
    "per_customer_limit": "1",
    "customers": "",
    "active": "on",
}


def form(**changes) -> dict:
    return {**FORM, **changes}


def problems(**changes) -> dict[str, str]:
    with pytest.raises(FormInvalid) as refused:
        coupon_admin.parse_coupon_form(form(**changes), "NGN")
    return refused.value.problems


def staff(email: str = "sam@example.com", role: str = Role.STAFF):
    with session_scope(write=True) as session:
        return add_user(session, email, role)


def create(actor, **changes) -> int:
    data = coupon_admin.parse_coupon_form(form(**changes), "NGN")
    with session_scope(write=True) as session:
        return coupon_admin.create_coupon(session, actor, data).id


def evaluate(code: str, subtotal: int, email: str = "ada@example.com", now: datetime | None = None):
    with session_scope() as session:
        return pricing.evaluate_coupon(session, code, subtotal, email, "NGN", now=now)


def refusal(code: str, subtotal: int, email: str = "ada@example.com", now: datetime | None = None) -> str:
    with pytest.raises(CouponError) as refused:
        evaluate(code, subtotal, email, now)
    return str(refused.value)


def audit_entries() -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


# --- the form --------------------------------------------------------------------------------------


def test_every_field_is_checked_at_once_with_a_message_naming_it():
    assert problems(
        code="x!",
        value="150",
        min_subtotal="lots",
        starts_on="2027-03-10",
        ends_on="2027-03-01",
        usage_limit="0",
        per_customer_limit="2.5",
        customers="ada@example.com, not-an-email",
    ) == {
        "code": "Code must be 3 to 40 letters, digits, dashes or underscores, like SUMMER25.",
        "value": "Discount must be between more than 0 and 100%.",
        "min_subtotal": "Minimum subtotal must be an amount like ₦12,500 with at most 2 decimal places.",
        "ends_on": "The end date must be on or after the start date.",
        "usage_limit": "Total uses must be at least 1 (or leave it blank for no limit).",
        "per_customer_limit": "Uses per customer must be a whole number, like 100 (or leave it blank for no limit).",
        "customers": "Customers: not-an-email is not an email address.",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": ""}, "code", "Code is required."),
        ({"kind": "bogof"}, "kind", "Choose percent off or a fixed amount off."),
        ({"value": ""}, "value", "Discount is required."),
        ({"value": "10.125"}, "value", "Discount can have at most 2 decimal places, like 7.25."),
        ({"value": "ten"}, "value", "Discount must be a number of percent, like 7.5."),
        ({"kind": "fixed", "value": ""}, "value", "Discount is required."),
        ({"kind": "fixed", "value": "0"}, "value", "Discount must be more than ₦0."),
        (
            {"kind": "fixed", "value": "5000.005"},
            "value",
            "Discount must be an amount like ₦12,500 with at most 2 decimal places.",
        ),
        ({"ends_on": "31/03/2027"}, "ends_on", "End date must be a date, like 2027-03-31."),
        (
            {"usage_limit": "5", "per_customer_limit": "6"},
            "per_customer_limit",
            "Uses per customer can't be more than the total uses.",
        ),
        ({"customers": "a@x.ng b@x b@"}, "customers", "Customers: b@x, b@ are not email addresses."),
    ],
)
def test_each_rule_has_its_own_message(changes, field, message):
    assert problems(**changes)[field] == message


def test_a_good_form_becomes_exact_values():
    data = coupon_admin.parse_coupon_form(
        form(
            kind="fixed",
            value="₦5,000.50",
            starts_on="2027-03-01",
            ends_on="2027-03-31",
            customers="Ada@X.ng;\nbola@x.ng ada@x.ng",
        ),
        "NGN",
    )
    assert (data.code, data.kind, data.value, data.min_subtotal) == ("SUMMER25", "fixed", 500_050, 2_000_000)
    assert data.starts_at == datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
    assert data.ends_at == datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert (data.usage_limit, data.per_customer_limit, data.active) == (100, 1, True)
    assert data.customers == ("ada@x.ng", "bola@x.ng")
    blank = coupon_admin.parse_coupon_form(
        form(usage_limit="", per_customer_limit="", min_subtotal="", active=""), "NGN"
    )
    assert (blank.usage_limit, blank.per_customer_limit, blank.min_subtotal, blank.active) == (None, None, 0, False)


# --- saving ------------------------------------------------------------------------------------------


def test_a_new_coupon_is_what_checkout_honours_and_is_audited(database):
    sam = staff()
    coupon_id = create(sam, customers="ada@example.com\nBola@Example.com", ends_on="2099-03-31")
    applied = evaluate("SUMMER25", 3_000_000, "bola@example.com")
    assert (applied.coupon_id, applied.discount, applied.description) == (coupon_id, 375_000, "12.5% off")
    assert refusal("summer25", 1_999_999) == "This code needs a subtotal of ₦20,000."
    assert refusal("summer25", 3_000_000, "chi@example.com") == "This code isn't available for your account."
    last_day = datetime(2099, 3, 31, 23, 0, tzinfo=UTC)
    assert evaluate("SUMMER25", 3_000_000, now=last_day).discount == 375_000  # the end date is the last day it works
    assert refusal("SUMMER25", 3_000_000, now=last_day + timedelta(hours=1)) == "This code expired on 31 March."

    [entry] = audit_entries()
    assert (entry.action, entry.actor_email, entry.entity_type, entry.entity_id) == (
        "coupon.create",
        "sam@example.com",
        "coupon",
        str(coupon_id),
    )
    assert entry.before is None
    assert entry.after["code"] == "SUMMER25" and entry.after["value"] == 1250
    assert entry.after["customers"] == ["ada@example.com", "bola@example.com"]


def test_codes_are_unique_whatever_the_case_and_a_new_coupon_cannot_be_already_over(database):
    sam = staff()
    create(sam)
    with pytest.raises(FormInvalid) as taken:
        create(sam, code="Summer25")
    assert taken.value.problems == {"code": "There is already a coupon SUMMER25. Choose another code."}
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    with pytest.raises(FormInvalid) as over:
        create(sam, code="OLD", ends_on=yesterday)
    assert over.value.problems["ends_on"].startswith("The end date has passed")
    with session_scope() as session:
        assert session.exec(select(Coupon.code)).all() == ["SUMMER25"]
    assert len(audit_entries()) == 1


def test_editing_changes_every_rule_and_records_before_and_after(database):
    sam = staff()
    coupon_id = create(sam, customers="ada@example.com")
    changed = coupon_admin.parse_coupon_form(
        form(
            code="SUMMER30",
            kind="fixed",
            value="3000",
            usage_limit="",
            per_customer_limit="2",
            customers="",
            starts_on="2027-06-01",
        ),
        "NGN",
    )
    with session_scope(write=True) as session:
        coupon_admin.update_coupon(session, sam, coupon_id, changed)
    with session_scope() as session:
        coupon = session.get(Coupon, coupon_id)
        assert (coupon.code, coupon.kind, coupon.value, coupon.usage_limit, coupon.per_customer_limit) == (
            "SUMMER30",
            "fixed",
            300_000,
            None,
            2,
        )
        assert pricing.as_utc(coupon.starts_at) == datetime(2027, 6, 1, tzinfo=UTC)
        assert session.exec(select(CouponCustomer).where(CouponCustomer.coupon_id == coupon_id)).all() == []
        values = coupon_admin.coupon_form_values(session, coupon_id)
    assert (values.code, values.kind, values.value, values.min_subtotal, values.starts_on) == (
        "SUMMER30",
        "fixed",
        "3000",
        "20000",
        "2027-06-01",
    )
    update = audit_entries()[-1]
    assert update.action == "coupon.update"
    assert update.before == {
        "code": "SUMMER25",
        "kind": "percent",
        "value": 1250,
        "starts_at": None,
        "usage_limit": 100,
        "per_customer_limit": 1,
        "customers": ["ada@example.com"],
    }
    assert update.after["code"] == "SUMMER30" and update.after["customers"] == []
    assert update.after["starts_at"].startswith("2027-06-01T00:00:00")


def test_switching_a_coupon_off_tells_shoppers_and_is_audited(database):
    sam = staff()
    coupon_id = create(sam)
    with session_scope(write=True) as session:
        coupon_admin.set_coupon_active(session, sam, coupon_id, False)
    assert refusal("SUMMER25", 3_000_000) == "This code is no longer active."
    with session_scope(write=True) as session:
        coupon_admin.set_coupon_active(session, sam, coupon_id, True)
    assert evaluate("SUMMER25", 3_000_000).discount == 375_000
    actions = [(e.action, e.before, e.after) for e in audit_entries()[1:]]
    assert actions == [
        ("coupon.deactivate", {"active": True}, {"active": False}),
        ("coupon.activate", {"active": False}, {"active": True}),
    ]


def test_the_list_counts_uses_and_says_why_a_coupon_cannot_be_used(database):
    now = utcnow()
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Kente Scarf", variants=[({}, 1_500_000, 40)]))[0]
        full = add_coupon(session, "TWICE", usage_limit=2, min_subtotal=1_000_000)
        add_coupon(session, "LATER", starts_at=now + timedelta(days=3))
        add_coupon(session, "GONE", ends_at=now - timedelta(days=1))
        add_coupon(session, "PAUSED", active=False, kind="fixed", value=500_000)
        add_coupon(session, "VIP", customers=["ada@example.com"], per_customer_limit=1)
        for email in ("ada@example.com", "bola@example.com"):
            order = add_order(session, [(variant, 1)], email=email)
            pricing.redeem_coupon(session, full.id, order.id, email)
    with session_scope() as session:
        rows = {row.code: row for row in coupon_admin.list_coupons(session).items}
        assert {code: (r.status, r.uses_text) for code, r in rows.items()} == {
            "TWICE": ("used_up", "2 of 2"),
            "LATER": ("scheduled", "0"),
            "GONE": ("expired", "0"),
            "PAUSED": ("off", "0"),
            "VIP": ("live", "0"),
        }
        assert rows["TWICE"].rules == ["Orders of ₦10,000 or more", "2 uses in all"]
        assert rows["VIP"].rules == ["Once per customer", "Only 1 listed customer"]
        assert rows["PAUSED"].description == "₦5,000 off"
        off = coupon_admin.list_coupons(session, CouponFilters(state="off")).items
        assert [r.code for r in off] == ["PAUSED"]
        assert [r.code for r in coupon_admin.list_coupons(session, CouponFilters(q="TW")).items] == ["TWICE"]
        paged = coupon_admin.list_coupons(session, page=9, page_size=2)
        assert (paged.total, paged.page, paged.pages, len(paged.items)) == (5, 3, 3, 1)
        values = coupon_admin.coupon_form_values(session, full.id)
        assert values.uses == 2 and [u.email for u in values.recent_uses] == ["bola@example.com", "ada@example.com"]


# --- the pages ---------------------------------------------------------------------------------------

URL = "http://localhost:3000/admin/coupons"


def test_staff_create_edit_and_switch_off_a_coupon_through_the_pages(database):
    token = token_for(Role.STAFF.value, "sam@example.com")
    editor = page_state(AdminCouponState, token, f"{URL}/new")
    assert run(AdminCouponState.load, editor) is None
    assert frame(editor).access == "granted" and editor.is_new

    refused = run(AdminCouponState.save, editor, form(value="0", usage_limit="many"))
    assert "Check the highlighted fields" in event_text(refused)
    assert editor.errors == {
        "value": "Discount must be between more than 0 and 100%.",
        "usage_limit": "Total uses must be a whole number, like 100 (or leave it blank for no limit).",
    }
    assert (editor.form.code, editor.form.usage_limit) == ("summer25", "many")  # kept as typed
    with session_scope() as session:
        assert session.exec(select(Coupon)).all() == []

    done = event_text(run(AdminCouponState.save, editor, form()))
    with session_scope() as session:
        coupon_id = session.exec(select(Coupon.id)).one()
    assert "Coupon created." in done and f"/admin/coupons/{coupon_id}" in done

    editor = page_state(AdminCouponState, token, f"{URL}/{coupon_id}")
    run(AdminCouponState.load, editor)
    assert (editor.form.code, editor.form.value, editor.form.min_subtotal) == ("SUMMER25", "12.5", "20000")
    assert "Coupon saved." in event_text(run(AdminCouponState.save, editor, form(value="15")))
    assert editor.form.value == "15" and editor.errors == {}
    assert "switched off" in event_text(run(AdminCouponState.set_active, editor, False))
    assert editor.form.active is False and editor.form.status_label == "Switched off"

    listing = page_state(AdminCouponsState, token, f"{URL}?state=off")
    run(AdminCouponsState.load, listing)
    assert [(r.code, r.description, r.status) for r in listing.rows] == [("SUMMER25", "15% off", "off")]
    assert "SUMMER25 is switched on." in event_text(run(AdminCouponsState.set_active, listing, coupon_id, True))
    assert listing.rows == []  # the list is still filtered to the coupons that are off
    assert [e.action for e in audit_entries()] == [
        "coupon.create",
        "coupon.update",
        "coupon.deactivate",
        "coupon.activate",
    ]


def test_an_unknown_coupon_page_says_so(database):
    token = token_for(Role.STAFF.value)
    for key in ("999", "junk"):
        editor = page_state(AdminCouponState, token, f"{URL}/{key}")
        run(AdminCouponState.load, editor)
        assert editor.not_found and editor.loaded


def test_a_customer_gets_nothing_from_the_coupon_pages(database):
    with session_scope(write=True) as session:
        add_coupon(session, "SECRET50", value=5000)
    state = page_state(AdminCouponsState, token_for("customer"), URL)
    run(AdminCouponsState.load, state)
    assert frame(state).access == "not_allowed" and state.rows == []
    run(AdminCouponsState.set_active, state, 1, False)
    assert evaluate("SECRET50", 1_000_000).discount == 500_000


def test_dates_show_as_whole_days():
    assert coupon_admin.coupon_rules(
        Coupon(
            code="X",
            kind="percent",
            value=1,
            starts_at=datetime(2027, 3, 1, tzinfo=UTC),
            ends_at=datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC),
        ),
        0,
        "NGN",
    ) == ["1 Mar 2027 – 31 Mar 2027"]
