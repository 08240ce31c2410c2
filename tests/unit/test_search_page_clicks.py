"""Facet and sort clicks on the results page build the next URL from the URL the shopper clicked
on, so a second click made before the page finished loading the first keeps both choices."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from revoque.pages.search import SearchState
from tests.support.admin import event_text, page_state, run

CLICKED_ON = "http://localhost:3000/search?q=shirt&category=mens-clothing&page=2"


def _target(spec) -> dict[str, list[str]]:
    path = event_text(spec).split()[0].strip('"')
    return parse_qs(urlsplit(path).query)


def _state_still_on_the_previous_url() -> SearchState:
    state = page_state(SearchState, "", CLICKED_ON)
    state.params = {"q": "shirt"}  # what `load` saw before the first facet's navigation
    return state


def test_a_second_facet_keeps_the_first_even_before_the_page_reloaded():
    target = _target(run(SearchState.toggle_facet, _state_still_on_the_previous_url(), "colour", "Red"))
    assert target == {"q": ["shirt"], "category": ["mens-clothing"], "colour": ["Red"]}


def test_sorting_keeps_the_filters_of_the_clicked_url_and_starts_at_page_one():
    target = _target(run(SearchState.change_sort, _state_still_on_the_previous_url(), "price_asc"))
    assert target == {"q": ["shirt"], "category": ["mens-clothing"], "sort": ["price_asc"]}


def test_clearing_filters_keeps_the_words_and_the_sort():
    state = page_state(SearchState, "", CLICKED_ON + "&sort=newest&in_stock=1")
    assert _target(run(SearchState.clear_filters, state)) == {"q": ["shirt"], "sort": ["newest"]}


def test_in_stock_switch_toggles_on_the_clicked_url():
    state = _state_still_on_the_previous_url()
    assert _target(run(SearchState.toggle_in_stock, state, True))["in_stock"] == ["1"]
    state.router = page_state(SearchState, "", CLICKED_ON + "&in_stock=1").router
    assert "in_stock" not in _target(run(SearchState.toggle_in_stock, state, False))
