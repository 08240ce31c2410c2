"""Reusable UI pieces and the storefront page template."""
