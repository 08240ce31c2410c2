"""Which products the signed-in shopper has saved, so every product card can show its heart."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.db import session_scope
from revoque.services import accounts
from revoque.state.session import SessionState


def _saved_ids(user_id: int) -> list[int]:
    with session_scope() as session:
        return sorted(accounts.wishlist_product_ids(session, user_id))


class WishlistState(rx.State):
    product_ids: list[int] = []

    async def _user_id(self) -> int | None:
        return await (await self.get_state(SessionState)).signed_in_user_id()

    async def _refresh(self, user_id: int | None) -> None:
        """Re-read the saved ids (the page frame and the wishlist page call this; private so that a
        browser can never ask for another user's ids)."""
        self.product_ids = [] if user_id is None else await asyncio.to_thread(_saved_ids, user_id)

    @rx.event
    async def load(self):
        await self._refresh(await self._user_id())

    @rx.event
    async def toggle(self, product_id: int):
        """Save or unsave; a guest is sent to sign in and brought back to this page."""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect(f"/sign-in?{urlencode({'next': self.router.url.path})}")
        saved = product_id in self.product_ids
        with session_scope(write=True) as session:
            if saved:
                accounts.remove_from_wishlist(session, user_id, product_id)
            else:
                accounts.add_to_wishlist(session, user_id, product_id)
        self.product_ids = (
            [i for i in self.product_ids if i != product_id] if saved else [*self.product_ids, product_id]
        )
        return rx.toast.success("Removed from your wishlist" if saved else "Saved to your wishlist")
