"""The store's name and currency as shoppers see them: what the admin saved in the settings, else
``STORE_NAME`` and ``STORE_CURRENCY``.

Every storefront page needs both (the header, footer and home page show the name; every price is
formatted in the currency), so they are read together through the tagged catalog cache; saving the
settings drops the ``store`` tag once the change commits. A new currency drops every cached read
instead: product cards, product pages and listings are cached with their prices already formatted.
Only that save writes them, so the cached pair is served to callers inside a transaction too (cards
and carts read it mid-transaction); the save's own transaction reads the row it wrote.

The currency may change only while the store has no orders (Shopify's rule). Amounts are integers
in the currency's minor unit, so a change relabels every price (₦10,000 becomes $10,000) rather than
converting it; once an order exists, its amounts, its payments and the dashboard's totals must stay
in the currency it was charged in. Orders and payments record their own ``currency`` as well, and
everything about a past order is shown in that.

An admin changing the currency and a shopper placing the first order race at that rule. The save
locks the settings row (FOR UPDATE) before it looks for orders; placing an order reads the currency
with a shared lock on the same row (``currency_for_order``). So one waits for the other: either the
order is written in the old currency and the change is refused, or the order is written in the new
one. Orders never wait for each other. (SQLite runs one write transaction at a time anyway.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from revoque.adapters.cache import EVERYTHING
from revoque.adapters.payments import PAYSTACK_CURRENCIES
from revoque.models import Order, StoreConfig
from revoque.services import catalog_cache, pricing
from revoque.services.money import CurrencyInfo, known_currencies
from revoque.settings import get_settings

STORE = "store"
MAX_NAME = 60
MINOR_DIGITS = 2  # prices are typed and shown with two decimals; a currency without them would misread them


@dataclass(frozen=True)
class StoreIdentity:
    name: str
    currency: str  # ISO 4217 code, e.g. "NGN"


def name_of(config: StoreConfig) -> str:
    """The saved name, or the deployment's ``STORE_NAME`` while none has been saved."""
    return config.store_name.strip() or get_settings().store_name


def currency_of(config: StoreConfig) -> str:
    """The saved currency, or the deployment's ``STORE_CURRENCY`` while none has been chosen."""
    return config.currency.strip().upper() or get_settings().store_currency


def stored_name(name: str) -> str:
    """What to save for ``name``: nothing while it is the deployment's own name, so re-saving the
    form unchanged neither records a change nor pins the name against a later ``STORE_NAME``."""
    return "" if name == get_settings().store_name else name


def stored_currency(code: str) -> str:
    """What to save for ``code``: nothing while it is ``STORE_CURRENCY``, for the reasons
    ``stored_name`` gives."""
    return "" if code == get_settings().store_currency else code


def identity(session: Session) -> StoreIdentity:
    """The name and the currency, in one cached read, whatever transaction the caller is in (see
    the module docstring; a new order reads its currency under the lock, ``currency_for_order``)."""
    return catalog_cache.cached(
        session,
        catalog_cache.cache_key("store-identity"),
        (STORE,),
        StoreIdentity,
        _load_identity,
        transaction_independent=True,
    )


def _load_identity(session: Session) -> StoreIdentity:
    """A plain read: a store that has not saved settings yet has the defaults. It never inserts the
    row (as ``pricing.get_store_config`` does): a miss loads through a second session while the
    caller's transaction may be open, and two inserts of one row would wait for each other."""
    config = session.get(StoreConfig, pricing.STORE_CONFIG_ID) or StoreConfig(id=pricing.STORE_CONFIG_ID)
    return StoreIdentity(name_of(config), currency_of(config))


def store_name(session: Session) -> str:
    return identity(session).name


def currency(session: Session) -> str:
    """The code every price, cart and new order of the store is in (past orders keep their own)."""
    return identity(session).currency


def currency_choices() -> list[CurrencyInfo]:
    """The currencies an admin may choose: ones we format with a symbol and two decimals (how every
    price is typed and shown) that Paystack also charges in, so card payments keep working."""
    return [info for info in known_currencies() if info.exponent == MINOR_DIGITS and info.code in PAYSTACK_CURRENCIES]


def has_orders(session: Session) -> bool:
    """Whether any order exists, in any state: from then on the currency is fixed."""
    return session.exec(select(Order.id).limit(1)).first() is not None


def currency_for_order(session: Session) -> str:
    """The currency a new order is written in, read under a shared lock on the settings row that
    holds until the order commits (see the module docstring)."""
    return currency_of(pricing.lock_store_config(session, shared=True))


def invalidate_store_name(session: Session) -> None:
    """Show a renamed store everywhere once ``session`` commits."""
    catalog_cache.invalidate_after_commit(session, STORE)


def invalidate_prices(session: Session) -> None:
    """Show every price in a new currency once ``session`` commits: every cached read is dropped,
    since cached cards and pages hold formatted prices (a rare change, allowed only before the
    first order)."""
    catalog_cache.invalidate_after_commit(session, EVERYTHING)
