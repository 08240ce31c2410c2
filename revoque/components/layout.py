"""The storefront frame: header with logo, category menu, search and cart; footer; page template."""

from collections.abc import Callable

import reflex as rx

from revoque.components.assistant import assistant_widget
from revoque.components.cart import cart_drawer
from revoque.components.search_box import search_box
from revoque.settings import get_settings
from revoque.state.cart import CartState
from revoque.state.nav import NavState, loads_frame
from revoque.state.session import SessionState

CONTENT_WIDTH = "1200px"


def _logo() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(rx.icon("shopping-bag", size=18, color="white"), class_name="logo-mark"),
            rx.text(NavState.store_name, weight="bold", size="5"),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label="Home",
    )


def _cart_button() -> rx.Component:
    return rx.el.button(
        rx.icon("shopping-cart", size=22),
        rx.cond(
            CartState.count > 0,
            rx.badge(CartState.count, class_name="cart-count", radius="full", variant="solid", size="1"),
        ),
        on_click=CartState.set_drawer_open(True),
        class_name="icon-button",
        aria_label=f"Cart, {CartState.count} items",
        data_testid="cart-button",
        type="button",
    )


def _account_link() -> rx.Component:
    return rx.link(
        rx.icon("user-round", size=22),
        href=rx.cond(SessionState.signed_in, "/account", "/sign-in"),
        aria_label=rx.cond(SessionState.signed_in, "Your account", "Sign in"),
        color_scheme="gray",
        high_contrast=True,
        class_name="icon-button",
        data_testid="account-link",
    )


def _menu_links(direction: str) -> rx.Component:
    return rx.foreach(
        NavState.menu,
        lambda item: rx.link(
            item["name"],
            href=item["href"],
            size="2",
            weight="medium",
            color_scheme="gray",
            high_contrast=True,
            underline="hover",
            white_space="nowrap",
            padding_y="4px" if direction == "column" else "0",
        ),
    )


def _mobile_menu() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open menu")),
        rx.drawer.overlay(z_index="40"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        _logo(),
                        rx.drawer.close(rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close")),
                        justify="between",
                        width="100%",
                    ),
                    rx.divider(),
                    _menu_links("column"),
                    spacing="3",
                    padding="20px",
                ),
                background_color=rx.color("gray", 1),
                width="280px",
                height="100%",
                z_index="50",
            )
        ),
        direction="left",
    )


def header() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.box(_mobile_menu(), display=["block", "block", "none"]),
                _logo(),
                rx.box(search_box("header"), flex="1", max_width="520px", display=["none", "block"]),
                rx.spacer(),
                _account_link(),
                _cart_button(),
                align="center",
                spacing="4",
                width="100%",
            ),
            rx.box(search_box("mobile"), width="100%", display=["block", "none"]),
            rx.hstack(
                _menu_links("row"),
                spacing="5",
                overflow_x="auto",
                width="100%",
                display=["none", "none", "flex"],
                aria_label="Categories",
            ),
            spacing="3",
            max_width=CONTENT_WIDTH,
            margin="0 auto",
            padding="12px 16px",
        ),
        as_="header",
        position="sticky",
        top="0",
        z_index="30",
        background_color=rx.color("gray", 1),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def footer() -> rx.Component:
    settings = get_settings()
    return rx.box(
        rx.grid(
            rx.vstack(
                _logo(),
                rx.text(settings.store_tagline, size="2", color_scheme="gray"),
                spacing="2",
            ),
            rx.vstack(
                rx.text("Shop", weight="bold", size="2"),
                rx.link("New arrivals", href="/search?sort=newest", size="2", color_scheme="gray"),
                rx.link("All products", href="/search", size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.vstack(
                rx.text("Help", weight="bold", size="2"),
                rx.text("Delivery across Nigeria in 1–5 days", size="2", color_scheme="gray"),
                rx.text("Easy returns within 14 days", size="2", color_scheme="gray"),
                spacing="1",
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="6",
            max_width=CONTENT_WIDTH,
            margin="0 auto",
            padding="32px 16px",
        ),
        rx.text(
            "© ",
            NavState.store_name,
            ". Prices in ",
            NavState.currency,
            ".",
            size="1",
            color_scheme="gray",
            text_align="center",
            padding_bottom="24px",
        ),
        as_="footer",
        background_color=rx.color("gray", 2),
        border_top=f"1px solid {rx.color('gray', 4)}",
        margin_top="48px",
    )


def hydration_marker() -> rx.Component:
    """An invisible marker tests and benchmarks wait for: clicks before hydration are dropped."""
    return rx.el.span(
        data_testid="hydrated",
        data_hydrated=rx.cond(rx.State.is_hydrated, "true", "false"),
        display="none",
    )


def storefront_page(
    route: str,
    title: str,
    on_load: Callable | list | None = None,
    description: str | None = None,
) -> Callable[[Callable[[], rx.Component]], rx.Component]:
    """Register a storefront page wrapped in the shared frame; the frame (menu, session, cart badge,
    wishlist) loads first with every page, then the page's own handlers (a ``framed`` handler
    loads it in its own event)."""
    own = on_load if isinstance(on_load, list) else [on_load] if on_load else []
    loads = own if own and loads_frame(own[0]) else [NavState.load_frame, *own]

    def decorator(body: Callable[[], rx.Component]) -> rx.Component:
        @rx.page(
            route=route,
            title=rx.Var.create(f"{title} · ") + NavState.store_name,
            description=description or get_settings().store_tagline,
            on_load=loads,
        )
        def page() -> rx.Component:
            return rx.box(
                header(),
                rx.box(body(), as_="main", max_width=CONTENT_WIDTH, margin="0 auto", padding="16px"),
                footer(),
                cart_drawer(),
                assistant_widget(),
                hydration_marker(),
                min_height="100vh",
            )

        page.__name__ = body.__name__
        return page

    return decorator
