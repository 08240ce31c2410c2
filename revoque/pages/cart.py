"""The cart page: every line with quantity, stock warnings and the subtotal."""

import reflex as rx

from revoque.components.cart import cart_line, cart_summary, checkout_button, empty_cart
from revoque.components.layout import storefront_page
from revoque.state.cart import CartState


@storefront_page(route="/cart", title="Your cart")
def cart_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Your cart", size="7", as_="h1", data_testid="page-heading"),
        rx.cond(
            CartState.count > 0,
            rx.grid(
                rx.box(rx.foreach(CartState.lines, cart_line), width="100%"),
                rx.card(cart_summary(checkout_button()), height="fit-content"),
                columns=rx.breakpoints(initial="1", md="3fr 2fr"),
                spacing="6",
                width="100%",
            ),
            empty_cart(),
        ),
        spacing="4",
        width="100%",
    )
