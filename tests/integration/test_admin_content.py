"""FAQs and policies admin on a real database (SQLite and PostgreSQL): the forms' rules, every change
audited and followed — only once it commits — by one knowledge rebuild queued under a fixed job id;
the job itself, with the real embedding model, makes the assistant find the new text; and the page
handlers for staff."""

from __future__ import annotations

import pytest
from sqlmodel import select

from revoque import jobs
from revoque.adapters.vectors import get_vector_store
from revoque.db import session_scope
from revoque.models import AuditEntry, Faq, Policy, Role
from revoque.pages.admin.content import AdminContentState
from revoque.services import content_admin, knowledge
from revoque.services.admin_forms import FormInvalid
from revoque.services.content_admin import KNOWLEDGE_JOB_ID
from tests.support.admin import add_user, event_text, page_state, run, token_for
from tests.support.recorded_jobs import record_jobs

FAQ = {
    "topic": "Shipping",
    "question": "Do you  deliver to Abuja?",
    "answer": "Yes, in 2–3 business days.",
    "active": "on",
}
URL = "http://localhost:3000/admin/content"


@pytest.fixture
def demo(database) -> None:
    with session_scope(write=True) as session:
        knowledge.seed_knowledge(session)


@pytest.fixture
def recorded(monkeypatch):
    return record_jobs(monkeypatch)


def staff():
    with session_scope(write=True) as session:
        return add_user(session, "sam@example.com", Role.STAFF)


def change(func, *args):
    with session_scope(write=True) as session:
        return func(session, *args)


def reindex_jobs(recorded) -> list:
    return [(job.func, job.job_id) for job in recorded.jobs]


def audit_actions() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_forms_name_every_problem():
    with pytest.raises(FormInvalid) as faq:
        content_admin.parse_faq_form({"topic": "Big topic!", "question": "", "answer": "x" * 4001})
    assert faq.value.problems == {
        "topic": "Topic must be one lower-case word (letters, digits or dashes), like shipping.",
        "question": "Question is required.",
        "answer": "Answer can be at most 4000 characters.",
    }
    data = content_admin.parse_faq_form(FAQ)
    assert (data.topic, data.question, data.active) == ("shipping", "Do you deliver to Abuja?", True)
    with pytest.raises(FormInvalid) as policy:
        content_admin.parse_policy_form({"title": " ", "body": ""})
    assert policy.value.problems == {"title": "Title is required.", "body": "Text is required."}
    with pytest.raises(FormInvalid) as long:
        content_admin.parse_policy_form({"title": "Rules", "body": "\n\n".join(["p"] * 1025)})
    assert long.value.problems == {"body": "Text has 1,025 paragraphs; a policy can have at most 1,024."}
    assert content_admin.parse_policy_form({"title": "T", "body": "One.\r\n\r\nTwo."}).body == "One.\n\nTwo."


def test_each_change_is_audited_and_queues_one_rebuild_after_commit(demo, recorded):
    sam = staff()
    faq = change(content_admin.create_faq, sam, content_admin.parse_faq_form(FAQ))
    assert reindex_jobs(recorded) == [(jobs.reindex_knowledge, KNOWLEDGE_JOB_ID)]
    with session_scope() as session:
        assert faq.position == len(knowledge.DEMO_FAQS)  # at the end of the list
        assert content_admin.list_faqs(session)[-1].question == "Do you deliver to Abuja?"

    with pytest.raises(FormInvalid) as taken:
        change(
            content_admin.create_faq, sam, content_admin.parse_faq_form({**FAQ, "question": "DO YOU DELIVER TO ABUJA?"})
        )
    assert taken.value.problems == {"question": "There is already an FAQ with this question. Edit that one instead."}
    with pytest.raises(RuntimeError), session_scope(write=True) as session:
        content_admin.update_faq(session, sam, faq.id, content_admin.parse_faq_form({**FAQ, "answer": "No."}))
        raise RuntimeError("the request failed after the change")  # rolls back: no job, no entry
    assert len(recorded.jobs) == 1

    change(content_admin.update_faq, sam, faq.id, content_admin.parse_faq_form(FAQ))  # nothing changed
    assert len(recorded.jobs) == 1
    change(content_admin.update_faq, sam, faq.id, content_admin.parse_faq_form({**FAQ, "active": ""}))
    change(content_admin.move_faq, sam, faq.id, "up")
    change(content_admin.delete_faq, sam, faq.id)
    with session_scope() as session:
        policy = session.exec(select(Policy).where(Policy.slug == "returns")).one()
    change(
        content_admin.update_policy,
        sam,
        policy.id,
        content_admin.parse_policy_form({"title": "Returns", "body": "30 days."}),
    )
    assert reindex_jobs(recorded) == [(jobs.reindex_knowledge, KNOWLEDGE_JOB_ID)] * 5
    assert audit_actions() == ["faq.create", "faq.update", "faq.reorder", "faq.delete", "policy.update"]
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert session.get(Faq, faq.id) is None
    assert entries[1].before == {"active": True} and entries[1].after == {"active": False}
    assert entries[3].before["question"] == "Do you deliver to Abuja?" and entries[3].after is None
    assert entries[4].after == {"title": "Returns", "body": "30 days."}


