"""The toolbar, grid and pagination of a listing page, bound to any state using ListingMixin."""

import reflex as rx

from revoque.components.product import empty_state, pagination, product_grid, skeleton_grid
from revoque.services.catalog import SORT_LABELS


def sort_select(state, sorts: list[str], labels: dict[str, str] = SORT_LABELS) -> rx.Component:
    return rx.hstack(
        rx.text("Sort by", size="2", color_scheme="gray", as_="label", html_for="sort"),
        rx.select.root(
            rx.select.trigger(id="sort", aria_label="Sort products", data_testid="sort-select"),
            rx.select.content(*[rx.select.item(labels[s], value=s) for s in sorts]),
            value=state.sort,
            on_change=state.change_sort,
        ),
        align="center",
        spacing="2",
    )


def listing(
    state, href_for, sorts: list[str], empty_title: str, empty_body: str, labels: dict[str, str] = SORT_LABELS
) -> rx.Component:
    """``href_for(page)`` builds the link to another page of the same listing (a string Var)."""
    return rx.vstack(
        rx.hstack(
            rx.text(
                rx.cond(state.total == 1, "1 product", f"{state.total} products"),
                size="2",
                color_scheme="gray",
                data_testid="result-count",
            ),
            sort_select(state, sorts, labels),
            justify="between",
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            state.loaded,
            rx.cond(state.total > 0, product_grid(state.items), empty_state(empty_title, empty_body)),
            skeleton_grid(),
        ),
        pagination(state.page, state.pages, href_for),
        spacing="4",
        width="100%",
    )
