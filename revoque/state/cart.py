"""The shopper's cart: the header badge, the drawer and the cart page share this state.

The browser keeps a random cart token in localStorage (it survives reloads and restarts); the
server keeps only its hash. A signed-in customer's cart is found by user id, and on sign-in the
guest cart is merged into it.
"""

from __future__ import annotations

import asyncio

import reflex as rx
from sqlmodel import Session

from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.services import carts
from revoque.services.carts import CartLineView, CartView
from revoque.state.session import SessionState


def cart_view(session: Session, token: str, user_id: int | None) -> CartView:
    """The cart of this browser (``token``) or signed-in customer, as the badge and drawer show it."""
    return carts.view_cart(session, carts.find_cart(session, token=token, user_id=user_id))


def _cart_view(token: str, user_id: int | None) -> CartView:
    with session_scope() as session:
        return cart_view(session, token, user_id)


def _add_item(token: str, user_id: int | None, variant_id: int, quantity: int) -> None:
    with session_scope(write=True) as session:
        carts.add_item(session, carts.open_cart(session, token=token, user_id=user_id), variant_id, quantity)


def _set_quantity(token: str, user_id: int | None, variant_id: int, quantity: int) -> None:
    with session_scope(write=True) as session:
        cart = carts.find_cart(session, token=token, user_id=user_id)
        if cart is not None:
            carts.set_quantity(session, cart, variant_id, quantity)


class CartState(rx.State):
    cart_token: str = rx.LocalStorage("", name="revoque_cart", sync=True)
    count: int = 0
    lines: list[CartLineView] = []
    subtotal_text: str = ""
    has_problems: bool = False
    drawer_open: bool = False
    busy: bool = False

    async def _user_id(self) -> int | None:
        session_state = await self.get_state(SessionState)
        return await session_state.signed_in_user_id()

    def _token(self) -> str:
        if not self.cart_token:
            self.cart_token = carts.new_token()
        return self.cart_token

    def _show(self, view: CartView) -> None:
        self.lines = view.lines
        self.count = view.count
        self.subtotal_text = view.subtotal_text
        self.has_problems = view.has_problems

    async def _reload(self) -> None:
        await self._refresh(await self._user_id())

    async def _refresh(self, user_id: int | None) -> None:
        """Re-read the cart for an already-resolved user (the page frame resolves it once per load)."""
        self._show(await asyncio.to_thread(_cart_view, self.cart_token, user_id))

    @rx.event
    async def add(self, variant_id: int, quantity: int = 1):
        self.busy = True
        yield
        try:
            await asyncio.to_thread(_add_item, self._token(), await self._user_id(), variant_id, quantity)
        except RevoqueError as exc:
            self.busy = False
            yield rx.toast.error(str(exc))
            return
        await self._reload()
        self.busy, self.drawer_open = False, True

    async def _change(self, variant_id: int, quantity: int) -> str:
        """Set a line's quantity (0 removes it); returns the refusal message, if any."""
        error = ""
        try:
            await asyncio.to_thread(_set_quantity, self.cart_token, await self._user_id(), variant_id, quantity)
        except RevoqueError as exc:
            error = str(exc)
        await self._reload()
        return error

    @rx.event
    async def change_quantity(self, variant_id: int, quantity: int):
        error = await self._change(variant_id, quantity)
        if error:
            return rx.toast.error(error)
        return None

    @rx.event
    async def remove(self, variant_id: int):
        error = await self._change(variant_id, 0)
        if error:
            return rx.toast.error(error)
        return None

    @rx.event
    async def after_sign_in(self):
        """Fold this browser's guest cart into the customer's cart, capped by stock."""
        user_id = await self._user_id()
        if user_id is None:
            return
        with session_scope(write=True) as session:
            carts.merge_guest_cart(session, self.cart_token or None, user_id)
        await self._reload()

    @rx.event
    def set_drawer_open(self, value: bool):
        self.drawer_open = value

    @rx.event
    def start_new_cart(self):
        """After an order the converted cart is done with; the next visit starts a fresh one."""
        self.cart_token = carts.new_token()
        self.lines, self.count, self.subtotal_text, self.has_problems = [], 0, "", False
