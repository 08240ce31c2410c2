"""Product page: gallery, variant picker that updates price, stock badge and SKU, description,
then (loaded after the product itself) "Frequently bought together", related products and reviews."""

import asyncio
import logging
from dataclasses import dataclass

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.product import breadcrumbs, empty_state, price_line, product_card
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.services import accounts, carts, catalog, recommendations, vector_index
from revoque.services.accounts import ReviewInfo
from revoque.services.catalog import Crumb, ImageInfo, ProductCard, ProductDetail, VariantInfo
from revoque.state.analytics import AnalyticsState
from revoque.state.cart import CartState
from revoque.state.nav import framed
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState

log = logging.getLogger(__name__)

RELATED_LIMIT = 4  # one row of cards on a wide screen
BOUGHT_TOGETHER_LIMIT = recommendations.BOUGHT_TOGETHER_LIMIT


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


def _product_detail(slug: str) -> ProductDetail:
    with session_scope() as session:
        return catalog.get_product(session, slug)


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
    @framed
    async def load(self):
        """The whole page in one event (the frame first): the product goes out first, then reviews
        and the viewer's review rights; the view is counted and recommendations are fetched in the
        background. One event instead of four: under load each event costs a state lock, load and
        save, and the page was waiting for all of them."""
        self.slug = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.loaded, self.image_index, self.quantity = False, 0, 1
        try:
            detail = await asyncio.to_thread(_product_detail, self.slug)
        except NotFound:
            detail = None
        self._show(detail)
        recommendations = await self.get_state(RecommendationsState)
        recommendations._start(detail.id if detail else 0, self.slug)
        extras = await self.get_state(ProductExtrasState)
        if detail is None:
            extras.product_id = 0
            return
        yield  # the product on screen now; the rest follows
        # The frame resolved the viewer a moment ago; review rights only decide what is shown
        # (submit_review resolves the viewer again before writing).
        await extras._load_extras(detail.id, (await self.get_state(SessionState))._user_id)
        await (await self.get_state(AnalyticsState))._count_view(detail.id)
        yield RecommendationsState.fetch

    def _show(self, detail: ProductDetail | None) -> None:
        self._detail, self.not_found, self.loaded = detail, detail is None, True
        if detail is None:
            self.variant, self.title, self.crumbs, self.images, self.option_rows = None, "", [], [], []
            return
        self.title, self.brand, self.description = detail.title, detail.brand, detail.description
        self.crumbs, self.images = detail.breadcrumbs, detail.images
        self._select(catalog.default_selection(detail))

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
        if value.isdecimal() and 1 <= int(value) <= carts.MAX_LINE_QUANTITY:
            self.quantity = int(value)

    @rx.event
    def show_image(self, index: int):
        if 0 <= index < len(self.images):
            self.image_index = index


@dataclass(frozen=True)
class _Extras:
    average: float
    count: int
    histogram: list[tuple[int, int]]
    reviews: list[ReviewInfo]
    can_review: bool


def _extras(product_id: int, user_id: int | None) -> _Extras:
    with session_scope() as session:
        summary = accounts.review_summary(session, product_id)
        return _Extras(
            summary.average,
            summary.count,
            summary.histogram,
            accounts.list_reviews(session, product_id).items,
            bool(user_id) and accounts.can_review(session, user_id, product_id),
        )


class ProductExtrasState(rx.State):
    """Wishlist and reviews: per-shopper data, loaded after the product itself."""

    product_id: int = 0
    average: float = 0.0
    review_count: int = 0
    histogram: list[tuple[int, int]] = []
    reviews: list[ReviewInfo] = []
    can_review: bool = False
    rating: str = "5"
    title: str = ""
    body: str = ""
    review_errors: dict[str, str] = {}

    async def _user_id(self) -> int | None:
        return await (await self.get_state(SessionState)).signed_in_user_id()

    async def _load_extras(self, product_id: int, user_id: int | None) -> None:
        self.product_id = product_id
        extras = await asyncio.to_thread(_extras, product_id, user_id)
        self.reviews, self.can_review = extras.reviews, extras.can_review
        self.average, self.review_count, self.histogram = extras.average, extras.count, extras.histogram

    @rx.event
    def set_review_field(self, field: str, value: str):
        if field in {"rating", "title", "body"}:
            setattr(self, field, value)

    @rx.event
    async def submit_review(self):
        user_id = await self._user_id()
        if user_id is None:
            return None
        try:
            with session_scope(write=True) as session:
                accounts.add_review(
                    session,
                    user_id,
                    self.product_id,
                    rating=int(self.rating) if self.rating.isdecimal() else 0,  # junk gets the rating's message
                    title=self.title,
                    body=self.body,
                )
        except accounts.InvalidFields as exc:
            self.review_errors = exc.errors
            return None
        except RevoqueError as exc:
            self.review_errors = {"form": str(exc)}
            return None
        self.review_errors, self.title, self.body = {}, "", ""
        await self._load_extras(self.product_id, user_id)
        return rx.toast.success("Thank you for your review")


