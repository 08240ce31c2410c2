"""Forgotten password: ask for a reset link by email, then choose a new password from that link.

The request page answers the same whether or not the email has an account, so it cannot be used
to find out who shops here.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.account import auth_card, form_error, form_field, submit_button
from revoque.components.layout import storefront_page
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.pages.account.common import FormMixin, check_confirmation
from revoque.services import accounts, rate_limit

SENT_MESSAGE = "If an account exists for that email, we've sent a reset link."


class ForgotPasswordState(FormMixin, rx.State):
    sent: bool = False

    @rx.event
    def load(self):
        self._clear_form()
        self.sent = False

    @rx.event
    def submit(self, form: dict):
        self._start_submit()
        yield
        email = str(form.get("email", ""))
        try:
            rate_limit.check(  # each request may send an email: the inbox and the network are limited
                (rate_limit.PASSWORD_RESET_PER_EMAIL, email),
                (rate_limit.PASSWORD_RESET_PER_ADDRESS, self.router.session.client_ip),
            )
            with session_scope(write=True) as session:
                accounts.request_password_reset(session, email)
        except RevoqueError as exc:
            self._show_error(exc)
            return
        self.submitting, self.sent = False, True


def _reset(token: str, password: str) -> None:
    with session_scope(write=True) as session:
        accounts.reset_password(session, token, password)


class ResetPasswordState(FormMixin, rx.State):
    _token: str = ""

    @rx.event
    def load(self):
        self._clear_form()
        self._token = self.router.url.query_parameters.get("token", "")
        if not self._token:
            self.error = accounts.RESET_LINK_INVALID

    @rx.event
    async def submit(self, form: dict):
        self._start_submit()
        yield
        password, confirm = str(form.get("password", "")), str(form.get("confirm_password", ""))
        try:
            check_confirmation(password, confirm)
            await asyncio.to_thread(_reset, self._token, password)
        except RevoqueError as exc:
            self._show_error(exc)
            return
        self.submitting = False
        yield rx.redirect("/sign-in?notice=password-reset")


@storefront_page(route="/forgot-password", title="Forgot your password", on_load=ForgotPasswordState.load)
def forgot_password_page() -> rx.Component:
    return auth_card(
        "Forgot your password?",
        "Enter the email you shop with and we'll send you a link to choose a new password.",
        rx.cond(
            ForgotPasswordState.sent,
            rx.callout(SENT_MESSAGE, icon="mail-check", color_scheme="green", width="100%", data_testid="reset-sent"),
        ),
        form_error(ForgotPasswordState),
        rx.form(
            rx.vstack(
                form_field(ForgotPasswordState, "Email", "email", input_type="email", autocomplete="email"),
                submit_button(ForgotPasswordState, "Send reset link", "forgot-submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=ForgotPasswordState.submit,
            width="100%",
        ),
        rx.link("Back to sign in", href="/sign-in", size="2", text_align="center", width="100%"),
    )


def _reset_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            form_field(
                ResetPasswordState,
                "New password",
                "password",
                input_type="password",
                autocomplete="new-password",
                hint=f"At least {accounts.PASSWORD_MIN_LENGTH} characters, not only numbers.",
            ),
            form_field(
                ResetPasswordState,
                "Confirm new password",
                "confirm_password",
                input_type="password",
                autocomplete="new-password",
            ),
            submit_button(ResetPasswordState, "Change password", "reset-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=ResetPasswordState.submit,
        width="100%",
    )


@storefront_page(route="/reset-password", title="Choose a new password", on_load=ResetPasswordState.load)
def reset_password_page() -> rx.Component:
    return auth_card(
        "Choose a new password",
        "You will be signed out everywhere else once it is changed.",
        form_error(ResetPasswordState, "auth-error"),
        rx.cond(
            ResetPasswordState.error == accounts.RESET_LINK_INVALID,
            rx.link(rx.button("Send me a new link", size="3", width="100%"), href="/forgot-password", width="100%"),
            _reset_form(),
        ),
    )
