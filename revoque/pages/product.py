"""Product page: gallery, variant picker that updates price, stock badge and SKU, description."""

from dataclasses import dataclass

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.product import breadcrumbs, empty_state, price_line
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.services import carts, catalog
from revoque.services.catalog import Crumb, ImageInfo, ProductDetail, VariantInfo
from revoque.state.cart import CartState


@dataclass
class Choice:
    value: str
    selected: bool
    available: bool


@dataclass
class OptionRow:
    index: int
    name: str
    selected: str
    choices: list[Choice]


def _option_rows(detail: ProductDetail, selection: list[str]) -> list[OptionRow]:
    """Each value is 'available' when, with the other selected values, it names a variant in stock."""
    buyable = [v.values for v in detail.variants if v.in_stock and v.values]
    rows = []
    for index, option in enumerate(detail.options):

        def fits(values: list[str], index: int = index) -> bool:
            return all(values[i] == selection[i] for i in range(len(selection)) if i != index)

        choices = [
            Choice(value, value == selection[index], any(v[index] == value and fits(v) for v in buyable))
            for value in option.values
        ]
        rows.append(OptionRow(index, option.name, selection[index], choices))
    return rows


class ProductState(rx.State):
    slug: str = ""
    title: str = ""
    brand: str = ""
    description: str = ""
    crumbs: list[Crumb] = []
    images: list[ImageInfo] = []
    image_index: int = 0
    option_rows: list[OptionRow] = []
    selection: list[str] = []
    variant: VariantInfo | None = None
    quantity: int = 1
    loaded: bool = False
    not_found: bool = False
    _detail: ProductDetail | None = None

    @rx.event
    def load(self):
        self.slug = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.loaded, self.image_index, self.quantity = False, 0, 1
        try:
            with session_scope() as session:
                detail = catalog.get_product(session, self.slug)
        except NotFound:
            self._detail, self.variant, self.not_found, self.loaded = None, None, True, True
            self.title, self.crumbs, self.images, self.option_rows = "", [], [], []
            return
        self._detail = detail
        self.title, self.brand, self.description = detail.title, detail.brand, detail.description
        self.crumbs, self.images = detail.breadcrumbs, detail.images
        self.not_found = False
        self._select(catalog.default_selection(detail))
        self.loaded = True

    def _select(self, selection: list[str]) -> None:
        self.selection = selection
        self.variant = catalog.find_variant(self._detail, selection)
        self.option_rows = _option_rows(self._detail, selection)

    @rx.event
    def choose(self, option_index: int, value: str):
        if self._detail is None or not 0 <= option_index < len(self.selection):
            return
        if value not in self._detail.options[option_index].values:
            return
        selection = list(self.selection)
        selection[option_index] = value
        self._select(selection)

    @rx.event
    def set_quantity(self, value: str):
        """Whole numbers from 1 to 99; anything else leaves the quantity as it was."""
        if value.isdigit() and 1 <= int(value) <= carts.MAX_LINE_QUANTITY:
            self.quantity = int(value)

    @rx.event
    def show_image(self, index: int):
        if 0 <= index < len(self.images):
            self.image_index = index


def _gallery() -> rx.Component:
    return rx.vstack(
        rx.box(
            rx.image(
                src=ProductState.images[ProductState.image_index].url,
                alt=ProductState.images[ProductState.image_index].alt,
                width="100%",
                height="100%",
                object_fit="cover",
                data_testid="main-image",
            ),
            aspect_ratio="1",
            width="100%",
            border_radius="12px",
            overflow="hidden",
            background_color=rx.color("gray", 3),
        ),
        rx.hstack(
            rx.foreach(
                ProductState.images,
                lambda image, i: rx.el.button(
                    rx.image(src=image.url, alt=image.alt, width="64px", height="64px", object_fit="cover"),
                    on_click=ProductState.show_image(i),
                    class_name=rx.cond(i == ProductState.image_index, "thumb thumb-active", "thumb"),
                    aria_label=f"Show image {i + 1}",
                    type="button",
                ),
            ),
            spacing="2",
            wrap="wrap",
        ),
        width="100%",
        spacing="3",
    )


