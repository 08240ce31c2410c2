"""Sign in with email and password, then go back to where the shopper was heading (``?next=``)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.account import auth_card, form_error, form_field, submit_button
from revoque.components.layout import storefront_page
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import User
from revoque.pages.account.common import FormMixin
from revoque.services import accounts
from revoque.state.session import SessionState, safe_next_path

NOTICES = {"password-reset": "Your password has been changed. Sign in with your new password."}


def _sign_in(email: str, password: str, ip: str, user_agent: str) -> tuple[User, str]:
    with session_scope(write=True) as session:
        return accounts.sign_in(session, email, password, ip, user_agent=user_agent)


class SignInState(FormMixin, rx.State):
    notice: str = ""
    sign_up_href: str = "/sign-up"

    @rx.event
    async def load(self):
        """Someone already signed in (the page frame resolved the session just before) goes straight on."""
        self._clear_form()
        params = self.router.url.query_parameters
        self.notice = NOTICES.get(params.get("notice", ""), "")
        self.sign_up_href = f"/sign-up?{urlencode({'next': params['next']})}" if params.get("next") else "/sign-up"
        session_state = await self.get_state(SessionState)
        if session_state.signed_in:
            return rx.redirect(safe_next_path(params.get("next")))
        return None

    @rx.event
    async def submit(self, form: dict):
        self._start_submit()
        yield
        try:
            user, token = await asyncio.to_thread(
                _sign_in, str(form.get("email", "")), str(form.get("password", "")), **self._client()
            )
        except RevoqueError as exc:
            self._show_error(exc)
            return
        yield await self._signed_in(user, token)


@storefront_page(route="/sign-in", title="Sign in", on_load=SignInState.load)
def sign_in_page() -> rx.Component:
    return auth_card(
        "Sign in",
        "Welcome back. Sign in to see your orders, addresses and wishlist.",
        rx.cond(
            SignInState.notice != "",
            rx.callout(SignInState.notice, icon="circle-check", color_scheme="green", width="100%"),
        ),
        form_error(SignInState, "auth-error"),
        rx.form(
            rx.vstack(
                form_field(SignInState, "Email", "email", input_type="email", autocomplete="email"),
                form_field(SignInState, "Password", "password", input_type="password", autocomplete="current-password"),
                rx.link("Forgot your password?", href="/forgot-password", size="2", align_self="end"),
                submit_button(SignInState, "Sign in", "sign-in-submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=SignInState.submit,
            width="100%",
        ),
        rx.divider(),
        rx.text(
            "New here? ",
            rx.link("Create an account", href=SignInState.sign_up_href, weight="medium"),
            size="2",
            text_align="center",
            width="100%",
        ),
    )
