"""/account/orders: the customer's orders, a page at a time, and each order's detail with its lines,
totals, addresses and timeline. Another customer's order number is simply "not found"."""

from __future__ import annotations

import reflex as rx

from revoque.components.account import account_shell
from revoque.components.layout import storefront_page
from revoque.components.product import empty_state, pagination
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.pages.account.common import customer_id
from revoque.services import accounts
from revoque.services.accounts import OrderDetail, OrderSummary
from revoque.state.listing import _int_param
from revoque.state.session import SessionState

STATUS_COLORS = {
    "Pending": "amber",
    "Paid": "teal",
    "Processing": "blue",
    "Shipped": "indigo",
    "Delivered": "green",
    "Cancelled": "gray",
    "Refunded": "gray",
}


def status_badge(status) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"), variant="soft", size="2")


class OrdersState(rx.State):
    orders: list[OrderSummary] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    loaded: bool = False

    @rx.event
    async def load(self):
        user_id = await customer_id(self)
        if user_id is None:
            return
        with session_scope() as session:
            result = accounts.list_orders(session, user_id, _int_param(self.router.url.query_parameters.get("page"), 1))
        self.orders, self.total, self.page, self.pages = result.items, result.total, result.page, result.pages
        self.loaded = True


class OrderDetailState(rx.State):
    order: OrderDetail | None = None
    not_found: bool = False
    loaded: bool = False

    @rx.event
    async def load(self):
        self.loaded, self.not_found = False, False
        user_id = await customer_id(self)
        if user_id is None:
            return
        number = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            with session_scope() as session:
                self.order = accounts.get_order_for_user(session, user_id, number)
        except NotFound:
            self.order, self.not_found = None, True
        self.loaded = True


# --- the list ------------------------------------------------------------------------------------


def _order_row(order) -> rx.Component:
    return rx.link(
        rx.card(
            rx.flex(
                rx.vstack(
                    rx.text(f"Order {order.number}", weight="bold", size="3"),
                    rx.text(
                        f"Placed {order.date} · ",
                        rx.cond(order.item_count == 1, "1 item", f"{order.item_count} items"),
                        size="2",
                        color_scheme="gray",
                    ),
                    spacing="1",
                ),
                rx.spacer(),
                rx.hstack(
                    status_badge(order.status),
                    rx.text(order.total, weight="bold", size="3"),
                    rx.icon("chevron-right", size=18, color=rx.color("gray", 9)),
                    align="center",
                    spacing="3",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                align=rx.breakpoints(initial="start", sm="center"),
                gap="3",
                width="100%",
            ),
            width="100%",
        ),
        href=f"/account/orders/{order.number}",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        width="100%",
        data_testid="order-row",
    )


@storefront_page(
    route="/account/orders", title="Your orders", on_load=[SessionState.require_signed_in, OrdersState.load]
)
def orders_page() -> rx.Component:
    return account_shell(
        "/account/orders",
        "Orders",
        rx.cond(
            OrdersState.loaded,
            rx.cond(
                OrdersState.total > 0,
                rx.vstack(
                    rx.foreach(OrdersState.orders, _order_row),
                    pagination(OrdersState.page, OrdersState.pages, lambda p: f"/account/orders?page={p}"),
                    spacing="3",
                    width="100%",
                ),
                empty_state(
                    "No orders yet", "When you place an order it will show up here.", "Start shopping", "/search"
                ),
            ),
            rx.skeleton(rx.box(height="240px", width="100%"), loading=True),
        ),
    )


# --- one order -----------------------------------------------------------------------------------


def _line(line) -> rx.Component:
    title = rx.text(line.title, size="2", weight="medium")
    return rx.hstack(
        rx.el.img(src=line.image_url, alt="", width="56", height="56", class_name="line-thumb small"),
        rx.vstack(
            rx.cond(line.href != "", rx.link(title, href=line.href, color_scheme="gray", high_contrast=True), title),
            rx.cond(line.variant != "", rx.text(line.variant, size="1", color_scheme="gray")),
            rx.text(f"{line.quantity} × {line.unit_price}", size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.text(line.line_total, size="2", weight="bold"),
        align="center",
        spacing="3",
        width="100%",
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="order-line",
    )


def _total_row(label, value, strong: bool = False) -> rx.Component:
    size = "3" if strong else "2"
    return rx.hstack(
        rx.text(label, size=size, weight="bold" if strong else "regular"),
        rx.text(value, size=size, weight="bold" if strong else "regular"),
        justify="between",
        width="100%",
    )


def _totals(order) -> rx.Component:
    return rx.vstack(
        _total_row("Subtotal", order.subtotal),
        rx.cond(order.discount != "", _total_row(f"Discount {order.coupon_code}", f"−{order.discount}")),
        _total_row("Delivery", order.shipping),
        _total_row("Tax", order.tax),
        rx.divider(),
        _total_row("Total", order.total, strong=True),
        spacing="2",
        width="100%",
        padding_top="8px",
    )


def _address_block(title: str, lines) -> rx.Component:
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        rx.cond(
            lines.length() > 0,
            rx.foreach(lines, lambda line: rx.text(line, size="2", color_scheme="gray")),
            rx.text("—", size="2", color_scheme="gray"),
        ),
        spacing="0",
        width="100%",
    )


def _timeline_entry(entry, index) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="10px",
            height="10px",
            border_radius="999px",
            margin_top="6px",
            flex_shrink="0",
            background_color=rx.cond(index == 0, rx.color("teal", 9), rx.color("gray", 7)),
        ),
        rx.vstack(
            rx.text(entry.title, size="2", weight="medium"),
            rx.cond(entry.message != "", rx.text(entry.message, size="2")),
            rx.text(entry.date, size="1", color_scheme="gray"),
            spacing="0",
        ),
        spacing="3",
        align="start",
        data_testid="timeline-entry",
    )


