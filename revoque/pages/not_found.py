"""The 404 page for any URL that is not a route of the store."""

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.components.product import empty_state


@storefront_page(route="404", title="Page not found")
def not_found_page() -> rx.Component:
    return rx.box(
        empty_state("Page not found", "We couldn't find that page. It may have moved.", "Back to the shop", "/"),
        data_testid="not-found",
    )
