"""FAQs and policy pages as staff manage them, and keeping the assistant's knowledge in step.

FAQs are listed in the order staff arrange them (the order the assistant's knowledge lists them
too); staff create, edit, hide (``active``), delete and move them. Policies are edited in place:
their slugs are fixed, because links and the demo content refer to them.

Every change is audited in the same transaction and queues ``revoque.jobs.reindex_knowledge`` to
run after it commits, under one fixed job id (``KNOWLEDGE_JOB_ID``): a burst of edits while the job
waits queues a single rebuild. The collection is tiny, so the job rebuilds it whole
(``knowledge.reindex_knowledge``) and, because a job that is already running is not queued again,
it rebuilds once more if the passages changed while it was embedding them (``rebuild_knowledge``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.queue import enqueue_after_commit
from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import Faq, Policy, User
from revoque.services import admin_forms, audit, knowledge, positions
from revoque.services.admin_forms import FormInvalid, Problems
from revoque.services.pricing import as_utc

KNOWLEDGE_JOB_ID = "reindex-knowledge"
REBUILD_ROUNDS = 3  # rebuilds per job while staff keep editing; the next edit queues another job
DEFAULT_TOPICS = ("general", "shipping", "returns", "payment", "orders", "sizing", "contact")
TOPIC_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_ANSWER = 4000
MAX_POLICY_BODY = 50_000
MAX_PARAGRAPHS = 1024  # each paragraph is one passage; knowledge.passage_id has room for 1,024
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
PREVIEW_LENGTH = 140
FAQ_FIELDS = ["topic", "question", "answer", "active"]
POLICY_FIELDS = ["title", "body"]


@dataclass
class FaqRow:
    id: int
    topic: str
    question: str
    answer_preview: str
    active: bool
    first: bool
    last: bool


@dataclass
class FaqFormValues:
    id: int = 0  # 0 for a new FAQ
    topic: str = "general"
    question: str = ""
    answer: str = ""
    active: bool = True


@dataclass(frozen=True)
class FaqInput:
    topic: str
    question: str
    answer: str
    active: bool


@dataclass
class PolicyRow:
    id: int
    slug: str
    title: str
    preview: str
    paragraphs: int
    updated_text: str


@dataclass
class PolicyFormValues:
    id: int = 0
    slug: str = ""
    title: str = ""
    body: str = ""


@dataclass(frozen=True)
class PolicyInput:
    title: str
    body: str


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_LENGTH else flat[: PREVIEW_LENGTH - 1].rstrip() + "…"


def _updated_text(faq_or_policy) -> str:
    moment = as_utc(faq_or_policy.updated_at)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


# --- the knowledge job -----------------------------------------------------------------------------


def schedule_knowledge_reindex(session: Session) -> None:
    """Rebuild the assistant's knowledge once ``session`` commits (nothing if it rolls back)."""
    enqueue_after_commit(session, jobs.reindex_knowledge, job_id=KNOWLEDGE_JOB_ID)


def knowledge_fingerprint(session: Session) -> str:
    """Equal for two reads that hold the same passages (ids, titles and text)."""
    passages = [(p.id, p.title, p.text) for p in knowledge.knowledge_passages(session)]
    return hashlib.sha256(json.dumps(passages).encode()).hexdigest()


def rebuild_knowledge(rounds: int = REBUILD_ROUNDS) -> int:
    """Rebuild the knowledge collection until the passages it was built from are still the ones in
    the database (at most ``rounds`` times); returns how many passages it holds."""
    written = 0
    for _ in range(max(1, rounds)):
        with session_scope() as session:
            fingerprint = knowledge_fingerprint(session)
            written = knowledge.reindex_knowledge(session)
        with session_scope() as session:
            if knowledge_fingerprint(session) == fingerprint:
                break
    return written


# --- FAQs --------------------------------------------------------------------------------------------


