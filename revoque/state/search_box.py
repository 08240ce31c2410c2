"""The header search box: suggestions while the shopper types, moved through with the keyboard.

The browser debounces typing (one ``set_text`` per pause, not per key) and sends only the keys the
box reacts to (arrows, Escape), so a fast typist causes a handful of events. Only the few
suggestions on screen live in the state; the catalog stays on the server.

Rows of the list are the suggestions followed by one "See all results" row, so ``active`` runs over
``len(suggestions) + 1`` rows, with -1 meaning "none: the text box itself".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlencode

import reflex as rx

from revoque.db import session_scope
from revoque.services import search
from revoque.services.search import SUGGEST_MIN_CHARS, Suggestion

MAX_QUERY_CHARS = 100
SUGGESTION_LIMIT = 6
NONE_ACTIVE = -1
KEY_STEPS: dict[str, int] = {"ArrowDown": 1, "ArrowUp": -1}


def clean_query(text: str) -> str:
    return text.strip()[:MAX_QUERY_CHARS]


def wants_suggestions(text: str) -> bool:
    """The service answers nothing below this length; asking would only flash a loading state."""
    return len(clean_query(text)) >= SUGGEST_MIN_CHARS


def results_href(text: str) -> str:
    """The results page for ``text``; an empty box shows every product."""
    query = clean_query(text)
    return f"/search?{urlencode({'q': query})}" if query else "/search"


def step_active(active: int, rows: int, step: int) -> int:
    """The row an arrow key moves to. Moving past either end goes back to the text box (-1) before
    wrapping around, as native comboboxes do, so the shopper can always get back to typing."""
    if rows <= 0:
        return NONE_ACTIVE
    return (active + 1 + step) % (rows + 1) - 1


def enter_target(active: int, suggestions: Sequence[Suggestion], text: str) -> str:
    """Where Enter goes: the active suggestion's product, else (none active, or the "See all
    results" row) the results page for what is in the box."""
    if 0 <= active < len(suggestions):
        return suggestions[active].href
    return results_href(text)


def _fetch(text: str) -> list[Suggestion]:
    with session_scope() as session:
        return search.suggest(session, clean_query(text), limit=SUGGESTION_LIMIT)


class SearchBoxState(rx.State):
    """What the header box shows: its text and the suggestions for it."""

    text: str = ""
    suggestions: list[Suggestion] = []
    active: int = NONE_ACTIVE
    open: bool = False
    loading: bool = False

    @rx.var
    def rows(self) -> int:
        """Rows the arrows move through: the suggestions and the "See all results" row."""
        return len(self.suggestions) + 1

    @rx.var
    def all_results_href(self) -> str:
        return results_href(self.text)

    @rx.var
    def shown(self) -> bool:
        return self.open and wants_suggestions(self.text)

    def _close(self) -> None:
        self.open = False
        self.active = NONE_ACTIVE

    @rx.event
    async def set_text(self, value: str):
        """A pause in typing: show the suggestions for the new text. Enter and blur also flush the
        box, with unchanged text; that must not clear the row the shopper picked."""
        value = value[:MAX_QUERY_CHARS]
        if value == self.text and (self.suggestions or not wants_suggestions(value)):
            return
        self.text = value
        self.active = NONE_ACTIVE
        if not wants_suggestions(value):
            self.suggestions, self.loading = [], False
            self._close()
            return
        self.open, self.loading = True, True
        yield
        # A worker thread keeps the event loop free for other shoppers while the engine answers.
        found = await asyncio.to_thread(_fetch, value)
        self.suggestions, self.loading = found, False

    @rx.event
    def key_down(self, key: str):
        """Arrows move the active row (opening the list if it was closed); Escape closes the list, or
        clears the box when it is already closed."""
        if key == "Escape":
            if self.open:
                self._close()
            else:
                self.text, self.suggestions = "", []
            return
        step = KEY_STEPS.get(key)
        if step is None or not wants_suggestions(self.text):
            return
        if not self.open:
            self.open = True
        self.active = step_active(self.active, self.rows, step)

    @rx.event
    def focus(self):
        """Back in the box: show the suggestions it had, if any."""
        if self.suggestions and wants_suggestions(self.text):
            self.open = True

    @rx.event
    def blur(self):
        self._close()

    @rx.event
    def choose(self):
        """A suggestion was clicked; its link does the navigating."""
        self._close()

    @rx.event
    def submit(self, form: dict):
        """Enter: the active suggestion's product, else the results page for the box's text (read
        from the form, which is never behind the debounced state)."""
        text = str(form.get("q", self.text))
        target = enter_target(self.active if self.open else NONE_ACTIVE, self.suggestions, text)
        self._close()
        return rx.redirect(target)
