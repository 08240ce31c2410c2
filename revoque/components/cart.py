"""Cart lines, the quantity stepper, and the drawer that opens from the header's cart icon."""

import reflex as rx

from revoque.state.cart import CartState


def quantity_stepper(line) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("minus", size=14),
            on_click=CartState.change_quantity(line.variant_id, line.quantity - 1),
            variant="soft",
            size="1",
            aria_label="Decrease quantity",
        ),
        rx.text(
            line.quantity, size="2", weight="medium", min_width="24px", text_align="center", data_testid="line-quantity"
        ),
        rx.icon_button(
            rx.icon("plus", size=14),
            on_click=CartState.change_quantity(line.variant_id, line.quantity + 1),
            variant="soft",
            size="1",
            disabled=line.quantity >= line.available,
            aria_label="Increase quantity",
        ),
        align="center",
        spacing="2",
    )


def cart_line(line) -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.el.img(src=line.image_url, alt=line.product_title, width="72", height="72", class_name="line-thumb"),
            href=line.href,
        ),
        rx.vstack(
            rx.link(
                line.product_title, href=line.href, size="2", weight="medium", color_scheme="gray", high_contrast=True
            ),
            rx.cond(line.variant_title != "", rx.text(line.variant_title, size="1", color_scheme="gray")),
            rx.text(line.unit_price_text, size="1", color_scheme="gray"),
            rx.cond(
                line.warning != "", rx.text(line.warning, size="1", color_scheme="red", data_testid="line-warning")
            ),
            quantity_stepper(line),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.vstack(
            rx.text(line.line_total_text, size="2", weight="bold"),
            rx.icon_button(
                rx.icon("trash-2", size=14),
                on_click=CartState.remove(line.variant_id),
                variant="ghost",
                color_scheme="gray",
                size="1",
                aria_label=f"Remove {line.product_title}",
            ),
            align="end",
            justify="between",
            height="100%",
        ),
        align="start",
        spacing="3",
        width="100%",
        padding_y="12px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="cart-line",
    )


def cart_summary(action: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Subtotal", weight="medium"),
            rx.text(CartState.subtotal_text, weight="bold", data_testid="cart-subtotal"),
            justify="between",
            width="100%",
        ),
        rx.text("Delivery and any discount are worked out at checkout.", size="1", color_scheme="gray"),
        rx.cond(
            CartState.has_problems,
            rx.callout(
                "Some items need your attention before you can check out.",
                icon="triangle-alert",
                color_scheme="red",
                size="1",
            ),
        ),
        action,
        width="100%",
        spacing="3",
    )


def checkout_button() -> rx.Component:
    return rx.link(
        rx.button("Checkout", size="3", width="100%", disabled=CartState.has_problems, data_testid="checkout-button"),
        href="/checkout",
        width="100%",
    )


def empty_cart() -> rx.Component:
    return rx.vstack(
        rx.icon("shopping-cart", size=36, color=rx.color("gray", 9)),
        rx.text("Your cart is empty.", weight="medium"),
        rx.link(rx.button("Start shopping", variant="soft"), href="/search"),
        align="center",
        spacing="3",
        padding_y="48px",
        width="100%",
        data_testid="empty-cart",
    )


def cart_drawer() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.overlay(z_index="40"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Your cart", size="5"),
                        rx.drawer.close(rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close cart")),
                        justify="between",
                        width="100%",
                    ),
                    rx.cond(
                        CartState.count > 0,
                        rx.vstack(
                            rx.box(rx.foreach(CartState.lines, cart_line), flex="1", overflow_y="auto", width="100%"),
                            cart_summary(
                                rx.hstack(
                                    rx.link(
                                        rx.button("View cart", variant="outline", size="3", width="100%"),
                                        href="/cart",
                                        flex="1",
                                        on_click=CartState.set_drawer_open(False),
                                    ),
                                    rx.box(checkout_button(), flex="1", on_click=CartState.set_drawer_open(False)),
                                    width="100%",
                                ),
                            ),
                            height="100%",
                            width="100%",
                        ),
                        empty_cart(),
                    ),
                    height="100%",
                    padding="20px",
                    spacing="3",
                ),
                background_color=rx.color("gray", 1),
                width="min(420px, 100vw)",
                height="100%",
                right="0",
                left="auto",
                z_index="50",
                data_testid="cart-drawer",
            )
        ),
        open=CartState.drawer_open,
        on_open_change=CartState.set_drawer_open,
        direction="right",
    )