def _faqs(session: Session, lock: bool = False) -> list[Faq]:
    statement = select(Faq).order_by(Faq.position, Faq.id)
    return list(session.exec(statement.with_for_update() if lock else statement))


def list_faqs(session: Session) -> list[FaqRow]:
    """Every FAQ, hidden ones included, in the order staff arranged them."""
    faqs = _faqs(session)
    last = len(faqs) - 1
    return [
        FaqRow(f.id, f.topic, f.question, _preview(f.answer), f.active, index == 0, index == last)
        for index, f in enumerate(faqs)
    ]


def topic_options(session: Session) -> list[str]:
    """The usual topics and any other topic an FAQ already uses."""
    used = set(session.exec(select(Faq.topic).distinct()))
    return [*DEFAULT_TOPICS, *sorted(used - set(DEFAULT_TOPICS))]


def get_faq(session: Session, faq_id: int) -> Faq:
    faq = session.get(Faq, faq_id)
    if faq is None:
        raise NotFound("There is no such FAQ. It may have been deleted.")
    return faq


def faq_form_values(session: Session, faq_id: int) -> FaqFormValues:
    faq = get_faq(session, faq_id)
    return FaqFormValues(faq.id, faq.topic, faq.question, faq.answer, faq.active)


def faq_values_from(form: dict, faq_id: int = 0) -> FaqFormValues:
    return FaqFormValues(
        id=faq_id,
        topic=admin_forms.text(form, "topic") or "general",
        question=admin_forms.text(form, "question"),
        answer=admin_forms.text(form, "answer"),
        active=admin_forms.flag(form, "active"),
    )


def parse_faq_form(form: dict) -> FaqInput:
    problems = Problems()
    topic = admin_forms.text(form, "topic").lower() or "general"
    if not TOPIC_PATTERN.match(topic):
        problems.add("topic", "Topic must be one lower-case word (letters, digits or dashes), like shipping.")
    question = " ".join(admin_forms.text(form, "question").split())
    admin_forms.required(problems, "question", question, "Question", 300)
    answer = admin_forms.required(problems, "answer", admin_forms.text(form, "answer"), "Answer", MAX_ANSWER)
    problems.raise_if_any()
    return FaqInput(topic=topic, question=question, answer=answer, active=admin_forms.flag(form, "active"))


def _check_question_free(session: Session, question: str, faq_id: int | None) -> None:
    statement = select(Faq.id).where(func.lower(Faq.question) == question.lower())
    if faq_id is not None:
        statement = statement.where(Faq.id != faq_id)
    if session.exec(statement).first() is not None:
        raise FormInvalid({"question": "There is already an FAQ with this question. Edit that one instead."})


def create_faq(session: Session, actor: User, data: FaqInput) -> Faq:
    """A new FAQ at the end of the list."""
    faqs = _faqs(session, lock=True)
    _check_question_free(session, data.question, None)
    faq = Faq(**_faq_fields(data), position=max((f.position for f in faqs), default=-1) + 1)
    session.add(faq)
    session.flush()
    audit.record(session, actor, "faq.create", faq, None, audit.snapshot(faq, FAQ_FIELDS), faq.question)
    schedule_knowledge_reindex(session)
    return faq


def update_faq(session: Session, actor: User, faq_id: int, data: FaqInput) -> Faq:
    faq = _locked_faq(session, faq_id)
    _check_question_free(session, data.question, faq.id)
    before = audit.snapshot(faq, FAQ_FIELDS)
    for name, value in _faq_fields(data).items():
        setattr(faq, name, value)
    session.add(faq)
    session.flush()
    if audit.record(session, actor, "faq.update", faq, before, audit.snapshot(faq, FAQ_FIELDS), faq.question):
        schedule_knowledge_reindex(session)
    return faq


def delete_faq(session: Session, actor: User, faq_id: int) -> None:
    """Delete an FAQ for good (the audit entry keeps its text); the assistant stops quoting it."""
    faq = _locked_faq(session, faq_id)
    before = audit.snapshot(faq, FAQ_FIELDS)
    audit.record(session, actor, "faq.delete", faq, before, None, faq.question)
    session.delete(faq)
    session.flush()
    schedule_knowledge_reindex(session)


