"""Reflex states shared by several pages (navigation, later session/auth and cart)."""
