"""The audit log: every change staff make, who made it, when, and the fields before → after.

``record`` adds its entry to the caller's session and never commits: the entry is written in the
same transaction as the change it describes, so a change that rolls back leaves no entry and an
entry never describes a change that did not happen. When both snapshots are given only the fields
that differ are kept, and a "change" that changes nothing is not recorded at all.

Snapshots are plain JSON (``snapshot`` turns a row into one): dates become ISO strings, enums their
values. Secrets never go in: callers pass the fields they changed, and ``snapshot`` drops any field
named like a password or token.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from revoque.models import AuditEntry, User
from revoque.services.pricing import as_utc

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
VALUE_PREVIEW_LENGTH = 160
SECRET_FIELDS = ("password", "token", "secret")
SYSTEM_ACTOR = "System"


@dataclass
class ChangeView:
    field: str
    before: str
    after: str


@dataclass
class AuditRow:
    id: int
    created_text: str  # "3 Mar 2027, 14:05 UTC"
    actor: str  # the staff email, or "System"
    action: str
    entity_type: str
    entity_id: str
    summary: str
    changes: list[ChangeView] = field(default_factory=list)


@dataclass
class AuditPage:
    items: list[AuditRow]
    total: int
    page: int
    pages: int


@dataclass
class ActorOption:
    id: int
    email: str


@dataclass
class AuditFilters:
    """What the log can be narrowed by; empty values mean "any"."""

    entity_type: str = ""
    entity: str = ""  # an entity id (a bare number), or part of its summary ("RVQ-100042", a title)
    actor_id: int | None = None
    action: str = ""


# --- writing ---------------------------------------------------------------------------------------


def _json_value(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_value(v) for v in value]
    return value


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_FIELDS)


def snapshot(row: SQLModel, fields: Iterable[str] | None = None) -> dict:
    """A JSON-safe copy of ``row``'s fields (all of them, or ``fields``), without secrets."""
    names = list(fields) if fields is not None else list(type(row).model_fields)
    return {name: _json_value(getattr(row, name)) for name in names if not _is_secret(name)}


def entity_of(entity: SQLModel | tuple[str, object]) -> tuple[str, str]:
    """(type, id) of a row (its table name and primary key) or of an explicit ``("type", id)`` pair."""
    if isinstance(entity, tuple):
        kind, key = entity
        return str(kind), "" if key is None else str(key)
    key = getattr(entity, "id", None)
    return str(entity.__tablename__), "" if key is None else str(key)


def changed_fields(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Only the fields whose values differ, when both sides are given; one-sided snapshots (a
    creation, a deletion) are kept whole."""
    if before is None or after is None:
        return before, after
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity: SQLModel | tuple[str, object],
    before: dict | None = None,
    after: dict | None = None,
    summary: str = "",
) -> AuditEntry | None:
    """Add an audit entry for ``actor`` (None for the system) to the caller's transaction.

    Returns None, recording nothing, when ``before`` and ``after`` are given and equal."""
    before, after = changed_fields(_json_value(before), _json_value(after))
    if before == {} and after == {}:
        return None
    entity_type, entity_id = entity_of(entity)
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "",
        action=action[:60],
        entity_type=entity_type[:40],
        entity_id=entity_id[:64],
        summary=summary.strip()[:300],
        before=_drop_secrets(before),
        after=_drop_secrets(after),
    )
    session.add(entry)
    session.flush()
    return entry


def _drop_secrets(values: dict | None) -> dict | None:
    return None if values is None else {k: v for k, v in values.items() if not _is_secret(k)}


# --- reading ---------------------------------------------------------------------------------------


def _filtered(statement, filters: AuditFilters):
    if filters.entity_type:
        statement = statement.where(AuditEntry.entity_type == filters.entity_type)
    text = filters.entity.strip()
    if text.isdigit():  # a bare number is an id: "7" must not also find "RVQ-100070" or "order 17"
        statement = statement.where(AuditEntry.entity_id == text)
    elif text:
        statement = statement.where(
            or_(AuditEntry.entity_id == text, func.lower(AuditEntry.summary).contains(text.lower(), autoescape=True))
        )
    if filters.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    return statement


def list_entries(
    session: Session, filters: AuditFilters | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> AuditPage:
    """Newest first, a page at a time; a page past the end gives the last page."""
    filters = filters or AuditFilters()
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    total = session.exec(_filtered(select(func.count()).select_from(AuditEntry), filters)).one()
    pages = max(1, math.ceil(total / page_size))
    page = max(1, min(page, pages))
    rows = session.exec(
        _filtered(select(AuditEntry), filters)
        .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return AuditPage(items=[_row(entry) for entry in rows], total=total, page=page, pages=pages)


def entity_types(session: Session) -> list[str]:
    """The kinds of thing the log mentions, for the filter menu."""
    return list(session.exec(select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)))


def actors(session: Session) -> list[ActorOption]:
    """Everyone who appears in the log (by their current email, else the one recorded)."""
    rows = session.exec(
        select(AuditEntry.actor_id, func.max(AuditEntry.actor_email))
        .where(col(AuditEntry.actor_id).is_not(None))
        .group_by(AuditEntry.actor_id)
    ).all()
    current = {u.id: u.email for u in session.exec(select(User).where(col(User.id).in_([r[0] for r in rows])))}
    options = [ActorOption(id=actor_id, email=current.get(actor_id, email)) for actor_id, email in rows]
    return sorted(options, key=lambda option: option.email)


def _row(entry: AuditEntry) -> AuditRow:
    moment = as_utc(entry.created_at)
    return AuditRow(
        id=entry.id,
        created_text=f"{moment.day} {moment:%b %Y, %H:%M} UTC",
        actor=entry.actor_email or SYSTEM_ACTOR,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        summary=entry.summary,
        changes=change_list(entry.before, entry.after),
    )


def change_list(before: dict | None, after: dict | None) -> list[ChangeView]:
    """One line per field, in the order the fields were recorded: "status: paid → shipped"."""
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [ChangeView(field=k, before=_text(before.get(k)), after=_text(after.get(k))) for k in keys]


def _text(value) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text or "(empty)"
    return text if len(text) <= VALUE_PREVIEW_LENGTH else text[: VALUE_PREVIEW_LENGTH - 1] + "…"
