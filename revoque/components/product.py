"""Product cards, price lines, grids and the pagination bar used by every listing page."""

import reflex as rx


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
    return rx.link(
        rx.card(
            rx.inset(
                rx.box(
                    rx.image(
                        src=card.image_url,
                        alt=card.image_alt,
                        loading="lazy",
                        width="100%",
                        height="100%",
                        object_fit="cover",
                    ),
                    rx.cond(
                        card.discount > 0,
                        rx.badge(f"-{card.discount}%", color_scheme="red", variant="solid", class_name="corner-badge"),
                    ),
                    rx.cond(
                        ~card.in_stock,
                        rx.badge("Sold out", color_scheme="gray", variant="solid", class_name="corner-badge"),
                    ),
                    position="relative",
                    aspect_ratio="1",
                    background_color=rx.color("gray", 3),
                ),
                side="top",
                pb="current",
            ),
            rx.vstack(
                rx.text(card.brand, size="1", color_scheme="gray", text_transform="uppercase", trim="both"),
                rx.text(card.title, size="2", weight="medium", class_name="clamp-2", data_testid="product-title"),
                price_line(card.price_text, card.compare_text, size="2"),
                spacing="1",
            ),
            height="100%",
            class_name="product-card",
        ),
        href=card.href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        data_testid="product-card",
    )


def product_grid(items) -> rx.Component:
    return rx.grid(
        rx.foreach(items, product_card),
        columns=rx.breakpoints(initial="2", sm="3", md="4"),
        spacing=rx.breakpoints(initial="3", md="4"),
        width="100%",
    )


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
