"""Product views for the dashboard's funnel, recorded after the product page has loaded.

The product page's ``load`` counts the view once the product is on its way to the browser, in a
worker thread; whatever goes wrong while recording is logged and ignored.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from revoque.models import StoreEventKind
from revoque.services import analytics, carts
from revoque.state.cart import CartState
from revoque.state.session import SessionState

log = logging.getLogger(__name__)


class AnalyticsState(rx.State):
    """No vars and no events: the page's own handlers call ``_count_view``."""

    async def _count_view(self, product_id: int) -> None:
        try:
            session_state = await self.get_state(SessionState)
            cart_state = await self.get_state(CartState)
            # The page frame resolved the session a moment ago; an id used only for counting is
            # fine to take from there (nothing is granted by it).
            user_id = session_state._user_id
            # A guest is counted by their browser's cart token, the same key their cart will have;
            # giving the browser one now (it is only a random string) lines up view and add to cart.
            visitor = analytics.visitor_key(user_id, carts.hash_token(cart_state._token()))
            await asyncio.to_thread(
                analytics.record_event_now,
                StoreEventKind.PRODUCT_VIEW,
                product_id=int(product_id),
                user_id=user_id,
                visitor=visitor,
            )
        except Exception:
            log.warning("could not record a product view", exc_info=True)
