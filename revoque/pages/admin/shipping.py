"""/admin/shipping: the delivery methods in the order checkout offers them, with their price,
estimate and how many orders used each; staff add and edit them in a dialog, move them up and down,
and switch them off or on (``revoque.services.shipping_admin`` keeps at least one on and audits
every change)."""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.admin_forms import confirm, form_dialog, move_buttons, switch_field, text_field, yes_no
from revoque.components.admin_layout import admin_page, empty_note, panel
from revoque.components.admin_table import actions_header, data_table, loading
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import shipping_admin, store_identity
from revoque.services.admin_forms import FormInvalid
from revoque.services.shipping_admin import ShippingFormValues, ShippingRow
from revoque.state.admin import AdminEditState, staff_event, staff_load
from revoque.state.nav import NavState

ROUTE = "/admin/shipping"


def _rows() -> list[ShippingRow]:
    with session_scope() as session:
        return shipping_admin.list_methods(session)


def _values(method_id: int) -> ShippingFormValues:
    with session_scope() as session:
        return shipping_admin.form_values(session, method_id)


def _save(actor: User, method_id: int, form: dict) -> str:
    with session_scope(write=True) as session:
        data = shipping_admin.parse_shipping_form(form, store_identity.currency(session))
        if method_id:
            return shipping_admin.update_method(session, actor, method_id, data).name
        return shipping_admin.create_method(session, actor, data).name


class AdminShippingState(AdminEditState, rx.State):
    rows: list[ShippingRow] = []
    loaded: bool = False
    dialog_open: bool = False
    form: ShippingFormValues = ShippingFormValues()
    errors: dict[str, str] = {}
    form_version: int = 0

    async def _refresh(self) -> None:
        self.rows = await asyncio.to_thread(_rows)

    @staff_load
    async def load(self):
        self.loaded = False
        await self._refresh()
        self.dialog_open, self.errors = False, {}
        self.loaded = True
        return None

    def _open(self, values: ShippingFormValues) -> None:
        self.form, self.errors, self.dialog_open = values, {}, True
        self.form_version += 1

    @staff_event
    async def start_new(self):
        self._open(ShippingFormValues())
        return None

    @staff_event
    async def start_edit(self, method_id: int):
        try:
            self._open(await asyncio.to_thread(_values, int(method_id)))
        except NotFound as exc:
            await self._refresh()
            return rx.toast.error(str(exc))
        return None

    @staff_event
    async def set_dialog_open(self, open_: bool):
        self.dialog_open = bool(open_)
        return None

    @staff_event
    async def save(self, actor: User, form: dict):
        method_id = self.form.id
        self.busy = True
        try:
            name = await asyncio.to_thread(_save, actor, method_id, form)
        except FormInvalid as invalid:
            self.errors, self.form = invalid.problems, shipping_admin.form_values_from(form, method_id)
            return rx.toast.error("Check the highlighted fields: " + str(invalid))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        self.dialog_open, self.errors = False, {}
        await self._refresh()
        return rx.toast.success(f"{name} saved." if method_id else f"{name} added.")

    @staff_event
    async def set_active(self, actor: User, method_id: int, active: bool):
        message = "Delivery method switched on." if active else "Delivery method switched off."
        change = shipping_admin.set_method_active
        return await self._make_change(actor, message, change, int(method_id), bool(active), refresh_on_error=True)

    @staff_event
    async def move(self, actor: User, method_id: int, direction: str):
        change = shipping_admin.move_method
        return await self._make_change(actor, "", change, int(method_id), str(direction), refresh_on_error=True)


def _row(row: ShippingRow) -> rx.Component:
    state = AdminShippingState
    return rx.table.row(
        rx.table.cell(
            move_buttons(row.name, state.move(row.id, "up"), state.move(row.id, "down"), row.first, row.last)
        ),
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(row.name, size="2", weight="medium"),
                    rx.cond(row.is_pickup, rx.badge("Pick-up", color_scheme="blue", variant="soft", size="1")),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(row.estimate, size="1", color_scheme="gray"),
                spacing="0",
            ),
            data_testid="shipping-name",
        ),
        rx.table.cell(rx.text(row.price_text, size="2", weight="medium", white_space="nowrap"), text_align="right"),
        rx.table.cell(rx.text(row.orders, size="2"), text_align="right"),
        rx.table.cell(yes_no(row.active)),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Edit", size="1", variant="outline", on_click=state.start_edit(row.id), data_testid="edit-shipping"
                ),
                rx.cond(
                    row.active,
                    confirm(
                        rx.button("Switch off", size="1", variant="soft", color_scheme="red"),
                        "Switch this delivery method off?",
                        f"Checkout will stop offering {row.name}. Orders that used it keep it.",
                        "Switch off",
                        state.set_active(row.id, False),
                        testid="shipping-off",
                    ),
                    rx.button("Switch on", size="1", variant="soft", on_click=state.set_active(row.id, True)),
                ),
                spacing="2",
                justify="end",
            )
        ),
        vertical_align="middle",
        data_testid="shipping-row",
    )


def _table() -> rx.Component:
    headers = ["Order", "Method", ("Price", "right"), ("Orders", "right"), "Status", actions_header()]
    return rx.cond(
        AdminShippingState.rows.length() > 0,
        data_table(headers, AdminShippingState.rows, _row),
        empty_note("No delivery methods yet. Add one: shoppers need one to check out.", "truck"),
    )


def _dialog() -> rx.Component:
    state, errors = AdminShippingState, AdminShippingState.errors
    return form_dialog(
        rx.cond(state.form.id > 0, "Edit delivery method", "New delivery method"),
        "Shoppers see the name, price and delivery time at checkout.",
        text_field("Name", "name", state.form.name, errors, placeholder="Standard delivery (Lagos)"),
        text_field(
            f"Price ({NavState.currency_symbol})",
            "price",
            state.form.price,
            errors,
            hint="0 for free delivery.",
            input_mode="decimal",
        ),
        text_field("Delivery time", "estimate", state.form.estimate, errors, placeholder="1–2 business days"),
        switch_field("Pick-up in store", "is_pickup", state.form.is_pickup, hint="The shopper collects the order."),
        switch_field("Switched on", "active", state.form.active, errors, hint="Off: checkout does not offer it."),
        on_submit=state.save,
        key=state.form_version,
        busy=state.busy,
        save_testid="save-shipping",
        open_=state.dialog_open,
        on_open_change=state.set_dialog_open,
        max_width="480px",
    )


@admin_page(route=ROUTE, title="Delivery methods", on_load=AdminShippingState.load)
def shipping_page() -> rx.Component:
    return rx.vstack(
        panel(
            "Delivery methods",
            rx.text(
                "Checkout lists the methods that are on, in this order. Methods are switched off rather than "
                "deleted, so past orders keep theirs.",
                size="2",
                color_scheme="gray",
                margin_bottom="8px",
            ),
            loading(AdminShippingState.loaded, _table(), "200px"),
            action=rx.button(
                rx.icon("plus", size=16),
                "New method",
                on_click=AdminShippingState.start_new,
                data_testid="new-shipping",
            ),
        ),
        _dialog(),
        spacing="4",
        width="100%",
    )
