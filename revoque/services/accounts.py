"""Customer accounts: sign-up and sign-in, server-side sessions, password resets, roles, profile,
addresses, wishlist, reviews and the customer's own order history.

Secrets never reach the database in the clear: passwords are argon2id hashes, and session and
reset tokens are random strings of which only the SHA-256 is stored. Sign-in never tells a wrong
email from a wrong password, and repeated failures per email and per IP lock the key for a
doubling delay. Every function that reads or changes a customer's rows takes their ``user_id``
and treats other customers' rows as not found. Time-dependent functions take ``now`` for tests.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from revoque.errors import NotFound, PermissionDenied, RevoqueError, ValidationError
from revoque.models import (
    Address,
    AuthSession,
    LoginThrottle,
    Order,
    OrderLine,
    OrderStatus,
    PasswordResetToken,
    Product,
    ProductStatus,
    Review,
    Role,
    User,
    WishlistItem,
)
from revoque.models.base import utcnow
from revoque.services import catalog, emails, orders
from revoque.services.catalog import ProductCard
from revoque.services.money import format_money
from revoque.services.orders import EventView
from revoque.settings import get_settings

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256  # argon2 accepts any length; this bounds the work a request can cause
FREE_FAILURES = 2  # the 3rd failure in a row locks the key for 1 s, the 4th for 2 s, then 4 s ...
MAX_LOCK_SECONDS = 15 * 60
FAILURE_MEMORY = timedelta(hours=1)  # failures older than this no longer count
STAFF_ROLES = (Role.STAFF.value, Role.ADMIN.value)
REVIEWS_PAGE_SIZE = 10
ORDERS_PAGE_SIZE = 10

INVALID_CREDENTIALS = "Email or password is incorrect."
DUPLICATE_EMAIL = "An account with this email already exists. Sign in instead?"
RESET_LINK_INVALID = "This reset link has expired or was already used."
ACCOUNT_DISABLED = "This account has been disabled. Contact us if you think this is a mistake."

NIGERIAN_STATES = (
    "Abia", "Adamawa", "Akwa Ibom", "Anambra", "Bauchi", "Bayelsa", "Benue", "Borno", "Cross River",
    "Delta", "Ebonyi", "Edo", "Ekiti", "Enugu", "FCT", "Gombe", "Imo", "Jigawa", "Kaduna", "Kano",
    "Katsina", "Kebbi", "Kogi", "Kwara", "Lagos", "Nasarawa", "Niger", "Ogun", "Ondo", "Osun", "Oyo",
    "Plateau", "Rivers", "Sokoto", "Taraba", "Yobe", "Zamfara",
)  # fmt: skip

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+?[\d\s().-]+")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class ThrottledError(RevoqueError):
    """Too many failed sign-ins for this email or network address; the message says how long to wait."""


class InvalidFields(ValidationError):
    """One or more form fields were rejected; ``errors`` maps each field name to its message so a
    form can show every message next to its field. ``str()`` joins the messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


# --- pure rules ----------------------------------------------------------------------------------


def _email_problem(raw: str) -> str:
    email = raw.strip().lower()
    if not email:
        return "Enter your email address."
    if len(email) > 254:
        return "That email address is too long."
    if not _EMAIL.fullmatch(email):
        return "Enter a valid email address, like name@example.com."
    return ""


def normalize_email(raw: str) -> str:
    """Emails are compared lower-cased and trimmed, so "Ada@Example.com " is one account."""
    if problem := _email_problem(raw):
        raise InvalidFields({"email": problem})
    return raw.strip().lower()


def _password_problem(password: str) -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Use at least {PASSWORD_MIN_LENGTH} characters for your password."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Use at most {PASSWORD_MAX_LENGTH} characters for your password."
    if password.isdigit():
        return "Use letters or symbols as well as numbers in your password."
    return ""


