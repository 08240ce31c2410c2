"""The store's name as shoppers see it: what the admin saved in the settings, else ``STORE_NAME``.

The storefront header, footer and home page ask for it on every page load, so it is read through
the tagged catalog cache; saving the settings drops the ``store`` tag once the change commits."""

from __future__ import annotations

from sqlmodel import Session

from revoque.models import StoreConfig
from revoque.services import catalog_cache, pricing
from revoque.settings import get_settings

STORE = "store"
MAX_NAME = 60


def name_of(config: StoreConfig) -> str:
    """The saved name, or the deployment's ``STORE_NAME`` while none has been saved."""
    return config.store_name.strip() or get_settings().store_name


def stored_name(name: str) -> str:
    """What to save for ``name``: nothing while it is the deployment's own name, so re-saving the
    form unchanged neither records a change nor pins the name against a later ``STORE_NAME``."""
    return "" if name == get_settings().store_name else name


def store_name(session: Session) -> str:
    return catalog_cache.cached(
        session, catalog_cache.cache_key("store-name"), (STORE,), str, lambda s: name_of(pricing.get_store_config(s))
    )


def invalidate_store_name(session: Session) -> None:
    """Show a renamed store everywhere once ``session`` commits."""
    catalog_cache.invalidate_after_commit(session, STORE)
