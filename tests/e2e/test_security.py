"""Security in Chromium against the prod build: the pages carry the security headers and a CSP the
store works under (it hydrates, talks over its websocket and shows a toast, which Reflex runs with
eval, with no policy violation), and what the browser receives never holds a secret or the last
person's data: one tab, one customer signs in and opens their pages, signs out, a second customer
signs in and reloads; every websocket frame and the page HTML are scanned."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from revoque.models import Address, Order, OrderStatus, Product, User, Variant
from revoque.services.accounts import hash_password
from revoque.settings import Settings
from tests.e2e.test_storefront_journey import HYDRATED, open_page
from tests.factories import add_order

PASSWORD = "correct horse 42"
ADA = {"email": "ada.security@example.com", "name": "Ada Okonkwo", "street": "27 Ozumba Mbadiwe Avenue"}
BAYO = {"email": "bayo.security@example.com", "name": "Bayo Adeola", "street": "4 Allen Avenue"}
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""


def _customer(session, person: dict[str, str], variant: Variant) -> tuple[User, str]:
    """The customer with an address and a delivered order (made once: the store outlives a test)."""
    user = session.exec(select(User).where(User.email == person["email"])).first()
    if user is None:
        user = User(email=person["email"], password_hash=hash_password(PASSWORD), name=person["name"])
        session.add(user)
        session.flush()
        session.add(Address(user_id=user.id, name=person["name"], line1=person["street"], city="Lagos", state="Lagos"))
        order = add_order(session, [(variant, 1)], email=user.email, status=OrderStatus.DELIVERED, take_stock=False)
        order.user_id = user.id
        session.add(order)
        session.commit()
    number = session.exec(select(Order.number).where(Order.user_id == user.id)).first()
    return user, number


def _frames(page: Page) -> list[str]:
    received: list[str] = []

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: received.append(_text(payload)))

    page.on("websocket", on_socket)
    return received


def _text(payload) -> str:
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)


def _sign_in(page: Page, store, email: str) -> None:
    open_page(page, f"{store.url}/sign-in?next=/account")
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("sign-in-submit").click()
    # argon2id is slow on purpose; "…/sign-in?next=/account" must not count as arriving
    expect(page).to_have_url(re.compile(r"^[^?]*/account/?$"), timeout=30_000)
    page.wait_for_selector(HYDRATED, state="attached")


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_pages_carry_the_headers_and_the_store_works_under_its_policy(page: Page, store, store_db, shot):
    page.add_init_script(WATCH_CSP)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    response = page.goto(store.url + "/")
    headers = response.headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["permissions-policy"]
    policy = _directives(headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and "'unsafe-inline'" not in policy["script-src"]
    assert any(source.startswith("'sha256-") for source in policy["script-src"])
    page.wait_for_selector(HYDRATED, state="attached")  # hydrated: scripts ran and the websocket answered

    variant = store_db.exec(
        select(Variant).join(Product).where(Product.status == "active", Variant.stock_on_hand > 3)
    ).first()
    _customer(store_db, ADA, variant)
    _sign_in(page, store, ADA["email"])
    slug = store_db.get(Product, variant.product_id).slug
    open_page(page, f"{store.url}/product/{slug}")
    page.get_by_test_id("wishlist-toggle").click()
    toast = page.locator("[data-sonner-toast]").filter(has_text=re.compile("wishlist"))
    expect(toast.first).to_be_visible()  # a backend event's client-side action (eval) ran
    shot(page, "csp-toast")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-button")).to_have_attribute("aria-label", re.compile(r"Cart, [1-9]"))

    violations = page.evaluate("window.__csp")
    assert violations == [], violations
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_the_browser_never_receives_secrets_or_the_last_customers_data(page: Page, store, store_db, shot):
    variant = store_db.exec(
        select(Variant).join(Product).where(Product.status == "active", Variant.stock_on_hand > 3)
    ).first()
    ada, ada_order = _customer(store_db, ADA, variant)
    bayo, _bayo_order = _customer(store_db, BAYO, variant)
    # the store makes its key on first use; asking for it here makes (or reads) the very same file
    secret_key = Settings(data_dir=Path(store.env["DATA_DIR"]), secret_key="").signing_key().decode()
    frames = _frames(page)

    _sign_in(page, store, ADA["email"])
    for path in ["/account/orders", f"/account/orders/{ada_order}", "/account/addresses"]:
        open_page(page, store.url + path)
    expect(page.get_by_text(ADA["street"]).first).to_be_visible()
    ada_seen = "\n".join(frames)
    assert ADA["email"] in ada_seen and ADA["street"] in ada_seen  # the scan sees real page data

    open_page(page, store.url + "/account")
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.wait_for_selector(HYDRATED, state="attached")
    after_ada = len(frames)
    _sign_in(page, store, BAYO["email"])
    page.reload()
    page.wait_for_selector(HYDRATED, state="attached")
    expect(page.get_by_text(BAYO["email"]).first).to_be_visible()
    shot(page, "next-customer")

    bayo_seen = "\n".join(frames[after_ada:]) + page.content()
    for label, value in {"email": ADA["email"], "street": ADA["street"], "order": ada_order, "name": "Okonkwo"}.items():
        assert value not in bayo_seen, f"the next customer received the last one's {label}"

    everything = "\n".join(frames) + page.content()
    store_db.expire_all()
    hashes = [store_db.get(User, user.id).password_hash for user in (ada, bayo)]
    for label, value in {"secret key": secret_key, "database url": store.env["DATABASE_URL"]}.items():
        assert value not in everything, label
    assert not [h for h in hashes if h in everything], "a password hash reached the browser"
    for path in ["/", "/account", "/sign-in", f"/product/{store_db.get(Product, variant.product_id).slug}"]:
        with urllib.request.urlopen(store.url + path) as response:
            html = response.read().decode()
        assert secret_key not in html and ADA["email"] not in html and "$argon2" not in html, path