def check_password(password: str, field: str = "password") -> None:
    """Raise InvalidFields naming ``field`` when the password breaks the rules."""
    if problem := _password_problem(password):
        raise InvalidFields({field: problem})


def _phone_problem(phone: str) -> str:
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (not _PHONE.fullmatch(phone) or not 7 <= digits <= 15):
        return "Enter a valid phone number, like +234 803 123 4567."
    return ""


def _name_problem(name: str, empty_message: str) -> str:
    if not name:
        return empty_message
    return "Keep the name to 120 characters or fewer." if len(name) > 120 else ""


def _raise_if_any(errors: dict[str, str]) -> None:
    problems = {name: message for name, message in errors.items() if message}
    if problems:
        raise InvalidFields(problems)


def lock_seconds(failures: int) -> int:
    """How long a key stays locked after ``failures`` failures in a row: 0 for the first two, then
    1, 2, 4, 8 ... seconds (doubling, as Saleor does), never more than 15 minutes."""
    if failures <= FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES - 1), MAX_LOCK_SECONDS)


def hash_token(token: str) -> str:
    """What the database keeps of a session or reset token: a leaked table signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against for unknown emails, so they take as long to refuse as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def _wait_text(seconds: int) -> str:
    if seconds >= 120:
        return f"{math.ceil(seconds / 60)} minutes"
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; every stored timestamp is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    moment = _aware(moment)
    return f"{moment.day} {moment:%b %Y}"


def _label(value: str) -> str:
    """Status codes as a shopper reads them: partially_refunded → "Partially refunded"."""
    return value.replace("_", " ").capitalize()


# --- users, sign-up and roles --------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That account does not exist.")
    return user


def _user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def sign_up(session: Session, email: str, password: str, name: str) -> User:
    """Create a customer account; every field problem is reported at once."""
    name = name.strip()
    _raise_if_any(
        {
            "name": _name_problem(name, "Enter your name."),
            "email": _email_problem(email),
            "password": _password_problem(password),
        }
    )
    email = normalize_email(email)
    if _user_by_email(session, email) is not None:
        raise InvalidFields({"email": DUPLICATE_EMAIL})
    user = User(email=email, password_hash=hash_password(password), name=name)
    try:
        with session.begin_nested():  # a concurrent sign-up with the same email loses cleanly
            session.add(user)
    except IntegrityError as exc:
        raise InvalidFields({"email": DUPLICATE_EMAIL}) from exc
    return user


def require_role(user: User | None, *roles: str) -> User:
    """The user when they may act in one of ``roles``; admins may do anything staff may."""
    allowed = {*roles, Role.ADMIN.value}
    if user is None or not user.is_active or user.role not in allowed:
        raise PermissionDenied("You do not have permission to do that. Sign in with a staff account.")
    return user


def create_admin(session: Session, email: str, password: str | None = None) -> tuple[User, str | None]:
    """Create an admin, or promote an existing account. Returns the password generated when a new
    account was created without one (shown once by the CLI), else None."""
    email = normalize_email(email)
    if password is not None:
        check_password(password)
    user = _user_by_email(session, email)
    generated = None
    if user is None:
        generated = secrets.token_urlsafe(12) if password is None else None
        user = User(email=email, password_hash=hash_password(password or generated), name="Admin")
    elif password is not None:
        user.password_hash = hash_password(password)
    user.role, user.is_active = Role.ADMIN.value, True
    session.add(user)
    session.flush()
    return user, generated


def update_profile(session: Session, user_id: int, *, name: str, phone: str) -> User:
    name, phone = name.strip(), phone.strip()
    _raise_if_any({"name": _name_problem(name, "Enter your name."), "phone": _phone_problem(phone)})
    user = get_user(session, user_id)
    user.name, user.phone = name, phone
    session.add(user)
    session.flush()
    return user


# --- sign-in throttling --------------------------------------------------------------------------


def _throttle_keys(email: str, ip: str) -> list[str]:
    """Sorted, so concurrent sign-ins lock the rows in the same order and never deadlock."""
    return sorted([f"email:{email}", *([f"ip:{ip}"] if ip else [])])


def _seconds_locked(session: Session, keys: list[str], now: datetime) -> int:
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))).all()
    remaining = [(_aware(r.locked_until) - now).total_seconds() for r in rows if r.locked_until]
    return math.ceil(max([0.0, *remaining]))


def _insert_if_missing(session: Session, model: type, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING: safe when concurrent requests insert the same key."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def _locked_throttle_row(session: Session, key: str) -> LoginThrottle:
    """The key's row, created if missing, locked for update (concurrent failures count each)."""
    _insert_if_missing(session, LoginThrottle, key=key, failures=0)
    statement = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).one()


