"""/account/wishlist: the products the customer saved, as the shop's product cards with a remove
button; products no longer sold drop out on their own."""

from __future__ import annotations

import reflex as rx

from revoque.components.account import account_shell
from revoque.components.layout import storefront_page
from revoque.components.product import empty_state, product_card, skeleton_grid
from revoque.db import session_scope
from revoque.pages.account.common import customer_id
from revoque.services import accounts
from revoque.services.catalog import ProductCard
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState


class WishlistPageState(rx.State):
    items: list[ProductCard] = []
    loaded: bool = False

    def _reload(self, user_id: int) -> None:
        with session_scope() as session:
            self.items = accounts.list_wishlist(session, user_id)
        self.loaded = True

    @rx.event
    async def load(self):
        if (user_id := await customer_id(self)) is not None:
            self._reload(user_id)

    @rx.event
    async def remove(self, product_id: int):
        user_id = await customer_id(self)
        if user_id is None:
            return SessionState.require_signed_in
        with session_scope() as session:
            accounts.remove_from_wishlist(session, user_id, product_id)
        self._reload(user_id)
        (await self.get_state(WishlistState))._refresh(user_id)
        return rx.toast.success("Removed from your wishlist.")


def _saved_card(card) -> rx.Component:
    return rx.vstack(
        product_card(card),
        rx.button(
            rx.icon("heart-off", size=14),
            "Remove",
            on_click=WishlistPageState.remove(card.id),
            variant="soft",
            color_scheme="gray",
            size="1",
            width="100%",
            aria_label=f"Remove {card.title} from your wishlist",
            data_testid="wishlist-remove",
        ),
        spacing="2",
    )


@storefront_page(
    route="/account/wishlist", title="Your wishlist", on_load=[SessionState.require_signed_in, WishlistPageState.load]
)
def wishlist_page() -> rx.Component:
    return account_shell(
        "/account/wishlist",
        "Wishlist",
        rx.cond(
            WishlistPageState.loaded,
            rx.cond(
                WishlistPageState.items.length() > 0,
                rx.el.div(rx.foreach(WishlistPageState.items, _saved_card), class_name="product-grid"),
                empty_state(
                    "Your wishlist is empty",
                    "Save products you like and find them here later.",
                    "Browse products",
                    "/search",
                ),
            ),
            skeleton_grid(4),
        ),
    )
