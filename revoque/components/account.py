"""UI shared by the sign-in and account pages: the account navigation, the centred card of the
sign-in pages, and form pieces (labelled fields with their inline message, the error callout and a
submit button that shows a spinner while the server works).

The form pieces take the page's state, which has ``errors`` (field name → message), ``error`` (a
message about the whole form) and ``submitting``.
"""

from __future__ import annotations

import reflex as rx

from revoque.state.session import SessionState

ACCOUNT_LINKS = [
    ("Profile", "/account", "user-round"),
    ("Orders", "/account/orders", "package"),
    ("Addresses", "/account/addresses", "map-pin"),
    ("Wishlist", "/account/wishlist", "heart"),
]


def form_field(
    state,
    label: str,
    name: str,
    *,
    input_type: str = "text",
    autocomplete: str = "off",
    default_value=None,
    required: bool = True,
    hint: str = "",
) -> rx.Component:
    """A labelled input whose server-side message shows under it (and is announced)."""
    field_id = f"field-{name}"
    has_error = state.errors.contains(name)
    initial = {} if default_value is None else {"default_value": default_value}
    return rx.vstack(
        rx.el.label(label + ("" if required else " (optional)"), html_for=field_id, class_name="field-label"),
        rx.input(
            id=field_id,
            name=name,
            type=input_type,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            aria_required="true" if required else "false",
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=f"{field_id}-message",
            data_testid=f"input-{name}",
            **initial,
        ),
        rx.cond(
            has_error,
            rx.text(
                state.errors[name],
                id=f"{field_id}-message",
                size="1",
                color_scheme="red",
                role="alert",
                data_testid=f"error-{name}",
            ),
            rx.cond(hint != "", rx.text(hint, id=f"{field_id}-message", size="1", color_scheme="gray")),
        ),
        spacing="1",
        width="100%",
    )


def form_error(state, testid: str = "form-error") -> rx.Component:
    return rx.cond(
        state.error != "",
        rx.callout(
            state.error, icon="circle-alert", color_scheme="red", role="alert", width="100%", data_testid=testid
        ),
    )


def submit_button(state, label: str, testid: str, full_width: bool = True) -> rx.Component:
    """Disabled with a spinner while submitting, so a double click sends one request."""
    return rx.button(
        label,
        type="submit",
        size="3",
        loading=state.submitting,
        disabled=state.submitting,
        width="100%" if full_width else "auto",
        data_testid=testid,
    )


def auth_card(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    """The centred card of the sign-in, sign-up and password pages."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.center(rx.icon("shopping-bag", size=20, color="white"), class_name="logo-mark"),
                rx.heading(title, size="6", as_="h1", data_testid="page-heading"),
                rx.text(subtitle, size="2", color_scheme="gray"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="440px",
        ),
        padding_y=rx.breakpoints(initial="16px", sm="48px"),
        width="100%",
    )


def _nav_link(label: str, href: str, icon: str, active: bool) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2", weight="medium"), align="center", spacing="2"),
        href=href,
        underline="none",
        color_scheme="teal" if active else "gray",
        high_contrast=not active,
        background_color=rx.color("teal", 3) if active else "transparent",
        padding="8px 12px",
        border_radius="8px",
        white_space="nowrap",
        aria_current="page" if active else None,
    )


def account_nav(active: str) -> rx.Component:
    """Side navigation on wide screens, a scrollable row of tabs on phones."""
    return rx.flex(
        *[_nav_link(label, href, icon, href == active) for label, href, icon in ACCOUNT_LINKS],
        rx.button(
            rx.icon("log-out", size=16),
            "Sign out",
            on_click=SessionState.sign_out,
            variant="ghost",
            color_scheme="gray",
            size="2",
            justify_content="start",
            padding="8px 12px",
            height="auto",
            margin="0",
            data_testid="sign-out",
        ),
        direction=rx.breakpoints(initial="row", md="column"),
        spacing="1",
        overflow_x="auto",
        width="100%",
        as_="nav",
        aria_label="Your account",
    )


def account_shell(active: str, title: str | rx.Var, *body: rx.Component) -> rx.Component:
    """An account page: greeting and navigation beside the page's own content. Nothing of the
    page shows until the server has confirmed who is signed in (or redirected to sign in)."""
    return rx.cond(
        SessionState.signed_in,
        rx.grid(
            rx.vstack(
                rx.vstack(
                    rx.text(f"Hi, {SessionState.user_name}", weight="bold", size="3", class_name="clamp-1"),
                    rx.text(SessionState.user_email, size="1", color_scheme="gray", class_name="clamp-1"),
                    spacing="0",
                    padding_x="12px",
                    display=rx.breakpoints(initial="none", md="flex"),
                ),
                account_nav(active),
                spacing="3",
                width="100%",
                min_width="0",  # lets the tab row scroll instead of widening the page on phones
            ),
            rx.vstack(
                rx.heading(title, size="7", as_="h1", data_testid="page-heading"),
                *body,
                spacing="4",
                width="100%",
                min_width="0",
            ),
            grid_template_columns=rx.breakpoints(initial="minmax(0, 1fr)", md="220px minmax(0, 1fr)"),
            gap=rx.breakpoints(initial="16px", md="32px"),
            width="100%",
            padding_top="8px",
        ),
        rx.center(rx.spinner(size="3"), padding="64px", width="100%"),
    )
