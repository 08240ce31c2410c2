"""Category page: the category's products (its whole subtree), sorted and paginated on the server."""

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.listing import listing
from revoque.components.product import breadcrumbs, empty_state
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.services import catalog
from revoque.services.catalog import CategoryTile, Crumb, SortOrder
from revoque.state.blocking import off_loop
from revoque.state.listing import ListingMixin
from revoque.state.nav import framed

SORTS = [SortOrder.NEWEST, SortOrder.PRICE_ASC, SortOrder.PRICE_DESC]


class CategoryState(ListingMixin, rx.State):
    slug: str = ""
    name: str = ""
    description: str = ""
    crumbs: list[Crumb] = []
    children: list[CategoryTile] = []

    @rx.event
    @framed
    @off_loop
    def load(self):
        self.slug = self._path_tail()
        page, sort = self._requested()
        try:
            with session_scope() as session:
                info = catalog.get_category(session, self.slug)
                result = catalog.list_products(session, category_slug=self.slug, sort=sort, page=page)
        except NotFound:
            self.name, self.crumbs, self.children = "", [], []
            self._show_missing()
            return
        self.name, self.description = info.name, info.description
        self.crumbs, self.children = info.breadcrumbs, info.children
        self._show(result)


def _subcategory_chips() -> rx.Component:
    return rx.hstack(
        rx.foreach(
            CategoryState.children,
            lambda child: rx.link(
                rx.badge(child.name, size="2", variant="surface", radius="full"),
                href=child.href,
                underline="none",
            ),
        ),
        wrap="wrap",
        spacing="2",
    )


@storefront_page(route="/category/[slug]", title="Category", on_load=CategoryState.load)
def category_page() -> rx.Component:
    return rx.cond(
        CategoryState.not_found,
        empty_state("Category not found", "That category does not exist or has moved.", "Back to the shop", "/"),
        rx.vstack(
            breadcrumbs(CategoryState.crumbs),
            rx.heading(CategoryState.name, size="7", as_="h1", data_testid="page-heading"),
            rx.cond(CategoryState.description != "", rx.text(CategoryState.description, color_scheme="gray")),
            _subcategory_chips(),
            listing(
                CategoryState,
                lambda p: f"/category/{CategoryState.slug}?page={p}&sort={CategoryState.sort}",
                SORTS,
                "Nothing here yet",
                "This category has no products at the moment.",
            ),
            spacing="4",
            width="100%",
        ),
    )
