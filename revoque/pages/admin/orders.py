"""/admin/orders: every order, filtered by status, payment, dates or a number/email search, a page at a
time; /admin/orders/<number>: one order with its lines, customer, addresses, payments and timeline,
where staff move it on (only the moves ``revoque.services.orders`` allows), record money collected,
add notes, take back returned items, refund card payments (admins only) and regenerate the invoice.
Every change is written to the audit log.

Refunds and returns are asked for in two steps: the form is checked on the server and its effect
shown in a confirmation dialog; only "Confirm" acts. What will be done waits in a backend-only var
with the one-time key issued for it (``order_admin.new_request_key``), so a second click on Confirm
finds nothing left to confirm, and a retried event is recognised by the service from the key."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import labelled_filter
from revoque.components.admin_layout import admin_page, back_link, color_badge, empty_note, panel
from revoque.components.admin_table import ANY, filter_form, filter_select, loading, paged_table
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError, ValidationError
from revoque.models import User
from revoque.services import order_admin
from revoque.services.money import format_money
from revoque.services.order_admin import PAYMENT_OPTIONS, STATUS_OPTIONS, OrderRow, StaffOrderView
from revoque.state.admin import (
    AdminEditState,
    AdminFrameState,
    AdminListState,
    filtered_redirect,
    in_write_session,
    staff_event,
    staff_load,
)

ROUTE = "/admin/orders"
REFUND, RETURN = "refund", "return"  # what the confirmation dialog is about
QUANTITY_FIELD = "qty-"  # return form fields: qty-<order line id>
INVOICE_CHECK_MS = 1500  # how often the page looks for a regenerated invoice …
INVOICE_CHECKS = 20  # … and for how long
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


class AdminOrdersState(AdminListState, rx.State):
    rows: list[OrderRow] = []
    status: str = ANY
    payment: str = ANY
    date_from: str = ""
    date_to: str = ""
    q: str = ""

    @rx.var
    def query(self) -> str:
        return orders_query(self.status, self.payment, self.date_from, self.date_to, self.q)

    @staff_load
    async def load(self):
        self.loaded = False
        filters = order_admin.parse_filters(self._url_params())
        with session_scope() as session:
            self.rows = self._take_page(order_admin.list_orders(session, filters, self._requested_page()))
        self.status, self.payment = filters.status or ANY, filters.payment_status or ANY
        self.date_from = filters.date_from.isoformat() if filters.date_from else ""
        self.date_to = filters.date_to.isoformat() if filters.date_to else ""
        self.q = filters.q
        self.loaded = True
        return None

    @staff_event
    async def apply_filters(self, form: dict):
        fields = [str(form.get(name, "")) for name in ("status", "payment", "from", "to", "q")]
        return filtered_redirect(ROUTE, orders_query(*fields))


def status_badge(code, text, **props) -> rx.Component:
    return color_badge(text, code, STATUS_COLORS, **props)


def payment_badge(code, text) -> rx.Component:
    return color_badge(text, code, PAYMENT_COLORS, variant="outline")


def _list_filters() -> rx.Component:
    state = AdminOrdersState
    return filter_form(
        labelled_filter(
            "Order number or email",
            rx.input(name="q", default_value=state.q, placeholder="RVQ-100042 or ada@", width="100%", type="search"),
        ),
        labelled_filter("Status", filter_select("status", state.status, STATUS_OPTIONS, "Any status")),
        labelled_filter("Payment", filter_select("payment", state.payment, PAYMENT_OPTIONS, "Any payment")),
        labelled_filter("From", rx.input(name="from", type="date", default_value=state.date_from, width="100%")),
        labelled_filter("To", rx.input(name="to", type="date", default_value=state.date_to, width="100%")),
        on_submit=state.apply_filters,
        key=state.query,
        route=ROUTE,
        testid="orders-apply",
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


HEADERS = ["Order", "Placed (UTC)", "Customer", "Items", "Payment", "Status", ("Total", "right")]


@admin_page(route=ROUTE, title="Orders", on_load=AdminOrdersState.load)
def orders_page() -> rx.Component:
    state = AdminOrdersState
    empty = empty_note("No orders match these filters.", "package-search")
    return rx.vstack(
        panel("Filter", loading(state.loaded, _list_filters(), "58px")),
        panel("Orders", loading(state.loaded, paged_table(state, ROUTE, HEADERS, _order_row, empty))),
        spacing="4",
        width="100%",
    )


# --- one order -----------------------------------------------------------------------------------


def _load_view(number: str) -> tuple[StaffOrderView, str]:
    with session_scope() as session:
        return order_admin.staff_order_view(session, number), order_admin.find_order(session, number).currency


class AdminOrderState(AdminEditState, rx.State):
    order: StaffOrderView | None = None
    not_found: bool = False
    loaded: bool = False
    confirm_open: str = ""  # REFUND or RETURN while the confirmation dialog is shown
    confirm_text: str = ""
    invoice_waiting: bool = False
    _pending: dict = {}  # the checked refund or return the dialog offers, with its one-time key
    _order_currency: str = ""
    _invoice_from: int = 0  # the invoice version before "Regenerate"
    _invoice_checks: int = 0

    def _number(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    async def _refresh(self) -> None:
        try:
            self.order, self._order_currency = await asyncio.to_thread(_load_view, self._number())
            self.not_found = False
        except NotFound:
            self.order, self.not_found = None, True

    @staff_load
    async def load(self):
        self.loaded = False
        self._close_confirmation()
        self.invoice_waiting = False
        await self._refresh()
        self.loaded = True
        return None

    async def _run(self, actor: User, success: str, change, *args):
        """Make the change to this order as ``actor`` (already admitted), reload it, say how it went."""
        return await self._make_change(actor, success, change, self._number(), *args)

    @staff_event(admin_only=lambda _, form: order_admin.needs_admin(str(form.get("status", ""))))
    async def change_status(self, actor: User, form: dict):
        status, message = str(form.get("status", "")), str(form.get("message", ""))
        if not status or status == ANY:
            return rx.toast.error("Choose the new status first.")
        success = f"Order moved to {order_admin.label(status).lower()}."
        return await self._run(actor, success, order_admin.change_status, status, message)

    @staff_event
    async def mark_paid(self, actor: User):
        return await self._run(actor, "Payment recorded.", order_admin.mark_payment_received)

    @staff_event
    async def add_note(self, actor: User, form: dict):
        visible = _checked(form.get("visible_to_customer"))
        return await self._run(actor, "Note added.", order_admin.add_note, str(form.get("note", "")), visible)

    # --- refunds and returns: check, confirm, act --------------------------------------------------

    @staff_event(admin_only=True)
    async def prepare_refund(self, actor: User, form: dict):
        """Check the refund form and ask for confirmation; nothing is refunded yet."""
        self._close_confirmation()
        number, currency = self._number(), self._currency()
        try:
            reason = order_admin.clean_reason(str(form.get("reason", "")), "refund")
            amount = order_admin.parse_amount(str(form.get("amount", "")), currency)
            amount = await asyncio.to_thread(_read, order_admin.plan_refund, actor, number, amount)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        text = format_money(amount, currency)
        self._pending = {"kind": REFUND, "amount": amount, "reason": reason, "key": order_admin.new_request_key()}
        self._ask(REFUND, f"Refund {text} to the card that paid for {number}?")
        return None

    @staff_event(admin_only=lambda _, form: _checked(form.get("refund")))
    async def prepare_return(self, actor: User, form: dict):
        """Check the return form (and its refund, for admins) and ask for confirmation."""
        refund = _checked(form.get("refund"))
        self._close_confirmation()
        number = self._number()
        try:
            quantities = _quantities(form)
            reason = order_admin.clean_reason(str(form.get("reason", "")), "return")
            amount = order_admin.parse_amount(str(form.get("return_amount", "")), self._currency()) if refund else None
            plan = await asyncio.to_thread(_read, order_admin.plan_return, actor, number, quantities, refund, amount)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        self._pending = {
            "kind": RETURN,
            "quantities": plan.quantities,
            "refund": refund,
            "amount": amount,
            "reason": reason,
            "key": order_admin.new_request_key(),
        }
        self._ask(RETURN, plan.summary)
        return None

    @staff_event(admin_only=lambda state: _refunds(state._pending))
    async def confirm(self, actor: User):
        """Do what the dialog showed, once: the pending action is taken before it runs."""
        pending = self._pending
        self._close_confirmation()
        if not pending:
            return None
        self.busy = True
        try:
            outcome = await asyncio.to_thread(_act, actor, self._number(), pending)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        await self._refresh()
        if getattr(outcome, "refund_error", ""):
            return rx.toast.warning(f"{outcome.message} The refund was not made: {outcome.refund_error}")
        return rx.toast.success(outcome.message)

    @staff_event
    async def dialog_changed(self, open_: bool):
        """Escape, the overlay or Cancel closed the dialog: forget what it offered."""
        if not open_:
            self._close_confirmation()
        return None

    def _ask(self, kind: str, text: str) -> None:
        self.confirm_open, self.confirm_text = kind, text

    def _close_confirmation(self) -> None:
        self._pending, self.confirm_open, self.confirm_text = {}, "", ""

    def _currency(self) -> str:
        return self._order_currency or "NGN"

    # --- the invoice ---------------------------------------------------------------------------

    @staff_event
    async def regenerate_invoice(self, actor: User):
        try:
            version = await asyncio.to_thread(in_write_session, order_admin.regenerate_invoice, actor, self._number())
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        self.invoice_waiting, self._invoice_from, self._invoice_checks = True, version, 0
        return [rx.toast.info("Invoice queued: the new version appears here in a moment."), _check_again()]

    @staff_event
    async def check_invoice(self):
        """Look for the regenerated invoice (called again a little later until it is there)."""
        if not self.invoice_waiting:
            return None
        await self._refresh()
        if self.order is not None and self.order.invoice_version > self._invoice_from:
            self.invoice_waiting = False
            return rx.toast.success(f"Invoice version {self.order.invoice_version} is ready.")
        self._invoice_checks += 1
        if self._invoice_checks >= INVOICE_CHECKS:
            self.invoice_waiting = False
            return rx.toast.info("The invoice is still being made. Reload the page in a minute to see it.")
        return _check_again()


def _check_again():
    """Ask the browser to call ``check_invoice`` after a pause (no server task waits meanwhile)."""
    pause = f"new Promise((resolve) => setTimeout(() => resolve(true), {INVOICE_CHECK_MS}))"
    return rx.call_script(pause, callback=AdminOrderState.check_invoice)


def _refunds(pending: dict) -> bool:
    """Whether the pending action sends money back (admins only): a refund, or a return with one."""
    return pending.get("kind") == REFUND or bool(pending.get("refund"))


def _checked(value) -> bool:
    return str(value or "") in ("on", "true", "True")


def _quantities(form: dict) -> dict[int, int]:
    """Order line id → units, from the return form's ``qty-<id>`` fields (blank counts as none)."""
    quantities = {}
    for name, value in form.items():
        if not str(name).startswith(QUANTITY_FIELD):
            continue
        text = str(value or "").strip() or "0"
        line_id = str(name)[len(QUANTITY_FIELD) :]
        if not text.isdigit() or not line_id.isdigit():
            raise ValidationError("Quantities to return must be whole numbers, 0 or more.")
        quantities[int(line_id)] = int(text)
    return quantities


