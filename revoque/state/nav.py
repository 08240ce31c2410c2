"""The header's category menu and store identity, loaded on every storefront page."""

import asyncio

import reflex as rx

from revoque.db import session_scope
from revoque.services import catalog, store_identity
from revoque.settings import get_settings
from revoque.state.cart import CartState
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState


def _menu_and_name() -> tuple[list[dict], str]:
    """Top categories and the store's name, both from the tagged cache, so a renamed category or
    store shows at once."""
    with session_scope() as session:
        menu = [{"name": c.name, "href": c.href} for c in catalog.top_categories(session)]
        return menu, store_identity.store_name(session)


class NavState(rx.State):
    """Menu links and the store's name only: small enough to send to every client. The name starts
    as ``STORE_NAME`` (what the prerendered page shows) and follows the admin's settings."""

    menu: list[dict[str, str]] = []
    store_name: str = get_settings().store_name

    @rx.event
    async def load_frame(self):
        """Everything the header needs, in one event: the menu, who is signed in (resolved once),
        their cart badge and wishlist hearts. One event instead of four keeps page loads quick."""
        menu, name = await asyncio.to_thread(_menu_and_name)
        if menu != self.menu:  # assigning marks a var for sending
            self.menu = menu
        if name != self.store_name:
            self.store_name = name
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None and session_state.token:
            session_state.token = ""  # expired, revoked or unknown: forget it
        user_id = user.id if user else None
        await (await self.get_state(CartState))._refresh(user_id)
        await (await self.get_state(WishlistState))._refresh(user_id)
