"""Rate limits through the real pages: sign-up, password-reset requests, coupon guesses and chat
messages, each refused past its limit with a message that says why and how long to wait; counted in
Redis shared by every worker (and in memory when Redis is down), per network address or browser.

The limits are lowered for the tests (the real ones are in ``revoque/services/rate_limit.py``)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
import redis
from sqlmodel import func, select

from revoque.adapters.counters import MemoryCounters, RedisCounters, get_counters
from revoque.db import session_scope
from revoque.models import ChatMessage, OutboxEmail, User
from revoque.pages.account.password import SENT_MESSAGE, ForgotPasswordState
from revoque.pages.account.sign_up import SignUpState
from revoque.pages.checkout import CheckoutState
from revoque.services import accounts, rate_limit
from revoque.state.assistant import AssistantState
from revoque.state.cart import CartState
from revoque.state.session import SessionState
from tests.conftest import REDIS_URL, use_settings
from tests.factories import add_coupon, add_product, variants_of
from tests.support.tab import Tab

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(params=["memory", "redis"])
def counters(request, database, monkeypatch):
    """The counters of the embedded mode, or Redis under a prefix of this test's own."""
    prefix = f"revoque-test-{uuid.uuid4().hex[:8]}"
    use_settings(monkeypatch, redis_url=REDIS_URL if request.param == "redis" else "", redis_prefix=prefix)
    get_counters.cache_clear()
    yield request.param
    get_counters.cache_clear()
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def lower(monkeypatch, name: str, attempts: int) -> rate_limit.Limit:
    limit = replace(getattr(rate_limit, name), attempts=attempts)
    monkeypatch.setattr(rate_limit, name, limit)
    return limit


def sign_up(tab: Tab, email: str) -> None:
    form = {"name": "New Shopper", "email": email, "password": "a good password", "confirm_password": "a good password"}
    tab.go("/sign-up").run(SignUpState, "submit", form)


def users() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(User)).one()


def test_sign_ups_are_limited_per_network_and_typos_do_not_count(counters, monkeypatch):
    lower(monkeypatch, "SIGN_UP_PER_ADDRESS", 2)
    tab = Tab(ip="10.1.0.1")
    tab.go("/sign-up").run(SignUpState, "submit", {"name": "", "email": "nope", "password": "x"})
    assert tab.state(SignUpState).errors  # a mistake is not an account made
    for n in range(2):
        sign_up(Tab(ip="10.1.0.1"), f"shopper{n}@example.com")
    assert users() == 2
    refused = Tab(ip="10.1.0.1")
    sign_up(refused, "shopper2@example.com")
    assert refused.state(SignUpState).error.startswith("Too many new accounts from your network. Try again in ")
    assert users() == 2 and not refused.state(SessionState).token
    sign_up(Tab(ip="10.1.0.2"), "elsewhere@example.com")  # another network is not held back
    assert users() == 3


def test_reset_emails_are_limited_per_inbox_with_the_same_answer_for_everyone(counters, monkeypatch):
    lower(monkeypatch, "PASSWORD_RESET_PER_EMAIL", 2)
    with session_scope(write=True) as session:
        accounts.sign_up(session, "ada@example.com", "ada password 1", "Ada")
    tab = Tab(ip="10.2.0.1")
    for _ in range(2):
        tab.go("/forgot-password").run(ForgotPasswordState, "submit", {"email": "ADA@example.com"})
        assert tab.state(ForgotPasswordState).sent
    tab.run(ForgotPasswordState, "load")
    tab.run(ForgotPasswordState, "submit", {"email": "ada@example.com"})
    state = tab.state(ForgotPasswordState)
    assert not state.sent and state.error.startswith("Too many reset emails asked for.")
    assert SENT_MESSAGE not in state.error
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(OutboxEmail)).one() == 2
    # an address with no account is limited exactly the same way, so the limit reveals nothing
    for _ in range(2):
        tab.run(ForgotPasswordState, "submit", {"email": "nobody@example.com"})
    tab.run(ForgotPasswordState, "submit", {"email": "nobody@example.com"})
    assert tab.state(ForgotPasswordState).error == state.error