def _recommendation_cards(product_id: int) -> tuple[list[ProductCard], list[ProductCard]]:
    """(related, frequently bought together) cards. A product already in the bought-together row
    is not repeated under related products. Recommendations are optional: whatever goes wrong is
    logged and the rows stay hidden, the product page itself is never affected."""
    try:
        with session_scope() as session:
            together = recommendations.frequently_bought_together(session, product_id, BOUGHT_TOGETHER_LIMIT)
            similar = vector_index.related_products(session, product_id, RELATED_LIMIT + len(together))
            related = [i for i in similar if i not in together][:RELATED_LIMIT]
            cards = {card.id: card for card in catalog.cards_for_products(session, [*related, *together])}
    except Exception:  # optional content: never a stack trace on the page
        log.warning("Recommendations for product %s failed", product_id, exc_info=True)
        return [], []
    return [cards[i] for i in related if i in cards], [cards[i] for i in together if i in cards]


class RecommendationsState(rx.State):
    """Related products and "Frequently bought together", fetched in the background once the
    product is on screen: they never delay the first paint, and "Add to cart" works meanwhile."""

    related: list[ProductCard] = []
    bought_together: list[ProductCard] = []
    loading: bool = True
    for_slug: str = ""  # the product these rows are for: another product's rows are never shown
    _product_id: int = 0

    def _start(self, product_id: int, slug: str) -> None:
        """Set by ``ProductState.load`` before it hands over to ``fetch`` (a background event cannot
        see which product the page loaded)."""
        self._product_id, self.for_slug = product_id, slug
        self.related, self.bought_together, self.loading = [], [], bool(product_id)

    @rx.event(background=True)
    async def fetch(self):
        async with self:
            product_id = self._product_id
        related, together = await asyncio.to_thread(_recommendation_cards, product_id) if product_id else ([], [])
        async with self:
            if self._product_id == product_id:  # the shopper may have moved on to another product
                self.related, self.bought_together, self.loading = related, together, False


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
    saved = WishlistState.product_ids.contains(ProductExtrasState.product_id)
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
        rx.icon_button(
            rx.icon("heart", size=18, fill=rx.cond(saved, "currentColor", "none")),
            on_click=WishlistState.toggle(ProductExtrasState.product_id),
            variant="outline",
            size="3",
            color_scheme=rx.cond(saved, "red", "gray"),
            aria_label=rx.cond(saved, "Remove from wishlist", "Save to wishlist"),
            aria_pressed=rx.cond(saved, "true", "false"),
            data_testid="wishlist-toggle",
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


def _stars(rating) -> rx.Component:
    return rx.hstack(
        *[
            rx.icon("star", size=14, fill=rx.cond(rating >= n, "currentColor", "none"), color=rx.color("amber", 9))
            for n in range(1, 6)
        ],
        spacing="0",
        aria_label=f"{rating} out of 5 stars",
    )


def _histogram_row(row) -> rx.Component:
    share = rx.cond(ProductExtrasState.review_count > 0, row[1] * 100 / ProductExtrasState.review_count, 0)
    return rx.hstack(
        rx.text(f"{row[0]}★", size="1", width="28px"),
        rx.progress(value=share.to(int), max=100, width="160px", size="1", color_scheme="amber"),
        rx.text(row[1], size="1", color_scheme="gray"),
        align="center",
        spacing="2",
    )


def _review(review) -> rx.Component:
    return rx.vstack(
        rx.hstack(_stars(review.rating), rx.text(review.title, weight="bold", size="2"), align="center", spacing="2"),
        rx.cond(review.body != "", rx.text(review.body, size="2")),
        rx.text(f"{review.author} · {review.date}", size="1", color_scheme="gray"),
        spacing="1",
        padding_y="12px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        data_testid="review",
    )


def _review_form() -> rx.Component:
    state = ProductExtrasState
    return rx.form(
        rx.vstack(
            rx.heading("Write a review", size="4", as_="h3"),
            rx.el.label("Rating", html_for="review-rating", class_name="field-label"),
            rx.select(
                ["5", "4", "3", "2", "1"],
                value=state.rating,
                on_change=lambda v: state.set_review_field("rating", v),
                id="review-rating",
            ),
            rx.input(
                placeholder="Title",
                value=state.title,
                on_change=lambda v: state.set_review_field("title", v),
                aria_label="Review title",
                width="100%",
            ),
            rx.text_area(
                placeholder="What did you like or dislike?",
                value=state.body,
                on_change=lambda v: state.set_review_field("body", v),
                aria_label="Review",
                width="100%",
            ),
            rx.foreach(state.review_errors.values(), lambda message: rx.text(message, size="1", color_scheme="red")),
            rx.button("Post review", type="submit"),
            spacing="2",
            width="100%",
            max_width="520px",
        ),
        on_submit=lambda _: state.submit_review(),
    )


def _reviews_section() -> rx.Component:
    state = ProductExtrasState
    return rx.vstack(
        rx.heading("Reviews", size="6", as_="h2"),
        rx.cond(
            state.review_count > 0,
            rx.hstack(
                rx.vstack(
                    rx.text(state.average, size="8", weight="bold", data_testid="rating-average"),
                    _stars(state.average),
                    rx.text(f"{state.review_count} reviews", size="1", color_scheme="gray"),
                    spacing="1",
                ),
                rx.vstack(rx.foreach(state.histogram, _histogram_row), spacing="1"),
                spacing="6",
                wrap="wrap",
            ),
            rx.text("No reviews yet. Customers who receive this product can review it.", size="2", color_scheme="gray"),
        ),
        rx.foreach(state.reviews, _review),
        rx.cond(state.can_review, _review_form()),
        spacing="3",
        width="100%",
        padding_top="32px",
        data_testid="reviews",
    )


def _card_row(title: str, cards, test_id: str) -> rx.Component:
    """A titled row of product cards (styles.css, "recommendations")."""
    return rx.el.section(
        rx.el.h2(title, class_name="rec-title"),
        rx.el.div(rx.foreach(cards, product_card), class_name="product-grid"),
        class_name="rec-row",
        aria_label=title,
        data_testid=test_id,
    )


def _recommendations_skeleton() -> rx.Component:
    return rx.el.div(
        rx.el.div(class_name="rec-skeleton rec-skeleton-title"),
        rx.el.div(*[rx.el.div(class_name="rec-skeleton") for _ in range(RELATED_LIMIT)], class_name="product-grid"),
        class_name="rec-row",
        aria_busy="true",
        aria_label="Loading recommendations",
        data_testid="recommendations-loading",
    )


def _recommendations() -> rx.Component:
    """Both rows are hidden when they have nothing to show: no empty headings on a new store. After
    moving to another product, the skeleton stands in until that product's rows arrive."""
    state = RecommendationsState
    return rx.cond(
        state.loading | (state.for_slug != ProductState.slug),
        _recommendations_skeleton(),
        rx.fragment(
            rx.cond(
                state.bought_together.length() > 0,
                _card_row("Frequently bought together", state.bought_together, "bought-together"),
            ),
            rx.cond(state.related.length() > 0, _card_row("Related products", state.related, "related-products")),
        ),
    )


def _loaded_view() -> rx.Component:
    return rx.vstack(
        breadcrumbs(ProductState.crumbs),
        rx.grid(_gallery(), _buy_box(), columns=rx.breakpoints(initial="1", md="2"), spacing="6", width="100%"),
        _recommendations(),
        _reviews_section(),
        spacing="4",
        width="100%",
    )


@storefront_page(
    route="/product/[slug]",
    title="Product",
    on_load=ProductState.load,
)
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
