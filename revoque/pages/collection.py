"""Collection page: a hand-picked set, in the merchant's order by default."""

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.listing import listing
from revoque.components.product import breadcrumbs, empty_state
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.services import catalog
from revoque.services.catalog import Crumb, SortOrder
from revoque.state.blocking import off_loop
from revoque.state.listing import ListingMixin
from revoque.state.nav import framed

SORTS = [SortOrder.FEATURED, SortOrder.NEWEST, SortOrder.PRICE_ASC, SortOrder.PRICE_DESC]


class CollectionState(ListingMixin, rx.State):
    slug: str = ""
    title: str = ""
    description: str = ""
    image_url: str = ""

    @rx.var
    def crumbs(self) -> list[Crumb]:
        return [Crumb("Home", "/"), Crumb(self.title, "")]

    @rx.event
    @framed
    @off_loop
    def load(self):
        self.slug = self._path_tail()
        page, sort = self._requested(SortOrder.FEATURED)
        try:
            with session_scope() as session:
                info = catalog.get_collection(session, self.slug)
                result = catalog.list_products(session, collection_slug=self.slug, sort=sort, page=page)
        except NotFound:
            self.title = ""
            self._show_missing()
            return
        self.title, self.description, self.image_url = info.title, info.description, info.image_url
        self._show(result)


def _banner() -> rx.Component:
    return rx.box(
        rx.image(src=CollectionState.image_url, alt="", width="100%", height="100%", object_fit="cover"),
        rx.vstack(
            rx.heading(CollectionState.title, size="8", as_="h1", data_testid="page-heading"),
            rx.text(CollectionState.description, size="3"),
            class_name="banner-text",
        ),
        class_name="banner",
    )


@storefront_page(route="/collection/[slug]", title="Collection", on_load=CollectionState.load)
def collection_page() -> rx.Component:
    return rx.cond(
        CollectionState.not_found,
        empty_state("Collection not found", "That collection does not exist or has ended.", "Back to the shop", "/"),
        rx.vstack(
            breadcrumbs(CollectionState.crumbs),
            _banner(),
            listing(
                CollectionState,
                lambda p: f"/collection/{CollectionState.slug}?page={p}&sort={CollectionState.sort}",
                SORTS,
                "This collection is empty",
                "Check back soon: new picks are on their way.",
            ),
            spacing="4",
            width="100%",
        ),
    )
