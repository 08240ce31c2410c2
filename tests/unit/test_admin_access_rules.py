"""The admin access rule on its own: who gets in, who is sent to sign in, who is refused."""

from urllib.parse import parse_qs, urlsplit

import pytest

from revoque.models import Role, User
from revoque.state.admin import Access, decide, sign_in_url


def user(role: str, active: bool = True) -> User:
    return User(id=1, email=f"{role}@example.com", password_hash="x", role=role, is_active=active)


@pytest.mark.parametrize(
    ("viewer", "admin_only", "expected"),
    [
        (None, False, Access.SIGN_IN),
        (None, True, Access.SIGN_IN),
        (user(Role.CUSTOMER), False, Access.NOT_ALLOWED),
        (user(Role.CUSTOMER), True, Access.NOT_ALLOWED),
        (user(Role.STAFF), False, Access.GRANTED),
        (user(Role.STAFF), True, Access.ADMIN_ONLY),
        (user(Role.ADMIN), False, Access.GRANTED),
        (user(Role.ADMIN), True, Access.GRANTED),
        (user(Role.STAFF, active=False), False, Access.NOT_ALLOWED),
        (user(Role.ADMIN, active=False), True, Access.NOT_ALLOWED),
        (user("superuser"), False, Access.NOT_ALLOWED),  # an unknown role grants nothing
    ],
)
def test_decide(viewer, admin_only, expected):
    assert decide(viewer, admin_only) == expected


def test_sign_in_url_comes_back_to_the_page_and_its_query():
    url = sign_in_url("/admin/audit", "entity=order&page=2")
    parts = urlsplit(url)
    assert parts.path == "/sign-in"
    assert parse_qs(parts.query) == {"next": ["/admin/audit?entity=order&page=2"]}
    assert parse_qs(urlsplit(sign_in_url("/admin")).query) == {"next": ["/admin"]}
