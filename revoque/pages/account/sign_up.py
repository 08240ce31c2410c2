"""Create an account (name, email, password twice); the new customer is signed in at once."""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.account import auth_card, form_error, form_field, submit_button
from revoque.components.layout import storefront_page
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import User
from revoque.pages.account.common import FormMixin, check_confirmation
from revoque.services import accounts, rate_limit


def _sign_up(name: str, email: str, password: str, ip: str, user_agent: str) -> tuple[User, str]:
    """Only accounts actually created count towards the network's limit (a typo costs nothing)."""
    if refusal := rate_limit.blocked((rate_limit.SIGN_UP_PER_ADDRESS, ip)):
        raise refusal
    with session_scope(write=True) as session:
        user = accounts.sign_up(session, email, password, name)
        token = accounts.start_session(session, user.id, ip=ip, user_agent=user_agent)
    rate_limit.record((rate_limit.SIGN_UP_PER_ADDRESS, ip))
    return user, token


class SignUpState(FormMixin, rx.State):
    @rx.event
    def load(self):
        self._clear_form()

    @rx.event
    async def submit(self, form: dict):
        self._start_submit()
        yield
        values = {key: str(form.get(key, "")) for key in ("name", "email", "password", "confirm_password")}
        try:
            check_confirmation(values["password"], values["confirm_password"])
            user, token = await asyncio.to_thread(
                _sign_up, values["name"], values["email"], values["password"], **self._client()
            )
        except RevoqueError as exc:
            self._show_error(exc)
            return
        yield await self._signed_in(user, token)


@storefront_page(route="/sign-up", title="Create an account", on_load=SignUpState.load)
def sign_up_page() -> rx.Component:
    return auth_card(
        "Create an account",
        "Track your orders, save addresses for a faster checkout, and keep a wishlist.",
        form_error(SignUpState, "auth-error"),
        rx.form(
            rx.vstack(
                form_field(SignUpState, "Full name", "name", autocomplete="name"),
                form_field(SignUpState, "Email", "email", input_type="email", autocomplete="email"),
                form_field(
                    SignUpState,
                    "Password",
                    "password",
                    input_type="password",
                    autocomplete="new-password",
                    hint=f"At least {accounts.PASSWORD_MIN_LENGTH} characters, not only numbers.",
                ),
                form_field(
                    SignUpState,
                    "Confirm password",
                    "confirm_password",
                    input_type="password",
                    autocomplete="new-password",
                ),
                submit_button(SignUpState, "Create account", "sign-up-submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=SignUpState.submit,
            width="100%",
        ),
        rx.divider(),
        rx.text(
            "Already have an account? ",
            rx.link("Sign in", href="/sign-in", weight="medium"),
            size="2",
            text_align="center",
            width="100%",
        ),
    )
