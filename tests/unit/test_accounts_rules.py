"""Pure account rules: email and password checks, the sign-in back-off, token and password hashing."""

import pytest

from revoque.adapters.mail import parse_smtp_url
from revoque.errors import ConfigError, PermissionDenied
from revoque.models import User
from revoque.services.accounts import (
    MAX_LOCK_SECONDS,
    InvalidFields,
    address_lines,
    check_password,
    hash_password,
    hash_token,
    lock_seconds,
    new_token,
    normalize_email,
    require_role,
    verify_password,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Ada@Example.COM ", "ada@example.com"), ("a.b+shop@mail.co.ng", "a.b+shop@mail.co.ng")],
)
def test_emails_are_trimmed_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter your email address."),
        ("   ", "Enter your email address."),
        ("ada", "Enter a valid email address, like name@example.com."),
        ("ada@example", "Enter a valid email address, like name@example.com."),
        ("ada obi@example.com", "Enter a valid email address, like name@example.com."),
        ("a@" + "b" * 250 + ".com", "That email address is too long."),
    ],
)
def test_bad_emails_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(InvalidFields) as caught:
        normalize_email(raw)
    assert caught.value.errors == {"email": message}
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("password", "says"),
    [("short1", "at least 8 characters"), ("12345678901", "letters or symbols"), ("x" * 257, "at most 256")],
)
def test_weak_passwords_are_refused(password, says):
    with pytest.raises(InvalidFields) as caught:
        check_password(password, "new_password")
    assert says in caught.value.errors["new_password"]


@pytest.mark.parametrize("password", ["correct horse", "abcdefgh", "1234567a", "пароль-надёжный"])
def test_reasonable_passwords_pass(password):
    check_password(password)


def test_lock_doubles_after_the_third_failure_and_is_capped():
    assert [lock_seconds(n) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 16, 32]
    assert lock_seconds(13) == MAX_LOCK_SECONDS == 15 * 60
    assert lock_seconds(500) == MAX_LOCK_SECONDS


def test_tokens_are_random_and_stored_as_sha256_hex():
    token = new_token()
    assert len(token) >= 43 and token != new_token()
    digest = hash_token(token)
    assert len(digest) == 64 and all(ch in "0123456789abcdef" for ch in digest)
    assert digest == hash_token(token) and digest != hash_token(token + "x")


def test_passwords_are_argon2id_hashes():
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "Correct horse")
    assert not verify_password("not a hash", "correct horse")


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        ("customer", ("staff",), False),
        ("staff", ("staff",), True),
        ("admin", ("staff",), True),
        ("staff", ("admin",), False),
    ],
)
def test_require_role(role, needed, allowed):
    user = User(email="a@b.co", password_hash="x", role=role)
    if allowed:
        assert require_role(user, *needed) is user
    else:
        with pytest.raises(PermissionDenied):
            require_role(user, *needed)


def test_nobody_and_disabled_accounts_have_no_role():
    with pytest.raises(PermissionDenied):
        require_role(None, "staff")
    with pytest.raises(PermissionDenied):
        require_role(User(email="a@b.co", password_hash="x", role="admin", is_active=False), "admin")


def test_address_lines_print_like_a_parcel_label():
    snapshot = {"name": "Ada Obi", "line1": "12 Allen Ave", "city": "Ikeja", "state": "Lagos", "country": "NG"}
    assert address_lines(snapshot) == ["Ada Obi", "12 Allen Ave", "Ikeja, Lagos"]
    assert address_lines({}) == []


def test_smtp_urls():
    server = parse_smtp_url("smtps://me%40shop.ng:p%3Ass@mail.example.com")
    assert (server.host, server.port, server.username, server.password, server.implicit_tls) == (
        "mail.example.com",
        465,
        "me@shop.ng",
        "p:ss",
        True,
    )
    assert parse_smtp_url("smtp://relay:2525").port == 2525
    for bad in ("http://mail.example.com", "smtp://", "smtp://host:port"):
        with pytest.raises(ConfigError, match="SMTP_URL"):
            parse_smtp_url(bad)
