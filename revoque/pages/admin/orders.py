"""/admin/orders: every order, filtered by status, payment, dates or a number/email search, a page at a
time; /admin/orders/<number>: one order with its lines, customer, addresses, payments and timeline,
where staff move it on (only the moves ``revoque.services.orders`` allows), record money collected
and add notes. Every change is written to the audit log; refunding is for admins only."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_layout import admin_page, empty_note, pager, panel
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import order_admin
from revoque.services.order_admin import PAYMENT_OPTIONS, STATUS_OPTIONS, OrderRow, StaffOrderView
from revoque.state.admin import AccessRefused, AdminPageState
from revoque.state.listing import int_param

ROUTE = "/admin/orders"
ANY = "any"  # a select cannot hold an empty value
STATUS_COLORS = {
    "pending": "amber",
    "paid": "teal",
    "processing": "blue",
    "shipped": "indigo",
    "delivered": "green",
    "cancelled": "gray",
    "refunded": "gray",
}
PAYMENT_COLORS = {"unpaid": "amber", "paid": "green", "refunded": "gray", "partially_refunded": "orange"}


def orders_query(status: str = "", payment: str = "", date_from: str = "", date_to: str = "", q: str = "") -> str:
    """The filters as a query string, leaving out the empty ones (no page number)."""
    values = {"status": status, "payment": payment, "from": date_from, "to": date_to, "q": q.strip()}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


# --- the list ------------------------------------------------------------------------------------


class AdminOrdersState(AdminPageState, rx.State):
    rows: list[OrderRow] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    status: str = ANY
    payment: str = ANY
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    loaded: bool = False

    @rx.var
    def query(self) -> str:
        return orders_query(self.status, self.payment, self.date_from, self.date_to, self.q)

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        params = self.router.url.query_parameters
        filters = order_admin.parse_filters(dict(params))
        with session_scope() as session:
            result = order_admin.list_orders(session, filters, int_param(params.get("page"), 1))
        self.rows, self.total, self.page, self.pages = result.items, result.total, result.page, result.pages
        self.status, self.payment = filters.status or ANY, filters.payment_status or ANY
        self.date_from = filters.date_from.isoformat() if filters.date_from else ""
        self.date_to = filters.date_to.isoformat() if filters.date_to else ""
        self.q = filters.q
        self.loaded = True
        return None

    @rx.event
    async def apply_filters(self, form: dict):
        try:
            await self._admit()
        except AccessRefused as refused:
            return refused.response
        fields = [str(form.get(name, "")) for name in ("status", "payment", "from", "to", "q")]
        query = orders_query(*fields)
        return rx.redirect(f"{ROUTE}?{query}" if query else ROUTE)


def status_badge(code, text, **props) -> rx.Component:
    return rx.badge(
        text, color_scheme=rx.match(code, *STATUS_COLORS.items(), "gray"), variant="soft", radius="full", **props
    )


def payment_badge(code, text) -> rx.Component:
    return rx.badge(
        text, color_scheme=rx.match(code, *PAYMENT_COLORS.items(), "gray"), variant="outline", radius="full"
    )


def _labelled(text: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(text, size="1", weight="medium", color_scheme="gray"), control, spacing="1", class_name="admin-filter"
    )


def _select(name: str, options, default, any_label: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%"),
        rx.select.content(
            rx.select.item(any_label, value=ANY),
            *[rx.select.item(option.label, value=option.value) for option in options],
        ),
        name=name,
        default_value=default,
    )


def _list_filters() -> rx.Component:
    state = AdminOrdersState
    return rx.form(
        rx.flex(
            _labelled(
                "Order number or email",
                rx.input(
                    name="q", default_value=state.q, placeholder="RVQ-100042 or ada@", width="100%", type="search"
                ),
            ),
            _labelled("Status", _select("status", STATUS_OPTIONS, state.status, "Any status")),
            _labelled("Payment", _select("payment", PAYMENT_OPTIONS, state.payment, "Any payment")),
            _labelled("From", rx.input(name="from", type="date", default_value=state.date_from, width="100%")),
            _labelled("To", rx.input(name="to", type="date", default_value=state.date_to, width="100%")),
            rx.hstack(
                rx.button(rx.icon("filter", size=16), "Filter", type="submit", data_testid="orders-apply"),
                rx.link(rx.button("Clear", variant="soft", color_scheme="gray", type="button"), href=ROUTE),
                spacing="2",
            ),
            spacing="3",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=AdminOrdersState.apply_filters,
        width="100%",
        key=AdminOrdersState.query,  # uncontrolled fields: a new query mounts them afresh
    )


def _order_row(row: OrderRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row.number, href=f"{ROUTE}/{row.number}", weight="medium", data_testid="order-link"),
        ),
        rx.table.cell(rx.text(row.created_text, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.text(row.customer, size="2", weight="medium", class_name="clamp-1"),
                rx.text(row.email, size="1", color_scheme="gray", class_name="clamp-1"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(row.item_count, size="2")),
        rx.table.cell(
            rx.vstack(
                payment_badge(row.payment_status, row.payment_label),
                rx.text(row.payment_method, size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(status_badge(row.status, row.status_label)),
        rx.table.cell(rx.text(row.total_text, size="2", weight="bold", white_space="nowrap"), text_align="right"),
        data_testid="admin-order-row",
        vertical_align="middle",
    )


def _orders_table() -> rx.Component:
    headers = ["Order", "Placed (UTC)", "Customer", "Items", "Payment", "Status", "Total"]
    return rx.cond(
        AdminOrdersState.total > 0,
        rx.vstack(
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h, text_align="right" if h == "Total" else "left")
                                for h in headers
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(AdminOrdersState.rows, _order_row)),
                    variant="ghost",
                    size="2",
                    width="100%",
                ),
                class_name="admin-table-scroll",
            ),
            pager(
                AdminOrdersState.page,
                AdminOrdersState.pages,
                AdminOrdersState.total,
                lambda p: rx.cond(
                    AdminOrdersState.query != "",
                    f"{ROUTE}?{AdminOrdersState.query}&page={p}",
                    f"{ROUTE}?page={p}",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        empty_note("No orders match these filters.", "package-search"),
    )


@admin_page(route=ROUTE, title="Orders", on_load=AdminOrdersState.load)
def orders_page() -> rx.Component:
    loading = rx.skeleton(rx.box(height="240px", width="100%"))
    return rx.vstack(
        panel("Filter", rx.cond(AdminOrdersState.loaded, _list_filters(), rx.skeleton(rx.box(height="58px")))),
        panel("Orders", rx.cond(AdminOrdersState.loaded, _orders_table(), loading)),
        spacing="4",
        width="100%",
    )


# --- one order -----------------------------------------------------------------------------------


def _load_view(number: str) -> StaffOrderView:
    with session_scope() as session:
        return order_admin.staff_order_view(session, number)


def _change(change, *args) -> None:
    """Run one change to an order in an immediate (write) transaction."""
    with session_scope(write=True) as session:
        change(session, *args)


class AdminOrderState(AdminPageState, rx.State):
    order: StaffOrderView | None = None
    not_found: bool = False
    loaded: bool = False
    busy: bool = False

    def _number(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    async def _refresh(self) -> None:
        try:
            self.order = await asyncio.to_thread(_load_view, self._number())
            self.not_found = False
        except NotFound:
            self.order, self.not_found = None, True

    @rx.event
    async def load(self):
        self.loaded = False
        try:
            await self._admit_page()
        except AccessRefused as refused:
            return refused.response
        await self._refresh()
        self.loaded = True
        return None

    async def _run(self, actor: User, success: str, change, *args):
        """Make the change as ``actor`` (already admitted), reload the order, and say how it went."""
        self.busy = True
        try:
            await asyncio.to_thread(_change, change, actor, self._number(), *args)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        await self._refresh()
        return rx.toast.success(success)

    @rx.event
    async def change_status(self, form: dict):
        status, message = str(form.get("status", "")), str(form.get("message", ""))
        try:
            actor = await self._admit(admin_only=order_admin.needs_admin(status))
        except AccessRefused as refused:
            return refused.response
        if not status or status == ANY:
            return rx.toast.error("Choose the new status first.")
        success = f"Order moved to {order_admin.label(status).lower()}."
        return await self._run(actor, success, order_admin.change_status, status, message)

    @rx.event
    async def mark_paid(self):
        try:
            actor = await self._admit()
        except AccessRefused as refused:
            return refused.response
        return await self._run(actor, "Payment recorded.", order_admin.mark_payment_received)

    @rx.event
    async def add_note(self, form: dict):
        try:
            actor = await self._admit()
        except AccessRefused as refused:
            return refused.response
        visible = str(form.get("visible_to_customer", "")) in ("on", "true", "True")
        return await self._run(actor, "Note added.", order_admin.add_note, str(form.get("note", "")), visible)


def _line(line) -> rx.Component:
    return rx.hstack(
        rx.el.img(src=line.image_url, alt="", width="48", height="48", class_name="admin-thumb"),
        rx.vstack(
            rx.cond(
                line.href != "",
                rx.link(line.title, href=line.href, size="2", weight="medium"),
                rx.text(line.title, size="2", weight="medium"),
            ),
            rx.text(
                rx.cond(line.variant != "", f"{line.variant} · {line.sku}", line.sku), size="1", color_scheme="gray"
            ),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.text(f"{line.quantity} × {line.unit_price}", size="2", color_scheme="gray", white_space="nowrap"),
        rx.text(line.line_total, size="2", weight="bold", white_space="nowrap", min_width="84px", text_align="right"),
        class_name="admin-list-row",
        data_testid="admin-order-line",
    )


def _total(label: str, value, strong: bool = False) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2" if not strong else "3", weight="bold" if strong else "regular"),
        rx.spacer(),
        rx.text(value, size="2" if not strong else "3", weight="bold"),
        width="100%",
    )


def _items(order) -> rx.Component:
    return panel(
        "Items",
        rx.foreach(order.lines, _line),
        rx.vstack(
            _total("Subtotal", order.subtotal),
            rx.cond(
                order.discount != "",
                _total(
                    rx.cond(order.coupon_code != "", f"Discount ({order.coupon_code})", "Discount"),
                    f"−{order.discount}",
                ),
            ),
            _total(
                rx.cond(order.shipping_method != "", f"Delivery · {order.shipping_method}", "Delivery"), order.shipping
            ),
            _total("Tax", order.tax),
            rx.divider(),
            _total("Total", order.total, strong=True),
            spacing="2",
            width="100%",
            padding_top="12px",
        ),
    )


def _timeline_entry(entry) -> rx.Component:
    return rx.hstack(
        rx.box(class_name=rx.cond(entry.visible_to_customer, "admin-dot", "admin-dot internal")),
        rx.vstack(
            rx.hstack(
                rx.text(entry.title, size="2", weight="medium"),
                rx.cond(~entry.visible_to_customer, rx.badge("Staff only", color_scheme="gray", size="1")),
                spacing="2",
                align="center",
            ),
            rx.cond(entry.message != "", rx.text(entry.message, size="2")),
            rx.text(
                rx.cond(entry.actor != "", f"{entry.created_text} · {entry.actor}", entry.created_text),
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
            min_width="0",
        ),
        spacing="3",
        align="start",
        class_name="admin-timeline-entry",
        data_testid="admin-timeline-entry",
    )


def _note_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text_area(name="note", placeholder="Add a note…", rows="2", width="100%", data_testid="note-input"),
            rx.hstack(
                rx.checkbox("Show to the customer", name="visible_to_customer", size="1"),
                rx.spacer(),
                rx.button("Add note", type="submit", size="2", variant="soft", loading=AdminOrderState.busy),
                align="center",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=AdminOrderState.add_note,
        reset_on_submit=True,
        width="100%",
    )


def _timeline(order) -> rx.Component:
    return panel(
        "Timeline",
        _note_form(),
        rx.vstack(rx.foreach(order.timeline, _timeline_entry), spacing="0", width="100%", padding_top="16px"),
    )


def _status_panel(order) -> rx.Component:
    return panel(
        "Status",
        rx.cond(
            order.next_statuses.length() > 0,
            rx.form(
                rx.vstack(
                    rx.select.root(
                        rx.select.trigger(placeholder="Move to…", width="100%", data_testid="next-status"),
                        rx.select.content(
                            rx.foreach(order.next_statuses, lambda o: rx.select.item(o.label, value=o.value))
                        ),
                        name="status",
                    ),
                    rx.input(name="message", placeholder="Message on the timeline (optional)", width="100%"),
                    rx.button(
                        "Update status",
                        type="submit",
                        width="100%",
                        loading=AdminOrderState.busy,
                        data_testid="update-status",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=AdminOrderState.change_status,
                reset_on_submit=True,
                width="100%",
                key=order.status,  # a new status offers new moves
            ),
            rx.text("This order is final: it can't be moved on.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            order.can_mark_paid,
            rx.button(
                rx.icon("banknote", size=16),
                "Mark payment received",
                variant="outline",
                width="100%",
                margin_top="10px",
                on_click=AdminOrderState.mark_paid,
                loading=AdminOrderState.busy,
                data_testid="mark-paid",
            ),
        ),
    )


def _info_lines(lines) -> rx.Component:
    return rx.cond(
        lines.length() > 0,
        rx.vstack(rx.foreach(lines, lambda line: rx.text(line, size="2")), spacing="0"),
        rx.text("None given with this order.", size="2", color_scheme="gray"),
    )


def _side(order) -> rx.Component:
    return rx.vstack(
        _status_panel(order),
        panel(
            "Customer",
            rx.vstack(
                rx.cond(order.customer_name != "", rx.text(order.customer_name, weight="medium")),
                rx.link(order.email, href=f"mailto:{order.email}", size="2", data_testid="admin-order-email"),
                rx.cond(order.phone != "", rx.text(order.phone, size="2")),
                rx.text(order.account, size="1", color_scheme="gray"),
                rx.cond(
                    order.customer_note != "",
                    rx.callout(order.customer_note, icon="message-square", size="1", width="100%"),
                ),
                spacing="1",
                width="100%",
            ),
        ),
        panel("Delivery address", _info_lines(order.shipping_address)),
        panel("Billing address", _info_lines(order.billing_address)),
        panel(
            "Payment",
            rx.vstack(
                rx.hstack(
                    rx.text(order.payment_method, size="2", weight="medium"),
                    payment_badge(order.payment_status, order.payment_label),
                    justify="between",
                    width="100%",
                ),
                rx.foreach(
                    order.payments,
                    lambda p: rx.box(
                        rx.text(f"{p.provider} · {p.amount_text} · {p.status}", size="2"),
                        rx.text(f"{p.reference} · {p.created_text}", size="1", color_scheme="gray"),
                        class_name="admin-list-row",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _detail(order) -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "All orders", align="center", spacing="1"),
            href=ROUTE,
            size="2",
        ),
        rx.hstack(
            rx.heading(order.number, size="6", data_testid="admin-order-number"),
            status_badge(order.status, order.status_label, data_testid="admin-order-status"),
            payment_badge(order.payment_status, order.payment_label),
            rx.text(f"Placed {order.created_text}", size="2", color_scheme="gray"),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.box(
            rx.vstack(_items(order), _timeline(order), spacing="4", width="100%", min_width="0"),
            _side(order),
            class_name="admin-grid-main",
        ),
        spacing="4",
        width="100%",
    )


@admin_page(route=f"{ROUTE}/[number]", title="Order", on_load=AdminOrderState.load)
def order_page() -> rx.Component:
    return rx.cond(
        AdminOrderState.loaded,
        rx.cond(
            AdminOrderState.not_found,
            empty_note("There is no order with that number.", "package-x"),
            _detail(AdminOrderState.order),
        ),
        rx.skeleton(rx.box(height="360px", width="100%")),
    )
