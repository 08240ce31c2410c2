"""One module per page; importing this package registers every page with Reflex."""

from revoque.pages import (
    account,
    admin,
    cart,
    category,
    checkout,
    checkout_return,
    collection,
    home,
    not_found,
    order,
    pay_sandbox,
    product,
    search,
)

__all__ = [
    "account",
    "admin",
    "cart",
    "category",
    "checkout",
    "checkout_return",
    "collection",
    "home",
    "not_found",
    "order",
    "pay_sandbox",
    "product",
    "search",
]