def _record_failure(session: Session, keys: list[str], now: datetime) -> None:
    for key in keys:
        row = _locked_throttle_row(session, key)
        if row.last_failure_at is None or _aware(row.last_failure_at) < now - FAILURE_MEMORY:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        delay = lock_seconds(row.failures)
        row.locked_until = now + timedelta(seconds=delay) if delay else None
        session.add(row)


def _clear_failures(session: Session, email: str) -> None:
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == f"email:{email}"))


# --- sessions ------------------------------------------------------------------------------------


def start_session(
    session: Session, user_id: int, *, ip: str = "", user_agent: str = "", now: datetime | None = None
) -> str:
    """A new signed-in browser: returns the token for the browser; only its hash is stored."""
    now = now or utcnow()
    token = new_token()
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(days=get_settings().session_days),
            ip=ip[:64],
            user_agent=user_agent[:300],
        )
    )
    session.flush()
    return token


def sign_in(
    session: Session, email: str, password: str, ip: str, *, user_agent: str = "", now: datetime | None = None
) -> tuple[User, str]:
    """Check the password and start a session. A wrong email and a wrong password get the same
    message and take about as long. Failures are committed before raising, so the caller's
    rollback cannot erase them; while the email or IP is locked the password is not even checked."""
    now = now or utcnow()
    email = normalize_email(email)
    keys = _throttle_keys(email, ip)
    if waiting := _seconds_locked(session, keys, now):
        raise ThrottledError(f"Too many attempts. Try again in {_wait_text(waiting)}.")
    user = _user_by_email(session, email)
    password_ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not password_ok:
        _record_failure(session, keys, now)
        session.commit()
        raise ValidationError(INVALID_CREDENTIALS)
    if not user.is_active:
        raise ValidationError(ACCOUNT_DISABLED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    _clear_failures(session, email)
    return user, start_session(session, user.id, ip=ip, user_agent=user_agent, now=now)


def _auth_session(session: Session, token: str) -> AuthSession | None:
    if not token:
        return None
    return session.exec(select(AuthSession).where(AuthSession.token_hash == hash_token(token))).first()


def resolve_session(session: Session, token: str, now: datetime | None = None) -> User | None:
    """The user a browser's token signs in, or None when it is unknown, expired, revoked or the
    account is disabled."""
    auth = _auth_session(session, token)
    if auth is None or auth.revoked_at is not None or _aware(auth.expires_at) <= (now or utcnow()):
        return None
    user = session.get(User, auth.user_id)
    return user if user is not None and user.is_active else None


def sign_out(session: Session, token: str, now: datetime | None = None) -> None:
    auth = _auth_session(session, token)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = now or utcnow()
        session.add(auth)


def _revoke_all_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def change_password(
    session: Session,
    user_id: int,
    current: str,
    new: str,
    *,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> str:
    """Sign every browser out (a thief's too) and return a fresh token for the one asking."""
    now = now or utcnow()
    user = get_user(session, user_id)
    if not verify_password(user.password_hash, current):
        raise InvalidFields({"current_password": "Your current password is incorrect."})
    check_password(new, "new_password")
    user.password_hash = hash_password(new)
    session.add(user)
    _revoke_all_sessions(session, user_id, now)
    return start_session(session, user_id, ip=ip, user_agent=user_agent, now=now)


# --- password reset ------------------------------------------------------------------------------


def request_password_reset(session: Session, email: str, now: datetime | None = None) -> None:
    """Email a one-time reset link to a known, active account; for any other address do nothing,
    so the answer never reveals who has an account."""
    now = now or utcnow()
    user = _user_by_email(session, normalize_email(email))
    if user is None or not user.is_active:
        return
    settings = get_settings()
    token = new_token()
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.password_reset_minutes),
        )
    )
    link = f"{settings.base_url.rstrip('/')}/reset-password?token={token}"
    emails.send_password_reset(session, user, link, settings.password_reset_minutes)