def _option_picker(row) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row.name, weight="bold", size="2"),
            rx.text(row.selected, size="2", color_scheme="gray"),
            spacing="2",
        ),
        rx.hstack(
            rx.foreach(
                row.choices,
                lambda choice: rx.button(
                    choice.value,
                    on_click=ProductState.choose(row.index, choice.value),
                    variant=rx.cond(choice.selected, "solid", "outline"),
                    color_scheme=rx.cond(choice.selected, "teal", "gray"),
                    class_name=rx.cond(choice.available, "choice", "choice choice-unavailable"),
                    aria_pressed=rx.cond(choice.selected, "true", "false"),
                    data_testid="option-choice",
                    size="2",
                ),
            ),
            spacing="2",
            wrap="wrap",
            role="group",
            aria_label=row.name,
        ),
        spacing="2",
        data_testid="option-picker",
    )


def _stock_badge() -> rx.Component:
    return rx.badge(
        ProductState.variant.stock_label,
        color_scheme=rx.cond(
            ProductState.variant.in_stock,
            rx.cond(ProductState.variant.stock <= catalog.LOW_STOCK_THRESHOLD, "orange", "green"),
            "red",
        ),
        size="2",
        data_testid="stock-badge",
    )


def _buy_box() -> rx.Component:
    return rx.vstack(
        rx.cond(
            ProductState.brand != "",
            rx.text(ProductState.brand, size="2", color_scheme="gray", text_transform="uppercase"),
        ),
        rx.heading(ProductState.title, size="7", as_="h1", data_testid="product-heading"),
        rx.cond(
            ProductState.variant,
            rx.vstack(
                rx.hstack(
                    price_line(ProductState.variant.price_text, ProductState.variant.compare_text, size="6"),
                    rx.cond(
                        ProductState.variant.discount > 0,
                        rx.badge(f"Save {ProductState.variant.discount}%", color_scheme="red"),
                    ),
                    align="center",
                    spacing="3",
                ),
                rx.hstack(
                    _stock_badge(),
                    rx.text(
                        "SKU ", rx.code(ProductState.variant.sku, data_testid="sku"), size="2", color_scheme="gray"
                    ),
                    align="center",
                    spacing="3",
                ),
                spacing="2",
            ),
            rx.callout("This combination is not available. Choose another option.", icon="info", color_scheme="orange"),
        ),
        rx.foreach(ProductState.option_rows, _option_picker),
        _add_to_cart(),
        rx.divider(),
        rx.text(ProductState.description, size="3", line_height="1.7", white_space="pre-line"),
        spacing="4",
        width="100%",
        align="start",
    )


def _add_to_cart() -> rx.Component:
    buyable = ProductState.variant & ProductState.variant.in_stock
    return rx.hstack(
        rx.el.label("Quantity", html_for="quantity", class_name="sr-only"),
        rx.input(
            id="quantity",
            type="number",
            min=1,
            max=carts.MAX_LINE_QUANTITY,
            value=ProductState.quantity.to_string(),
            on_change=ProductState.set_quantity,
            width="80px",
            size="3",
        ),
        rx.button(
            rx.cond(CartState.busy, rx.spinner(size="2"), rx.icon("shopping-bag", size=18)),
            rx.cond(buyable, "Add to cart", "Sold out"),
            size="3",
            flex="1",
            disabled=~buyable | CartState.busy,
            on_click=CartState.add(ProductState.variant.id, ProductState.quantity),
            data_testid="add-to-cart",
        ),
        width="100%",
        spacing="3",
    )


def _loaded_view() -> rx.Component:
    return rx.vstack(
        breadcrumbs(ProductState.crumbs),
        rx.grid(_gallery(), _buy_box(), columns=rx.breakpoints(initial="1", md="2"), spacing="6", width="100%"),
        spacing="4",
        width="100%",
    )


@storefront_page(route="/product/[slug]", title="Product", on_load=ProductState.load)
def product_page() -> rx.Component:
    return rx.cond(
        ProductState.not_found,
        empty_state("Product not found", "That product does not exist or is no longer sold.", "Back to the shop", "/"),
        rx.cond(
            ProductState.loaded,
            _loaded_view(),
            rx.grid(
                rx.skeleton(rx.box(aspect_ratio="1", width="100%"), loading=True),
                rx.skeleton(rx.box(height="240px", width="100%"), loading=True),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="6",
            ),
        ),
    )
