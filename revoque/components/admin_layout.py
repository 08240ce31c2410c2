"""The admin frame: a sidebar with the staff pages (a drawer on phones), a top bar with the page
title, and the panels, stat cards and tables the admin pages are built from.

``admin_page`` registers a page in this frame. What the frame shows follows the guard's verdict
(``AdminFrameState.access``): a spinner while the first check runs, the page for staff, "admins
only" inside the frame for staff on an admin-only page, a plain "not allowed" page for customers,
and nothing but "taking you to sign in" for guests (the guard redirects them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from revoque.components.layout import hydration_marker
from revoque.state.admin import ADMIN_ONLY_MESSAGE, NOT_ALLOWED_MESSAGE, Access, AdminFrameState
from revoque.state.nav import NavState
from revoque.state.session import SessionState


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    icon: str
    admin_only: bool = False


# Pages not built yet (products, customers, coupons, shipping, settings) join this list with their page.
NAV_LINKS = [
    NavLink("Dashboard", "/admin", "layout-dashboard"),
    NavLink("Orders", "/admin/orders", "package"),
    NavLink("Products", "/admin/products", "shirt"),
    NavLink("Catalog", "/admin/catalog", "folder-tree"),
    NavLink("Customers", "/admin/customers", "users"),
    NavLink("Import", "/admin/import", "file-up"),
    NavLink("Exports", "/admin/exports", "file-down"),
    NavLink("Coupons", "/admin/coupons", "ticket-percent"),
    NavLink("Delivery", "/admin/shipping", "truck"),
    NavLink("FAQs and policies", "/admin/content", "book-open"),
    NavLink("Outbox", "/admin/outbox", "mail"),
    NavLink("Conversations", "/admin/conversations", "messages-square"),
    NavLink("Failed jobs", "/admin/jobs", "triangle-alert"),
    NavLink("Settings", "/admin/settings", "settings", admin_only=True),
    NavLink("Audit log", "/admin/audit", "scroll-text", admin_only=True),
]


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(rx.icon("shopping-bag", size=16, color="white"), class_name="logo-mark admin-logo"),
            rx.vstack(
                rx.text(
                    NavState.store_name, weight="bold", size="3", line_height="1.1", data_testid="admin-store-name"
                ),
                rx.text("Admin", size="1", color_scheme="gray", line_height="1.1"),
                spacing="0",
            ),
            align="center",
            spacing="2",
        ),
        href="/admin",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label="Admin dashboard",
    )


def _nav_item(link: NavLink, current: str) -> rx.Component:
    active = link.href == current
    item = rx.link(
        rx.icon(link.icon, size=18),
        rx.text(link.label, size="2", weight="medium"),
        href=link.href,
        underline="none",
        class_name="admin-nav-link" + (" active" if active else ""),
        aria_current="page" if active else None,
        data_testid=f"admin-nav-{link.label.lower().replace(' ', '-')}",
    )
    return rx.cond(AdminFrameState.viewer_is_admin, item) if link.admin_only else item


def _nav(current: str) -> rx.Component:
    return rx.el.nav(
        *[_nav_item(link, current) for link in NAV_LINKS],
        class_name="admin-nav",
        aria_label="Admin pages",
    )


def _viewer_box() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback=AdminFrameState.viewer_name[:1].upper(), size="2", radius="full", variant="soft"),
            rx.vstack(
                rx.text(AdminFrameState.viewer_name, size="2", weight="medium", class_name="clamp-1"),
                rx.text(rx.cond(AdminFrameState.viewer_is_admin, "Admin", "Staff"), size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            ),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.hstack(
            rx.link(
                rx.hstack(rx.icon("store", size=14), "View store", align="center", spacing="1"),
                href="/",
                size="1",
                color_scheme="gray",
            ),
            rx.el.button(
                rx.hstack(rx.icon("log-out", size=14), "Sign out", align="center", spacing="1"),
                on_click=SessionState.sign_out,
                class_name="admin-text-button",
                type="button",
            ),
            justify="between",
            width="100%",
        ),
        spacing="3",
        width="100%",
        class_name="admin-viewer",
    )


def _sidebar(current: str) -> rx.Component:
    return rx.el.aside(
        rx.box(
            rx.vstack(_brand(), _nav(current), spacing="5", width="100%"),
            _viewer_box(),
            class_name="admin-sidebar-inner",  # sticky: stays in view while the page scrolls
        ),
        class_name="admin-sidebar",
    )


def _mobile_menu(current: str) -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(rx.icon("menu"), variant="ghost", color_scheme="gray", aria_label="Open admin menu")
        ),
        rx.drawer.overlay(z_index="40"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        _brand(),
                        rx.drawer.close(
                            rx.icon_button(rx.icon("x"), variant="ghost", color_scheme="gray", aria_label="Close menu")
                        ),
                        justify="between",
                        align="center",
                        width="100%",
                    ),
                    _nav(current),
                    _viewer_box(),
                    spacing="5",
                    padding="20px",
                    height="100%",
                ),
                background_color=rx.color("gray", 1),
                width="272px",
                height="100%",
                z_index="50",
            )
        ),
        direction="left",
    )


def _top_bar(current: str, title: str) -> rx.Component:
    return rx.el.header(
        rx.box(_mobile_menu(current), class_name="admin-mobile-only"),
        rx.heading(title, size="6", as_="h1", data_testid="admin-title"),
        class_name="admin-topbar",
    )


def _centered_notice(icon: str, title: str, body, *actions: rx.Component, testid: str) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.center(rx.icon(icon, size=26), class_name="admin-notice-icon"),
                rx.heading(title, size="5", as_="h1"),
                rx.text(body, color_scheme="gray", text_align="center"),
                rx.hstack(*actions, spacing="3", justify="center", wrap="wrap"),
                align="center",
                spacing="3",
                padding="12px",
            ),
            size="3",
            max_width="440px",
            width="100%",
            data_testid=testid,
        ),
        min_height="100vh",
        padding="16px",
        background_color=rx.color("gray", 2),
    )


def not_allowed() -> rx.Component:
    return _centered_notice(
        "shield-x",
        "Not allowed",
        NOT_ALLOWED_MESSAGE,
        rx.link(rx.button("Back to the store", variant="soft"), href="/"),
        rx.button("Sign in as someone else", variant="outline", on_click=SessionState.sign_out),
        testid="admin-not-allowed",
    )


def _admins_only() -> rx.Component:
    return rx.callout(ADMIN_ONLY_MESSAGE, icon="lock", color_scheme="amber", size="2", data_testid="admin-admins-only")


def _waiting(text: str) -> rx.Component:
    return rx.center(
        rx.vstack(rx.spinner(size="3"), rx.text(text, size="2", color_scheme="gray"), align="center", spacing="3"),
        min_height="100vh",
        data_testid="admin-checking",
    )


def _shell(current: str, title: str, content: rx.Component) -> rx.Component:
    return rx.box(
        _sidebar(current),
        rx.box(
            _top_bar(current, title),
            rx.el.main(
                rx.cond(AdminFrameState.access == Access.ADMIN_ONLY.value, _admins_only(), content),
                class_name="admin-content",
            ),
            class_name="admin-main",
        ),
        class_name="admin-shell",
    )


def admin_page(
    route: str, title: str, on_load: Callable | list | None = None
) -> Callable[[Callable[[], rx.Component]], rx.Component]:
    """Register an admin page in the frame. ``on_load`` must start with the page state's guarded
    ``load`` (``@staff_load``): the frame shows nothing of the page until that check passes. The
    store's name and currency (public facts) load after it, so the sidebar, the title and any amount
    typed on the page follow the settings as the storefront does."""
    loads = [*(on_load if isinstance(on_load, list) else [on_load] if on_load else []), NavState.load_identity]
    access = AdminFrameState.access

    def decorator(body: Callable[[], rx.Component]) -> rx.Component:
        @rx.page(route=route, title=rx.Var.create(f"{title} · Admin · ") + NavState.store_name, on_load=loads)
        def page() -> rx.Component:
            return rx.box(
                rx.cond(
                    (access == Access.GRANTED.value) | (access == Access.ADMIN_ONLY.value),
                    _shell(route, title, body()),
                    rx.cond(
                        access == Access.NOT_ALLOWED.value,
                        not_allowed(),
                        _waiting(rx.cond(access == Access.SIGN_IN.value, "Taking you to sign in…", "Loading…")),
                    ),
                ),
                hydration_marker(),
                class_name="admin-root",
            )

        page.__name__ = body.__name__
        return page

    return decorator


# --- building blocks for admin pages -------------------------------------------------------------


def panel(title: str, *children: rx.Component, action: rx.Component | None = None, **props) -> rx.Component:
    """A titled white card: every block of an admin page sits in one."""
    return rx.box(
        rx.hstack(
            rx.heading(title, size="3", as_="h2"),
            rx.spacer(),
            *([action] if action is not None else []),
            align="center",
            width="100%",
            class_name="admin-panel-head",
        ),
        *children,
        class_name="admin-panel",
        **props,
    )


def color_badge(text, code, colors: dict[str, str], default: str = "gray", **props) -> rx.Component:
    """A status as a pill, coloured by its ``code`` (``colors``: code → Radix colour)."""
    props = {"variant": "soft", "radius": "full", **props}
    return rx.badge(text, color_scheme=rx.match(code, *colors.items(), default), **props)


def back_link(label: str, href: str) -> rx.Component:
    """ "← All orders": back from one item's page to the list."""
    return rx.link(rx.hstack(rx.icon("arrow-left", size=14), label, align="center", spacing="1"), href=href, size="2")


