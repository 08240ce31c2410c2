"""/admin/coupons: every coupon with how often it was used and whether shoppers can use it now,
searchable by code and filtered by on/off (both in the URL); /admin/coupons/new and
/admin/coupons/<id>: the coupon's rules in one form (``revoque.services.coupon_admin`` checks them
and says what is wrong beside each field), its recent uses, and switching it off or on. Every
change is written to the audit log."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import (
    area_field,
    confirm,
    labelled_filter,
    select_field,
    switch_field,
    text_field,
)
from revoque.components.admin_layout import admin_page, back_link, color_badge, empty_note, missing_note, panel
from revoque.components.admin_table import (
    ANY,
    actions_header,
    filter_form,
    filter_select,
    loading,
    paged_table,
    row_list,
)
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import coupon_admin, store_identity
from revoque.services.admin_forms import FormInvalid
from revoque.services.coupon_admin import KIND_LABELS, CouponFormValues, CouponRow, UseRow
from revoque.state.admin import AdminListState, AdminPageState, filtered_redirect, staff_event, staff_load
from revoque.state.nav import NavState

ROUTE = "/admin/coupons"
NEW = "new"
SWITCHED = [("on", "On"), ("off", "Off")]
STATUS_COLORS = {"live": "green", "scheduled": "blue", "expired": "gray", "used_up": "amber", "off": "gray"}


def coupons_query(q: str = "", state: str = "") -> str:
    values = {"q": q.strip(), "state": state}
    return urlencode({key: value for key, value in values.items() if value and value != ANY})


def _list(params: dict, page: int) -> coupon_admin.CouponPage:
    with session_scope() as session:
        return coupon_admin.list_coupons(session, coupon_admin.parse_filters(params), page)


def _set_active(actor: User, coupon_id: int, active: bool) -> str:
    with session_scope(write=True) as session:
        return coupon_admin.set_coupon_active(session, actor, coupon_id, active).code


# --- the list ------------------------------------------------------------------------------------


class AdminCouponsState(AdminListState, rx.State):
    rows: list[CouponRow] = []
    q: str = ""
    state_filter: str = ANY
    busy: bool = False

    @rx.var
    def query(self) -> str:
        return coupons_query(self.q, self.state_filter)

    async def _refresh(self) -> None:
        params = self._url_params()
        self.rows = self._take_page(await asyncio.to_thread(_list, params, self._requested_page()))
        filters = coupon_admin.parse_filters(params)
        self.q, self.state_filter = filters.q, filters.state or ANY

    @staff_load
    async def load(self):
        self.loaded = False
        await self._refresh()
        self.loaded = True
        return None

    @staff_event
    async def apply_filters(self, form: dict):
        return filtered_redirect(ROUTE, coupons_query(str(form.get("q", "")), str(form.get("state", ""))))

    @staff_event
    async def set_active(self, actor: User, coupon_id: int, active: bool):
        self.busy = True
        try:
            code = await asyncio.to_thread(_set_active, actor, int(coupon_id), bool(active))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        await self._refresh()
        return rx.toast.success(f"{code} is switched {'on' if active else 'off'}.")


def status_badge(code, text, **props) -> rx.Component:
    return color_badge(text, code, STATUS_COLORS, **props)


def _filters() -> rx.Component:
    state = AdminCouponsState
    return filter_form(
        labelled_filter(
            "Code",
            rx.input(name="q", default_value=state.q, placeholder="WELCOME10", type="search", width="100%"),
        ),
        labelled_filter("Switched", filter_select("state", state.state_filter, SWITCHED, "On or off")),
        on_submit=state.apply_filters,
        key=state.query,
        route=ROUTE,
    )


def _toggle(row: CouponRow) -> rx.Component:
    return rx.cond(
        row.active,
        confirm(
            rx.button("Switch off", size="1", variant="soft", color_scheme="red", data_testid="coupon-off"),
            "Switch this coupon off?",
            f"Shoppers who try {row.code} will be told it is no longer active. You can switch it on again.",
            "Switch off",
            AdminCouponsState.set_active(row.id, False),
            testid="coupon-off",
        ),
        rx.button(
            "Switch on",
            size="1",
            variant="soft",
            on_click=AdminCouponsState.set_active(row.id, True),
            loading=AdminCouponsState.busy,
            data_testid="coupon-on",
        ),
    )


def _row(row: CouponRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(rx.code(row.code, variant="ghost", size="2", weight="bold"), href=f"{ROUTE}/{row.id}"),
            data_testid="coupon-code",
        ),
        rx.table.cell(rx.text(row.description, size="2", weight="medium", white_space="nowrap")),
        rx.table.cell(
            rx.cond(
                row.rules.length() > 0,
                rx.vstack(rx.foreach(row.rules, lambda rule: rx.text(rule, size="1")), spacing="0"),
                rx.text("Anyone, any time", size="1", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.text(row.uses_text, size="2", data_testid="coupon-uses"), text_align="right"),
        rx.table.cell(status_badge(row.status, row.status_label)),
        rx.table.cell(
            rx.hstack(
                rx.link(rx.button("Edit", size="1", variant="outline"), href=f"{ROUTE}/{row.id}"),
                _toggle(row),
                spacing="2",
                justify="end",
            )
        ),
        vertical_align="middle",
        data_testid="coupon-row",
    )


def _table() -> rx.Component:
    state = AdminCouponsState
    return paged_table(
        state,
        ROUTE,
        ["Code", "Discount", "Rules", ("Uses", "right"), "Status", actions_header()],
        _row,
        empty_note("No coupons match these filters.", "ticket-x"),
        none_yet=empty_note("No coupons yet. Create one to offer shoppers a discount.", "ticket-percent"),
    )


def _new_button() -> rx.Component:
    return rx.link(rx.button(rx.icon("plus", size=16), "New coupon", data_testid="new-coupon"), href=f"{ROUTE}/{NEW}")


@admin_page(route=ROUTE, title="Coupons", on_load=AdminCouponsState.load)
def coupons_page() -> rx.Component:
    loaded = AdminCouponsState.loaded
    return rx.vstack(
        panel("Filter", loading(loaded, _filters(), "58px")),
        panel("Coupons", loading(loaded, _table()), action=_new_button()),
        spacing="4",
        width="100%",
    )


# --- one coupon ----------------------------------------------------------------------------------


def _load_form(coupon_id: int) -> CouponFormValues:
    with session_scope() as session:
        return coupon_admin.coupon_form_values(session, coupon_id)


def _save(actor: User, coupon_id: int | None, form: dict) -> int:
    with session_scope(write=True) as session:
        data = coupon_admin.parse_coupon_form(form, store_identity.currency(session))
        if coupon_id is None:
            return coupon_admin.create_coupon(session, actor, data).id
        return coupon_admin.update_coupon(session, actor, coupon_id, data).id


class AdminCouponState(AdminPageState, rx.State):
    form: CouponFormValues = CouponFormValues()
    errors: dict[str, str] = {}
    is_new: bool = False
    not_found: bool = False
    loaded: bool = False
    saving: bool = False
    form_version: int = 0  # bumped when new values load, so the uncontrolled fields mount afresh

    def _coupon_id(self) -> int | None:
        """The id in the URL; None for /admin/coupons/new (and for junk, which is then not found)."""
        key = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(key) if key.isdigit() else None

    def _is_new_page(self) -> bool:
        return self.router.url.path.rstrip("/").endswith(f"/{NEW}")

    async def _show(self, coupon_id: int) -> None:
        try:
            self.form = await asyncio.to_thread(_load_form, coupon_id)
            self.not_found = False
        except NotFound:
            self.form, self.not_found = CouponFormValues(), True
        self.form_version += 1

    @staff_load
    async def load(self):
        self.loaded = False
        self.errors, self.is_new = {}, self._is_new_page()
        coupon_id = self._coupon_id()
        if self.is_new:
            self.form, self.not_found = CouponFormValues(), False
            self.form_version += 1
        elif coupon_id is None:
            self.not_found = True
        else:
            await self._show(coupon_id)
        self.loaded = True
        return None

    @staff_event
    async def save(self, actor: User, form: dict):
        coupon_id = None if self._is_new_page() else self._coupon_id()
        if coupon_id is None and not self._is_new_page():
            return rx.toast.error("There is no such coupon. It may have been removed.")
        self.saving = True
        try:
            saved_id = await asyncio.to_thread(_save, actor, coupon_id, form)
        except FormInvalid as invalid:
            self.errors = invalid.problems
            values = coupon_admin.form_values_from(form)
            values.id, values.uses = self.form.id, self.form.uses
            values.status_label, values.recent_uses = self.form.status_label, self.form.recent_uses
            self.form = values
            return rx.toast.error("Check the highlighted fields: " + str(invalid))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.saving = False
        self.errors = {}
        if coupon_id is None:
            return [rx.toast.success("Coupon created."), rx.redirect(f"{ROUTE}/{saved_id}")]
        await self._show(saved_id)
        return rx.toast.success("Coupon saved.")

    @staff_event
    async def set_active(self, actor: User, active: bool):
        coupon_id = self._coupon_id()
        if coupon_id is None:
            return rx.toast.error("Save the coupon first.")
        try:
            code = await asyncio.to_thread(_set_active, actor, coupon_id, bool(active))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        await self._show(coupon_id)
        return rx.toast.success(f"{code} is switched {'on' if active else 'off'}.")


def _value_hint() -> str:
    symbol = NavState.currency_symbol
    return f"For percent off, a number like 10 or 12.5; for a fixed amount, an amount in {symbol} like 5,000."


def _rules_form() -> rx.Component:
    state, errors = AdminCouponState, AdminCouponState.errors
    form = state.form
    return rx.vstack(
        panel(
            "Discount",
            rx.grid(
                text_field(
                    "Code", "code", form.code, errors, placeholder="SUMMER25", hint="Shoppers type it at checkout."
                ),
                select_field("Type", "kind", form.kind, list(KIND_LABELS.items()), errors),
                text_field("Discount", "value", form.value, errors, hint=_value_hint(), input_mode="decimal"),
                text_field(
                    f"Minimum subtotal ({NavState.currency_symbol})",
                    "min_subtotal",
                    form.min_subtotal,
                    errors,
                    placeholder="No minimum",
                    input_mode="decimal",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
        ),
        panel(
            "When and how often",
            rx.grid(
                text_field("Starts on", "starts_on", form.starts_on, errors, type_="date", hint="Blank: right away."),
                text_field(
                    "Ends on", "ends_on", form.ends_on, errors, type_="date", hint="Last day it works. Blank: never."
                ),
                text_field(
                    "Total uses",
                    "usage_limit",
                    form.usage_limit,
                    errors,
                    placeholder="No limit",
                    input_mode="numeric",
                    hint="Orders that may use it, all shoppers together.",
                ),
                text_field(
                    "Uses per customer",
                    "per_customer_limit",
                    form.per_customer_limit,
                    errors,
                    placeholder="No limit",
                    input_mode="numeric",
                    hint="Counted by the email on the order.",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
        ),
        panel(
            "Who may use it",
            area_field(
                "Only these customers",
                "customers",
                form.customers,
                errors,
                rows="3",
                placeholder="ada@example.com\nbola@example.com",
                hint="Emails, one a line. Leave blank so that anyone may use the code.",
            ),
            rx.box(
                switch_field(
                    "Switched on",
                    "active",
                    form.active,
                    errors,
                    hint="Off: shoppers are told the code is no longer active.",
                ),
                padding_top="12px",
            ),
        ),
        rx.hstack(
            rx.button(
                rx.icon("save", size=16),
                rx.cond(state.is_new, "Create coupon", "Save coupon"),
                type="submit",
                size="3",
                loading=state.saving,
                data_testid="save-coupon",
            ),
            rx.link(rx.button("Cancel", variant="soft", color_scheme="gray", size="3", type="button"), href=ROUTE),
            spacing="3",
        ),
        spacing="4",
        width="100%",
        min_width="0",
    )


def _use(use: UseRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.link(use.number, href=f"/admin/orders/{use.number}", size="2", weight="medium"),
            rx.text(f"{use.email} · {use.created_text}", size="1", color_scheme="gray", class_name="clamp-1"),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.text(f"−{use.discount_text}", size="2", weight="medium", white_space="nowrap"),
        class_name="admin-list-row",
    )


def _usage_panel() -> rx.Component:
    form = AdminCouponState.form
    return rx.vstack(
        panel(
            "Usage",
            rx.hstack(
                rx.text(form.uses, class_name="admin-metric-value", data_testid="coupon-use-count"),
                rx.text(rx.cond(form.uses == 1, "order used it", "orders used it"), size="2", color_scheme="gray"),
                align="baseline",
                spacing="2",
            ),
            row_list(
                form.recent_uses,
                _use,
                rx.text("Nobody has used this coupon yet.", size="2", color_scheme="gray"),
                padding_top="8px",
            ),
        ),
        panel(
            "Switch",
            rx.text(
                "Coupons are switched off rather than deleted, so orders that used them keep their history.",
                size="2",
                color_scheme="gray",
            ),
            rx.box(
                rx.cond(
                    form.active,
                    confirm(
                        rx.button("Switch off now", variant="soft", color_scheme="red", width="100%"),
                        "Switch this coupon off?",
                        "Shoppers who try the code will be told it is no longer active.",
                        "Switch off",
                        AdminCouponState.set_active(False),
                        testid="coupon-off",
                    ),
                    rx.button(
                        "Switch on now", variant="soft", width="100%", on_click=AdminCouponState.set_active(True)
                    ),
                ),
                padding_top="12px",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _editor() -> rx.Component:
    state = AdminCouponState
    return rx.vstack(
        back_link("All coupons", ROUTE),
        rx.hstack(
            rx.heading(rx.cond(state.is_new, "New coupon", state.form.code), size="6", data_testid="coupon-heading"),
            rx.cond(~state.is_new, rx.badge(state.form.status_label, variant="soft", radius="full")),
            spacing="3",
            align="center",
        ),
        rx.box(
            rx.form(
                _rules_form(),
                on_submit=AdminCouponState.save,
                key=state.form_version,
                width="100%",
                min_width="0",
                data_testid="coupon-form",
            ),
            rx.cond(~state.is_new, _usage_panel()),
            class_name=rx.cond(state.is_new, "admin-form-single", "admin-grid-main"),
        ),
        spacing="4",
        width="100%",
    )


@admin_page(route=f"{ROUTE}/[coupon_id]", title="Coupon", on_load=AdminCouponState.load)
def coupon_page() -> rx.Component:
    state = AdminCouponState
    missing = missing_note("There is no such coupon. It may have been removed.", "ticket-x", "All coupons", ROUTE)
    return loading(state.loaded, rx.cond(state.not_found, missing, _editor()), "420px")
