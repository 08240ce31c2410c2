"""The header's category menu and store identity, loaded on every storefront page; the admin frame
loads the identity alone."""

import reflex as rx
from sqlmodel import Session

from revoque.db import session_scope
from revoque.services import catalog, store_identity
from revoque.services.money import currency_info
from revoque.services.store_identity import StoreIdentity
from revoque.settings import get_settings
from revoque.state.cart import CartState
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState


def _menu(session: Session) -> list[dict]:
    """Top categories come from the catalog's tagged cache, so a renamed category shows at once."""
    return [{"name": c.name, "href": c.href} for c in catalog.top_categories(session)]


def _symbol(currency: str) -> str:
    return currency_info(currency).symbol.strip()


class NavState(rx.State):
    """Menu links and the store's name and currency only: small enough to send to every client. They
    start as ``STORE_NAME`` and ``STORE_CURRENCY`` (what the prerendered page shows) and follow the
    admin's settings. Anything the frontend shows about the currency binds to ``currency`` or
    ``currency_symbol``, never to a value fixed when the pages were compiled."""

    menu: list[dict[str, str]] = []
    store_name: str = get_settings().store_name
    currency: str = get_settings().store_currency
    currency_symbol: str = _symbol(get_settings().store_currency)

    def _show_identity(self, identity: StoreIdentity) -> None:
        """Assigning marks a var for sending, so only what changed is assigned."""
        if identity.name != self.store_name:
            self.store_name = identity.name
        if identity.currency != self.currency:
            self.currency, self.currency_symbol = identity.currency, _symbol(identity.currency)

    @rx.event
    def load_identity(self):
        """The admin frame's part: the store's name and currency (one cached read)."""
        with session_scope() as session:
            self._show_identity(store_identity.identity(session))

    @rx.event
    async def load_frame(self):
        """Everything the header needs, in one event: the menu, who is signed in (resolved once),
        their cart badge and wishlist hearts. One event instead of four keeps page loads quick."""
        with session_scope() as session:  # cached reads
            menu, identity = _menu(session), store_identity.identity(session)
        if menu != self.menu:
            self.menu = menu
        self._show_identity(identity)
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None and session_state.token:
            session_state.token = ""  # expired, revoked or unknown: forget it
        user_id = user.id if user else None
        (await self.get_state(CartState))._refresh(user_id)
        (await self.get_state(WishlistState))._refresh(user_id)