def _order_view(order) -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "All orders", align="center", spacing="1"),
            href="/account/orders",
            size="2",
        ),
        rx.hstack(
            rx.text(f"Placed {order.date}", size="2", color_scheme="gray"),
            status_badge(order.status),
            rx.badge(f"Payment: {order.payment_status}", variant="outline", color_scheme="gray", size="2"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Items", size="4", as_="h2"),
                    rx.box(rx.foreach(order.lines, _line), width="100%"),
                    _totals(order),
                    spacing="2",
                    width="100%",
                ),
                size="3",
            ),
            rx.vstack(
                rx.card(
                    rx.vstack(
                        _address_block("Delivery address", order.shipping_address),
                        _address_block("Billing address", order.billing_address),
                        rx.vstack(
                            rx.text("Delivery and payment", weight="bold", size="2"),
                            rx.text(order.shipping_method, size="2", color_scheme="gray"),
                            rx.text(order.payment_method, size="2", color_scheme="gray"),
                            spacing="0",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    size="3",
                    width="100%",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Timeline", size="4", as_="h2"),
                        rx.cond(
                            order.timeline.length() > 0,
                            rx.vstack(rx.foreach(order.timeline, _timeline_entry), spacing="3"),
                            rx.text("No updates yet.", size="2", color_scheme="gray"),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    size="3",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", md="3fr 2fr"),
            spacing="4",
            align="start",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@storefront_page(
    route="/account/orders/[number]",
    title="Order details",
    on_load=[SessionState.require_signed_in, OrderDetailState.load],
)
def order_detail_page() -> rx.Component:
    order = OrderDetailState.order
    return account_shell(
        "/account/orders",
        rx.cond(order, f"Order {order.number}", "Order"),
        rx.cond(
            OrderDetailState.loaded,
            rx.cond(
                OrderDetailState.not_found,
                empty_state(
                    "Order not found",
                    "There is no order with that number on your account.",
                    "Your orders",
                    "/account/orders",
                ),
                _order_view(order),
            ),
            rx.skeleton(rx.box(height="320px", width="100%"), loading=True),
        ),
    )
