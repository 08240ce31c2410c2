"""/account: the customer's details and a password change (which signs out every other browser)."""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.account import account_shell, form_error, form_field, submit_button
from revoque.components.layout import storefront_page
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.pages.account.common import FormMixin, check_confirmation
from revoque.services import accounts
from revoque.state.session import SessionState


class ProfileState(FormMixin, rx.State):
    name: str = ""
    phone: str = ""
    email: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        self._clear_form()
        user = await (await self.get_state(SessionState)).current_user()
        if user is not None:
            self.name, self.phone, self.email, self.loaded = user.name, user.phone, user.email, True

    @rx.event
    async def save(self, form: dict):
        self._start_submit()
        yield
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            yield SessionState.require_signed_in
            return
        try:
            with session_scope(write=True) as session:
                accounts.update_profile(
                    session, user.id, name=str(form.get("name", "")), phone=str(form.get("phone", ""))
                )
        except RevoqueError as exc:
            self._show_error(exc)
            return
        await session_state.current_user()  # the greeting shows the new name
        self.submitting = False
        yield rx.toast.success("Your details are saved.")


def _change_password(user_id: int, current: str, new: str, ip: str, user_agent: str) -> str:
    with session_scope(write=True) as session:
        return accounts.change_password(session, user_id, current, new, ip=ip, user_agent=user_agent)


class ChangePasswordState(FormMixin, rx.State):
    form_key: int = 0  # a new key remounts the form, emptying its password boxes after a change

    @rx.event
    async def submit(self, form: dict):
        self._start_submit()
        yield
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            yield SessionState.require_signed_in
            return
        current, new = str(form.get("current_password", "")), str(form.get("new_password", ""))
        try:
            check_confirmation(new, str(form.get("confirm_password", "")))
            token = await asyncio.to_thread(_change_password, user.id, current, new, **self._client())
        except RevoqueError as exc:
            self._show_error(exc)
            return
        session_state.start_session(user, token)
        self.submitting, self.form_key = False, self.form_key + 1
        yield rx.toast.success("Password changed. You have been signed out on your other devices.")


def _section(title: str, description: str, body: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(description, size="2", color_scheme="gray"),
            body,
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
        max_width="560px",
    )


def _details_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.vstack(
                rx.text("Email", class_name="field-label"),
                rx.text(ProfileState.email, size="3", data_testid="profile-email"),
                spacing="1",
                width="100%",
            ),
            form_field(ProfileState, "Full name", "name", autocomplete="name", default_value=ProfileState.name),
            form_field(
                ProfileState,
                "Phone",
                "phone",
                input_type="tel",
                autocomplete="tel",
                default_value=ProfileState.phone,
                required=False,
                hint="For delivery updates, e.g. +234 803 123 4567.",
            ),
            form_error(ProfileState),
            submit_button(ProfileState, "Save details", "profile-submit", full_width=False),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=ProfileState.save,
        width="100%",
    )


def _password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            form_field(
                ChangePasswordState,
                "Current password",
                "current_password",
                input_type="password",
                autocomplete="current-password",
            ),
            form_field(
                ChangePasswordState,
                "New password",
                "new_password",
                input_type="password",
                autocomplete="new-password",
                hint=f"At least {accounts.PASSWORD_MIN_LENGTH} characters, not only numbers.",
            ),
            form_field(
                ChangePasswordState,
                "Confirm new password",
                "confirm_password",
                input_type="password",
                autocomplete="new-password",
            ),
            form_error(ChangePasswordState),
            submit_button(ChangePasswordState, "Change password", "password-submit", full_width=False),
            spacing="3",
            width="100%",
            align="start",
        ),
        key=ChangePasswordState.form_key,
        on_submit=ChangePasswordState.submit,
        width="100%",
    )


@storefront_page(route="/account", title="Your account", on_load=[SessionState.require_signed_in, ProfileState.load])
def profile_page() -> rx.Component:
    return account_shell(
        "/account",
        "Your account",
        rx.cond(
            ProfileState.loaded,
            _section("Your details", "How we address you and reach you about deliveries.", _details_form()),
            rx.skeleton(rx.box(height="280px", width="100%", max_width="560px"), loading=True),
        ),
        _section("Password", "Changing it signs you out on every other device.", _password_form()),
    )
