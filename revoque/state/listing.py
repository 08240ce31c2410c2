"""What every product listing page (category, collection, search) shares: one page of cards."""

from urllib.parse import urlencode

import reflex as rx

from revoque.services.catalog import ProductCard, ProductPage, SortOrder, parse_sort


def int_param(value: str | None, default: int) -> int:
    """Page numbers from the URL; junk falls back rather than failing the page."""
    try:
        return int(value) if value else default
    except ValueError:
        return default


class ListingMixin(rx.State, mixin=True):
    """Holds only the page of cards on screen; the catalog stays on the server."""

    items: list[ProductCard] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    sort: str = SortOrder.NEWEST.value
    loaded: bool = False
    not_found: bool = False

    def _path_tail(self) -> str:
        """The slug in /kind/<slug> routes, read from the URL the browser is on."""
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _requested(self, default_sort: SortOrder = SortOrder.NEWEST) -> tuple[int, SortOrder]:
        params = self.router.url.query_parameters
        return int_param(params.get("page"), 1), parse_sort(params.get("sort"), default_sort)

    def _show(self, result: ProductPage) -> None:
        self.items = result.items
        self.total = result.total
        self.page = result.page
        self.pages = result.pages
        self.sort = result.sort
        self.not_found = False
        self.loaded = True

    def _show_missing(self) -> None:
        self.items, self.total, self.page, self.pages = [], 0, 1, 1
        self.not_found = True
        self.loaded = True

    @rx.event
    def change_sort(self, value: str):
        """A new order starts again at page 1 and keeps the other filters in the URL."""
        params = {k: v for k, v in self.router.url.query_parameters.items() if k != "page"}
        params["sort"] = parse_sort(value).value
        return rx.redirect(f"{self.router.url.path}?{urlencode(params)}")