def reset_password(session: Session, token: str, new_password: str, now: datetime | None = None) -> None:
    """Set a new password from a reset link: single use, expiring, and every browser is signed out.
    The password is checked first so a typo does not use up the link."""
    now = now or utcnow()
    check_password(new_password)
    reset = session.exec(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token)).with_for_update()
    ).first()
    if reset is None or reset.used_at is not None or _aware(reset.expires_at) <= now:
        raise ValidationError(RESET_LINK_INVALID)
    user = get_user(session, reset.user_id)
    user.password_hash = hash_password(new_password)
    session.add(user)
    session.execute(
        update(PasswordResetToken)
        .where(col(PasswordResetToken.user_id) == user.id, col(PasswordResetToken.used_at).is_(None))
        .values(used_at=now)
    )
    _revoke_all_sessions(session, user.id, now)
    _clear_failures(session, user.email)


# --- addresses -----------------------------------------------------------------------------------


@dataclass
class AddressInput:
    """What the address form sends; every value is trimmed and checked by the service."""

    name: str
    line1: str
    city: str
    state: str = ""
    line2: str = ""
    postal_code: str = ""
    phone: str = ""
    country: str = "NG"


@dataclass
class AddressInfo:
    id: int
    name: str
    phone: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str
    is_default_shipping: bool
    is_default_billing: bool
    lines: list[str]


def address_lines(address: dict) -> list[str]:
    """An address as printed on a parcel; works for Address rows and order snapshots alike."""
    place = ", ".join(part for part in (address.get("city", ""), address.get("state", "")) if part)
    place = f"{place} {address.get('postal_code', '')}".strip()
    country = address.get("country", "")
    candidates = [
        address.get("name", ""),
        address.get("line1", ""),
        address.get("line2", ""),
        place,
        "" if country in ("", "NG") else country,
        address.get("phone", ""),
    ]
    return [line for line in candidates if line]


def _address_info(address: Address) -> AddressInfo:
    values = address.model_dump()
    return AddressInfo(
        **{f.name: values[f.name] for f in fields(AddressInfo) if f.name != "lines"},
        lines=address_lines(values),
    )


_ADDRESS_LIMITS = {"name": 120, "line1": 200, "line2": 200, "city": 100, "state": 100, "postal_code": 20}
_ADDRESS_REQUIRED = {
    "name": "Enter the recipient's name.",
    "line1": "Enter the street address.",
    "city": "Enter the city or town.",
}


def _clean_address(data: AddressInput) -> AddressInput:
    cleaned = AddressInput(**{f.name: str(getattr(data, f.name)).strip() for f in fields(AddressInput)})
    cleaned.country = cleaned.country.upper() or "NG"
    errors = {name: message for name, message in _ADDRESS_REQUIRED.items() if not getattr(cleaned, name)}
    for name, limit in _ADDRESS_LIMITS.items():
        if len(getattr(cleaned, name)) > limit:
            errors.setdefault(name, f"Keep this to {limit} characters or fewer.")
    if cleaned.country == "NG" and cleaned.state not in NIGERIAN_STATES:
        errors["state"] = "Choose one of Nigeria's 36 states or the FCT."
    if not re.fullmatch(r"[A-Z]{2}", cleaned.country):
        errors["country"] = "Use a two-letter country code, like NG."
    errors["phone"] = _phone_problem(cleaned.phone)
    _raise_if_any(errors)
    return cleaned


