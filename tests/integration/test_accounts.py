"""Accounts on a real database (SQLite and PostgreSQL): sign-up and sign-in, throttling, sessions,
password changes and resets, admins, addresses, wishlist, reviews and the customer's orders."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from revoque.db import session_scope
from revoque.errors import NotFound, ValidationError
from revoque.models import Cart, LoginThrottle, Order, OrderEvent, OrderLine, OutboxEmail, User
from revoque.models.base import utcnow
from revoque.services import accounts
from revoque.services.accounts import AddressInput, InvalidFields, ThrottledError
from revoque.settings import get_settings
from tests.factories import add_product

PASSWORD = "correct horse"
LAGOS = AddressInput(name="Ada Obi", line1="12 Allen Avenue", city="Ikeja", state="Lagos", phone="+234 803 123 4567")


def sign_up(email: str = "ada@example.com", password: str = PASSWORD, name: str = "Ada Obi") -> User:
    with session_scope(write=True) as session:
        return accounts.sign_up(session, email, password, name)


def sign_in(email: str = "ada@example.com", password: str = PASSWORD, ip: str = "10.0.0.1", now=None):
    with session_scope(write=True) as session:
        return accounts.sign_in(session, email, password, ip, now=now)


def resolve(token: str, now=None) -> User | None:
    with session_scope() as session:
        return accounts.resolve_session(session, token, now=now)


def refused(call, *args, **kwargs) -> str:
    """The message of the RevoqueError ``call`` raises."""
    with pytest.raises((ValidationError, ThrottledError)) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def test_sign_up_sign_in_and_out(database):
    user = sign_up(" Ada@Example.com ", name=" Ada Obi ")
    assert (user.email, user.name, user.role) == ("ada@example.com", "Ada Obi", "customer")
    assert user.password_hash.startswith("$argon2id$")
    signed_in, token = sign_in("ADA@example.com")
    assert signed_in.id == user.id
    assert resolve(token).id == user.id
    with session_scope() as session:
        accounts.sign_out(session, token)
    assert resolve(token) is None
    assert resolve("") is None and resolve("not-a-token") is None


def test_sign_up_reports_every_field_problem_at_once(database):
    with pytest.raises(InvalidFields) as caught, session_scope() as session:
        accounts.sign_up(session, "nope", "123", "")
    assert set(caught.value.errors) == {"name", "email", "password"}


def test_a_second_account_with_the_same_email_is_refused(database):
    sign_up()
    assert refused(sign_up, "ADA@example.com") == "An account with this email already exists. Sign in instead?"


def test_wrong_email_and_wrong_password_look_the_same(database, monkeypatch):
    sign_up()
    checks = []
    real_verify = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda *args: checks.append(args) or real_verify(*args))
    wrong_password = refused(sign_in, password="wrong password")
    wrong_email = refused(sign_in, "nobody@example.com")
    assert wrong_password == wrong_email == "Email or password is incorrect."
    assert len(checks) == 2, "an unknown email is checked against a dummy hash, taking as long"


def test_repeated_failures_lock_the_email_with_a_doubling_delay(database):
    sign_up()
    start = utcnow()
    for _ in range(2):
        assert refused(sign_in, password="wrong password", now=start) == "Email or password is incorrect."
    assert refused(sign_in, password="wrong password", now=start) == "Email or password is incorrect."
    # Third failure: locked for 1 s; even the right password is not checked while locked.
    assert refused(sign_in, now=start) == "Too many attempts. Try again in 1 second."
    later = start + timedelta(seconds=1)
    assert refused(sign_in, password="wrong password", now=later) == "Email or password is incorrect."
    assert refused(sign_in, now=later) == "Too many attempts. Try again in 2 seconds."
    # The lock is per email: the same person from another network is still locked.
    assert refused(sign_in, ip="10.9.9.9", now=later).startswith("Too many attempts.")
    user, _ = sign_in(now=later + timedelta(seconds=2))
    assert user.email == "ada@example.com"
    with session_scope() as session:
        assert session.get(LoginThrottle, "email:ada@example.com") is None, "success resets the email key"


def test_repeated_failures_from_one_address_lock_it_for_every_email(database):
    sign_up()
    now = utcnow()
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        refused(sign_in, email, now=now)
    assert refused(sign_in, ip="10.0.0.1", now=now) == "Too many attempts. Try again in 1 second."
    user, _ = sign_in(ip="10.0.0.2", now=now)
    assert user.email == "ada@example.com"


def test_the_lock_is_capped_and_old_failures_are_forgotten(database):
    now = utcnow()
    with session_scope() as session:
        session.add(LoginThrottle(key="email:ada@example.com", failures=40, last_failure_at=now))
    sign_up()
    assert refused(sign_in, password="wrong password", now=now) == "Email or password is incorrect."
    assert refused(sign_in, now=now) == "Too many attempts. Try again in 15 minutes."
    a_day_later = now + timedelta(days=1)
    assert refused(sign_in, password="wrong password", now=a_day_later) == "Email or password is incorrect."
    with session_scope() as session:
        assert session.get(LoginThrottle, "email:ada@example.com").failures == 1


def test_sessions_expire_and_disabled_accounts_are_signed_out(database):
    user = sign_up()
    start = utcnow()
    with session_scope() as session:
        token = accounts.start_session(session, user.id, now=start)
    days = get_settings().session_days
    assert resolve(token, now=start + timedelta(days=days - 1)).id == user.id
    assert resolve(token, now=start + timedelta(days=days, seconds=1)) is None
    with session_scope() as session:
        session.get(User, user.id).is_active = False
    assert resolve(token, now=start) is None
    assert refused(sign_in).startswith("This account has been disabled")


def test_changing_the_password_signs_out_every_other_browser(database):
    user = sign_up()
    _, laptop = sign_in()
    _, phone = sign_in()
    with session_scope() as session:
        with pytest.raises(InvalidFields) as caught:
            accounts.change_password(session, user.id, "not my password", "new password 1")
        assert caught.value.errors == {"current_password": "Your current password is incorrect."}
        with pytest.raises(InvalidFields) as caught:
            accounts.change_password(session, user.id, PASSWORD, "short")
        assert "new_password" in caught.value.errors
        fresh = accounts.change_password(session, user.id, PASSWORD, "new password 1")
    assert resolve(laptop) is None and resolve(phone) is None
    assert resolve(fresh).id == user.id
    assert refused(sign_in) == "Email or password is incorrect."
    assert sign_in(password="new password 1")[0].id == user.id


def reset_link_token(email: str) -> str:
    with session_scope() as session:
        mail = session.exec(select(OutboxEmail).where(OutboxEmail.to == email).order_by(OutboxEmail.id.desc())).first()
    assert mail.kind == "password_reset" and mail.status == "stored"
    base = get_settings().base_url
    match = re.search(re.escape(base) + r"/reset-password\?token=([\w-]+)", mail.body_text)
    assert match and match.group(0) in mail.body_html
    return match.group(1)


def test_password_reset_is_emailed_single_use_and_signs_everyone_out(database):
    user = sign_up()
    _, old_token = sign_in()
    with session_scope() as session:
        accounts.request_password_reset(session, "ADA@example.com")
    token = reset_link_token("ada@example.com")
    with session_scope() as session:
        stored = session.exec(select(OutboxEmail)).one()
    assert stored.subject == "Reset your Revoque password" and "Hi Ada Obi" in stored.body_text
    with session_scope() as session, pytest.raises(InvalidFields):
        accounts.reset_password(session, token, "short")  # a typo does not use the link up
    with session_scope(write=True) as session:
        accounts.reset_password(session, token, "brand new secret")
    assert resolve(old_token) is None
    assert sign_in(password="brand new secret")[0].id == user.id
    with session_scope(write=True) as session:
        assert refused(accounts.reset_password, session, token, "another secret 2") == (
            "This reset link has expired or was already used."
        )


def test_reset_links_expire(database):
    sign_up()
    asked = utcnow()
    with session_scope() as session:
        accounts.request_password_reset(session, "ada@example.com", now=asked)
    token = reset_link_token("ada@example.com")
    too_late = asked + timedelta(minutes=get_settings().password_reset_minutes, seconds=1)
    with session_scope(write=True) as session:
        assert refused(accounts.reset_password, session, token, "brand new secret", now=too_late) == (
            "This reset link has expired or was already used."
        )
    with session_scope(write=True) as session:
        assert refused(accounts.reset_password, session, "made-up-token", "brand new secret") == (
            "This reset link has expired or was already used."
        )


def test_a_reset_for_an_unknown_email_says_nothing_and_sends_nothing(database):
    with session_scope() as session:
        accounts.request_password_reset(session, "nobody@example.com")
    with session_scope() as session:
        assert session.exec(select(OutboxEmail)).all() == []


def test_create_admin_creates_or_promotes(database):
    with session_scope() as session:
        admin, generated = accounts.create_admin(session, "Boss@Example.com")
    assert admin.role == "admin" and generated and len(generated) >= 12
    assert sign_in("boss@example.com", generated)[0].id == admin.id
    sign_up("staff@example.com")
    with session_scope() as session:
        promoted, generated = accounts.create_admin(session, "staff@example.com")
    assert promoted.role == "admin" and generated is None
    assert sign_in("staff@example.com")[0].role == "admin", "promoting keeps the password"
    with session_scope() as session:
        _, generated = accounts.create_admin(session, "staff@example.com", "a chosen password")
    assert generated is None and sign_in("staff@example.com", "a chosen password")[0].is_active


def test_profile_update_validates(database):
    user = sign_up()
    with session_scope() as session:
        updated = accounts.update_profile(session, user.id, name=" Ada O. ", phone="0803 123 4567")
    assert (updated.name, updated.phone) == ("Ada O.", "0803 123 4567")
    with session_scope() as session, pytest.raises(InvalidFields) as caught:
        accounts.update_profile(session, user.id, name="", phone="call me")
    assert set(caught.value.errors) == {"name", "phone"}


def test_addresses_belong_to_one_customer(database):
    ada, ben = sign_up(), sign_up("ben@example.com", name="Ben")
    with session_scope() as session:
        home = accounts.add_address(session, ada.id, LAGOS)
        office = accounts.add_address(
            session, ada.id, AddressInput(name="Ada", line1="1 Marina", city="Lagos", state="Lagos")
        )
    assert home.is_default_shipping and home.is_default_billing, "the first address is the default"
    assert not office.is_default_shipping
    assert home.lines == ["Ada Obi", "12 Allen Avenue", "Ikeja, Lagos", "+234 803 123 4567"]
    with session_scope() as session:
        for call in (
            lambda: accounts.update_address(session, ben.id, home.id, LAGOS),
            lambda: accounts.delete_address(session, ben.id, home.id),
            lambda: accounts.set_default_address(session, ben.id, home.id, "shipping"),
        ):
            with pytest.raises(NotFound):
                call()
        assert accounts.list_addresses(session, ben.id) == []
    with session_scope() as session:
        accounts.set_default_address(session, ada.id, office.id, "shipping")
    with session_scope() as session:
        by_id = {a.id: a for a in accounts.list_addresses(session, ada.id)}
    assert by_id[office.id].is_default_shipping and not by_id[home.id].is_default_shipping
    assert by_id[home.id].is_default_billing
    with session_scope() as session:
        accounts.delete_address(session, ada.id, home.id)
    with session_scope() as session:
        (left,) = accounts.list_addresses(session, ada.id)
    assert left.is_default_billing, "deleting the default hands it on"


def test_address_fields_are_checked(database):
    user = sign_up()
    with session_scope() as session, pytest.raises(InvalidFields) as caught:
        accounts.add_address(session, user.id, AddressInput(name=" ", line1="", city="", state="Atlantis"))
    assert caught.value.errors == {
        "name": "Enter the recipient's name.",
        "line1": "Enter the street address.",
        "city": "Enter the city or town.",
        "state": "Choose one of Nigeria's 36 states or the FCT.",
    }
    with session_scope() as session:
        abroad = accounts.add_address(
            session, user.id, AddressInput(name="Ada", line1="1 Main St", city="Accra", country="gh")
        )
    assert abroad.country == "GH" and abroad.lines[-1] == "GH"


def test_wishlist(database):
    user = sign_up()
    with session_scope() as session:
        kettle, lamp = add_product(session, "Kettle"), add_product(session, "Lamp")
        draft = add_product(session, "Secret Draft", status="draft")
    with session_scope() as session:
        accounts.add_to_wishlist(session, user.id, kettle.id)
        accounts.add_to_wishlist(session, user.id, lamp.id)
        accounts.add_to_wishlist(session, user.id, lamp.id)  # saving twice keeps one
        with pytest.raises(NotFound):
            accounts.add_to_wishlist(session, user.id, draft.id)
    with session_scope() as session:
        assert accounts.wishlist_product_ids(session, user.id) == {kettle.id, lamp.id}
        assert {card.title for card in accounts.list_wishlist(session, user.id)} == {"Kettle", "Lamp"}
        accounts.remove_from_wishlist(session, user.id, kettle.id)
    with session_scope() as session:
        assert [card.title for card in accounts.list_wishlist(session, user.id)] == ["Lamp"]


def add_order(session, user: User, products, status: str = "delivered", **fields) -> Order:
    cart = Cart(token_hash=uuid.uuid4().hex, user_id=user.id, status="converted", email=user.email)
    session.add(cart)
    session.flush()
    order = Order(
        number=f"RV-{uuid.uuid4().hex[:8].upper()}",
        cart_id=cart.id,
        user_id=user.id,
        email=user.email,
        status=status,
        payment_method="pay_on_delivery",
        currency="NGN",
        subtotal=100_000 * len(products),
        total=100_000 * len(products) + 250_000,
        shipping=250_000,
        shipping_address={"name": "Ada Obi", "line1": "12 Allen Avenue", "city": "Ikeja", "state": "Lagos"},
        **fields,
    )
    session.add(order)
    session.flush()
    for product in products:
        session.add(
            OrderLine(
                order_id=order.id,
                product_id=product.id,
                product_title=product.title,
                sku=product.slug.upper(),
                unit_price=100_000,
                quantity=2,
                line_total=200_000,
            )
        )
    session.flush()
    return order


def test_only_customers_with_a_delivered_order_review_once(database):
    ada, ben = sign_up(), sign_up("ben@example.com", name="Ben")
    with session_scope() as session:
        kettle, lamp = add_product(session, "Kettle"), add_product(session, "Lamp")
        add_order(session, ada, [kettle])
        add_order(session, ben, [kettle, lamp], status="shipped")
    with session_scope() as session:
        assert accounts.can_review(session, ada.id, kettle.id)
        assert not accounts.can_review(session, ada.id, lamp.id)
        assert not accounts.can_review(session, ben.id, kettle.id), "shipped is not delivered"
        assert refused(accounts.add_review, session, ben.id, kettle.id, rating=5).startswith("You can review a product")
        assert (
            refused(accounts.add_review, session, ada.id, kettle.id, rating=6) == "Choose a rating from 1 to 5 stars."
        )
        assert "120 characters" in refused(accounts.add_review, session, ada.id, kettle.id, rating=4, title="x" * 121)
        accounts.add_review(session, ada.id, kettle.id, rating=4, title=" Boils fast ", body="Loud, though.")
    with session_scope() as session:
        assert not accounts.can_review(session, ada.id, kettle.id)
        assert (
            refused(accounts.add_review, session, ada.id, kettle.id, rating=5)
            == "You have already reviewed this product."
        )
        page = accounts.list_reviews(session, kettle.id)
    assert page.total == 1 and page.items[0].author == "Ada O." and page.items[0].title == "Boils fast"


def test_review_summary_histogram(database):
    users = [sign_up(f"buyer{i}@example.com", name=f"Buyer {i}") for i in range(4)]
    with session_scope() as session:
        kettle = add_product(session, "Kettle")
        for user in users:
            add_order(session, user, [kettle])
    with session_scope() as session:
        assert accounts.review_summary(session, kettle.id) == accounts.ReviewSummary(
            0.0, 0, [(5, 0), (4, 0), (3, 0), (2, 0), (1, 0)]
        )
        for user, rating in zip(users, [5, 5, 4, 1], strict=True):
            accounts.add_review(session, user.id, kettle.id, rating=rating)
    with session_scope() as session:
        summary = accounts.review_summary(session, kettle.id)
    assert (summary.average, summary.count) == (3.8, 4)
    assert summary.histogram == [(5, 2), (4, 1), (3, 0), (2, 0), (1, 1)]


def test_order_history_shows_only_the_customers_own_orders(database):
    ada, ben = sign_up(), sign_up("ben@example.com", name="Ben")
    with session_scope() as session:
        kettle = add_product(session, "Kettle")
        older = add_order(session, ada, [kettle], status="delivered", created_at=utcnow() - timedelta(days=3))
        newer = add_order(session, ada, [kettle], status="processing", payment_status="paid")
        session.add(OrderEvent(order_id=newer.id, kind="status", to_status="processing", message="Packing now"))
        session.add(OrderEvent(order_id=newer.id, kind="note", message="Staff only", visible_to_customer=False))
        bens = add_order(session, ben, [kettle])
    with session_scope() as session:
        page = accounts.list_orders(session, ada.id)
        assert [o.number for o in page.items] == [newer.number, older.number]
        assert (page.items[0].status, page.items[0].payment_status, page.items[0].total) == (
            "Processing",
            "Paid",
            "₦3,500",
        )
        assert page.items[0].item_count == 2
        detail = accounts.get_order_for_user(session, ada.id, newer.number)
        with pytest.raises(NotFound):
            accounts.get_order_for_user(session, ada.id, bens.number)
        assert accounts.list_orders(session, ada.id, page=1, page_size=1).pages == 2
    assert [(e.title, e.message) for e in detail.timeline] == [("Being prepared", "Packing now")]
    assert detail.lines[0].title == "Kettle" and detail.lines[0].line_total == "₦2,000"
    assert detail.lines[0].href == "/product/kettle"
    assert (detail.subtotal, detail.shipping, detail.total) == ("₦1,000", "₦2,500", "₦3,500")
    assert detail.shipping_address == ["Ada Obi", "12 Allen Avenue", "Ikeja, Lagos"]