def _read(check, *args):
    """Run a check that writes nothing (a plan for the confirmation dialog)."""
    with session_scope() as session:
        return check(session, *args)


def _act(actor: User, number: str, pending: dict):
    """Make the confirmed refund or return (the services open their own transactions)."""
    if pending["kind"] == REFUND:
        return order_admin.refund(actor, number, pending["amount"], pending["reason"], pending["key"])
    quantities = {int(line_id): int(units) for line_id, units in pending["quantities"].items()}
    return order_admin.record_return(
        actor, number, quantities, pending["reason"], pending["key"], pending["refund"], pending["amount"]
    )


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
        _refunds_panel(order),
        _invoice_panel(order),
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


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="1", weight="medium", color_scheme="gray"),
        control,
        class_name="admin-order-field",
    )


def _refund_entry(entry) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(entry.amount_text, size="2", weight="bold"),
            rx.badge(
                entry.status_label,
                color_scheme=rx.match(entry.status, ("processed", "green"), ("pending", "amber"), "red"),
                variant="soft",
                size="1",
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        rx.cond(entry.reason != "", rx.text(entry.reason, size="2")),
        rx.text(f"{entry.requested_by} · {entry.created_text}", size="1", color_scheme="gray"),
        class_name="admin-list-row",
        data_testid="admin-refund",
    )