def empty_note(text: str, icon: str = "inbox") -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=28, color=rx.color("gray", 8)),
            rx.text(text, size="2", color_scheme="gray", text_align="center"),
            align="center",
            spacing="2",
        ),
        padding="28px 12px",
        width="100%",
    )


def missing_note(text: str, icon: str, back_label: str, back_href: str) -> rx.Component:
    """An item's page when there is no such item: why, and a way back to the list."""
    return rx.vstack(empty_note(text, icon), rx.link(back_label, href=back_href), align="center", width="100%")


def pager(page, pages, total, href_for: Callable) -> rx.Component:
    """ "N results · page X of Y" with previous/next links; the page lives in the URL, so a filtered,
    paged view can be reloaded and shared."""

    def step(label: str, icon: str, target, enabled, testid: str, icon_first: bool) -> rx.Component:
        parts = [rx.icon(icon, size=16), label] if icon_first else [label, rx.icon(icon, size=16)]
        disabled = rx.button(*parts, variant="soft", color_scheme="gray", disabled=True)
        return rx.cond(
            enabled,
            rx.link(rx.button(*parts, variant="soft", color_scheme="gray"), href=href_for(target), data_testid=testid),
            disabled,
        )

    return rx.hstack(
        rx.text(f"{total} results · page {page} of {pages}", size="2", color_scheme="gray", data_testid="pager-text"),
        rx.spacer(),
        step("Previous", "chevron-left", page - 1, page > 1, "pager-previous", True),
        step("Next", "chevron-right", page + 1, page < pages, "pager-next", False),
        align="center",
        spacing="2",
        width="100%",
        padding_top="12px",
        wrap="wrap",
    )
