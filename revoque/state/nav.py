"""The header's category menu and store identity, loaded on every storefront page; the admin frame
loads the identity alone."""

import asyncio
import functools
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from revoque.db import session_scope
from revoque.models import User
from revoque.services import accounts, catalog, store_identity
from revoque.services.carts import CartView
from revoque.services.money import currency_info
from revoque.services.store_identity import StoreIdentity
from revoque.settings import get_settings
from revoque.state.blocking import off_loop
from revoque.state.cart import CartState, cart_view
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState

# A tab's header is read again on a page load this long after the last read, or at once when its
# session or cart token changed. The tab's own actions update the header as they happen; this only
# bounds how long a change made elsewhere (another tab's cart, a renamed store) takes to show, and
# spares the database a read on every one of a browsing shopper's page loads.
FRAME_FRESH_SECONDS = 10.0


@dataclass(frozen=True)
class _Frame:
    menu: list[dict[str, str]]
    identity: StoreIdentity
    user: User | None
    cart: CartView
    saved_product_ids: list[int]


def _frame(session_token: str, cart_token: str) -> _Frame:
    """Everything the header shows, read in one go (one trip to a worker thread, one database
    session): the menu and the store's name and currency come from the tagged cache, so a renamed
    category or store shows at once; who is signed in is resolved from the token now."""
    with session_scope() as session:
        user = accounts.resolve_session(session, session_token)
        user_id = user.id if user else None
        return _Frame(
            menu=[{"name": c.name, "href": c.href} for c in catalog.top_categories(session)],
            identity=store_identity.identity(session),
            user=user,
            cart=cart_view(session, cart_token, user_id),
            saved_product_ids=sorted(accounts.wishlist_product_ids(session, user_id)) if user_id else [],
        )


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
    _frame_read_at: float = 0.0  # wall-clock time: the tab may move to another worker
    _frame_tokens: tuple[str, str] = ("", "")  # the session and cart tokens it was read for

    def _show_identity(self, identity: StoreIdentity) -> None:
        """Assigning marks a var for sending, so only what changed is assigned."""
        if identity.name != self.store_name:
            self.store_name = identity.name
        if identity.currency != self.currency:
            self.currency, self.currency_symbol = identity.currency, _symbol(identity.currency)

    @rx.event
    @off_loop
    def load_identity(self):
        """The admin frame's part: the store's name and currency (one cached read)."""
        with session_scope() as session:
            self._show_identity(store_identity.identity(session))

    @rx.event
    async def load_frame(self):
        """Everything the header needs, in one event: the menu, who is signed in (resolved once),
        their cart badge and wishlist hearts. One event instead of four keeps page loads quick (a
        page whose load is ``framed`` reads them in its own event instead)."""
        await self._refresh_frame()

    async def _refresh_frame(self) -> None:
        """Read the frame, at most every ``FRAME_FRESH_SECONDS`` while the tab's tokens stay."""
        session_state = await self.get_state(SessionState)
        cart_state = await self.get_state(CartState)
        tokens = (session_state.token, cart_state.cart_token)
        if tokens == self._frame_tokens and time.time() - self._frame_read_at < FRAME_FRESH_SECONDS:
            return
        frame = await asyncio.to_thread(_frame, *tokens)
        if frame.menu != self.menu:  # assigning marks a var for sending
            self.menu = frame.menu
        self._show_identity(frame.identity)
        session_state._show(frame.user)
        if frame.user is None and session_state.token:
            session_state.token = ""  # expired, revoked or unknown: forget it
        cart_state._show(frame.cart)
        (await self.get_state(WishlistState)).product_ids = frame.saved_product_ids
        self._frame_tokens, self._frame_read_at = (session_state.token, cart_state.cart_token), time.time()


def framed(load: Callable) -> Callable:
    """Make a page's on_load handler read the header frame first, in its own event. A page load is
    a chain of events (the router's, the frame's, the page's, the hydrated flag), and each costs
    the tab's lock, a delta and a websocket message; ``storefront_page`` sees the mark and leaves
    ``NavState.load_frame`` out of such a page's chain. ``load`` must be async (``off_loop`` makes
    a synchronous one so)."""
    if inspect.isasyncgenfunction(load):

        async def run_steps(self: rx.State, *args, **kwargs):
            await (await self.get_state(NavState))._refresh_frame()
            async for update in load(self, *args, **kwargs):
                yield update

        run = run_steps
    else:

        async def run_once(self: rx.State, *args, **kwargs):
            await (await self.get_state(NavState))._refresh_frame()
            return await load(self, *args, **kwargs)

        run = run_once
    functools.update_wrapper(run, load)
    run.loads_frame = True
    return run


def loads_frame(handler: Callable) -> bool:
    """Whether an on_load handler (an ``rx.State`` event handler) reads the frame itself."""
    return getattr(getattr(handler, "fn", None), "loads_frame", False)
