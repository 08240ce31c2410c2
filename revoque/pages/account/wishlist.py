"""/account/wishlist: the products the customer saved, as the shop's product cards with a remove
button, a page at a time (a shopper may save the whole catalog; the page's state holds one page of
cards); products no longer sold drop out on their own."""

from __future__ import annotations

import reflex as rx

from revoque.components.account import account_shell
from revoque.components.layout import storefront_page
from revoque.components.product import empty_state, pagination, product_card, skeleton_grid
from revoque.db import session_scope
from revoque.pages.account.common import customer_id
from revoque.services import accounts
from revoque.services.catalog import ProductCard, clamp_page
from revoque.state.listing import int_param
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState

PAGE_SIZE = 24


class WishlistPageState(rx.State):
    items: list[ProductCard] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    loaded: bool = False

    def _reload(self, user_id: int) -> None:
        with session_scope() as session:
            cards = accounts.list_wishlist(session, user_id)
        requested = int_param(self.router.url.query_parameters.get("page"), 1)
        self.page, self.pages = clamp_page(requested, len(cards), PAGE_SIZE)
        start = (self.page - 1) * PAGE_SIZE
        self.items, self.total = cards[start : start + PAGE_SIZE], len(cards)
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
        await (await self.get_state(WishlistState))._refresh(user_id)
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
                rx.fragment(
                    rx.el.div(rx.foreach(WishlistPageState.items, _saved_card), class_name="product-grid"),
                    pagination(
                        WishlistPageState.page, WishlistPageState.pages, lambda p: f"/account/wishlist?page={p}"
                    ),
                ),
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
