"""/account/addresses: the customer's saved addresses, added and edited in a dialog, deleted after a
confirmation, with one default for shipping and one for billing."""

from __future__ import annotations

from dataclasses import asdict, fields

import reflex as rx

from revoque.components.account import account_shell, form_error, form_field, submit_button
from revoque.components.layout import storefront_page
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.pages.account.common import FormMixin, customer_id
from revoque.services import accounts
from revoque.services.accounts import NIGERIAN_STATES, AddressInfo, AddressInput
from revoque.state.session import SessionState

_INPUT_FIELDS = [f.name for f in fields(AddressInput)]


class AddressesState(FormMixin, rx.State):
    addresses: list[AddressInfo] = []
    loaded: bool = False
    dialog_open: bool = False
    draft: dict[str, str] = {}  # the form's starting values
    form_key: int = 0  # a new key remounts the form so it starts from ``draft``
    _editing_id: int | None = None

    @rx.var
    def dialog_title(self) -> str:
        return "Edit address" if self._editing_id else "Add an address"

    def _reload(self, user_id: int) -> None:
        with session_scope() as session:
            self.addresses = accounts.list_addresses(session, user_id)
        self.loaded = True

    @rx.event
    async def load(self):
        self.dialog_open = False
        if (user_id := await customer_id(self)) is not None:
            self._reload(user_id)

    def _open(self, editing: AddressInfo | None) -> None:
        self._clear_form()
        self._editing_id = editing.id if editing else None
        values = asdict(editing) if editing else asdict(AddressInput(name="", line1="", city=""))
        self.draft = {name: str(values[name]) for name in _INPUT_FIELDS}
        self.form_key += 1
        self.dialog_open = True

    @rx.event
    def open_new(self):
        self._open(None)

    @rx.event
    def open_edit(self, address_id: int):
        self._open(next((a for a in self.addresses if a.id == address_id), None))

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    async def save(self, form: dict):
        self._start_submit()
        yield
        user_id = await customer_id(self)
        if user_id is None:
            yield SessionState.require_signed_in
            return
        data = AddressInput(**{name: str(form.get(name, "")) for name in _INPUT_FIELDS})
        try:
            with session_scope(write=True) as session:
                if self._editing_id is None:
                    accounts.add_address(session, user_id, data)
                else:
                    accounts.update_address(session, user_id, self._editing_id, data)
        except RevoqueError as exc:
            self._show_error(exc)
            return
        self._reload(user_id)
        self.submitting, self.dialog_open = False, False
        yield rx.toast.success("Address saved.")

    @rx.event
    async def delete(self, address_id: int):
        return await self._change(accounts.delete_address, address_id, done="Address deleted.")

    @rx.event
    async def make_default(self, address_id: int, kind: str):
        return await self._change(
            accounts.set_default_address, address_id, kind, done=f"Default {kind} address updated."
        )

    async def _change(self, change, address_id: int, *args, done: str):
        user_id = await customer_id(self)
        if user_id is None:
            return SessionState.require_signed_in
        try:
            with session_scope(write=True) as session:
                change(session, user_id, address_id, *args)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        self._reload(user_id)
        return rx.toast.success(done)


