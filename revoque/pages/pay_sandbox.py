"""/pay/sandbox/<reference>: the sandbox gateway's stand-in for a card payment page.

Without PAYSTACK_SECRET_KEY, "Pay by card" sends the shopper here. Their choice (approve, decline,
or cancel) is recorded on the payment attempt and they go on to the same return page a real gateway
would send them to, which asks the gateway (here: reads that choice) and settles the order.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote, unquote

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.errors import NotFound, RevoqueError
from revoque.services import payments
from revoque.services.payments import CALLBACK_PATH, PaymentState
from revoque.state.nav import NavState


class SandboxPaymentState(rx.State):
    reference: str = ""
    order_number: str = ""
    amount_text: str = ""
    return_path: str = ""
    error: str = ""
    payable: bool = False  # an unfinished sandbox attempt: the three buttons are offered
    loaded: bool = False
    deciding: bool = False

    @rx.event
    async def load(self):
        self.loaded, self.deciding, self.payable, self.error = False, False, False, ""
        self.reference = unquote(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
        self.return_path = f"{CALLBACK_PATH}?reference={quote(self.reference, safe='')}"
        try:
            summary = await asyncio.to_thread(payments.payment_summary, self.reference)
        except NotFound:
            self.error = "This payment could not be found. Go back to your order and try again."
        else:
            self.order_number, self.amount_text = summary.order_number, summary.amount_text
            if summary.provider != "sandbox":
                self.error = "This payment is not a sandbox payment."
            elif summary.status != PaymentState.INITIALIZED:
                self.error = "This payment attempt is already finished."
            else:
                self.payable = True
        self.loaded = True

    @rx.event
    async def decide(self, decision: str):
        """Record the choice, then go to the return page exactly as the real gateway would."""
        self.deciding, self.error = True, ""
        yield
        try:
            await asyncio.to_thread(payments.sandbox_decide, self.reference, decision)
        except RevoqueError as exc:
            self.error, self.deciding = str(exc), False
            return
        yield rx.redirect(self.return_path)


def _decision_buttons() -> rx.Component:
    buttons = [
        ("Approve payment", "approve", "solid", "green"),
        ("Decline", "decline", "soft", "red"),
        ("Cancel and go back", "abandon", "outline", "gray"),
    ]
    return rx.vstack(
        *(
            rx.button(
                label,
                on_click=SandboxPaymentState.decide(decision),
                disabled=SandboxPaymentState.deciding,
                variant=variant,
                color_scheme=color,
                size="3",
                width="100%",
                data_testid=f"sandbox-{decision}",
            )
            for label, decision, variant, color in buttons
        ),
        spacing="3",
        width="100%",
    )


def _payment_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.callout(
                "Sandbox payment — no real money moves",
                icon="flask-conical",
                color_scheme="amber",
                width="100%",
                data_testid="sandbox-notice",
            ),
            rx.text("Pay ", NavState.store_name, size="3", color_scheme="gray"),
            rx.heading(SandboxPaymentState.amount_text, size="8", as_="h1", data_testid="sandbox-amount"),
            rx.text(
                "Order ",
                rx.text.strong(SandboxPaymentState.order_number, data_testid="sandbox-order-number"),
                size="3",
            ),
            rx.text(
                "This page stands in for the card payment page. Choose what the card holder does.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                SandboxPaymentState.error != "",
                rx.callout(SandboxPaymentState.error, icon="circle-alert", color_scheme="red", width="100%"),
            ),
            rx.cond(
                SandboxPaymentState.payable,
                _decision_buttons(),
                rx.link("Back to your order", href=SandboxPaymentState.return_path, size="3"),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        max_width="440px",
        size="4",
    )


@storefront_page(route="/pay/sandbox/[reference]", title="Sandbox payment", on_load=SandboxPaymentState.load)
def pay_sandbox_page() -> rx.Component:
    return rx.center(
        rx.cond(SandboxPaymentState.loaded, _payment_card(), rx.spinner(size="3")),
        padding_y="48px",
        width="100%",
    )
