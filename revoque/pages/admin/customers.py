"""/admin/customers: every account, searched by name or email, filtered by role and sorted by when
they joined, how many orders they placed or their lifetime value, a page at a time (all in the URL);
/admin/customers/<id>: one account with its figures, latest orders and saved addresses, where an
admin changes its role (never their own; audited). What the figures mean is written in
``revoque.services.customer_admin``."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import confirm, labelled_filter
from revoque.components.admin_layout import admin_page, back_link, color_badge, empty_note, panel
from revoque.components.admin_table import ANY, data_table, filter_form, filter_select, loading, paged_table, row_list
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import User
from revoque.pages.admin.orders import payment_badge, status_badge
from revoque.services import customer_admin
from revoque.services.customer_admin import (
    DEFAULT_SORT,
    ROLE_OPTIONS,
    SORT_OPTIONS,
    CustomerAddress,
    CustomerDetail,
    CustomerOrder,
    CustomerRow,
)
from revoque.state.admin import (
    AdminEditState,
    AdminFrameState,
    AdminListState,
    filtered_redirect,
    staff_event,
    staff_load,
)
from revoque.state.listing import int_param

ROUTE = "/admin/customers"
ROLE_COLORS = {"customer": "gray", "staff": "blue", "admin": "purple"}


def customers_query(q: str = "", role: str = "", sort: str = "") -> str:
    """The filters as a query string, leaving out the empty and default ones (no page number)."""
    values = {"q": q.strip(), "role": role, "sort": "" if sort == DEFAULT_SORT else sort}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


def role_badge(role, text, **props) -> rx.Component:
    return color_badge(text, role, ROLE_COLORS, radius=None, **props)


# --- the list ------------------------------------------------------------------------------------


class AdminCustomersState(AdminListState, rx.State):
    rows: list[CustomerRow] = []
    q: str = ""
    role: str = ANY
    sort: str = DEFAULT_SORT

    @rx.var
    def query(self) -> str:
        return customers_query(self.q, self.role, self.sort)

    @staff_load
    async def load(self):
        self.loaded = False
        filters = customer_admin.parse_filters(self._url_params())
        with session_scope() as session:
            self.rows = self._take_page(customer_admin.list_customers(session, filters, self._requested_page()))
        self.q, self.role, self.sort = filters.q, filters.role or ANY, filters.sort
        self.loaded = True
        return None

    @staff_event
    async def apply_filters(self, form: dict):
        return filtered_redirect(ROUTE, customers_query(*(str(form.get(name, "")) for name in ("q", "role", "sort"))))


def _filters() -> rx.Component:
    state = AdminCustomersState
    return filter_form(
        labelled_filter(
            "Name or email",
            rx.input(
                name="q",
                default_value=state.q,
                placeholder="Ada or ada@example.com",
                type="search",
                width="100%",
                data_testid="customers-search",
            ),
        ),
        labelled_filter("Role", filter_select("role", state.role, ROLE_OPTIONS, "Every role", aria_label="Role")),
        labelled_filter("Sort by", filter_select("sort", state.sort, SORT_OPTIONS, aria_label="Sort by")),
        on_submit=state.apply_filters,
        key=state.query,
        route=ROUTE,
        button="Search",
        icon="search",
        testid="customers-apply",
    )


def _row(row: CustomerRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(row.name, href=f"{ROUTE}/{row.id}", weight="medium", size="2", data_testid="customer-link"),
                rx.text(row.email, size="1", color_scheme="gray", class_name="clamp-1"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.hstack(
                role_badge(row.role, row.role_label),
                rx.cond(~row.is_active, rx.badge("Disabled", color_scheme="red", variant="outline")),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(row.joined_text, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(row.orders, size="2"), text_align="right"),
        rx.table.cell(
            rx.text(row.lifetime_text, size="2", weight="bold", white_space="nowrap"),
            text_align="right",
            data_testid="customer-ltv",
        ),
        data_testid="customer-row",
        vertical_align="middle",
    )


HEADERS = ["Customer", "Role", "Joined", ("Orders", "right"), ("Lifetime value", "right")]


@admin_page(route=ROUTE, title="Customers", on_load=AdminCustomersState.load)
def customers_page() -> rx.Component:
    state = AdminCustomersState
    empty = empty_note("No accounts match this search.", "user-search")
    return rx.vstack(
        panel("Find", loading(state.loaded, _filters(), "58px")),
        panel("Accounts", loading(state.loaded, paged_table(state, ROUTE, HEADERS, _row, empty))),
        spacing="4",
        width="100%",
    )


# --- one customer --------------------------------------------------------------------------------


def _detail(user_id: int) -> CustomerDetail:
    with session_scope() as session:
        return customer_admin.customer_detail(session, user_id)


class AdminCustomerState(AdminEditState, rx.State):
    customer: CustomerDetail | None = None
    not_found: bool = False
    loaded: bool = False
    is_self: bool = False  # the viewer's own account: its role cannot be changed here
    role_choice: str = ""

    @rx.var
    def role_choice_label(self) -> str:
        return customer_admin.role_label(self.role_choice).lower()

    def _user_id(self) -> int:
        return int_param(self.router.url.path.rstrip("/").rsplit("/", 1)[-1], 0)

    async def _refresh(self) -> None:
        try:
            self.customer = await asyncio.to_thread(_detail, self._user_id())
            self.not_found, self.role_choice = False, self.customer.role
        except NotFound:
            self.customer, self.not_found, self.role_choice = None, True, ""

    @staff_load
    async def load(self, actor: User):
        self.loaded = False
        await self._refresh()
        self.is_self = actor.id == self._user_id()
        self.loaded = True
        return None

    @staff_event(admin_only=True)
    async def choose_role(self, role: str):
        self.role_choice = role if role in customer_admin.ROLE_LABELS else self.role_choice
        return None

    @staff_event(admin_only=True)
    async def change_role(self, actor: User):
        """Give the account the chosen role (confirmed in a dialog first)."""
        role = self.role_choice
        changed = f"Role changed to {customer_admin.role_label(role).lower()}."
        return await self._make_change(actor, changed, customer_admin.change_role, self._user_id(), role)


def _figure(label: str, value, testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="5", weight="bold", data_testid=testid),
        spacing="1",
        class_name="admin-metric",
    )


def _order_row(order: CustomerOrder) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(order.number, href=f"/admin/orders/{order.number}", weight="medium", size="2")),
        rx.table.cell(rx.text(order.created_text, size="2", white_space="nowrap")),
        rx.table.cell(status_badge(order.status, order.status_label)),
        rx.table.cell(payment_badge(order.payment_status, order.payment_label)),
        rx.table.cell(
            rx.vstack(
                rx.text(order.total_text, size="2", weight="bold", white_space="nowrap"),
                rx.cond(
                    order.refunded_text != "",
                    rx.text(f"−{order.refunded_text} refunded", size="1", color_scheme="gray", white_space="nowrap"),
                ),
                spacing="0",
                align="end",
            ),
            text_align="right",
        ),
        data_testid="customer-order",
        vertical_align="middle",
    )


def _orders(customer) -> rx.Component:
    headers = ["Order", "Placed (UTC)", "Status", "Payment", ("Total", "right")]
    return panel(
        "Orders",
        rx.cond(
            customer.orders.length() > 0,
            rx.vstack(
                data_table(headers, customer.orders, _order_row),
                rx.cond(
                    customer.order_count > customer.orders.length(),
                    rx.link(
                        f"All {customer.order_count} orders",
                        href=f"/admin/orders?q={customer.email}",
                        size="2",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            empty_note("No orders from this account yet.", "shopping-bag"),
        ),
    )


def _address(address: CustomerAddress) -> rx.Component:
    return rx.box(
        rx.foreach(address.lines, lambda line: rx.text(line, size="2")),
        rx.cond(address.defaults != "", rx.badge(address.defaults, variant="soft", size="1", margin_top="4px")),
        class_name="admin-list-row",
    )


def _role_panel(customer) -> rx.Component:
    state = AdminCustomerState
    change = confirm(
        rx.button(
            "Change role",
            width="100%",
            loading=state.busy,
            disabled=state.role_choice == customer.role,
            data_testid="role-change",
        ),
        "Change this account's role?",
        f"{customer.email} becomes {state.role_choice_label}. Staff see every order and customer and change the "
        "catalog; admins can also change roles, settings and refunds. The change is recorded in the audit log.",
        "Change role",
        state.change_role,
        yes_testid="role-confirm",
        danger=False,
    )
    controls = rx.vstack(
        rx.select.root(
            rx.select.trigger(width="100%", aria_label="New role", data_testid="role-select"),
            rx.select.content(*[rx.select.item(o.label, value=o.value) for o in ROLE_OPTIONS]),
            value=state.role_choice,
            on_change=state.choose_role,
        ),
        change,
        spacing="2",
        width="100%",
    )
    return panel(
        "Role",
        rx.cond(
            state.is_self,
            rx.text("This is your own account: another admin can change its role.", size="2", color_scheme="gray"),
            rx.cond(
                AdminFrameState.viewer_is_admin,
                controls,
                rx.text("Only an admin can change roles.", size="2", color_scheme="gray"),
            ),
        ),
    )


def _side(customer) -> rx.Component:
    return rx.vstack(
        _role_panel(customer),
        panel(
            "Contact",
            rx.vstack(
                rx.link(customer.email, href=f"mailto:{customer.email}", size="2", data_testid="customer-email"),
                rx.cond(customer.phone != "", rx.text(customer.phone, size="2")),
                rx.text(f"Joined {customer.joined_text}", size="1", color_scheme="gray"),
                spacing="1",
                width="100%",
            ),
        ),
        panel(
            "Saved addresses",
            row_list(customer.addresses, _address, rx.text("No saved addresses.", size="2", color_scheme="gray")),
        ),
        spacing="4",
        width="100%",
    )


def _customer(customer) -> rx.Component:
    return rx.vstack(
        back_link("All customers", ROUTE),
        rx.hstack(
            rx.heading(
                rx.cond(customer.name != "", customer.name, customer.email), size="6", data_testid="customer-name"
            ),
            role_badge(customer.role, customer.role_label, data_testid="customer-role"),
            rx.cond(~customer.is_active, rx.badge("Disabled", color_scheme="red", variant="outline")),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.box(
            _figure("Lifetime value", customer.lifetime_text, "customer-lifetime-value"),
            _figure("Orders", customer.order_count, "customer-order-count"),
            _figure("Average paid order", customer.average_text, "customer-average"),
            _figure("Refunded", customer.refunded_text, "customer-refunded"),
            class_name="admin-metrics",
        ),
        rx.box(
            rx.vstack(_orders(customer), spacing="4", width="100%", min_width="0"),
            _side(customer),
            class_name="admin-grid-main",
        ),
        spacing="4",
        width="100%",
    )


@admin_page(route=f"{ROUTE}/[id]", title="Customer", on_load=AdminCustomerState.load)
def customer_page() -> rx.Component:
    state = AdminCustomerState
    missing = empty_note("There is no account with that number.", "user-x")
    return loading(state.loaded, rx.cond(state.not_found, missing, _customer(state.customer)), "360px")
