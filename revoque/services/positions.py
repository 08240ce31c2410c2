"""Lists staff order by hand (FAQs, delivery methods): move one row up or down and renumber.

Positions are renumbered 0, 1, 2… on every move, so gaps and ties left by older data disappear;
moving the first row up (or the last down) changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from sqlmodel import Session

from revoque.errors import NotFound

DIRECTIONS = ("up", "down")


class Positioned(Protocol):
    id: int | None
    position: int


T = TypeVar("T", bound=Positioned)


def move(session: Session, rows: Sequence[T], row_id: int, direction: str, missing: str) -> tuple[T, list[T]]:
    """``rows`` (in their current order, locked by the caller) with ``row_id`` swapped with its
    neighbour in ``direction``: the moved row and the new order. NotFound(``missing``) when absent."""
    ordered = list(rows)
    index = next((i for i, row in enumerate(ordered) if row.id == row_id), None)
    if index is None:
        raise NotFound(missing)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, row in enumerate(ordered):
        if row.position != position:
            row.position = position
            session.add(row)
    session.flush()
    return rows[index], ordered
