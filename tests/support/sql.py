"""What the store sends to its database, recorded for tests that assert a read stayed cached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from revoque.db import get_engine


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements sent to the configured database inside the block, by any session."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
