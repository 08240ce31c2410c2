"""What the sign-in and account pages' states share: form status, the signed-in customer's id, and
the steps after a successful sign-in."""

from __future__ import annotations

import reflex as rx

from revoque.errors import RevoqueError
from revoque.models import User
from revoque.services.accounts import InvalidFields
from revoque.state.cart import CartState
from revoque.state.session import SessionState, safe_next_path


def check_confirmation(password: str, confirmation: str) -> None:
    """The second password box must match the first (a typo would lock the customer out)."""
    if password != confirmation:
        raise InvalidFields({"confirm_password": "The two passwords do not match."})


async def customer_id(state: rx.State) -> int | None:
    """The signed-in customer's id, resolved from the session token on the server just now."""
    session_state = await state.get_state(SessionState)
    return await session_state.signed_in_user_id()


class FormMixin(rx.State, mixin=True):
    """Messages per field and for the whole form, and whether a submit is in flight."""

    errors: dict[str, str] = {}
    error: str = ""
    submitting: bool = False

    def _clear_form(self) -> None:
        self.errors, self.error, self.submitting = {}, "", False

    def _start_submit(self) -> None:
        self._clear_form()
        self.submitting = True

    def _show_error(self, exc: RevoqueError) -> None:
        """Field problems go next to their fields; anything else above the form."""
        self.submitting = False
        if isinstance(exc, InvalidFields):
            self.errors = exc.errors
        else:
            self.error = str(exc)

    def _client(self) -> dict[str, str]:
        """The network address and browser recorded with a sign-in (and used for throttling)."""
        return {"ip": self.router.session.client_ip, "user_agent": self.router.headers.user_agent}

    async def _signed_in(self, user: User, token: str) -> list:
        """Keep the new session, fold the guest cart into the customer's, and go where they were going."""
        session_state = await self.get_state(SessionState)
        # an earlier viewer's pages go (an expired session is never signed out); this tab's guest
        # cart stays, to be folded into the customer's cart
        await session_state.forget_viewer(keep=(CartState, type(self)))
        session_state.start_session(user, token)
        self.submitting = False
        return [CartState.after_sign_in, rx.redirect(safe_next_path(self.router.url.query_parameters.get("next")))]
