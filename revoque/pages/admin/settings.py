"""/admin/settings (admins only): the store's name, currency and contact details, tax rate and
whether prices include it, which payment methods checkout offers, and the bank details
bank-transfer shoppers pay to. ``revoque.services.store_settings`` checks the form, saves it (the
next page, cart and order use it) and audits the change before → after. The currency can be chosen
only while the store has no orders; afterwards its control is disabled and the page says why."""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.admin_forms import area_field, field_error, form_panel, select_field, switch_field, text_field
from revoque.components.admin_layout import admin_page, panel
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import User
from revoque.services import store_identity, store_settings
from revoque.services.admin_forms import FormInvalid
from revoque.services.store_settings import SettingsValues, SettingsView
from revoque.state.admin import AdminPageState, staff_event, staff_load
from revoque.state.nav import NavState

ROUTE = "/admin/settings"
TAX_MODE_OPTIONS = [
    ("inclusive", "Prices include tax (VAT is inside the price)"),
    ("exclusive", "Tax is added at checkout"),
]


def _view() -> SettingsView:
    with session_scope() as session:
        return store_settings.settings_view(session)


def _save(actor: User, form: dict) -> None:
    with session_scope(write=True) as session:
        data = store_settings.parse_settings_form(form, store_identity.currency(session))
        store_settings.update_settings(session, actor, data)


class AdminSettingsState(AdminPageState, rx.State):
    values: SettingsValues = SettingsValues()
    currency: str = ""
    currency_fixed: str = ""  # why the currency can no longer change; "" while it can
    card_gateway: str = ""
    tax_example: str = ""
    updated_text: str = ""
    errors: dict[str, str] = {}
    loaded: bool = False
    saving: bool = False
    form_version: int = 0

    async def _refresh(self) -> None:
        view = await asyncio.to_thread(_view)
        self.values, self.currency, self.currency_fixed = view.values, view.currency, view.currency_fixed
        self.card_gateway, self.tax_example, self.updated_text = view.card_gateway, view.tax_example, view.updated_text
        self.form_version += 1

    @staff_load(admin_only=True)
    async def load(self):
        self.loaded = False
        self.errors = {}
        await self._refresh()
        self.loaded = True
        return None

    @staff_event(admin_only=True)
    async def save(self, actor: User, form: dict):
        self.saving = True
        try:
            await asyncio.to_thread(_save, actor, form)
        except FormInvalid as invalid:
            self.errors, self.values = invalid.problems, store_settings.values_from(form)
            return rx.toast.error("Check the highlighted fields: " + str(invalid))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.saving = False
        self.errors = {}
        await self._refresh()
        # the frame (sidebar, title, amounts typed on admin pages) follows a new name or currency now
        return [NavState.load_identity(), rx.toast.success("Settings saved. New carts and orders use them now.")]


def _currency_field() -> rx.Component:
    """The currency menu; once the store has orders it is disabled and the reason shows beneath."""
    state = AdminSettingsState
    fixed = state.currency_fixed != ""
    return rx.vstack(
        select_field(
            "Currency",
            "currency",
            state.values.currency,
            store_settings.currency_options(),
            state.errors,
            hint="Prices are relabelled, not converted: a price of 10,000 stays 10,000 in the new currency. "
            "It can change only while the store has no orders.",
            disabled=fixed,
        ),
        rx.cond(
            fixed,
            rx.callout(
                f"{state.currency_fixed} The store's currency is {state.currency}.",
                icon="lock",
                size="1",
                color_scheme="amber",
                width="100%",
                data_testid="currency-fixed",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _store_panel() -> rx.Component:
    state = AdminSettingsState
    return panel(
        "Store",
        rx.grid(
            text_field(
                "Name",
                "store_name",
                state.values.store_name,
                state.errors,
                hint="In the header, footer, page titles, emails, invoices and the assistant's replies.",
            ),
            _currency_field(),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
    )


def _contact_panel() -> rx.Component:
    values, errors = AdminSettingsState.values, AdminSettingsState.errors
    return form_panel(
        "Contact",
        text_field(
            "Email", "contact_email", values.contact_email, errors, type_="email", placeholder="hello@example.com"
        ),
        text_field(
            "Phone", "contact_phone", values.contact_phone, errors, type_="tel", placeholder="+234 803 123 4567"
        ),
        area_field(
            "Address",
            "contact_address",
            values.contact_address,
            errors,
            rows="2",
            hint="In email footers and invoices.",
        ),
    )


def _tax_panel() -> rx.Component:
    values, errors = AdminSettingsState.values, AdminSettingsState.errors
    return form_panel(
        "Tax",
        select_field("How prices are shown", "tax_mode", values.tax_mode, TAX_MODE_OPTIONS, errors),
        text_field(
            "Tax rate (%)",
            "tax_rate",
            values.tax_rate,
            errors,
            input_mode="decimal",
            hint="7.5 for Nigerian VAT; 0 for none.",
        ),
        rx.callout(
            AdminSettingsState.tax_example,
            icon="calculator",
            size="1",
            color_scheme="gray",
            width="100%",
            data_testid="tax-example",
        ),
        rx.text(
            "Changes apply to new carts and orders; orders already placed keep the tax they were charged.",
            size="1",
            color_scheme="gray",
        ),
    )


def _payments_panel() -> rx.Component:
    values, errors = AdminSettingsState.values, AdminSettingsState.errors
    return form_panel(
        "Payment methods",
        switch_field(
            "Card",
            "card_payments_enabled",
            values.card_payments_enabled,
            hint=f"Through {AdminSettingsState.card_gateway}.",
        ),
        switch_field(
            "Pay on delivery",
            "pay_on_delivery_enabled",
            values.pay_on_delivery_enabled,
            hint="Cash or card at the door.",
        ),
        switch_field(
            "Bank transfer",
            "bank_transfer_enabled",
            values.bank_transfer_enabled,
            hint="Shoppers pay to the account below; you ship once it arrives.",
        ),
        field_error(errors, "payments"),
    )


def _bank_panel() -> rx.Component:
    values, errors = AdminSettingsState.values, AdminSettingsState.errors
    return form_panel(
        "Bank transfer details",
        text_field("Bank", "bank_name", values.bank_name, errors, placeholder="Zenith Bank"),
        text_field("Account name", "bank_account_name", values.bank_account_name, errors),
        text_field("Account number", "bank_account_number", values.bank_account_number, errors, input_mode="numeric"),
        rx.text("Shown at checkout, on the order page and in emails.", size="1", color_scheme="gray"),
    )


def _form() -> rx.Component:
    state = AdminSettingsState
    return rx.form(
        rx.vstack(
            _store_panel(),
            rx.box(_contact_panel(), _tax_panel(), class_name="admin-grid-2 admin-align-start"),
            rx.box(_payments_panel(), _bank_panel(), class_name="admin-grid-2 admin-align-start"),
            rx.hstack(
                rx.button(
                    rx.icon("save", size=16),
                    "Save settings",
                    type="submit",
                    size="3",
                    loading=state.saving,
                    data_testid="save-settings",
                ),
                rx.text(f"Last changed {state.updated_text}", size="1", color_scheme="gray"),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=AdminSettingsState.save,
        key=state.form_version,
        width="100%",
        data_testid="settings-form",
    )


@admin_page(route=ROUTE, title="Settings", on_load=AdminSettingsState.load)
def settings_page() -> rx.Component:
    return rx.cond(AdminSettingsState.loaded, _form(), rx.skeleton(rx.box(height="520px", width="100%")))
