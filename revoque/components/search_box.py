"""The header search box: a WAI-ARIA combobox with a listbox of suggestions under it.

Typing is debounced in the browser, and the key handler is plain JavaScript that forwards only the
keys the box reacts to (arrows, Escape): a per-keystroke event to the backend would be a storm.
Enter submits the form, so the backend decides between the active suggestion and the results page.

The list is shown only while the box has focus (CSS ``:focus-within``), so it can never linger over a
page the shopper navigated to; rows keep that focus by cancelling ``mousedown``, so a click is not
lost to the box's blur.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.event import EventChain
from reflex_base.vars.base import Var
from reflex_base.vars.function import FunctionStringVar

from revoque.state.search_box import KEY_STEPS, SearchBoxState

DEBOUNCE_MS = 250
FORWARDED_KEYS = [*KEY_STEPS, "Escape"]


def _key_filter() -> Var:
    """``onKeyDown`` receiving (key, info, event): forward our keys, keep their default (caret
    jumps, Chrome clearing a search field on Escape) from happening, let every other key through."""
    send = Var.create(EventChain.create(SearchBoxState.key_down, args_spec=lambda key: [key]))
    keys = ",".join(f'"{key}"' for key in FORWARDED_KEYS)
    return FunctionStringVar.create(
        f"((key, _info, event) => {{ if ([{keys}].includes(key)) {{ event.preventDefault(); ({send})(key); }} }})",
        _var_data=send._get_all_var_data(),
    )


def _option_id(name: str, index) -> Var:
    return Var.create(f"{name}-option-") + index.to_string()


def _active_descendant(name: str) -> Var:
    return rx.cond(SearchBoxState.shown & (SearchBoxState.active >= 0), _option_id(name, SearchBoxState.active), "")


def _option_attrs(name: str, index) -> dict:
    selected = SearchBoxState.active == index
    return {
        "id": _option_id(name, index),
        "role": "option",
        "aria_selected": rx.cond(selected, "true", "false"),
        "tab_index": -1,
        "class_name": rx.cond(selected, "sb-option sb-active", "sb-option"),
        "underline": "none",
        "on_click": SearchBoxState.choose,
    }


def _suggestion(name: str, suggestion, index) -> rx.Component:
    return rx.link(
        rx.el.img(src=suggestion.image_url, alt="", class_name="sb-thumb"),
        # title_html is the engine's escaped title: only its <mark> tags are markup.
        rx.html(suggestion.title_html, class_name="sb-title clamp-2"),
        rx.el.span(suggestion.price_text, class_name="sb-price"),
        href=suggestion.href,
        data_testid="suggestion",
        **_option_attrs(name, index),
    )


def _all_results(name: str) -> rx.Component:
    return rx.link(
        rx.icon("search", size=16, class_name="sb-all-icon"),
        rx.el.span("See all results for ", rx.el.strong(f"“{SearchBoxState.text}”"), class_name="sb-title"),
        rx.icon("arrow-right", size=16),
        href=SearchBoxState.all_results_href,
        data_testid="suggestion-all",
        **_option_attrs(name, SearchBoxState.suggestions.length()),
    )


def _status() -> rx.Component:
    """What is going on, visible while there is nothing to list and always told to screen readers."""
    empty = SearchBoxState.suggestions.length() == 0
    message = rx.cond(
        SearchBoxState.loading,
        "Searching…",
        rx.cond(empty, "No matching products", f"{SearchBoxState.suggestions.length()} suggestions"),
    )
    return rx.el.div(
        rx.cond(SearchBoxState.loading, rx.spinner(size="1")),
        rx.el.span(message),
        role="status",
        class_name=rx.cond(empty, "sb-status", "sb-status sr-only"),
        data_testid="suggestions-status",
    )


def _panel(name: str) -> rx.Component:
    return rx.cond(
        SearchBoxState.shown,
        rx.el.div(
            _status(),
            rx.el.div(
                rx.foreach(SearchBoxState.suggestions, lambda s, i: _suggestion(name, s, i)),
                _all_results(name),
                id=f"{name}-suggestions",
                role="listbox",
                aria_label="Search suggestions",
                aria_busy=rx.cond(SearchBoxState.loading, "true", "false"),
                class_name="sb-list",
            ),
            on_mouse_down=rx.prevent_default,
            class_name="sb-panel",
            data_testid="suggestions",
        ),
    )


def _input(name: str) -> rx.Component:
    field = rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        rx.input.slot(rx.cond(SearchBoxState.loading, rx.spinner(size="1"))),
        name="q",
        placeholder="Search products",
        on_change=SearchBoxState.set_text,
        on_key_down=_key_filter(),
        on_focus=SearchBoxState.focus,
        on_blur=SearchBoxState.blur,
        type="search",
        role="combobox",
        aria_label="Search products",
        aria_autocomplete="list",
        aria_expanded=rx.cond(SearchBoxState.shown, "true", "false"),
        aria_controls=f"{name}-suggestions",
        aria_activedescendant=_active_descendant(name),
        auto_complete="off",
        enter_key_hint="search",
        size="2",
        radius="full",
        width="100%",
    )
    return rx.debounce_input(field, value=SearchBoxState.text, debounce_timeout=DEBOUNCE_MS)


def search_box(name: str = "header") -> rx.Component:
    """``name`` keeps element ids unique when a page shows more than one box (desktop and mobile)."""
    return rx.form(
        _input(name),
        _panel(name),
        on_submit=SearchBoxState.submit,
        role="search",
        class_name="sb",
        width="100%",
    )
