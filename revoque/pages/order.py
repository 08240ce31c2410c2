"""/order/<number>?key=…: the order confirmation and status page, for guests and customers alike.

A guest proves the order is theirs with the key from the confirmation link (an HMAC of the order
number); a signed-in customer can open their own orders without it. Anyone else sees "not found".
"""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.order import order_view
from revoque.components.product import empty_state
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import PaymentStatus
from revoque.services import accounts, checkout, invoices, payments, pricing
from revoque.services.accounts import OrderDetail
from revoque.services.checkout import SummaryRow
from revoque.state.nav import framed
from revoque.state.payment import go_to_card_payment
from revoque.state.session import SessionState

INVOICE_WAIT_SECONDS = 30


class OrderPageState(rx.State):
    order: OrderDetail | None = None
    email: str = ""
    bank_details: list[SummaryRow] = []
    not_found: bool = False
    loaded: bool = False
    can_pay: bool = False
    payment_failed: bool = False
    invoice_url: str = ""
    waiting_for_invoice: bool = False
    _order_id: int | None = None

    @rx.event
    @framed
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
                self._order_id, self.can_pay = order.id, payments.awaiting_card_payment(order)
                self.invoice_url = invoices.invoice_download_url(session, order.id) or ""
                self.waiting_for_invoice = order.payment_status == PaymentStatus.PAID and not self.invoice_url
                self.bank_details = checkout.bank_details(pricing.get_store_config(session))
            self.not_found = False
            self.payment_failed = self.router.url.query_parameters.get("payment") == "failed"
        except NotFound:
            self.order, self.not_found, self.waiting_for_invoice = None, True, False
        self.loaded = True
        return OrderPageState.watch_invoice if self.waiting_for_invoice else None

    @rx.event(background=True)
    async def watch_invoice(self):
        """The invoice is made by a job just after payment: look for it for a little while."""
        for _ in range(INVOICE_WAIT_SECONDS):
            await asyncio.sleep(1)
            async with self:
                order_id = self._order_id
            with session_scope() as session:
                url = invoices.invoice_download_url(session, order_id) if order_id else None
            if url:
                async with self:
                    self.invoice_url, self.waiting_for_invoice = url, False
                return
        async with self:
            self.waiting_for_invoice = False

    @rx.event
    async def pay_again(self):
        if self._order_id is None or self.order is None or not self.can_pay:
            return None
        return await go_to_card_payment(self._order_id, self.order.number)


def _card_retry() -> rx.Component:
    return rx.cond(
        OrderPageState.can_pay,
        rx.callout(
            rx.vstack(
                rx.text(
                    rx.cond(
                        OrderPageState.payment_failed,
                        "Your card payment didn't go through. Your order and items are kept for you.",
                        "This order is waiting for your card payment.",
                    ),
                    size="2",
                ),
                rx.button("Pay now", on_click=OrderPageState.pay_again, data_testid="pay-again"),
                spacing="2",
            ),
            icon="credit-card",
            color_scheme=rx.cond(OrderPageState.payment_failed, "red", "amber"),
            data_testid="payment-pending",
        ),
    )


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


def _invoice_link() -> rx.Component:
    return rx.cond(
        OrderPageState.invoice_url != "",
        rx.link(
            rx.button(rx.icon("file-down", size=16), "Download invoice (PDF)", variant="outline"),
            href=OrderPageState.invoice_url,
            is_external=True,
            data_testid="invoice-link",
        ),
        rx.cond(
            OrderPageState.waiting_for_invoice,
            rx.hstack(rx.spinner(size="1"), rx.text("Preparing your invoice…", size="2", color_scheme="gray")),
        ),
    )


def _confirmed() -> rx.Component:
    order = OrderPageState.order
    return rx.vstack(
        rx.hstack(
            rx.center(
                rx.cond(
                    OrderPageState.can_pay,
                    rx.icon("credit-card", size=22, color="white"),
                    rx.icon("check", size=22, color="white"),
                ),
                class_name=rx.cond(OrderPageState.can_pay, "confirm-mark confirm-mark-waiting", "confirm-mark"),
            ),
            rx.vstack(
                rx.heading(
                    rx.cond(OrderPageState.can_pay, "Almost there: complete your payment", "Thank you for your order"),
                    size="7",
                    as_="h1",
                    data_testid="order-confirmed",
                ),
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
        _card_retry(),
        _payment_instructions(),
        order_view(order),
        rx.hstack(
            rx.link(rx.button("Continue shopping", variant="soft", size="3"), href="/"),
            _invoice_link(),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
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