def _own_address(session: Session, user_id: int, address_id: int) -> Address:
    address = session.get(Address, address_id)
    if address is None or address.user_id != user_id:
        raise NotFound("That address does not exist.")
    return address


def _user_addresses(session: Session, user_id: int) -> list[Address]:
    return list(
        session.exec(
            select(Address).where(Address.user_id == user_id).order_by(col(Address.created_at).desc(), Address.id)
        )
    )


def list_addresses(session: Session, user_id: int) -> list[AddressInfo]:
    return [_address_info(a) for a in _user_addresses(session, user_id)]


def add_address(session: Session, user_id: int, data: AddressInput) -> AddressInfo:
    """The first address becomes the default for shipping and billing."""
    cleaned = _clean_address(data)
    first = not _user_addresses(session, user_id)
    address = Address(user_id=user_id, is_default_shipping=first, is_default_billing=first, **vars(cleaned))
    session.add(address)
    session.flush()
    return _address_info(address)


def update_address(session: Session, user_id: int, address_id: int, data: AddressInput) -> AddressInfo:
    address = _own_address(session, user_id, address_id)
    for name, value in vars(_clean_address(data)).items():
        setattr(address, name, value)
    session.add(address)
    session.flush()
    return _address_info(address)


def delete_address(session: Session, user_id: int, address_id: int) -> None:
    """Deleting a default hands the default on to the newest remaining address."""
    address = _own_address(session, user_id, address_id)
    session.delete(address)
    session.flush()
    remaining = _user_addresses(session, user_id)
    for flag in ("is_default_shipping", "is_default_billing"):
        if remaining and getattr(address, flag):
            setattr(remaining[0], flag, True)
            session.add(remaining[0])


def set_default_address(session: Session, user_id: int, address_id: int, kind: str) -> None:
    """Make one address the default for ``kind`` ("shipping" or "billing")."""
    if kind not in ("shipping", "billing"):
        raise ValidationError("Choose whether this is the default for shipping or for billing.")
    _own_address(session, user_id, address_id)
    for address in _user_addresses(session, user_id):
        setattr(address, f"is_default_{kind}", address.id == address_id)
        session.add(address)


# --- wishlist ------------------------------------------------------------------------------------


def add_to_wishlist(session: Session, user_id: int, product_id: int) -> None:
    """Idempotent: saving a product twice keeps one entry."""
    product = session.get(Product, product_id)
    if product is None or product.status != ProductStatus.ACTIVE:
        raise NotFound("That product is no longer available.")
    _insert_if_missing(session, WishlistItem, user_id=user_id, product_id=product_id, created_at=utcnow())


def remove_from_wishlist(session: Session, user_id: int, product_id: int) -> None:
    session.execute(
        delete(WishlistItem).where(col(WishlistItem.user_id) == user_id, col(WishlistItem.product_id) == product_id)
    )


def wishlist_product_ids(session: Session, user_id: int) -> set[int]:
    return set(session.exec(select(WishlistItem.product_id).where(WishlistItem.user_id == user_id)))


def list_wishlist(session: Session, user_id: int) -> list[ProductCard]:
    """Saved products, newest first; products no longer sold drop out of the list."""
    ids = session.exec(
        select(WishlistItem.product_id)
        .where(WishlistItem.user_id == user_id)
        .order_by(col(WishlistItem.created_at).desc(), col(WishlistItem.product_id).desc())
    ).all()
    return catalog.cards_for_products(session, ids)


# --- reviews -------------------------------------------------------------------------------------


@dataclass
class ReviewSummary:
    average: float
    count: int
    histogram: list[tuple[int, int]]  # (stars, reviews) from 5 stars down to 1


