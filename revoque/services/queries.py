"""Query pieces the admin lists share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_


def contains_any(words: str, *columns: Any) -> ColumnElement[bool]:
    """Rows where any of ``columns`` contains ``words``, ignoring case; a ``%`` or ``_`` that staff
    type is matched as itself, not as a wildcard."""
    text = words.lower()
    return or_(*(func.lower(column).contains(text, autoescape=True) for column in columns))
