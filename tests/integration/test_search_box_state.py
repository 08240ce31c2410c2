"""The header box's typing handler against the embedded engine and a real database: it shows a
loading state, then the suggestions; short text closes the list without asking the engine."""

from __future__ import annotations

import asyncio

import pytest
from reflex.state import State

from revoque.db import session_scope
from revoque.services import search as search_service
from revoque.services.search import reindex_all
from revoque.state.search_box import NONE_ACTIVE, SearchBoxState
from tests.conftest import use_settings
from tests.support.search_catalog import build_search_catalog


@pytest.fixture
def catalog(database, monkeypatch) -> None:
    use_settings(monkeypatch, meili_url="")
    with session_scope() as session:
        build_search_catalog(session)
    reindex_all()


@pytest.fixture
def box() -> SearchBoxState:
    root = State(_reflex_internal_init=True)
    return root.get_substate(SearchBoxState.get_full_name().split(".")[1:])


def type_text(box: SearchBoxState, text: str) -> list[tuple[bool, bool, int]]:
    """Run the handler as Reflex would; (open, loading, suggestions) at each update sent."""
    seen: list[tuple[bool, bool, int]] = []

    async def run() -> None:
        async for _ in SearchBoxState.set_text.fn(box, text):
            seen.append((box.open, box.loading, len(box.suggestions)))

    asyncio.run(run())
    seen.append((box.open, box.loading, len(box.suggestions)))
    return seen


def titles(box: SearchBoxState) -> set[str]:
    return {s.title for s in box.suggestions}


def test_typing_shows_loading_then_suggestions_with_marked_titles(catalog, box):
    assert type_text(box, "sneekers") == [(True, True, 0), (True, False, 2)]
    assert titles(box) == {"Leather Sneakers", "Canvas Sneakers"}
    assert all("<mark>Sneakers</mark>" in s.title_html for s in box.suggestions)
    prices = {s.title: (s.href, s.price_text) for s in box.suggestions}
    assert prices["Canvas Sneakers"] == ("/product/canvas-sneakers", "₦12,000")


def test_new_text_replaces_the_suggestions_and_the_active_row(catalog, box):
    type_text(box, "sneak")
    SearchBoxState.key_down.fn(box, "ArrowDown")
    type_text(box, "leath")
    assert "Leather Belt" in titles(box) and "Canvas Sneakers" not in titles(box)
    assert box.active == NONE_ACTIVE


def test_the_same_text_again_keeps_the_chosen_row(catalog, box, monkeypatch):
    """Enter and blur flush the debounced box with the text it already has."""
    shown = type_text(box, "sneak")[-1]
    SearchBoxState.key_down.fn(box, "ArrowDown")
    monkeypatch.setattr(search_service, "suggest", lambda *_a, **_k: pytest.fail("asked the engine again"))
    assert type_text(box, "sneak") == [shown]
    assert box.active == 0


def test_short_text_closes_the_list_without_asking(catalog, box, monkeypatch):
    type_text(box, "sneak")
    monkeypatch.setattr(search_service, "suggest", lambda *_a, **_k: pytest.fail("asked the engine"))
    assert type_text(box, "s") == [(False, False, 0)]


def test_an_engine_that_is_down_gives_an_empty_list_not_an_error(catalog, box, monkeypatch):
    def down():
        raise search_service.SearchUnavailable("down")

    monkeypatch.setattr(search_service, "get_search_engine", down)
    assert type_text(box, "sneak")[-1] == (True, False, 0)