def test_reset_emails_are_limited_per_network(counters, monkeypatch):
    lower(monkeypatch, "PASSWORD_RESET_PER_ADDRESS", 3)
    tab = Tab(ip="10.2.0.2")
    for n in range(3):
        tab.run(ForgotPasswordState, "submit", {"email": f"someone{n}@example.com"})
        assert tab.state(ForgotPasswordState).sent
    tab.run(ForgotPasswordState, "submit", {"email": "someone9@example.com"})
    assert tab.state(ForgotPasswordState).error.startswith("Too many reset emails asked for.")


def test_coupon_guesses_are_limited_and_a_working_code_never_counts(counters, monkeypatch):
    lower(monkeypatch, "COUPON_FAILURES_PER_BROWSER", 3)
    with session_scope(write=True) as session:
        variant = variants_of(session, add_product(session, "Leather Sandals", variants=[({}, 2_000_000, 9)]))[0]
        add_coupon(session, "REAL10", value=1000)
    tab = Tab(ip="10.3.0.1")
    tab.run(CartState, "add", variant.id)
    tab.go("/checkout").run(CheckoutState, "load")

    def apply(code: str) -> CheckoutState:
        tab.run(CheckoutState, "set_field", "coupon_input", code)
        tab.run(CheckoutState, "apply_coupon")
        return tab.state(CheckoutState)

    for _ in range(5):
        assert apply("REAL10").coupon_code == "REAL10"  # used again and again: never counted
    for guess in ("FREE100", "SAVE50", "VIP"):
        assert apply(guess).coupon_error.startswith("We don't recognise")
    refused = apply("REAL10")
    assert refused.coupon_error.startswith("Too many codes that didn't work. Try again in ")
    assert refused.coupon_code == ""  # while blocked, not even a working code is looked up
    other_browser = Tab(ip="10.3.0.2")
    other_browser.run(CartState, "add", variant.id)
    other_browser.go("/checkout").run(CheckoutState, "load")
    other_browser.run(CheckoutState, "set_field", "coupon_input", "real10")
    other_browser.run(CheckoutState, "apply_coupon")
    assert other_browser.state(CheckoutState).coupon_code == "REAL10"


def test_chat_messages_are_limited_per_network_beyond_each_conversations_limit(counters, monkeypatch):
    lower(monkeypatch, "CHAT_PER_ADDRESS", 0)
    tab = Tab(ip="10.4.0.1")
    tab.run(AssistantState, "set_draft", "Do you have red shoes?")
    tab.run(AssistantState, "submit", {})  # queues the answer as a background event
    tab.run(AssistantState, "answer", "Do you have red shoes?")
    items = tab.state(AssistantState).items
    assert [item.role for item in items] == ["user", "assistant"]
    assert items[-1].text.startswith("You're sending messages quickly — please wait ")
    assert not tab.state(AssistantState).typing
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(ChatMessage)).one() == 0  # refused before storing


def test_redis_counts_are_shared_by_workers_and_memory_takes_over_when_redis_is_down(database, monkeypatch):
    prefix = f"revoque-test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        first, second = RedisCounters(client, prefix), RedisCounters(client, prefix)
        assert [first.hit("k", 60), second.hit("k", 60), first.hit("k", 60)] == [1, 2, 3]
        assert second.count("k") == 3 and 55 <= client.ttl(f"{prefix}:rate:k") <= 60
        dead = RedisCounters(redis.Redis.from_url(DEAD_REDIS_URL, socket_connect_timeout=0.2), prefix)
        assert [dead.hit("k", 60), dead.hit("k", 60)] == [1, 2] and dead.count("k") == 2
        assert isinstance(dead._fallback, MemoryCounters)
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
