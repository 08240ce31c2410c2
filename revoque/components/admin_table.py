"""The lists admin pages are made of: a table that scrolls sideways on a phone, the same table a
page at a time with the pager under it, and the filter form above such a list whose values go into
the URL (so a filtered, paged view can be reloaded and shared).

A list page's state is an ``AdminListState`` (``total``, ``page``, ``pages``) with a ``query`` var
holding its filters as a query string; these pieces read those vars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

from revoque.components.admin_layout import pager

ANY = "any"  # the "no filter" choice of a filter's select (a select cannot hold an empty value)

Header = str | tuple[str, str] | rx.Component  # a label, (label, text alignment), or a component


def _header_cell(header: Header) -> rx.Component:
    if isinstance(header, tuple):
        label, align = header
        return rx.table.column_header_cell(label, text_align=align)
    return rx.table.column_header_cell(header)


def actions_header() -> rx.Component:
    """The heading of a column of buttons: read to screen readers, not shown."""
    return rx.el.span("Actions", class_name="sr-only")


def data_table(headers: Sequence[Header], rows, row: Callable, size: str = "2", **props) -> rx.Component:
    """``row(item)`` for each item of the list var ``rows``, under ``headers``."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[_header_cell(header) for header in headers])),
            rx.table.body(rx.foreach(rows, row)),
            variant="ghost",
            size=size,
            width="100%",
        ),
        class_name="admin-table-scroll",
        **props,
    )


def filtered_pages(route: str, query) -> Callable:
    """The pager's links for a list at ``route`` filtered by ``query`` (a query-string var)."""
    return lambda page: rx.cond(query != "", f"{route}?{query}&page={page}", f"{route}?page={page}")


def paged_table(
    state,
    route: str,
    headers: Sequence[Header],
    row: Callable,
    empty: rx.Component,
    *,
    rows=None,
    above: rx.Component | None = None,
    href_for: Callable | None = None,
    none_yet: rx.Component | None = None,
) -> rx.Component:
    """The page of ``state.rows`` (or ``rows``) in a table with the pager under it (and ``above``
    over it), or ``empty`` when nothing matches (``none_yet`` instead, when given, while no filter
    is set). The pager keeps the filters of ``state.query`` unless ``href_for`` says otherwise."""
    if none_yet is not None:
        empty = rx.cond(state.query != "", empty, none_yet)
    return rx.cond(
        state.total > 0,
        rx.vstack(
            *([above] if above is not None else []),
            data_table(headers, state.rows if rows is None else rows, row),
            pager(state.page, state.pages, state.total, href_for or filtered_pages(route, state.query)),
            spacing="2",
            width="100%",
        ),
        empty,
    )


def row_list(rows, row: Callable, empty: rx.Component, **props) -> rx.Component:
    """``row(item)`` for each item of the list var ``rows``, one under another, or ``empty``."""
    return rx.cond(rows.length() > 0, rx.vstack(rx.foreach(rows, row), spacing="0", width="100%", **props), empty)


def loading(loaded, content: rx.Component, height: str = "240px") -> rx.Component:
    """``content`` once the page has loaded; a grey placeholder of about its height until then."""
    return rx.cond(loaded, content, rx.skeleton(rx.box(height=height, width="100%")))


def filter_form(
    *filters: rx.Component,
    on_submit,
    key,
    route: str,
    button: str = "Filter",
    icon: str = "filter",
    testid: str = "",
) -> rx.Component:
    """A list's filters (``labelled_filter`` controls) with the submit and "Clear" buttons. The
    fields are uncontrolled: ``key`` (the state's ``query``) mounts them afresh when the URL's
    filters change."""
    submit = {"data_testid": testid} if testid else {}
    return rx.form(
        rx.flex(
            *filters,
            rx.hstack(
                rx.button(rx.icon(icon, size=16), button, type="submit", **submit),
                rx.link(rx.button("Clear", variant="soft", color_scheme="gray", type="button"), href=route),
                spacing="2",
            ),
            spacing="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
        key=key,
    )


def filter_select(name: str, default, options, any_label: str = "", **trigger_props) -> rx.Component:
    """A filter's select, its "any" choice (``any_label``, value ``ANY``) first when given.

    ``options``: items with ``value`` and ``label`` or (value, label) pairs, known when the page is
    compiled; or, for choices that come from the state, the select items already built
    (``rx.foreach``)."""
    first = [rx.select.item(any_label, value=ANY)] if any_label else []
    if isinstance(options, rx.Component):
        items = [options]
    else:
        pairs = [option if isinstance(option, tuple) else (option.value, option.label) for option in options]
        items = [rx.select.item(label, value=value) for value, label in pairs]
    return rx.select.root(
        rx.select.trigger(width="100%", **trigger_props),
        rx.select.content(*first, *items),
        name=name,
        default_value=default,
    )
