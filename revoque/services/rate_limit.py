"""Rate limits for what a stranger can repeat cheaply: sign-ups, password-reset emails, coupon guesses
and chat messages. Sign-in has its own stricter rule in ``accounts`` (a doubling lock per email and
per network address, kept in the database so every worker sees it); these limits use the same
wording ("Too many … Try again in …") on expiring counters (``adapters.counters``: Redis shared by
every worker, or memory in the embedded mode).

A ``Limit`` allows ``attempts`` per fixed window of ``window_seconds`` per key (an address, an email,
a browser). ``check`` counts an attempt and refuses it past the limit; ``blocked``/``record`` let a
caller count only failures (a shopper typing a valid coupon is never held back by earlier typos they
corrected). Keys are hashed, so no address or email is ever written to Redis in the clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from revoque.adapters.counters import get_counters
from revoque.errors import RevoqueError


class RateLimited(RevoqueError):
    """Too many attempts; the message says what was limited and how long to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window_seconds: int
    message: str  # "Too many … Try again in {wait}."


SIGN_UP_PER_ADDRESS = Limit(
    "sign-up", 10, 3600, "Too many new accounts from your network. Try again in {wait}, or sign in instead."
)
PASSWORD_RESET_PER_EMAIL = Limit(
    "reset-email", 3, 3600, "Too many reset emails asked for. Check your inbox (and spam), or try again in {wait}."
)
PASSWORD_RESET_PER_ADDRESS = Limit(
    "reset-address", 20, 3600, "Too many reset emails asked for. Check your inbox (and spam), or try again in {wait}."
)
COUPON_FAILURES_PER_BROWSER = Limit(
    "coupon-browser", 10, 900, "Too many codes that didn't work. Try again in {wait}, or check out without one."
)
COUPON_FAILURES_PER_ADDRESS = Limit(
    "coupon-address", 30, 900, "Too many codes that didn't work. Try again in {wait}, or check out without one."
)
CHAT_PER_ADDRESS = Limit("chat-address", 30, 60, "You're sending messages quickly — please wait {wait} and ask again.")


def wait_text(seconds: int) -> str:
    """``45 seconds``, ``1 minute``, ``12 minutes``: how long to wait, in the store's words."""
    seconds = max(seconds, 1)
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _window(limit: Limit, now: float) -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    index = int(now // limit.window_seconds)
    return index, max(1, math.ceil((index + 1) * limit.window_seconds - now))


def _counter_key(limit: Limit, key: str, index: int) -> str:
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    return f"{limit.name}:{digest}:{index}"


def _refuse(limit: Limit, seconds_left: int) -> RateLimited:
    return RateLimited(limit.message.format(wait=wait_text(seconds_left)), seconds_left)


def blocked(*pairs: tuple[Limit, str], now: float | None = None) -> RateLimited | None:
    """The refusal to raise when a ``(limit, key)`` pair is used up in this window, else None;
    nothing is counted. An empty key (no address known) is never limited."""
    now = time.time() if now is None else now
    for limit, key in pairs:
        index, left = _window(limit, now)
        if key and get_counters().count(_counter_key(limit, key, index)) >= limit.attempts:
            return _refuse(limit, left)
    return None


def record(*pairs: tuple[Limit, str], now: float | None = None) -> list[int]:
    """Count one attempt (or failure) against each ``(limit, key)``; returns the counts so far in
    this window (0 for an empty key, which is not counted)."""
    now = time.time() if now is None else now
    counts = []
    for limit, key in pairs:
        index, _left = _window(limit, now)
        counts.append(get_counters().hit(_counter_key(limit, key, index), limit.window_seconds + 60) if key else 0)
    return counts


def check(*pairs: tuple[Limit, str], now: float | None = None) -> None:
    """Count this attempt against each ``(limit, key)`` and raise RateLimited if any is over. An
    attempt refused here still counts, so hammering a limit never reopens it early."""
    now = time.time() if now is None else now
    for (limit, _key), count in zip(pairs, record(*pairs, now=now), strict=True):
        if count > limit.attempts:
            raise _refuse(limit, _window(limit, now)[1])
