"""The Reflex application: storefront pages, and the non-UI HTTP routes on the backend."""

import reflex as rx

import revoque.pages  # noqa: F401  (registers every page)
from revoque.api import build_api
from revoque.api.status import CatalogNotFoundStatus
from revoque.db import check_database

app = rx.App(
    stylesheets=["/styles.css"],
    api_transformer=[build_api(), CatalogNotFoundStatus],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)


@app.register_lifespan_task
def fail_fast_without_a_database() -> None:
    """A broken DATABASE_URL stops the backend at start with one message naming the variable."""
    check_database()
