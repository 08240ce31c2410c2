"""/order/<number>?key=…: the order confirmation and status page, for guests and customers alike.

A guest proves the order is theirs with the key from the confirmation link (an HMAC of the order
number); a signed-in customer can open their own orders without it. Anyone else sees "not found".
"""

from __future__ import annotations

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.order import order_view
from revoque.components.product import empty_state
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.services import accounts, checkout, pricing
from revoque.services.accounts import OrderDetail
from revoque.services.checkout import SummaryRow
from revoque.state.session import SessionState


class OrderPageState(rx.State):
    order: OrderDetail | None = None
    email: str = ""
    bank_details: list[SummaryRow] = []
    not_found: bool = False
    loaded: bool = False

    @rx.event
    async def load(self):
        self.loaded = False
        number = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        key = self.router.url.query_parameters.get("key", "")
        user_id = await (await self.get_state(SessionState)).signed_in_user_id()
        try:
            with session_scope() as session:
                order = accounts.get_order_by_number(session, number)
                if not checkout.check_order_access(number, key) and (user_id is None or order.user_id != user_id):
                    raise NotFound(number)
                self.order, self.email = accounts.order_detail(session, order), order.email
                self.bank_details = checkout.bank_details(pricing.get_store_config(session))
            self.not_found = False
        except NotFound:
            self.order, self.not_found = None, True
        self.loaded = True


def _payment_instructions() -> rx.Component:
    order = OrderPageState.order
    return rx.cond(
        (order.payment_method_code == "bank_transfer") & (order.payment_status == "Unpaid"),
        rx.callout(
            rx.vstack(
                rx.text(f"Please transfer {order.total} and use {order.number} as the reference:", size="2"),
                rx.foreach(OrderPageState.bank_details, lambda row: rx.text(f"{row.label}: {row.value}", size="2")),
                rx.text("We'll start preparing your order as soon as the money arrives.", size="2"),
                spacing="1",
            ),
            icon="landmark",
            data_testid="bank-instructions",
        ),
        rx.cond(
            order.payment_method_code == "pay_on_delivery",
            rx.callout(f"Pay {order.total} when your order arrives, in cash or by card.", icon="wallet"),
        ),
    )


def _confirmed() -> rx.Component:
    order = OrderPageState.order
    return rx.vstack(
        rx.hstack(
            rx.center(rx.icon("check", size=22, color="white"), class_name="confirm-mark"),
            rx.vstack(
                rx.heading("Thank you for your order", size="7", as_="h1", data_testid="order-confirmed"),
                rx.text(
                    "Order ",
                    rx.text.strong(order.number, data_testid="order-number"),
                    f" · a confirmation is on its way to {OrderPageState.email}",
                    size="3",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            align="center",
            spacing="4",
        ),
        _payment_instructions(),
        order_view(order),
        rx.link(rx.button("Continue shopping", variant="soft", size="3"), href="/"),
        spacing="5",
        width="100%",
    )


@storefront_page(route="/order/[number]", title="Your order", on_load=OrderPageState.load)
def order_page() -> rx.Component:
    return rx.cond(
        OrderPageState.loaded,
        rx.cond(
            OrderPageState.not_found,
            empty_state("Order not found", "Check the link in your confirmation email.", "Back to the shop", "/"),
            _confirmed(),
        ),
        rx.center(rx.spinner(size="3"), padding="64px", width="100%"),
    )
