"""/checkout/return?reference=…: where the payment page sends the shopper back (the "callback").

The browser's arrival proves nothing, so this page asks the gateway itself (``payments.finalize``)
and then shows the order: paid, still being confirmed, or with ``&payment=failed`` so the order page
offers another try. The same payment may also be settled by the webhook at the same moment; the
service makes that safe.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.product import empty_state
from revoque.errors import NotFound, RevoqueError
from revoque.services import payments
from revoque.services.checkout import order_path
from revoque.services.payments import FinalizeOutcome, PaymentState

UNSUCCESSFUL = {PaymentState.FAILED, PaymentState.ABANDONED}


def order_page_after(outcome: FinalizeOutcome) -> str:
    """The order page, flagged for a retry when the attempt failed or was abandoned."""
    return order_path(outcome.order_number) + ("&payment=failed" if outcome.status in UNSUCCESSFUL else "")


class CheckoutReturnState(rx.State):
    error: str = ""
    order_link: str = ""
    not_found: bool = False

    @rx.event
    async def finish(self):
        self.error, self.order_link, self.not_found = "", "", False
        params = self.router.url.query_parameters
        reference = params.get("reference") or params.get("trxref", "")  # Paystack sends both
        try:
            outcome = await asyncio.to_thread(payments.finalize, reference, "callback")
        except NotFound:
            self.not_found = True
            return None
        except RevoqueError as exc:  # the gateway could not answer: the webhook will settle it later
            summary = await asyncio.to_thread(payments.payment_summary, reference)
            self.error = f"{exc} If you paid, your order will update as soon as the payment is confirmed."
            self.order_link = order_path(summary.order_number)
            return None
        return rx.redirect(order_page_after(outcome), replace=True)


def _waiting() -> rx.Component:
    return rx.vstack(
        rx.spinner(size="3"),
        rx.text("Confirming your payment…", size="3", data_testid="confirming-payment"),
        align="center",
        spacing="3",
    )


def _unconfirmed() -> rx.Component:
    return rx.vstack(
        rx.callout(CheckoutReturnState.error, icon="circle-alert", color_scheme="amber", data_testid="return-error"),
        rx.hstack(
            rx.button("Check again", on_click=CheckoutReturnState.finish, size="3"),
            rx.link(rx.button("View your order", variant="soft", size="3"), href=CheckoutReturnState.order_link),
            spacing="3",
        ),
        align="center",
        spacing="4",
        max_width="560px",
    )


@storefront_page(route="/checkout/return", title="Confirming your payment", on_load=CheckoutReturnState.finish)
def checkout_return_page() -> rx.Component:
    return rx.center(
        rx.cond(
            CheckoutReturnState.not_found,
            empty_state("Payment not found", "Open your order from the confirmation email.", "Back to the shop", "/"),
            rx.cond(CheckoutReturnState.error != "", _unconfirmed(), _waiting()),
        ),
        padding_y="48px",
        width="100%",
    )