def _refund_form(order) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(f"Up to {order.refundable_text} can go back to the card.", size="2", color_scheme="gray"),
            _field(
                "Amount (blank: all of it)",
                rx.input(
                    name="amount",
                    default_value=order.refundable_input,
                    input_mode="decimal",
                    width="100%",
                    data_testid="refund-amount",
                ),
            ),
            _field(
                "Reason",
                rx.input(name="reason", placeholder="Damaged in transit", width="100%", data_testid="refund-reason"),
            ),
            rx.button(
                rx.icon("undo-2", size=16),
                "Refund…",
                type="submit",
                color_scheme="red",
                variant="soft",
                width="100%",
                loading=AdminOrderState.busy,
                data_testid="refund-submit",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=AdminOrderState.prepare_refund,
        width="100%",
        key=order.refundable_input,  # what is left changed: the form starts afresh
    )


def _refunds_panel(order) -> rx.Component:
    return panel(
        "Refunds",
        rx.cond(
            order.can_refund,
            rx.cond(
                AdminFrameState.viewer_is_admin,
                _refund_form(order),
                rx.text("Only an admin can refund this order.", size="2", color_scheme="gray"),
            ),
            rx.text(order.refund_note, size="2", color_scheme="gray", data_testid="refund-note"),
        ),
        rx.cond(
            order.refunds.length() > 0,
            rx.vstack(rx.foreach(order.refunds, _refund_entry), spacing="0", width="100%", padding_top="8px"),
        ),
    )