def move_faq(session: Session, actor: User, faq_id: int, direction: str) -> list[Faq]:
    """Swap an FAQ with its neighbour above or below and renumber positions 0, 1, 2…"""
    if direction not in positions.DIRECTIONS:
        raise ValidationError("Move an FAQ up or down.")
    current = _faqs(session, lock=True)
    before = [f.id for f in current]
    moved, faqs = positions.move(session, current, faq_id, direction, "There is no such FAQ. It may have been deleted.")
    summary = f"{moved.question} moved {direction}"
    if audit.record(session, actor, "faq.reorder", moved, {"order": before}, {"order": [f.id for f in faqs]}, summary):
        schedule_knowledge_reindex(session)
    return faqs


def _locked_faq(session: Session, faq_id: int) -> Faq:
    faq = session.exec(
        select(Faq).where(Faq.id == faq_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if faq is None:
        raise NotFound("There is no such FAQ. It may have been deleted.")
    return faq


def _faq_fields(data: FaqInput) -> dict:
    return {"topic": data.topic, "question": data.question, "answer": data.answer, "active": data.active}


# --- policies ----------------------------------------------------------------------------------------


def list_policies(session: Session) -> list[PolicyRow]:
    policies = session.exec(select(Policy).order_by(Policy.title, Policy.id)).all()
    return [
        PolicyRow(p.id, p.slug, p.title, _preview(p.body), len(knowledge.policy_paragraphs(p.body)), _updated_text(p))
        for p in policies
    ]


def get_policy(session: Session, policy_id: int) -> Policy:
    policy = session.get(Policy, policy_id)
    if policy is None:
        raise NotFound("There is no such policy.")
    return policy


def policy_form_values(session: Session, policy_id: int) -> PolicyFormValues:
    policy = get_policy(session, policy_id)
    return PolicyFormValues(policy.id, policy.slug, policy.title, policy.body)


def policy_values_from(form: dict, policy_id: int = 0, slug: str = "") -> PolicyFormValues:
    return PolicyFormValues(policy_id, slug, admin_forms.text(form, "title"), admin_forms.text(form, "body"))


def parse_policy_form(form: dict) -> PolicyInput:
    problems = Problems()
    title = admin_forms.required(problems, "title", " ".join(admin_forms.text(form, "title").split()), "Title", 200)
    body = admin_forms.required(problems, "body", admin_forms.text(form, "body"), "Text", MAX_POLICY_BODY)
    paragraphs = [part for part in PARAGRAPH_BREAK.split(body) if part.strip()]
    if len(paragraphs) > MAX_PARAGRAPHS:
        problems.add("body", f"Text has {len(paragraphs):,} paragraphs; a policy can have at most {MAX_PARAGRAPHS:,}.")
    problems.raise_if_any()
    # Paragraphs are separated by blank lines; Windows line ends would hide them from the passage split.
    return PolicyInput(title=title, body=body.replace("\r\n", "\n"))


def update_policy(session: Session, actor: User, policy_id: int, data: PolicyInput) -> Policy:
    policy = session.exec(
        select(Policy).where(Policy.id == policy_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if policy is None:
        raise NotFound("There is no such policy.")
    before = audit.snapshot(policy, POLICY_FIELDS)
    policy.title, policy.body = data.title, data.body
    session.add(policy)
    session.flush()
    if audit.record(
        session, actor, "policy.update", policy, before, audit.snapshot(policy, POLICY_FIELDS), policy.title
    ):
        schedule_knowledge_reindex(session)
    return policy


def passage_count(session: Session) -> int:
    """How many passages the assistant can quote (active FAQs and policy paragraphs)."""
    return len(knowledge.knowledge_passages(session))


def faq_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Faq).where(col(Faq.active).is_(True))).one()
