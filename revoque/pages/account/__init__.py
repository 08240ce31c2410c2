"""Sign-in, sign-up, password reset and the customer's account pages (profile, addresses, orders,
wishlist); importing this package registers them."""

from revoque.pages.account import addresses, orders, password, profile, sign_in, sign_up, wishlist

__all__ = ["addresses", "orders", "password", "profile", "sign_in", "sign_up", "wishlist"]
