"""/admin/customers: every account, searched by name or email, filtered by role and sorted by when
they joined, how many orders they placed or their lifetime value, a page at a time (all in the URL);
/admin/customers/<id>: one account with its figures, latest orders and saved addresses, where an
admin changes its role (never their own; audited). What the figures mean is written in
``revoque.services.customer_admin``."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_layout import admin_page, empty_note, pager, panel
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
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
from revoque.state.admin import AccessRefused, AdminFrameState, AdminPageState
from revoque.state.listing import int_param

ROUTE = "/admin/customers"
ANY = "any"  # a select cannot hold an empty value
ROLE_COLORS = {"customer": "gray", "staff": "blue", "admin": "purple"}


def customers_query(q: str = "", role: str = "", sort: str = "") -> str:
    """The filters as a query string, leaving out the empty and default ones (no page number)."""
    values = {"q": q.strip(), "role": role, "sort": "" if sort == DEFAULT_SORT else sort}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


def role_badge(role, text, **props) -> rx.Component:
    return rx.badge(text, color_scheme=rx.match(role, *ROLE_COLORS.items(), "gray"), variant="soft", **props)


# --- the list ------------------------------------------------------------------------------------


class AdminCustomersState(AdminPageState, rx.State):
    rows: list[CustomerRow] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    q: str = ""
    role: str = ANY
    sort: str = DEFAULT_SORT
    loaded: bool = False

    @rx.var
    def query(self) -> str:
        return customers_query(self.q, self.role, self.sort)

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        params = self.router.url.query_parameters
        filters = customer_admin.parse_filters(dict(params))
        with session_scope() as session:
            result = customer_admin.list_customers(session, filters, int_param(params.get("page"), 1))
        self.rows, self.total, self.page, self.pages = result.items, result.total, result.page, result.pages
        self.q, self.role, self.sort = filters.q, filters.role or ANY, filters.sort
        self.loaded = True
        return None

    @rx.event
    async def apply_filters(self, form: dict):
        try:
            await self._admit()
        except AccessRefused as refused:
            return refused.response
        query = customers_query(*(str(form.get(name, "")) for name in ("q", "role", "sort")))
        return rx.redirect(f"{ROUTE}?{query}" if query else ROUTE)


def _labelled(text: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(text, size="1", weight="medium", color_scheme="gray"), control, spacing="1", class_name="admin-filter"
    )


def _filters() -> rx.Component:
    state = AdminCustomersState
    return rx.form(
        rx.flex(
            _labelled(
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
            _labelled(
                "Role",
                rx.select.root(
                    rx.select.trigger(width="100%", aria_label="Role"),
                    rx.select.content(
                        rx.select.item("Every role", value=ANY),
                        *[rx.select.item(o.label, value=o.value) for o in ROLE_OPTIONS],
                    ),
                    name="role",
                    default_value=state.role,
                ),
            ),
            _labelled(
                "Sort by",
                rx.select.root(
                    rx.select.trigger(width="100%", aria_label="Sort by"),
                    rx.select.content(*[rx.select.item(o.label, value=o.value) for o in SORT_OPTIONS]),
                    name="sort",
                    default_value=state.sort,
                ),
            ),
            rx.hstack(
                rx.button(rx.icon("search", size=16), "Search", type="submit", data_testid="customers-apply"),
                rx.link(rx.button("Clear", variant="soft", color_scheme="gray", type="button"), href=ROUTE),
                spacing="2",
            ),
            spacing="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=state.apply_filters,
        width="100%",
        key=state.query,  # uncontrolled fields: a new query mounts them afresh
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


def _table() -> rx.Component:
    state = AdminCustomersState
    headers = [
        ("Customer", "left"),
        ("Role", "left"),
        ("Joined", "left"),
        ("Orders", "right"),
        ("Lifetime value", "right"),
    ]
    return rx.cond(
        state.total > 0,
        rx.vstack(
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, text_align=a) for h, a in headers])),
                    rx.table.body(rx.foreach(state.rows, _row)),
                    variant="ghost",
                    size="2",
                    width="100%",
                ),
                class_name="admin-table-scroll",
            ),
            pager(
                state.page,
                state.pages,
                state.total,
                lambda p: rx.cond(state.query != "", f"{ROUTE}?{state.query}&page={p}", f"{ROUTE}?page={p}"),
            ),
            spacing="2",
            width="100%",
        ),
        empty_note("No accounts match this search.", "user-search"),
    )


@admin_page(route=ROUTE, title="Customers", on_load=AdminCustomersState.load)
def customers_page() -> rx.Component:
    loading = rx.skeleton(rx.box(height="240px", width="100%"))
    return rx.vstack(
        panel("Find", rx.cond(AdminCustomersState.loaded, _filters(), rx.skeleton(rx.box(height="58px")))),
        panel("Accounts", rx.cond(AdminCustomersState.loaded, _table(), loading)),
        spacing="4",
        width="100%",
    )


# --- one customer --------------------------------------------------------------------------------


def _detail(user_id: int) -> CustomerDetail:
    with session_scope() as session:
        return customer_admin.customer_detail(session, user_id)


def _change_role(actor, user_id: int, role: str) -> None:
    with session_scope(write=True) as session:
        customer_admin.change_role(session, actor, user_id, role)


class AdminCustomerState(AdminPageState, rx.State):
    customer: CustomerDetail | None = None
    not_found: bool = False
    loaded: bool = False
    busy: bool = False
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

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            viewer = await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        await self._refresh()
        self.is_self = viewer.id == self._user_id()
        self.loaded = True
        return None

    @rx.event
    async def choose_role(self, role: str):
        try:
            await self._admit(admin_only=True)
        except AccessRefused as refused:
            return refused.response
        self.role_choice = role if role in customer_admin.ROLE_LABELS else self.role_choice
        return None

    @rx.event
    async def change_role(self):
        """Give the account the chosen role (confirmed in a dialog first)."""
        try:
            actor = await self._admit(admin_only=True)
        except AccessRefused as refused:
            return refused.response
        role = self.role_choice
        self.busy = True
        try:
            await asyncio.to_thread(_change_role, actor, self._user_id(), role)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        await self._refresh()
        return rx.toast.success(f"Role changed to {customer_admin.role_label(role).lower()}.")


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
    return panel(
        "Orders",
        rx.cond(
            customer.orders.length() > 0,
            rx.vstack(
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("Order", "Placed (UTC)", "Status", "Payment")
                                ],
                                rx.table.column_header_cell("Total", text_align="right"),
                            )
                        ),
                        rx.table.body(rx.foreach(customer.orders, _order_row)),
                        variant="ghost",
                        size="2",
                        width="100%",
                    ),
                    class_name="admin-table-scroll",
                ),
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
    confirm = rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                "Change role",
                width="100%",
                loading=state.busy,
                disabled=state.role_choice == customer.role,
                data_testid="role-change",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Change this account's role?"),
            rx.alert_dialog.description(
                f"{customer.email} becomes {state.role_choice_label}. Staff see every order and customer and change "
                "the catalog; admins can also change roles, settings and refunds. The change is recorded in the "
                "audit log.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Change role", on_click=state.change_role, data_testid="role-confirm"),
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="440px",
        ),
    )
    controls = rx.vstack(
        rx.select.root(
            rx.select.trigger(width="100%", aria_label="New role", data_testid="role-select"),
            rx.select.content(*[rx.select.item(o.label, value=o.value) for o in ROLE_OPTIONS]),
            value=state.role_choice,
            on_change=state.choose_role,
        ),
        confirm,
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
            rx.cond(
                customer.addresses.length() > 0,
                rx.vstack(rx.foreach(customer.addresses, _address), spacing="0", width="100%"),
                rx.text("No saved addresses.", size="2", color_scheme="gray"),
            ),
        ),
        spacing="4",
        width="100%",
    )


def _customer(customer) -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "All customers", align="center", spacing="1"),
            href=ROUTE,
            size="2",
        ),
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
    return rx.cond(
        AdminCustomerState.loaded,
        rx.cond(
            AdminCustomerState.not_found,
            empty_note("There is no account with that number.", "user-x"),
            _customer(AdminCustomerState.customer),
        ),
        rx.skeleton(rx.box(height="360px", width="100%")),
    )
