"""Home: hero, featured products, new arrivals, category tiles and collections."""

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.product import product_grid, skeleton_grid
from revoque.db import session_scope
from revoque.services import catalog
from revoque.services.catalog import CategoryTile, CollectionInfo, ProductCard
from revoque.settings import get_settings
from revoque.state.blocking import off_loop
from revoque.state.nav import NavState, framed


class HomeState(rx.State):
    featured: list[ProductCard] = []
    new_arrivals: list[ProductCard] = []
    categories: list[CategoryTile] = []
    collections: list[CollectionInfo] = []
    loaded: bool = False

    @rx.event
    @framed
    @off_loop
    def load(self):
        with session_scope() as session:
            sections = catalog.home_sections(session)
        self.featured, self.new_arrivals = sections.featured, sections.new_arrivals
        self.categories, self.collections = sections.categories, sections.collections
        self.loaded = True


def _hero() -> rx.Component:
    settings = get_settings()
    return rx.box(
        rx.vstack(
            rx.text("New season is here", size="2", weight="bold", class_name="eyebrow"),
            rx.heading("Shop ", NavState.store_name, size=rx.breakpoints(initial="8", md="9"), as_="h1"),
            rx.text(settings.store_tagline, size="4", max_width="520px"),
            rx.hstack(
                rx.link(rx.button("Shop new arrivals", size="3"), href="/search?sort=newest"),
                rx.link(rx.button("Browse all", size="3", variant="outline"), href="/search"),
                spacing="3",
                wrap="wrap",
            ),
            spacing="4",
            align="start",
        ),
        class_name="hero",
    )


def _section(title: str, body: rx.Component, href: str = "", testid: str = "") -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(title, size="6", as_="h2"),
            rx.cond(href != "", rx.link("View all", href=href, size="2")),
            justify="between",
            align="baseline",
            width="100%",
        ),
        body,
        spacing="3",
        width="100%",
        padding_top="32px",
        data_testid=testid,
    )


def _tile(tile) -> rx.Component:
    return rx.link(
        rx.el.img(src=tile.image_url, alt="", loading="lazy", width="300", height="300"),
        rx.el.span(
            rx.el.strong(tile.name),
            rx.el.small(tile.product_count, rx.cond(tile.product_count == 1, " product", " products")),
            class_name="tile-label",
        ),
        href=tile.href,
        underline="none",
        class_name="tile",
        data_testid="category-tile",
    )


def _collection_card(collection) -> rx.Component:
    return rx.link(
        rx.el.img(src=collection.image_url, alt="", loading="lazy", width="600", height="300"),
        rx.el.span(rx.el.strong(collection.title), class_name="tile-label"),
        href=collection.href,
        underline="none",
        class_name="tile wide",
    )


def _products(items) -> rx.Component:
    return rx.cond(HomeState.loaded, product_grid(items), skeleton_grid(4))


@storefront_page(route="/", title="Home", on_load=HomeState.load)
def home_page() -> rx.Component:
    return rx.box(
        _hero(),
        _section("Featured", _products(HomeState.featured), "/search", "featured"),
        _section(
            "Shop by category",
            rx.el.div(rx.foreach(HomeState.categories, _tile), class_name="tile-grid"),
            testid="categories",
        ),
        _section("New arrivals", _products(HomeState.new_arrivals), "/search?sort=newest", "new-arrivals"),
        _section(
            "Collections",
            rx.el.div(rx.foreach(HomeState.collections, _collection_card), class_name="tile-grid wide"),
        ),
    )
