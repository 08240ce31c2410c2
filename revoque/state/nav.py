"""The header's category menu and store identity, loaded on every storefront page."""

import reflex as rx
from sqlmodel import Session

from revoque.db import session_scope
from revoque.services import catalog, store_identity
from revoque.settings import get_settings
from revoque.state.cart import CartState
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState


def _menu(session: Session) -> list[dict]:
    """Top categories come from the catalog's tagged cache, so a renamed category shows at once."""
    return [{"name": c.name, "href": c.href} for c in catalog.top_categories(session)]


class NavState(rx.State):
    """Menu links and the store's name only: small enough to send to every client. The name starts
    as ``STORE_NAME`` (what the prerendered page shows) and follows the admin's settings."""

    menu: list[dict[str, str]] = []
    store_name: str = get_settings().store_name

    @rx.event
    async def load_frame(self):
        """Everything the header needs, in one event: the menu, who is signed in (resolved once),
        their cart badge and wishlist hearts. One event instead of four keeps page loads quick."""
        with session_scope() as session:  # cached reads; assigning marks a var for sending
            menu, name = _menu(session), store_identity.store_name(session)
        if menu != self.menu:
            self.menu = menu
        if name != self.store_name:
            self.store_name = name
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None and session_state.token:
            session_state.token = ""  # expired, revoked or unknown: forget it
        user_id = user.id if user else None
        (await self.get_state(CartState))._refresh(user_id)
        (await self.get_state(WishlistState))._refresh(user_id)
