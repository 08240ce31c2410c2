"""The header's category menu and store identity, loaded on every storefront page."""

from urllib.parse import urlencode

import reflex as rx

from revoque.adapters.cache import get_cache
from revoque.db import session_scope
from revoque.services import catalog

_MENU_CACHE_KEY = "nav:menu:v1"
_MENU_TTL_SECONDS = 60


def _menu() -> list[dict]:
    with session_scope() as session:
        return [{"name": c.name, "href": c.href} for c in catalog.top_categories(session)]


class NavState(rx.State):
    """Menu links only: small enough to send to every client."""

    menu: list[dict[str, str]] = []
    search_text: str = ""

    @rx.event
    def load(self):
        if not self.menu:
            self.menu = get_cache().get_or_set(_MENU_CACHE_KEY, _MENU_TTL_SECONDS, _menu)

    @rx.event
    def set_search_text(self, value: str):
        self.search_text = value

    @rx.event
    def submit_search(self, form: dict):
        query = str(form.get("q", "")).strip()[:100]
        return rx.redirect(f"/search?{urlencode({'q': query})}" if query else "/search")
