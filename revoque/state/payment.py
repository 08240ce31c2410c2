"""Sending a shopper to pay by card: shared by checkout and the order page's "try again" button."""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.errors import RevoqueError
from revoque.services import payments
from revoque.services.checkout import order_path


async def go_to_card_payment(order_id: int, number: str) -> list:
    """Start a new payment attempt and redirect to the gateway's page; on failure, back to the order
    with the reason, where the shopper can try again (the order and its stock are kept)."""
    try:
        url = await asyncio.to_thread(payments.begin_card_payment, order_id)
    except RevoqueError as exc:
        return [rx.redirect(f"{order_path(number)}&payment=failed"), rx.toast.error(str(exc))]
    return [rx.redirect(url)]  # same tab: the gateway page, or the sandbox page on this site
