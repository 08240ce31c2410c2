"""The header search box's rules (rows the arrows move through, where Enter goes) and the results
page's title highlighting, without a browser: the state's handlers are called on a real state
object with suggestions put in place by hand."""

from __future__ import annotations

import pytest
from reflex.state import State

from revoque.pages.search import highlighted_titles, without_price_words
from revoque.services.catalog import ProductCard
from revoque.services.search import Highlight, Suggestion
from revoque.state.search_box import (
    NONE_ACTIVE,
    SearchBoxState,
    enter_target,
    results_href,
    step_active,
    wants_suggestions,
)


def suggestion(title: str) -> Suggestion:
    slug = title.lower().replace(" ", "-")
    return Suggestion(title, f"/product/{slug}", f"/media/{slug}.jpg", "₦1,000", title)


SUGGESTIONS = [suggestion("Canvas Tote"), suggestion("Canvas Sneakers")]


@pytest.fixture
def box() -> SearchBoxState:
    root = State(_reflex_internal_init=True)
    state = root.get_substate(SearchBoxState.get_full_name().split(".")[1:])
    state.text, state.suggestions, state.open = "canv", list(SUGGESTIONS), True
    return state


def press(box: SearchBoxState, *keys: str) -> None:
    for key in keys:
        SearchBoxState.key_down.fn(box, key)


def redirect_path(spec) -> str:
    return dict((name._js_expr, value._var_value) for name, value in spec.args)["path"]


# --- pure rules ---------------------------------------------------------------------------------


def test_arrows_walk_the_rows_and_come_back_to_the_box():
    rows = 3  # two suggestions and "See all results"
    down = [NONE_ACTIVE]
    for _ in range(5):
        down.append(step_active(down[-1], rows, 1))
    assert down == [-1, 0, 1, 2, -1, 0]
    assert step_active(NONE_ACTIVE, rows, -1) == 2  # up from the box: the last row
    assert step_active(0, rows, -1) == NONE_ACTIVE
    assert step_active(NONE_ACTIVE, 0, 1) == NONE_ACTIVE


def test_enter_opens_the_active_suggestion_or_the_results_page():
    assert enter_target(1, SUGGESTIONS, "canv") == "/product/canvas-sneakers"
    assert enter_target(NONE_ACTIVE, SUGGESTIONS, "canv") == "/search?q=canv"
    assert enter_target(len(SUGGESTIONS), SUGGESTIONS, "canv") == "/search?q=canv"  # the "See all" row
    assert enter_target(NONE_ACTIVE, [], "  ") == "/search"


def test_results_href_encodes_and_trims_the_query():
    assert results_href("  red & blue shoes ") == "/search?q=red+%26+blue+shoes"
    assert results_href("x" * 300) == "/search?q=" + "x" * 100
    assert results_href("") == "/search"


def test_suggestions_start_at_two_letters():
    assert not wants_suggestions(" a ")
    assert wants_suggestions("ab")


def card(product_id: int, title: str) -> ProductCard:
    return ProductCard(product_id, f"p{product_id}", title, "Eko", f"/product/p{product_id}", "", "", "₦1", "", 0, True)


def test_titles_are_marked_where_highlighted_and_escaped_otherwise():
    cards = [card(1, "Canvas Tote"), card(2, "Bits & <Bobs>")]
    marks = [Highlight(1, "<mark>Canvas</mark> Tote", "")]
    assert highlighted_titles(cards, marks) == ["<mark>Canvas</mark> Tote", "Bits &amp; &lt;Bobs&gt;"]


def test_removing_the_price_note_searches_the_words_without_the_price():
    params = {"q": "tote under 30000", "page": "2", "brand": "eko"}
    assert without_price_words(params, "tote") == {"brand": "eko", "q": "tote"}
    assert without_price_words({"q": "under 30000"}, "") == {}


# --- the state's handlers -----------------------------------------------------------------------


def test_arrow_keys_move_the_active_row(box):
    press(box, "ArrowDown", "ArrowDown")
    assert box.active == 1
    press(box, "ArrowUp", "ArrowUp", "ArrowUp")
    assert box.active == 2  # past the box, round to "See all results"
    press(box, "Tab", "a")  # keys the box does not use change nothing
    assert box.active == 2


def test_arrow_down_reopens_a_closed_list(box):
    SearchBoxState.blur.fn(box)
    assert (box.open, box.active) == (False, NONE_ACTIVE)
    press(box, "ArrowDown")
    assert (box.open, box.active) == (True, 0)


def test_arrows_do_nothing_under_two_letters(box):
    box.text = "c"
    press(box, "ArrowDown")
    assert box.active == NONE_ACTIVE


def test_escape_closes_then_clears(box):
    press(box, "ArrowDown", "Escape")
    assert (box.open, box.active, box.text) == (False, NONE_ACTIVE, "canv")
    press(box, "Escape")
    assert (box.text, box.suggestions) == ("", [])


def test_enter_with_a_row_active_opens_that_product(box):
    press(box, "ArrowDown", "ArrowDown")
    assert redirect_path(SearchBoxState.submit.fn(box, {"q": "canv"})) == "/product/canvas-sneakers"
    assert (box.open, box.active) == (False, NONE_ACTIVE)


def test_enter_with_no_row_active_opens_the_results_for_the_typed_text(box):
    assert redirect_path(SearchBoxState.submit.fn(box, {"q": " canvas bag "})) == "/search?q=canvas+bag"


def test_enter_after_the_list_closed_ignores_the_old_active_row(box):
    press(box, "ArrowDown")
    box.open = False
    assert redirect_path(SearchBoxState.submit.fn(box, {"q": "canv"})) == "/search?q=canv"


def test_focus_reopens_only_with_suggestions_to_show(box):
    SearchBoxState.blur.fn(box)
    SearchBoxState.focus.fn(box)
    assert box.open
    box.open, box.suggestions = False, []
    SearchBoxState.focus.fn(box)
    assert not box.open
