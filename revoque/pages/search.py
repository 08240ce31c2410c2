"""Search results. For now a title filter; the search issue swaps in the keyword/semantic engines."""

from urllib.parse import quote_plus

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.listing import listing
from revoque.db import session_scope
from revoque.services import catalog
from revoque.services.catalog import SortOrder
from revoque.state.listing import ListingMixin

SORTS = [SortOrder.NEWEST, SortOrder.PRICE_ASC, SortOrder.PRICE_DESC]


class SearchState(ListingMixin, rx.State):
    query: str = ""

    @rx.var
    def encoded_query(self) -> str:
        return quote_plus(self.query)

    @rx.event
    def load(self):
        self.query = self.router.url.query_parameters.get("q", "").strip()[:100]
        page, sort = self._requested()
        with session_scope() as session:
            self._show(catalog.list_products(session, query=self.query, sort=sort, page=page))


@storefront_page(route="/search", title="Search", on_load=SearchState.load)
def search_page() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.cond(SearchState.query != "", f"Results for “{SearchState.query}”", "All products"),
            size="7",
            as_="h1",
            data_testid="page-heading",
        ),
        listing(
            SearchState,
            lambda p: f"/search?q={SearchState.encoded_query}&page={p}&sort={SearchState.sort}",
            SORTS,
            "No products match",
            "Try fewer or different words, or browse the categories above.",
        ),
        spacing="4",
        width="100%",
    )
