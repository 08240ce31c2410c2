"""/account/orders: the customer's orders, a page at a time, and each order's detail with its lines,
totals, addresses and timeline. Another customer's order number is simply "not found"."""

from __future__ import annotations

import reflex as rx

from revoque.components.account import account_shell
from revoque.components.layout import storefront_page
from revoque.components.order import order_view, status_badge
from revoque.components.product import empty_state, pagination
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.pages.account.common import customer_id
from revoque.services import accounts
from revoque.services.accounts import OrderDetail, OrderSummary
from revoque.state.listing import int_param
from revoque.state.session import SessionState


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
            result = accounts.list_orders(session, user_id, int_param(self.router.url.query_parameters.get("page"), 1))
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
                rx.vstack(
                    rx.link(
                        rx.hstack(rx.icon("arrow-left", size=14), "All orders", align="center", spacing="1"),
                        href="/account/orders",
                        size="2",
                    ),
                    order_view(order),
                    spacing="4",
                    width="100%",
                ),
            ),
            rx.skeleton(rx.box(height="320px", width="100%"), loading=True),
        ),
    )
