"""The Reflex application: theme, storefront pages, and the non-UI HTTP routes on the backend."""

import reflex as rx

import revoque.pages  # noqa: F401  (registers every page)
from revoque.api import build_api
from revoque.api.status import CatalogNotFoundStatus

app = rx.App(
    stylesheets=["/styles.css"],
    api_transformer=[build_api(), CatalogNotFoundStatus],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