@dataclass
class ReviewInfo:
    author: str
    rating: int
    title: str
    body: str
    date: str


@dataclass
class ReviewPage:
    items: list[ReviewInfo]
    total: int
    page: int
    pages: int


def _has_delivered(session: Session, user_id: int, product_id: int) -> bool:
    statement = (
        select(Order.id)
        .join(OrderLine, col(OrderLine.order_id) == Order.id)
        .where(Order.user_id == user_id, Order.status == OrderStatus.DELIVERED, OrderLine.product_id == product_id)
    )
    return session.exec(statement.limit(1)).first() is not None


def _has_reviewed(session: Session, user_id: int, product_id: int) -> bool:
    statement = select(Review.id).where(Review.user_id == user_id, Review.product_id == product_id)
    return session.exec(statement.limit(1)).first() is not None


def can_review(session: Session, user_id: int, product_id: int) -> bool:
    """Only customers who received the product review it, once."""
    return _has_delivered(session, user_id, product_id) and not _has_reviewed(session, user_id, product_id)


def add_review(
    session: Session, user_id: int, product_id: int, *, rating: int, title: str = "", body: str = ""
) -> Review:
    title, body = title.strip(), body.strip()
    _raise_if_any(
        {
            "rating": "" if rating in range(1, 6) else "Choose a rating from 1 to 5 stars.",
            "title": "Keep the title to 120 characters or fewer." if len(title) > 120 else "",
            "body": "Keep the review to 4,000 characters or fewer." if len(body) > 4000 else "",
        }
    )
    if _has_reviewed(session, user_id, product_id):
        raise ValidationError("You have already reviewed this product.")
    if not _has_delivered(session, user_id, product_id):
        raise ValidationError("You can review a product once an order with it has been delivered to you.")
    review = Review(product_id=product_id, user_id=user_id, rating=rating, title=title, body=body)
    try:
        with session.begin_nested():  # a double submit: the second one loses on the unique key
            session.add(review)
    except IntegrityError as exc:
        raise ValidationError("You have already reviewed this product.") from exc
    return review


def review_summary(session: Session, product_id: int) -> ReviewSummary:
    counts = dict(
        session.exec(
            select(Review.rating, func.count()).where(Review.product_id == product_id).group_by(Review.rating)
        ).all()
    )
    total = sum(counts.values())
    average = round(sum(stars * n for stars, n in counts.items()) / total, 1) if total else 0.0
    return ReviewSummary(average, total, [(stars, counts.get(stars, 0)) for stars in range(5, 0, -1)])


def _author(name: str) -> str:
    """ "Ada Obi" → "Ada O.": enough to be a person, not enough to find them."""
    words = name.split()
    if not words:
        return "Verified buyer"
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0]}."


