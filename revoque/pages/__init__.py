"""One module per page; importing this package registers every page with Reflex."""

from revoque.pages import category, collection, home, not_found, product, search

__all__ = ["category", "collection", "home", "not_found", "product", "search"]
