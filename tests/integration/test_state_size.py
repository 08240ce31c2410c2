"""Every storefront page's Reflex state stays small with the full demo catalog and a heavy shopper.

Each registered storefront route is loaded as Reflex loads it: a fresh state tree for one browser
(signed in as a shopper with a full wishlist, a long cart, many orders and addresses), the page's
real ``on_load`` handlers run in order. Then every state in the tree is measured twice:

- ``sent``: its frontend vars as JSON, serialised by Reflex's own ``json_dumps`` (what the browser
  receives on hydration; deltas are subsets of it);
- ``stored``: the pickle the Redis state manager keeps per client (backend ``_vars`` included).

Both must stay under 50 KB for every state; the table printed (``pytest -s``) lists each page's
largest states and the page's whole tree.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from reflex.istate.data import ReflexURL, RouterData
from reflex.state import State
from reflex_base.registry import RegistrationContext
from reflex_base.utils.format import json_dumps
from sqlalchemy import func
from sqlmodel import col, select

import revoque.pages  # noqa: F401  (registers every page)
from revoque.adapters import queue as queue_module
from revoque.adapters.storage import get_storage
from revoque.db import session_scope, upgrade_database
from revoque.models import Category, Collection, CollectionProduct, Product, ProductStatus, Variant
from revoque.pages.account.addresses import AddressesState
from revoque.pages.account.orders import OrderDetailState, OrdersState
from revoque.pages.account.wishlist import PAGE_SIZE as WISHLIST_PAGE_SIZE
from revoque.pages.account.wishlist import WishlistPageState
from revoque.pages.category import CategoryState
from revoque.pages.checkout import CheckoutState
from revoque.pages.collection import CollectionState
from revoque.pages.home import HomeState
from revoque.pages.order import OrderPageState
from revoque.pages.product import ProductState
from revoque.pages.search import SearchState
from revoque.services import accounts, carts, checkout, search, shipping
from revoque.services.accounts import AddressInput
from revoque.services.checkout import CheckoutDetails
from revoque.services.demo_commerce import ensure_demo_store
from revoque.services.seed import seed_demo_catalog
from revoque.settings import get_settings
from revoque.state.cart import CartState
from revoque.state.nav import NavState
from revoque.state.session import SessionState
from revoque.state.wishlist import WishlistState
from tests.conftest import reset_caches, use_settings
from tests.support.recorded_jobs import RecordedJobs

LIMIT_BYTES = 50 * 1024
CART_LINES = carts.MAX_CART_LINES  # the fullest cart a shopper can have
ORDERS = 30
BIG_ORDER_LINES = 40
ADDRESSES = 10
HOST = "http://localhost:3000"


@dataclass
class Store:
    token: str
    urls: dict[str, list[str]]
    products: int


def _page_full(state) -> bool:
    return state.total > 0 and len(state.items) == min(state.total, get_settings().page_size)


# What each page must show once loaded, so that a page that failed to load (and is therefore
# small) cannot pass: (the page's state, a check on it). Every page also shows the frame.
LOADED = {
    "/": (HomeState, lambda s, _: len(s.featured) > 0 and len(s.new_arrivals) > 0 and len(s.categories) > 0),
    "/category/[slug]": (CategoryState, lambda s, _: _page_full(s)),
    "/collection/[slug]": (CollectionState, lambda s, _: _page_full(s)),
    "/product/[slug]": (ProductState, lambda s, _: s.loaded and s.variant is not None and len(s.option_rows) > 0),
    "/search": (SearchState, lambda s, _: len(s.items) > 0 and len(s.facets) > 0),
    "/checkout": (CheckoutState, lambda s, _: len(s.lines) == CART_LINES and len(s.saved_addresses) == ADDRESSES),
    "/order/[number]": (OrderPageState, lambda s, _: s.order is not None and len(s.order.lines) == BIG_ORDER_LINES),
    "/account/orders": (OrdersState, lambda s, _: s.total == ORDERS and len(s.orders) > 0),
    "/account/orders/[number]": (
        OrderDetailState,
        lambda s, _: s.order is not None and len(s.order.lines) == BIG_ORDER_LINES,
    ),
    "/account/addresses": (AddressesState, lambda s, _: len(s.addresses) == ADDRESSES),
    "/account/wishlist": (
        WishlistPageState,
        lambda s, store: s.total == store.products and len(s.items) == WISHLIST_PAGE_SIZE,
    ),
}
FRAME = [
    (NavState, lambda s, _: len(s.menu) > 0),
    (CartState, lambda s, _: len(s.lines) == CART_LINES),
    (WishlistState, lambda s, store: len(s.product_ids) == store.products),
]


def _address(number: int) -> AddressInput:
    return AddressInput(
        name=f"Ada Obi {number}",
        line1=f"{number} Admiralty Way, Off Chief Collins Street",
        line2="Behind the blue gate, second floor",
        city="Lekki",
        state="Lagos",
        phone="0803 123 4567",
    )


def _buyable_variants(session) -> list[Variant]:
    """One in-stock variant per active product, most stock first (orders must not sell them out)."""
    rows = session.exec(
        select(Variant)
        .join(Product, Product.id == Variant.product_id)
        .where(Product.status == ProductStatus.ACTIVE, Variant.stock_on_hand >= 5)
        .order_by(col(Variant.stock_on_hand).desc(), Variant.id)
    ).all()
    seen: dict[int, Variant] = {}
    for variant in rows:
        seen.setdefault(variant.product_id, variant)
    return list(seen.values())


def _place_order(user_id: int, email: str, variant_ids: list[int]) -> str:
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token(), user_id=user_id)
        for variant_id in variant_ids:
            carts.add_item(session, cart, variant_id, 1)
        cart_id = cart.id
        method_id = shipping.list_active_methods(session)[0].id
    details = CheckoutDetails(
        email=email, address=_address(1), shipping_method_id=method_id, payment_method="pay_on_delivery"
    )
    return checkout.place_order(cart_id, details).number


def _shopper() -> tuple[str, str]:
    """A signed-in shopper at the heavy end: every product wishlisted, many addresses and orders
    (one of them long) and a long open cart. Returns (session token, the long order's number)."""
    email = "heavy.shopper@example.com"
    with session_scope(write=True) as session:
        user = accounts.sign_up(session, email, "a long enough password", "Heavy Shopper")
        user_id = user.id
        token = accounts.start_session(session, user_id)
        for number in range(ADDRESSES):
            accounts.add_address(session, user_id, _address(number))
        for product_id in session.exec(select(Product.id).where(Product.status == ProductStatus.ACTIVE)):
            accounts.add_to_wishlist(session, user_id, product_id)
        variants = [v.id for v in _buyable_variants(session)]
    assert len(variants) >= BIG_ORDER_LINES
    big_order = _place_order(user_id, email, variants[:BIG_ORDER_LINES])
    for number in range(ORDERS - 1):
        _place_order(user_id, email, variants[number % len(variants) :][:2])
    with session_scope(write=True) as session:
        cart = carts.open_cart(session, token=carts.new_token(), user_id=user_id)
        for variant_id in variants[-CART_LINES:]:
            carts.add_item(session, cart, variant_id, 1)
    return token, big_order


def _largest(session, model, parent_column, child_column) -> str:
    """The slug of the category or collection with the most products (the longest listing)."""
    row = session.exec(
        select(model.slug, func.count(child_column))
        .join(parent_column.table, parent_column == model.id)
        .group_by(model.slug)
        .order_by(func.count(child_column).desc())
    ).first()
    return row[0]


def _urls(big_order: str) -> dict[str, list[str]]:
    with session_scope() as session:
        category = _largest(session, Category, Product.category_id, Product.id)
        collection = _largest(session, Collection, CollectionProduct.collection_id, CollectionProduct.product_id)
        product = session.exec(
            select(Product.slug)
            .join(Variant, Variant.product_id == Product.id)
            .where(Product.status == ProductStatus.ACTIVE)
            .group_by(Product.slug)
            .order_by(func.count(Variant.id).desc())
        ).first()
        root = session.exec(select(Category.slug).where(col(Category.parent_id).is_(None))).first()
    order_query = urlencode({"key": checkout.order_access_key(big_order)})
    return {
        "/": ["/"],
        "/category/[slug]": [f"/category/{category}", f"/category/{root}"],
        "/collection/[slug]": [f"/collection/{collection}"],
        "/product/[slug]": [f"/product/{product}"],
        "/search": ["/search", f"/search?category={root}&in_stock=1", "/search?sort=price_desc&page=2"],
        "/cart": ["/cart"],
        "/checkout": ["/checkout"],
        "/checkout/return": ["/checkout/return?reference=unknown"],
        "/pay/sandbox/[reference]": ["/pay/sandbox/unknown"],
        "/order/[number]": [f"/order/{big_order}?{order_query}"],
        "/account": ["/account"],
        "/account/orders": ["/account/orders"],
        "/account/orders/[number]": [f"/account/orders/{big_order}"],
        "/account/addresses": ["/account/addresses"],
        "/account/wishlist": ["/account/wishlist"],
        "/sign-in": ["/sign-in?next=/account"],
        "/sign-up": ["/sign-up"],
        "/forgot-password": ["/forgot-password"],
        "/reset-password": ["/reset-password?token=unknown"],
        "404": ["/no-such-page"],
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator[Store]:
    """The demo catalog seeded once for the module (SQLite: the sizes do not depend on the
    database), indexed for search, with the heavy shopper. Jobs are recorded, not run."""
    patch = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("state-size")
    try:
        use_settings(patch, data_dir=str(folder), database_url=f"sqlite:///{folder / 'store.db'}", redis_url="")
        patch.setattr(queue_module, "get_queue", RecordedJobs())
        upgrade_database()
        with session_scope(write=True) as session:
            assert seed_demo_catalog(session, get_storage()).created
            ensure_demo_store(session)
        search.reindex_all()
        token, big_order = _shopper()
        with session_scope() as session:
            products = session.exec(
                select(func.count()).select_from(Product).where(Product.status == ProductStatus.ACTIVE)
            ).one()
        yield Store(token, _urls(big_order), products)
    finally:
        patch.undo()
        reset_caches()


def storefront_pages() -> dict[str, list]:
    """Every registered page outside /admin: route → its on_load handlers, in order."""
    pages = {}
    for _render, options in RegistrationContext.ensure_context().decorated_pages:
        route = options.get("route", "")
        if route.startswith("/admin"):
            continue
        handlers = options.get("on_load") or []
        pages[route] = handlers if isinstance(handlers, list) else [handlers]
    return pages


def _state_tree(token: str, url: str) -> State:
    root = State(_reflex_internal_init=True)
    root.router = RouterData(url=ReflexURL(HOST + url))
    root.get_substate(SessionState.get_full_name().split(".")[1:]).token = token
    return root


async def _run(handler, root: State) -> None:
    state = root.get_substate(handler.state.get_full_name().split(".")[1:])
    result = handler.fn(state)
    if inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


def load_page(token: str, url: str, handlers: list) -> State:
    root = _state_tree(token, url)

    async def run_all() -> None:
        for handler in handlers:
            await _run(handler, root)

    asyncio.run(run_all())
    return root


def _states(root: State) -> Iterator[State]:
    yield root
    for substate in root.substates.values():
        yield from _states(substate)


@dataclass
class Size:
    name: str
    sent: int
    stored: int


def measure(root: State) -> list[Size]:
    sizes = []
    for state in _states(root):
        own = state.dict()[state.get_full_name()]
        sizes.append(Size(type(state).__name__, len(json_dumps(own).encode()), len(state._serialize())))
    return sizes


def test_every_storefront_route_is_measured(store):
    assert set(storefront_pages()) == set(store.urls)


@pytest.mark.parametrize(
    "route",
    sorted(storefront_pages()),
)
def test_each_page_state_stays_under_50_kb(store, route, capsys):
    for url in store.urls[route]:
        root = load_page(store.token, url, storefront_pages()[route])
        for state_cls, shows in [*FRAME, *([LOADED[route]] if route in LOADED else [])]:
            state = root.get_substate(state_cls.get_full_name().split(".")[1:])
            assert shows(state, store), f"{url}: {state_cls.__name__} did not load what the page shows"
        sizes = measure(root)
        biggest = sorted(sizes, key=lambda s: max(s.sent, s.stored), reverse=True)
        tree_sent = len(json_dumps(root.dict()).encode())
        with capsys.disabled():
            print(f"\n{url}: whole tree sent {tree_sent / 1024:.1f} KB; largest states:")
            for size in biggest[:4]:
                print(f"  {size.name:<28} sent {size.sent / 1024:6.1f} KB  stored {size.stored / 1024:6.1f} KB")
        too_big = [s for s in sizes if s.sent > LIMIT_BYTES or s.stored > LIMIT_BYTES]
        assert too_big == [], f"{url}: states over 50 KB: {too_big}"