def list_reviews(session: Session, product_id: int, page: int = 1, page_size: int = REVIEWS_PAGE_SIZE) -> ReviewPage:
    total = session.exec(select(func.count()).select_from(Review).where(Review.product_id == product_id)).one()
    page, pages = catalog.clamp_page(page, total, page_size)
    rows = session.exec(
        select(Review, User.name)
        .join(User, col(User.id) == Review.user_id)
        .where(Review.product_id == product_id)
        .order_by(col(Review.created_at).desc(), col(Review.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [ReviewInfo(_author(name), r.rating, r.title, r.body, _day(r.created_at)) for r, name in rows]
    return ReviewPage(items, total, page, pages)


# --- the customer's orders -----------------------------------------------------------------------


@dataclass
class OrderSummary:
    number: str
    date: str
    status: str
    payment_status: str
    total: str
    item_count: int


@dataclass
class OrderPage:
    items: list[OrderSummary]
    total: int
    page: int
    pages: int


@dataclass
class OrderLineInfo:
    title: str
    variant: str
    sku: str
    quantity: int
    unit_price: str
    line_total: str
    href: str  # "" when the product is no longer sold
    image_url: str


@dataclass
class OrderDetail:
    number: str
    date: str
    status: str
    payment_status: str
    payment_method: str
    payment_method_code: str
    shipping_method: str
    subtotal: str
    discount: str  # "" when there is no discount
    shipping: str
    tax: str
    tax_included: bool
    total: str
    coupon_code: str
    lines: list[OrderLineInfo]
    timeline: list[EventView]  # newest first
    shipping_address: list[str]
    billing_address: list[str]


def list_orders(session: Session, user_id: int, page: int = 1, page_size: int = ORDERS_PAGE_SIZE) -> OrderPage:
    """The customer's orders, newest first, one page at a time."""
    total = session.exec(select(func.count()).select_from(Order).where(Order.user_id == user_id)).one()
    page, pages = catalog.clamp_page(page, total, page_size)
    rows = session.exec(
        select(Order)
        .where(Order.user_id == user_id)
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    counts = _item_counts(session, [o.id for o in rows])
    items = [
        OrderSummary(
            number=o.number,
            date=_day(o.created_at),
            status=_label(o.status),
            payment_status=_label(o.payment_status),
            total=format_money(o.total, o.currency),
            item_count=counts.get(o.id, 0),
        )
        for o in rows
    ]
    return OrderPage(items, total, page, pages)


def _item_counts(session: Session, order_ids: Sequence[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    rows = session.exec(
        select(OrderLine.order_id, func.sum(OrderLine.quantity))
        .where(col(OrderLine.order_id).in_(order_ids))
        .group_by(OrderLine.order_id)
    )
    return {order_id: int(quantity or 0) for order_id, quantity in rows}


def get_order_for_user(session: Session, user_id: int, number: str) -> OrderDetail:
    """One of the customer's own orders; anyone else's is "not found", never "forbidden"."""
    order = session.exec(select(Order).where(Order.number == number, Order.user_id == user_id)).first()
    if order is None:
        raise NotFound(f"There is no order {number} on your account.")
    return order_detail(session, order)


def get_order_by_number(session: Session, number: str) -> Order:
    """For pages that have already checked the visitor may see it (e.g. by the emailed order key)."""
    order = session.exec(select(Order).where(Order.number == number)).first()
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return order


def order_detail(session: Session, order: Order) -> OrderDetail:
    """Everything the customer sees about an order: lines, totals, addresses and timeline."""
    money = partial(format_money, currency=order.currency)
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    cards = {c.id: c for c in catalog.cards_for_products(session, [ln.product_id for ln in lines if ln.product_id])}
    return OrderDetail(
        number=order.number,
        date=_day(order.created_at),
        status=_label(order.status),
        payment_status=_label(order.payment_status),
        payment_method=_label(order.payment_method),
        payment_method_code=order.payment_method,
        shipping_method=order.shipping_method_name,
        subtotal=money(order.subtotal),
        discount=money(order.discount) if order.discount else "",
        shipping=money(order.shipping) if order.shipping else "Free",
        tax=money(order.tax),
        tax_included=order.prices_include_tax,
        total=money(order.total),
        coupon_code=order.coupon_code,
        lines=[_line_info(line, cards.get(line.product_id), order.currency) for line in lines],
        timeline=list(reversed(orders.order_timeline(session, order.id, customer_view=True))),
        shipping_address=address_lines(order.shipping_address or {}),
        billing_address=address_lines(order.billing_address or {}),
    )


def _line_info(line: OrderLine, card: ProductCard | None, currency: str) -> OrderLineInfo:
    return OrderLineInfo(
        title=line.product_title,
        variant=line.variant_title,
        sku=line.sku,
        quantity=line.quantity,
        unit_price=format_money(line.unit_price, currency),
        line_total=format_money(line.line_total, currency),
        href=card.href if card else "",
        image_url=card.image_url if card else catalog.image_url(None),
    )
