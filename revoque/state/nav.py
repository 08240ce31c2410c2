"""The header's category menu and store identity, loaded on every storefront page."""

import reflex as rx

from revoque.db import session_scope
from revoque.services import catalog
from revoque.state.cart import CartState
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState


def _menu() -> list[dict]:
    """Top categories come from the catalog's tagged cache, so a renamed category shows at once."""
    with session_scope() as session:
        return [{"name": c.name, "href": c.href} for c in catalog.top_categories(session)]


class NavState(rx.State):
    """Menu links only: small enough to send to every client."""

    menu: list[dict[str, str]] = []

    @rx.event
    async def load_frame(self):
        """Everything the header needs, in one event: the menu, who is signed in (resolved once),
        their cart badge and wishlist hearts. One event instead of four keeps page loads quick."""
        if (menu := _menu()) != self.menu:  # a cached read; assigning marks the var for sending
            self.menu = menu
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None and session_state.token:
            session_state.token = ""  # expired, revoked or unknown: forget it
        user_id = user.id if user else None
        (await self.get_state(CartState))._refresh(user_id)
        (await self.get_state(WishlistState))._refresh(user_id)
