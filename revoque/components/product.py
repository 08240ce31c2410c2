"""Product cards, price lines, grids and the pagination bar used by every listing page."""

import reflex as rx

from revoque.state.wishlist import WishlistState


def price_line(price_text, compare_text, size: str = "3") -> rx.Component:
    """Current price, with the old price struck through when the item is on sale."""
    return rx.hstack(
        rx.text(price_text, weight="bold", size=size, data_testid="price"),
        rx.cond(
            compare_text != "",
            rx.text(compare_text, size="2", color_scheme="gray", text_decoration="line-through"),
        ),
        align="baseline",
        spacing="2",
        wrap="wrap",
    )


def product_card(card) -> rx.Component:
    """Plain elements styled by styles.css: a listing renders many cards, and runtime CSS-in-JS for
    each of them was the largest cost of showing a page. (One parameter: ``rx.foreach`` would pass
    the index as a second one.)"""
    return _product_card(card, None)


def highlighted_product_card(card, title_html) -> rx.Component:
    """A search result: ``title_html`` is the title as escaped HTML with the matched words in
    <mark>, shown instead of the plain title."""
    return _product_card(card, title_html)


def _product_card(card, title_html) -> rx.Component:
    saved = WishlistState.product_ids.contains(card.id)
    return rx.el.div(
        _card_link(card, title_html),
        rx.el.button(
            rx.icon("heart", size=16, fill=rx.cond(saved, "currentColor", "none")),
            on_click=WishlistState.toggle(card.id),
            class_name=rx.cond(saved, "pc-heart pc-heart-on", "pc-heart"),
            aria_label=rx.cond(saved, f"Remove {card.title} from wishlist", f"Save {card.title} to wishlist"),
            aria_pressed=rx.cond(saved, "true", "false"),
            type="button",
            data_testid="card-wishlist",
        ),
        class_name="pc-wrap",
    )


def _card_title(card, title_html) -> rx.Component:
    if title_html is None:
        return rx.el.span(card.title, class_name="pc-title clamp-2", data_testid="product-title")
    return rx.html(title_html, class_name="pc-title clamp-2", data_testid="product-title")


def _card_link(card, title_html) -> rx.Component:
    return rx.link(
        rx.el.div(
            rx.el.img(src=card.image_url, alt=card.image_alt, loading="lazy", width="400", height="400"),
            rx.cond(card.discount > 0, rx.el.span(f"-{card.discount}%", class_name="pc-badge pc-sale")),
            rx.cond(~card.in_stock, rx.el.span("Sold out", class_name="pc-badge pc-soldout")),
            class_name="pc-media",
        ),
        rx.el.div(
            rx.el.span(card.brand, class_name="pc-brand"),
            _card_title(card, title_html),
            rx.el.span(
                rx.el.span(card.price_text, class_name="pc-price", data_testid="price"),
                rx.cond(card.compare_text != "", rx.el.s(card.compare_text, class_name="pc-compare")),
                class_name="pc-prices",
            ),
            class_name="pc-body",
        ),
        href=card.href,
        underline="none",
        class_name="product-card",
        data_testid="product-card",
    )


def product_grid(items) -> rx.Component:
    return rx.el.div(rx.foreach(items, product_card), class_name="product-grid")


def skeleton_grid(count: int = 8) -> rx.Component:
    """Placeholders shaped like cards while the first page of a listing loads."""
    return rx.grid(
        *[rx.skeleton(rx.box(aspect_ratio="0.75", width="100%"), loading=True) for _ in range(count)],
        columns=rx.breakpoints(initial="2", sm="3", md="4"),
        spacing="4",
        width="100%",
        aria_busy="true",
    )


def pagination(page, pages, href_for) -> rx.Component:
    """Previous/next links plus "page X of Y"; links keep the URL shareable and crawlable."""
    return rx.cond(
        pages > 1,
        rx.hstack(
            rx.cond(
                page > 1,
                rx.link(
                    rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft"), href=href_for(page - 1)
                ),
                rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft", disabled=True),
            ),
            rx.text(f"Page {page} of {pages}", size="2", data_testid="page-indicator"),
            rx.cond(
                page < pages,
                rx.link(
                    rx.button("Next", rx.icon("chevron-right", size=16), variant="soft"),
                    href=href_for(page + 1),
                    data_testid="next-page",
                ),
                rx.button("Next", rx.icon("chevron-right", size=16), variant="soft", disabled=True),
            ),
            justify="center",
            align="center",
            spacing="4",
            padding_top="24px",
            width="100%",
            as_="nav",
            aria_label="Pagination",
        ),
    )


def breadcrumbs(crumbs) -> rx.Component:
    return rx.hstack(
        rx.foreach(
            crumbs,
            lambda crumb, index: rx.hstack(
                rx.cond(index > 0, rx.icon("chevron-right", size=14, color=rx.color("gray", 8))),
                rx.cond(
                    crumb.href != "",
                    rx.link(crumb.label, href=crumb.href, size="2", color_scheme="gray"),
                    rx.text(crumb.label, size="2", weight="medium", class_name="clamp-1"),
                ),
                align="center",
                spacing="1",
            ),
        ),
        as_="nav",
        aria_label="Breadcrumb",
        spacing="1",
        wrap="wrap",
        data_testid="breadcrumbs",
    )


def empty_state(
    title: str, body: str, action_label: str = "Browse all products", href: str = "/search"
) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("package-search", size=40, color=rx.color("gray", 9)),
            rx.heading(title, size="5"),
            rx.text(body, color_scheme="gray", text_align="center"),
            rx.link(rx.button(action_label), href=href),
            align="center",
            spacing="3",
        ),
        padding="64px 16px",
        width="100%",
    )
