"""The audit log: entries written in the caller's transaction, only real changes kept, secrets left
out, and the admin page's filters and pages (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.models import AuditEntry, OrderStatus, Role, User
from revoque.pages.admin.audit import AuditLogState, audit_query
from revoque.services import audit
from revoque.services.audit import AuditFilters
from tests.factories import add_order, add_product, variants_of
from tests.support.admin import add_user, event_text, frame, page_state, run, token_for


def _entries(session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def test_an_entry_commits_and_rolls_back_with_the_change_it_describes(database):
    with session_scope(write=True) as session:
        admin = add_user(session, "boss@example.com", Role.ADMIN)
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        audit.record(session, admin, "order.status", ("order", 7), {"status": "paid"}, {"status": "shipped"})
        raise RuntimeError("the change failed")
    with session_scope() as session:
        assert _entries(session) == []
    with session_scope(write=True) as session:
        audit.record(session, admin, "order.status", ("order", 7), {"status": "paid"}, {"status": "shipped"}, "RVQ-7")
    with session_scope() as session:
        [entry] = _entries(session)
    assert (entry.actor_id, entry.actor_email, entry.action) == (admin.id, "boss@example.com", "order.status")
    assert (entry.entity_type, entry.entity_id, entry.summary) == ("order", "7", "RVQ-7")
    assert (entry.before, entry.after) == ({"status": "paid"}, {"status": "shipped"})


def test_only_changed_fields_are_kept_and_a_no_op_is_not_recorded(database):
    with session_scope(write=True) as session:
        product = add_product(session, "Kente Scarf")
        before = audit.snapshot(product, ["title", "status", "featured"])
        product.title, product.featured = "Kente Scarf, Gold", True
        after = audit.snapshot(product, ["title", "status", "featured"])
        entry = audit.record(session, None, "product.update", product, before, after, product.title)
        assert audit.record(session, None, "product.update", product, after, dict(after)) is None
    assert entry.entity_type == "product" and entry.entity_id == str(product.id)
    assert entry.before == {"title": "Kente Scarf", "featured": False}
    assert entry.after == {"title": "Kente Scarf, Gold", "featured": True}
    assert entry.actor_id is None and entry.actor_email == ""
    with session_scope() as session:
        assert len(_entries(session)) == 1


def test_snapshots_are_json_and_never_hold_secrets(database):
    with session_scope(write=True) as session:
        user = add_user(session, "ada@example.com")
        shot = audit.snapshot(user)
        entry = audit.record(session, None, "user.create", user, None, {**shot, "reset_token": "abc"})
    assert "password_hash" not in shot and "password_hash" not in entry.after and "reset_token" not in entry.after
    assert entry.before is None
    assert entry.after["email"] == "ada@example.com"
    assert datetime.fromisoformat(entry.after["created_at"]).tzinfo is not None


def _log(session, actor: User, count: int, entity_type: str = "order", start: datetime | None = None) -> None:
    start = start or datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    for i in range(count):
        entry = audit.record(
            session, actor, f"{entity_type}.update", (entity_type, i + 1), {"n": i}, {"n": i + 1}, f"{entity_type} {i}"
        )
        entry.created_at = start + timedelta(minutes=i)
        session.add(entry)


def test_listing_filters_by_entity_and_actor_and_pages_newest_first(database):
    with session_scope(write=True) as session:
        ada = add_user(session, "ada@example.com", Role.STAFF)
        bola = add_user(session, "bola@example.com", Role.ADMIN)
        _log(session, ada, 30, "order")
        _log(session, bola, 4, "product")
    with session_scope() as session:
        first = audit.list_entries(session, page=1, page_size=25)
        last = audit.list_entries(session, page=2, page_size=25)
        past_the_end = audit.list_entries(session, page=9, page_size=25)
        orders = audit.list_entries(session, AuditFilters(entity_type="order"), page_size=100)
        by_bola = audit.list_entries(session, AuditFilters(actor_id=bola.id))
        one = audit.list_entries(session, AuditFilters(entity_type="order", entity="7"))
        by_name = audit.list_entries(session, AuditFilters(entity="PRODUCT 3"))
        types, actors = audit.entity_types(session), audit.actors(session)
    assert (first.total, first.pages, len(first.items), len(last.items)) == (34, 2, 25, 9)
    assert past_the_end.page == 2
    assert first.items[0].summary == "order 29"  # newest first
    assert [r.summary for r in orders.items][:2] == ["order 29", "order 28"] and orders.total == 30
    assert {r.actor for r in by_bola.items} == {"bola@example.com"} and by_bola.total == 4
    assert [r.entity_id for r in one.items] == ["7"]
    assert [r.summary for r in by_name.items] == ["product 3"]
    assert types == ["order", "product"]
    assert [a.email for a in actors] == ["ada@example.com", "bola@example.com"]
    change = first.items[0].changes[0]
    assert (change.field, change.before, change.after) == ("n", "29", "30")
    assert first.items[0].created_text == "1 Mar 2027, 09:29 UTC"


def test_the_log_names_the_actor_by_email_even_after_the_account_is_gone(database):
    with session_scope(write=True) as session:
        ada = add_user(session, "ada@example.com", Role.STAFF)
        _log(session, ada, 1)
    with session_scope(write=True) as session:
        session.delete(session.get(User, ada.id))
    with session_scope() as session:
        [row] = audit.list_entries(session).items
    assert row.actor == "ada@example.com"


# --- the page ---------------------------------------------------------------------------------------


def _seeded_log() -> None:
    with session_scope(write=True) as session:
        ada = add_user(session, "ada@example.com", Role.STAFF)
        product = add_product(session, "Ankara Tote")
        order = add_order(session, [(variants_of(session, product)[0], 1)])
        audit.record(session, ada, "order.status", order, {"status": "pending"}, {"status": OrderStatus.PROCESSING})
        _log(session, ada, 3, "product")


def test_admins_browse_and_filter_the_log_from_the_url(database):
    _seeded_log()
    state = page_state(
        AuditLogState, token_for("admin"), "http://localhost:3000/admin/audit?entity_type=product&page=1"
    )
    assert run(AuditLogState.load, state) is None
    assert state.loaded and state.total == 3 and state.entity_type == "product"
    assert [r.entity_type for r in state.entries] == ["product"] * 3
    assert state.entity_types == ["order", "product"]
    assert [a.email for a in state.actors] == ["ada@example.com"]
    response = run(AuditLogState.apply_filters, state, {"entity_type": "order", "q": " RVQ ", "actor": "any"})
    assert '"/admin/audit?entity_type=order&q=RVQ"' in event_text(response)


def test_staff_are_told_the_log_is_for_admins_and_get_none_of_it(database):
    _seeded_log()
    state = page_state(AuditLogState, token_for("staff"), "http://localhost:3000/admin/audit")
    assert run(AuditLogState.load, state) is None
    assert frame(state).access == "admin_only"
    assert state.entries == [] and state.actors == [] and state.total == 0
    response = run(AuditLogState.apply_filters, state, {"entity_type": "order"})
    assert "Only an admin can do that" in event_text(response)


def test_audit_query_leaves_out_empty_and_any():
    assert audit_query("any", "", "any") == ""
    assert audit_query("order", "RVQ 1", "3") == "entity_type=order&q=RVQ+1&actor=3"