def _address_form() -> rx.Component:
    draft = AddressesState.draft
    return rx.form(
        rx.vstack(
            form_field(AddressesState, "Full name", "name", autocomplete="name", default_value=draft["name"]),
            form_field(
                AddressesState,
                "Phone",
                "phone",
                input_type="tel",
                autocomplete="tel",
                default_value=draft["phone"],
                required=False,
                hint="The courier calls this number on delivery day.",
            ),
            form_field(
                AddressesState, "Street address", "line1", autocomplete="address-line1", default_value=draft["line1"]
            ),
            form_field(
                AddressesState,
                "Apartment, suite, landmark",
                "line2",
                autocomplete="address-line2",
                default_value=draft["line2"],
                required=False,
            ),
            rx.grid(
                form_field(
                    AddressesState, "City or town", "city", autocomplete="address-level2", default_value=draft["city"]
                ),
                _state_select(),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            form_field(
                AddressesState,
                "Postal code",
                "postal_code",
                autocomplete="postal-code",
                default_value=draft["postal_code"],
                required=False,
            ),
            rx.el.input(type="hidden", name="country", value="NG"),
            form_error(AddressesState),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray", size="3")),
                submit_button(AddressesState, "Save address", "address-submit", full_width=False),
                justify="end",
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        key=AddressesState.form_key,
        on_submit=AddressesState.save,
        width="100%",
    )


def _state_select() -> rx.Component:
    has_error = AddressesState.errors.contains("state")
    return rx.vstack(
        rx.el.label("State", html_for="field-state", class_name="field-label"),
        rx.select(
            list(NIGERIAN_STATES),
            name="state",
            default_value=AddressesState.draft["state"],
            placeholder="Choose a state",
            size="3",
            width="100%",
            id="field-state",
            aria_invalid=rx.cond(has_error, "true", "false"),
            data_testid="input-state",
        ),
        rx.cond(
            has_error,
            rx.text(
                AddressesState.errors["state"], size="1", color_scheme="red", role="alert", data_testid="error-state"
            ),
        ),
        spacing="1",
        width="100%",
    )


def _address_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(AddressesState.dialog_title),
            rx.dialog.description("We deliver to every state in Nigeria.", size="2", color_scheme="gray"),
            rx.box(_address_form(), padding_top="12px"),
            max_width="520px",
        ),
        open=AddressesState.dialog_open,
        on_open_change=AddressesState.set_dialog_open,
    )


def _delete_button(address) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("trash-2", size=14), "Delete", variant="ghost", color_scheme="red", size="1")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this address?"),
            rx.alert_dialog.description(f"{address.name}, {address.line1} will be removed from your account."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=AddressesState.delete(address.id)),
                ),
                justify="end",
                spacing="3",
                padding_top="16px",
            ),
            max_width="420px",
        ),
    )


def _default_action(address, kind: str) -> rx.Component:
    is_default = address.is_default_shipping if kind == "shipping" else address.is_default_billing
    return rx.cond(
        is_default,
        rx.badge(f"Default {kind}", color_scheme="teal", variant="soft"),
        rx.button(
            f"Use for {kind}",
            on_click=AddressesState.make_default(address.id, kind),
            variant="ghost",
            size="1",
        ),
    )


def _address_card(address) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.foreach(
                    address.lines,
                    lambda line, i: rx.text(line, size="2", weight=rx.cond(i == 0, "bold", "regular")),
                ),
                spacing="0",
            ),
            rx.hstack(
                _default_action(address, "shipping"), _default_action(address, "billing"), spacing="2", wrap="wrap"
            ),
            rx.spacer(),
            rx.hstack(
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    on_click=AddressesState.open_edit(address.id),
                    variant="ghost",
                    size="1",
                ),
                _delete_button(address),
                spacing="3",
            ),
            spacing="3",
            height="100%",
        ),
        data_testid="address-card",
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("map-pin", size=36, color=rx.color("gray", 9)),
            rx.text("No saved addresses yet.", weight="medium"),
            rx.text("Save one to check out faster.", size="2", color_scheme="gray"),
            align="center",
            spacing="2",
        ),
        padding="48px 16px",
        width="100%",
    )


@storefront_page(
    route="/account/addresses", title="Your addresses", on_load=[SessionState.require_signed_in, AddressesState.load]
)
def addresses_page() -> rx.Component:
    return account_shell(
        "/account/addresses",
        "Addresses",
        rx.button(
            rx.icon("plus", size=16), "Add an address", on_click=AddressesState.open_new, data_testid="add-address"
        ),
        rx.cond(
            AddressesState.loaded,
            rx.cond(
                AddressesState.addresses.length() > 0,
                rx.grid(
                    rx.foreach(AddressesState.addresses, _address_card),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="4",
                    width="100%",
                ),
                _empty(),
            ),
            rx.skeleton(rx.box(height="160px", width="100%"), loading=True),
        ),
        _address_dialog(),
    )
