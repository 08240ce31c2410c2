"""Search results: keyword engine with typo tolerance, facets with counts, sort and pagination.

Everything the shopper chose lives in the URL (q, sort, page, category, brand, size, colour, price,
in_stock), so a search can be shared and reloaded. Multi-valued filters are comma-separated.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from urllib.parse import urlencode

import reflex as rx

from revoque.adapters.search import PRICE_BUCKETS, Facet, SearchFilters, SearchQuery, SortKey
from revoque.components.layout import storefront_page
from revoque.components.listing import sort_select
from revoque.components.product import (
    empty_state,
    highlighted_product_card,
    pagination,
    product_card,
    skeleton_grid,
)
from revoque.db import session_scope
from revoque.services import search
from revoque.services.catalog import ProductCard
from revoque.services.search import SEARCH_SORT_LABELS, FacetGroup, Highlight
from revoque.settings import get_settings
from revoque.state.listing import ListingMixin, int_param
from revoque.state.nav import framed

FACET_PARAMS: dict[str, str] = {
    Facet.CATEGORY: "category",
    Facet.BRAND: "brand",
    Facet.SIZE: "size",
    Facet.COLOUR: "colour",
    Facet.PRICE: "price",
}
FACET_PARAMS_VAR = rx.Var.create(FACET_PARAMS)
FILTER_PARAMS = [*FACET_PARAMS.values(), "in_stock"]
POPULAR_COUNT = 8


def _values(params: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(v for v in params.get(name, "").split(",") if v)[:20]


def parse_sort(value: str | None) -> SortKey:
    try:
        return SortKey(value) if value else SortKey.RELEVANCE
    except ValueError:
        return SortKey.RELEVANCE


def query_from_params(params: dict[str, str], page_size: int) -> SearchQuery:
    """Read a search back from its URL; unknown or malformed values are ignored, never an error."""
    bucket = next((b for b in PRICE_BUCKETS if b.key == params.get("price")), None)
    price_min, price_max = search.price_range(bucket) if bucket else (None, None)
    filters = SearchFilters(
        categories=_values(params, "category"),
        brands=_values(params, "brand"),
        sizes=_values(params, "size"),
        colours=_values(params, "colour"),
        in_stock=params.get("in_stock") == "1",
        price_min=price_min,
        price_max=price_max,
    )
    return SearchQuery(
        text=params.get("q", "").strip()[:100],
        filters=filters,
        facets=tuple(Facet),
        sort=parse_sort(params.get("sort")),
        page=max(1, int_param(params.get("page"), 1)),
        page_size=page_size,
    )


def highlighted_titles(items: Sequence[ProductCard], highlights: Sequence[Highlight]) -> list[str]:
    """Each card's title as HTML, matched words in <mark>, in the cards' order; a card without a
    highlight (the database fallback has none) gets its title escaped, so the grid can always
    render the HTML."""
    marked = {h.product_id: h.title_html for h in highlights}
    return [marked.get(card.id) or html.escape(card.title) for card in items]


def without_price_words(params: dict[str, str], text: str) -> dict[str, str]:
    """The URL parameters searching ``text`` (the query with its price words taken out) instead, so
    the price limit they set is gone and every other choice stays."""
    updated = {k: v for k, v in params.items() if k not in ("q", "page")}
    if text:
        updated["q"] = text
    return updated


def toggled(params: dict[str, str], name: str, value: str) -> dict[str, str]:
    """The URL parameters with one facet value switched on or off (price bands are exclusive)."""
    current = list(_values(params, name))
    if name == "price":
        chosen = [] if current == [value] else [value]
    else:
        chosen = [v for v in current if v != value] if value in current else [*current, value]
    updated = {k: v for k, v in params.items() if k not in (name, "page")}
    if chosen:
        updated[name] = ",".join(chosen)
    return updated


def _results_and_popular(query: SearchQuery) -> tuple[search.SearchPage, list[ProductCard]]:
    """One page of results, and popular products to look at when nothing matched."""
    with session_scope() as session:
        result = search.search_products(session, query)
        if result.total:
            return result, []
        popular = SearchQuery(sort=SortKey.POPULAR, page_size=POPULAR_COUNT)
        return result, search.search_products(session, popular).items


class SearchState(ListingMixin, rx.State):
    query: str = ""
    params: dict[str, str] = {}
    facets: list[FacetGroup] = []
    titles_html: list[str] = []  # the cards' titles with matched words marked, same order as items
    suggestion: str = ""
    price_note: str = ""
    degraded: bool = False
    popular: list[ProductCard] = []

    @rx.var
    def base_query(self) -> str:
        """The URL query without the page number, for pagination links."""
        return urlencode({k: v for k, v in self.params.items() if k != "page"})

    @rx.var
    def has_filters(self) -> bool:
        return any(self.params.get(name) for name in FILTER_PARAMS)

    @rx.var
    def suggestion_href(self) -> str:
        return "/search?" + urlencode({**{k: v for k, v in self.params.items() if k != "page"}, "q": self.suggestion})

    @rx.var
    def without_price_href(self) -> str:
        params = without_price_words(self.params, self.query)
        return f"/search?{urlencode(params)}" if params else "/search"

    @rx.event
    @framed
    async def load(self):
        """The search runs in a worker thread: embedding the query (and, the first time in a
        process, loading the model) must not stall the event loop every other shopper shares."""
        self.params = dict(self.router.url.query_parameters)
        query = query_from_params(self.params, get_settings().page_size)
        result, self.popular = await asyncio.to_thread(_results_and_popular, query)
        self.query, self.facets = result.query, result.facets
        self.titles_html = highlighted_titles(result.items, result.highlights)
        self.suggestion, self.degraded, self.price_note = result.suggestion, result.degraded, result.price_note
        self._show(result)

    def _clicked_params(self) -> dict[str, str]:
        """The parameters of the URL the shopper clicked on. Every event carries the browser's
        URL, while `params` is only refreshed when `load` has run: a second facet clicked right
        after the first would otherwise be built on the URL before the first and drop it."""
        return dict(self.router.url.query_parameters)

    def _go(self, params: dict[str, str]):
        return rx.redirect(f"/search?{urlencode(params)}" if params else "/search")

    @rx.event
    def toggle_facet(self, name: str, value: str):
        if name in FACET_PARAMS.values():
            return self._go(toggled(self._clicked_params(), name, value))
        return None

    @rx.event
    def toggle_in_stock(self, _checked: bool):
        params = self._clicked_params()
        updated = {k: v for k, v in params.items() if k not in ("in_stock", "page")}
        if params.get("in_stock") != "1":
            updated["in_stock"] = "1"
        return self._go(updated)

    @rx.event
    def clear_filters(self):
        return self._go({k: v for k, v in self._clicked_params().items() if k in ("q", "sort")})

    @rx.event
    def change_sort(self, value: str):
        updated = {k: v for k, v in self._clicked_params().items() if k != "page"}
        updated["sort"] = parse_sort(value).value
        return self._go(updated)


def _facet_option(group, option) -> rx.Component:
    return rx.el.label(
        rx.checkbox(
            checked=option.selected,
            on_change=lambda _: SearchState.toggle_facet(FACET_PARAMS_VAR[group.facet], option.value),
            size="1",
        ),
        rx.text(option.label, size="2", flex="1", class_name="clamp-1"),
        rx.text(option.count, size="1", color_scheme="gray"),
        class_name="facet-option",
        data_testid="facet-option",
    )


def _facet_group(group) -> rx.Component:
    return rx.cond(
        group.options.length() > 0,
        rx.vstack(
            rx.text(group.title, weight="bold", size="2"),
            rx.foreach(group.options, lambda option: _facet_option(group, option)),
            spacing="1",
            width="100%",
            data_testid="facet-group",
        ),
    )


def _sidebar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Filters", weight="bold"),
            rx.cond(
                SearchState.has_filters,
                rx.button("Clear all", variant="ghost", size="1", on_click=SearchState.clear_filters),
            ),
            justify="between",
            width="100%",
        ),
        rx.el.label(
            rx.switch(
                checked=SearchState.params.get("in_stock", "") == "1", on_change=SearchState.toggle_in_stock, size="1"
            ),
            rx.text("In stock only", size="2"),
            class_name="facet-option",
        ),
        rx.foreach(SearchState.facets, _facet_group),
        spacing="4",
        width="100%",
        as_="aside",
        aria_label="Filters",
    )


def _notices() -> rx.Component:
    return rx.fragment(
        rx.cond(
            SearchState.degraded,
            rx.callout(
                "Search is running in a simpler mode right now: results match product titles only.",
                icon="info",
                color_scheme="amber",
                size="1",
                data_testid="search-degraded",
            ),
        ),
        rx.cond(
            SearchState.suggestion != "",
            rx.text(
                "Did you mean ",
                rx.link(
                    SearchState.suggestion, href=SearchState.suggestion_href, weight="bold", data_testid="did-you-mean"
                ),
                "?",
                size="3",
            ),
        ),
    )


def _price_note() -> rx.Component:
    """The price limit read out of the shopper's words, as a chip whose × searches without it."""
    return rx.cond(
        SearchState.price_note != "",
        rx.el.div(
            rx.icon("tag", size=14),
            rx.el.span("Price limit from your search: ", rx.el.strong(SearchState.price_note)),
            rx.link(
                rx.icon("x", size=14),
                href=SearchState.without_price_href,
                class_name="price-note-remove",
                aria_label="Search without the price limit",
                data_testid="price-note-remove",
            ),
            class_name="price-note",
            data_testid="price-note",
        ),
    )