def test_moving_renumbers_the_faqs(demo):
    sam = staff()
    with session_scope() as session:
        first, second = [row.id for row in content_admin.list_faqs(session)[:2]]
    change(content_admin.move_faq, sam, second, "up")
    change(content_admin.move_faq, sam, second, "up")  # already first
    with session_scope() as session:
        rows = content_admin.list_faqs(session)
        positions = [f.position for f in session.exec(select(Faq).order_by(Faq.position))]
    assert [r.id for r in rows[:2]] == [second, first]
    assert (rows[0].first, rows[-1].last) == (True, True)
    assert positions == list(range(len(knowledge.DEMO_FAQS)))
    assert audit_actions() == ["faq.reorder"]


def test_the_job_makes_the_assistant_find_the_new_text(demo, recorded, embedder):
    sam = staff()
    change(
        content_admin.create_faq,
        sam,
        content_admin.parse_faq_form(
            {**FAQ, "question": "Do you gift wrap orders?", "answer": "Yes: gift wrapping is free on request."}
        ),
    )
    [job] = recorded.jobs
    written = job.run()
    with session_scope() as session:
        passages = knowledge.knowledge_passages(session)
        hits = knowledge.search_knowledge(session, "can you wrap my order as a gift?")
    assert written == len(passages)
    assert get_vector_store().ids(knowledge.KNOWLEDGE_COLLECTION) == {p.id for p in passages}
    assert hits[0][0].title == "Do you gift wrap orders?"


def test_the_job_rebuilds_again_when_content_changed_while_it_ran(demo, monkeypatch):
    calls = []

    def fake_reindex(session):
        calls.append(content_admin.knowledge_fingerprint(session))
        if len(calls) == 1:  # staff save an answer while the first rebuild is embedding
            with session_scope(write=True) as other:
                faq = other.exec(select(Faq).order_by(Faq.id)).first()
                faq.answer = "Changed mid-rebuild."
                other.add(faq)
        return len(calls)

    monkeypatch.setattr(knowledge, "reindex_knowledge", fake_reindex)
    assert content_admin.rebuild_knowledge() == 2
    assert calls[0] != calls[1]


def test_staff_edit_content_through_the_page(demo, recorded):
    state = page_state(AdminContentState, token_for(Role.STAFF.value), URL)
    run(AdminContentState.load, state)
    assert len(state.faqs) == len(knowledge.DEMO_FAQS) and len(state.policies) == len(knowledge.DEMO_POLICIES)
    assert "shipping" in state.topics and state.passages > len(knowledge.DEMO_FAQS)

    run(AdminContentState.start_new_faq, state)
    assert state.faq_open and state.faq.id == 0
    run(AdminContentState.save_faq, state, {"question": "", "answer": "", "topic": "general"})
    assert state.faq_errors == {"question": "Question is required.", "answer": "Answer is required."}
    assert recorded.jobs == []
    assert "knowledge is being rebuilt" in event_text(run(AdminContentState.save_faq, state, FAQ))
    assert not state.faq_open and state.faqs[-1].question == "Do you deliver to Abuja?"
    new_id = state.faqs[-1].id

    run(AdminContentState.start_edit_faq, state, new_id)
    assert (state.faq.id, state.faq.topic, state.faq.answer) == (new_id, "shipping", "Yes, in 2–3 business days.")
    run(AdminContentState.move_faq, state, new_id, "up")
    assert state.faqs[-2].id == new_id
    run(AdminContentState.delete_faq, state, new_id)
    assert new_id not in [f.id for f in state.faqs]

    policy_id = state.policies[0].id
    run(AdminContentState.start_edit_policy, state, policy_id)
    assert state.policy_open and state.policy.body != ""
    run(AdminContentState.save_policy, state, {"title": "", "body": "x"})
    assert state.policy_errors == {"title": "Title is required."}
    run(AdminContentState.save_policy, state, {"title": "Payment", "body": "Cards only.\n\nNo cash."})
    assert not state.policy_open
    assert next(p for p in state.policies if p.id == policy_id).paragraphs == 2
    assert len(recorded.jobs) == 4
    assert audit_actions() == ["faq.create", "faq.reorder", "faq.delete", "policy.update"]