def _return_line(line) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(line.title, size="2", weight="medium", class_name="clamp-1"),
            rx.text(
                rx.cond(line.variant != "", f"{line.variant} · {line.sku}", line.sku), size="1", color_scheme="gray"
            ),
            rx.text(
                f"Ordered {line.ordered} · returned {line.returned} · {line.unit_price} each",
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            line.returnable > 0,
            rx.input(
                name=f"{QUANTITY_FIELD}{line.line_id}",
                type="number",
                min=0,
                max=line.returnable,
                step=1,
                default_value="0",
                aria_label=f"Units of {line.title} that came back (up to {line.returnable})",
                class_name="admin-return-qty",
                data_testid="return-quantity",
            ),
            rx.badge("All back", color_scheme="gray", variant="soft"),
        ),
        class_name="admin-list-row admin-return-line",
        data_testid="return-line",
    )


def _return_form(order) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("How many of each item came back? They go back in stock.", size="2", color_scheme="gray"),
            rx.box(rx.foreach(order.returnable_lines, _return_line), width="100%"),
            _field(
                "Reason",
                rx.input(name="reason", placeholder="Wrong size", width="100%", data_testid="return-reason"),
            ),
            rx.cond(
                AdminFrameState.viewer_is_admin & order.can_refund,
                rx.flex(
                    rx.checkbox("Refund these items to the card", name="refund", data_testid="return-refund"),
                    rx.input(
                        name="return_amount",
                        placeholder="Amount (blank: what they cost)",
                        input_mode="decimal",
                        class_name="admin-return-amount",
                    ),
                    gap="10px",
                    align="center",
                    wrap="wrap",
                    width="100%",
                ),
            ),
            rx.button(
                rx.icon("package-open", size=16),
                "Record return…",
                type="submit",
                variant="soft",
                loading=AdminOrderState.busy,
                data_testid="return-submit",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=AdminOrderState.prepare_return,
        width="100%",
        key=order.returns.length(),  # a new return recorded: the quantities start again from 0
    )