def _results() -> rx.Component:
    """The listing's toolbar, grid and pagination (as ``components.listing``), with the matched
    words marked in each card's title."""
    return rx.vstack(
        rx.hstack(
            rx.text(
                rx.cond(SearchState.total == 1, "1 product", f"{SearchState.total} products"),
                size="2",
                color_scheme="gray",
                data_testid="result-count",
            ),
            sort_select(SearchState, list(SEARCH_SORT_LABELS), SEARCH_SORT_LABELS),
            justify="between",
            align="center",
            width="100%",
            wrap="wrap",
        ),
        _price_note(),
        rx.cond(
            SearchState.loaded,
            rx.cond(
                SearchState.total > 0,
                rx.el.div(
                    rx.foreach(
                        SearchState.items,
                        lambda card, i: highlighted_product_card(card, SearchState.titles_html[i]),
                    ),
                    class_name="product-grid",
                ),
                empty_state(
                    "No products match",
                    "Try fewer or different words, remove a filter, or browse the categories above.",
                ),
            ),
            skeleton_grid(),
        ),
        pagination(SearchState.page, SearchState.pages, lambda p: f"/search?{SearchState.base_query}&page={p}"),
        spacing="4",
        width="100%",
    )


def _popular() -> rx.Component:
    return rx.cond(
        SearchState.popular.length() > 0,
        rx.vstack(
            rx.heading("Popular right now", size="5", as_="h2"),
            rx.el.div(rx.foreach(SearchState.popular, product_card), class_name="product-grid"),
            spacing="3",
            width="100%",
        ),
    )


@storefront_page(route="/search", title="Search", on_load=SearchState.load)
def search_page() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.cond(SearchState.query != "", f"Results for “{SearchState.query}”", "All products"),
            size="7",
            as_="h1",
            data_testid="page-heading",
        ),
        _notices(),
        rx.grid(
            rx.box(_sidebar(), display=["none", "none", "block"]),
            rx.vstack(
                _results(),
                _popular(),
                spacing="5",
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", md="220px 1fr"),
            spacing="6",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