def _return_entry(entry) -> rx.Component:
    return rx.box(
        rx.text(entry.items_text, size="2", weight="medium"),
        rx.cond(entry.reason != "", rx.text(entry.reason, size="2")),
        rx.cond(entry.refund_text != "", rx.text(entry.refund_text, size="2", color_scheme="green")),
        rx.text(f"{entry.actor} · {entry.created_text}", size="1", color_scheme="gray"),
        class_name="admin-list-row",
        data_testid="admin-return",
    )


def _returns_panel(order) -> rx.Component:
    return panel(
        "Returns",
        rx.cond(
            order.can_return,
            _return_form(order),
            rx.text(order.return_note, size="2", color_scheme="gray", data_testid="return-note"),
        ),
        rx.cond(
            order.returns.length() > 0,
            rx.vstack(
                rx.text("Recorded returns", size="2", weight="bold"),
                rx.foreach(order.returns, _return_entry),
                spacing="0",
                width="100%",
                padding_top="14px",
            ),
        ),
    )


def _invoice_panel(order) -> rx.Component:
    return panel(
        "Invoice",
        rx.cond(
            order.invoice_version > 0,
            rx.vstack(
                rx.hstack(
                    rx.text(order.invoice_number, size="2", weight="medium"),
                    rx.cond(
                        order.invoice_url != "",
                        rx.link(
                            rx.hstack(rx.icon("download", size=14), "PDF", align="center", spacing="1"),
                            href=order.invoice_url,
                            is_external=True,
                            size="2",
                            data_testid="admin-invoice-link",
                        ),
                    ),
                    justify="between",
                    width="100%",
                ),
                rx.text(order.invoice_text, size="1", color_scheme="gray", data_testid="admin-invoice-version"),
                spacing="1",
                width="100%",
            ),
            rx.text("No invoice yet: one is made when a card payment arrives, or here.", size="2", color_scheme="gray"),
        ),
        rx.button(
            rx.icon("refresh-cw", size=16),
            rx.cond(
                AdminOrderState.invoice_waiting,
                "Making the invoice…",
                rx.cond(order.invoice_version > 0, "Regenerate invoice", "Generate invoice"),
            ),
            variant="outline",
            width="100%",
            margin_top="10px",
            disabled=AdminOrderState.invoice_waiting,
            on_click=AdminOrderState.regenerate_invoice,
            data_testid="regenerate-invoice",
        ),
    )


def _confirm_dialog() -> rx.Component:
    """The one confirmation for refunds and returns: Confirm acts, anything else forgets the request.
    Plain buttons (not the dialog's own action) so closing never races the confirmation."""
    refund = AdminOrderState.confirm_open == REFUND
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(refund, "Refund this order?", "Record this return?")),
            rx.alert_dialog.description(AdminOrderState.confirm_text, data_testid="confirm-text"),
            rx.text(
                rx.cond(refund, "Money sent back to a card can't be taken back.", "Stock is added at once."),
                size="2",
                color_scheme="gray",
                margin_top="8px",
            ),
            rx.hstack(
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AdminOrderState.dialog_changed(False),
                    data_testid="confirm-cancel",
                ),
                rx.button(
                    rx.cond(refund, "Refund", "Record return"),
                    color_scheme=rx.cond(refund, "red", "teal"),
                    on_click=AdminOrderState.confirm,
                    loading=AdminOrderState.busy,
                    data_testid="confirm-action",
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="460px",
        ),
        open=AdminOrderState.confirm_open != "",
        on_open_change=AdminOrderState.dialog_changed,
    )


def _detail(order) -> rx.Component:
    return rx.vstack(
        back_link("All orders", ROUTE),
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
            rx.vstack(_items(order), _returns_panel(order), _timeline(order), spacing="4", width="100%", min_width="0"),
            _side(order),
            class_name="admin-grid-main",
        ),
        _confirm_dialog(),
        spacing="4",
        width="100%",
    )


@admin_page(route=f"{ROUTE}/[number]", title="Order", on_load=AdminOrderState.load)
def order_page() -> rx.Component:
    state = AdminOrderState
    missing = empty_note("There is no order with that number.", "package-x")
    return loading(state.loaded, rx.cond(state.not_found, missing, _detail(state.order)), "360px")
