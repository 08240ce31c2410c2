"""Checkout in four steps on one page: contact and address → delivery → payment → review.

Entering checkout holds the cart's stock for RESERVATION_MINUTES. Placing the order is idempotent on
the server; the button is also disabled while a request is in flight.
"""

from __future__ import annotations

import asyncio
from functools import partial

import reflex as rx

from revoque.components.layout import storefront_page
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import Cart, PaymentMethod
from revoque.services import accounts, checkout, inventory, pricing, rate_limit, shipping
from revoque.services.accounts import AddressInfo, AddressInput
from revoque.services.carts import CartLineView, find_cart
from revoque.services.checkout import CheckoutDetails, PaymentOption, SummaryRow
from revoque.services.money import format_money
from revoque.services.shipping import ShippingOption
from revoque.state.blocking import off_loop
from revoque.state.cart import CartState
from revoque.state.nav import framed
from revoque.state.payment import go_to_card_payment
from revoque.state.session import SessionState

STEPS = ["Contact & address", "Delivery", "Payment", "Review"]
ADDRESS_FIELDS = ["name", "phone", "line1", "line2", "city", "region", "postal_code"]


def _cart_id(token: str, user_id: int | None) -> int | None:
    with session_scope() as session:
        cart = find_cart(session, token=token, user_id=user_id)
        return cart.id if cart else None


class CheckoutState(rx.State):
    step: int = 1
    email: str = ""
    name: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    errors: dict[str, str] = {}
    saved_addresses: list[AddressInfo] = []
    shipping_options: list[ShippingOption] = []
    shipping_method_id: str = ""
    payment_options: list[PaymentOption] = []
    payment_method: str = ""
    coupon_input: str = ""
    coupon_code: str = ""
    coupon_note: str = ""
    coupon_error: str = ""
    lines: list[CartLineView] = []
    summary: list[SummaryRow] = []
    total_text: str = ""
    tax_note: str = ""
    hold_text: str = ""
    bank_details: list[SummaryRow] = []
    loaded: bool = False
    placing: bool = False
    error: str = ""
    _cart_id: int | None = None
    _user_id: int | None = None

    @rx.event
    @framed
    async def load(self):
        self.loaded, self.error, self.placing = False, "", False
        session_state = await self.get_state(SessionState)
        cart_state = await self.get_state(CartState)
        self._user_id = await session_state.signed_in_user_id()
        self._cart_id = await asyncio.to_thread(_cart_id, cart_state.cart_token, self._user_id)
        if self._cart_id is None or cart_state.count == 0:
            return rx.redirect("/cart")
        if await asyncio.to_thread(checkout.start_checkout, self._cart_id):  # something ran short
            await cart_state._reload()
            return [rx.redirect("/cart"), rx.toast.error("Some items just sold out. Check your cart.")]
        # The rest only reads and writes this state (the tab's lock is held): all of it off the loop.
        await asyncio.to_thread(self._fill_page, session_state.user_email, session_state.user_name)
        return None

    def _fill_page(self, email: str, name: str) -> None:
        with session_scope() as session:
            shipping.ensure_default_methods(session)
            config = pricing.get_store_config(session)
            self.shipping_options = shipping.list_active_methods(session)
            self.payment_options = checkout.payment_options(config)
            self.bank_details = checkout.bank_details(config)
            expires = inventory.reservation_expiry(session, self._cart_id)
        if self._user_id is not None:
            self._prefill_customer(email, name)
        self.payment_method = self.payment_method or (self.payment_options[0].code if self.payment_options else "")
        self.hold_text = f"We're holding your items until {expires:%H:%M} UTC." if expires else ""
        self._requote()
        self.loaded = True

    def _prefill_customer(self, email: str, name: str) -> None:
        """Signed-in customers start from their default delivery address and can pick another."""
        with session_scope() as session:
            self.saved_addresses = accounts.list_addresses(session, self._user_id)
        self.email = self.email or email
        default = next((a for a in self.saved_addresses if a.is_default_shipping), None)
        if default is not None and not self.line1:
            self._fill_address(default)
        self.name = self.name or name

    def _fill_address(self, address: AddressInfo) -> None:
        self.name, self.phone, self.line1, self.line2 = address.name, address.phone, address.line1, address.line2
        self.city, self.region, self.postal_code = address.city, address.state, address.postal_code
        self.errors = {}

    @rx.event
    def use_saved_address(self, address_id: int):
        address = next((a for a in self.saved_addresses if a.id == address_id), None)
        if address is not None:
            self._fill_address(address)

    def _cart(self, session) -> Cart | None:
        return session.get(Cart, self._cart_id) if self._cart_id else None

    def _requote(self) -> None:
        method_id = int(self.shipping_method_id) if self.shipping_method_id else None
        with session_scope() as session:
            quote = checkout.quote(
                session,
                self._cart(session),
                email=self.email,
                shipping_method_id=method_id,
                coupon_code=self.coupon_code,
            )
        totals, money = quote.totals, partial(format_money, currency=quote.currency)
        self.lines = quote.cart.lines
        self.coupon_error = quote.coupon_error
        self.coupon_note = quote.coupon_description
        self.coupon_code = quote.coupon_code  # normalised, or "" when the code was refused
        rows = [SummaryRow("Subtotal", money(totals.subtotal))]
        if totals.discount:
            rows.append(SummaryRow(f"Discount ({quote.coupon_code})", f"-{money(totals.discount)}"))
        rows.append(SummaryRow("Delivery", money(totals.shipping) if method_id else "Choose a method"))
        if totals.tax and not totals.prices_include_tax:
            rows.append(SummaryRow(totals.tax_label(quote.currency), money(totals.tax)))
        self.summary = rows
        self.tax_note = totals.tax_label(quote.currency) if totals.prices_include_tax else ""
        self.total_text = money(totals.total)

    @rx.event
    def set_field(self, field: str, value: str):
        if field in {"email", "coupon_input", *ADDRESS_FIELDS}:
            setattr(self, field, value)
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    def _address(self) -> AddressInput:
        return AddressInput(
            name=self.name,
            phone=self.phone,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            state=self.region,
            postal_code=self.postal_code,
        )

    @rx.event
    def submit_contact(self):
        errors = {
            ("region" if key == "state" else key): message
            for key, message in checkout.validate_address(self._address()).items()
        }
        try:
            self.email = checkout.normalise_email(self.email)
        except RevoqueError as exc:
            errors["email"] = str(exc)
        self.errors = errors
        if not errors:
            self.step = 2

    @rx.event
    @off_loop
    def choose_shipping(self, method_id: str):
        """Only a method this page offered (the browser could send any text)."""
        if str(method_id) not in {str(option.id) for option in self.shipping_options}:
            self.errors = {"shipping": "Choose a delivery method."}
            return
        self.shipping_method_id = str(method_id)
        self._requote()

    @rx.event
    def submit_delivery(self):
        if not self.shipping_method_id:
            self.errors = {"shipping": "Choose a delivery method."}
            return
        self.errors, self.step = {}, 3

    @rx.event
    def choose_payment(self, code: str):
        self.payment_method = code

    @rx.event
    def submit_payment(self):
        if self.payment_method not in {option.code for option in self.payment_options}:
            self.errors = {"payment": "Choose a payment method."}
            return
        self.errors, self.step = {}, 4

    @rx.event
    def go_to_step(self, step: int):
        if 1 <= step < self.step:
            self.step = step

    def _coupon_limits(self) -> tuple[tuple[rate_limit.Limit, str], ...]:
        session = self.router.session
        return (
            (rate_limit.COUPON_FAILURES_PER_BROWSER, session.client_token),
            (rate_limit.COUPON_FAILURES_PER_ADDRESS, session.client_ip),
        )

    @rx.event
    @off_loop
    def apply_coupon(self):
        """Codes that do not work are counted, so guessing codes is slow; a working one never is."""
        if refusal := rate_limit.blocked(*self._coupon_limits()):
            self.coupon_error = str(refusal)
            return
        self.coupon_code = self.coupon_input.strip()
        self._requote()
        if self.coupon_error and self.coupon_input.strip():
            rate_limit.record(*self._coupon_limits())

    @rx.event
    @off_loop
    def remove_coupon(self):
        self.coupon_code, self.coupon_input = "", ""
        self._requote()

    @rx.event
    async def place_order(self):
        if self.placing or self._cart_id is None:
            return
        self.placing, self.error = True, ""
        yield
        details = CheckoutDetails(
            email=self.email,
            address=self._address(),
            shipping_method_id=int(self.shipping_method_id) if self.shipping_method_id else None,
            payment_method=self.payment_method,
            coupon_code=self.coupon_code,
            user_id=self._user_id,
        )
        try:
            order = await asyncio.to_thread(checkout.place_order, self._cart_id, details)
        except RevoqueError as exc:
            self.placing, self.error = False, str(exc)
            return
        cart_state = await self.get_state(CartState)
        cart_state.start_new_cart()
        self._reset_form()
        if order.payment_method == PaymentMethod.CARD:
            yield await go_to_card_payment(order.id, order.number)
            return
        yield rx.redirect(checkout.order_path(order.number))

    def _reset_form(self) -> None:
        self.step, self.coupon_code, self.coupon_input, self.placing, self._cart_id = 1, "", "", False, None


# --- view -------------------------------------------------------------------------------------


def _field(label: str, name: str, autocomplete: str, input_type: str = "text", required: bool = True) -> rx.Component:
    return rx.vstack(
        rx.el.label(label + ("" if required else " (optional)"), html_for=f"checkout-{name}", class_name="field-label"),
        rx.input(
            id=f"checkout-{name}",
            value=getattr(CheckoutState, name),
            on_change=lambda value: CheckoutState.set_field(name, value),
            type=input_type,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            aria_invalid=rx.cond(CheckoutState.errors.contains(name), "true", "false"),
        ),
        _field_error(name),
        spacing="1",
        width="100%",
    )


def _step_header(number: int, title: str) -> rx.Component:
    return rx.hstack(
        rx.center(str(number), class_name=rx.cond(CheckoutState.step >= number, "step-dot step-dot-on", "step-dot")),
        rx.heading(title, size="4"),
        rx.spacer(),
        rx.cond(
            CheckoutState.step > number,
            rx.button("Edit", variant="ghost", size="1", on_click=CheckoutState.go_to_step(number)),
        ),
        align="center",
        width="100%",
    )


def _saved_addresses() -> rx.Component:
    return rx.cond(
        CheckoutState.saved_addresses.length() > 0,
        rx.vstack(
            rx.text("Your saved addresses", size="2", weight="medium"),
            rx.foreach(
                CheckoutState.saved_addresses,
                lambda address: _choice_card(
                    (CheckoutState.line1 == address.line1) & (CheckoutState.name == address.name),
                    CheckoutState.use_saved_address(address.id),
                    address.name,
                    address.lines.join(", "),
                    "",
                    "saved-address",
                ),
            ),
            spacing="2",
            width="100%",
        ),
    )


def _contact_step() -> rx.Component:
    return rx.vstack(
        _saved_addresses(),
        _field("Email", "email", "email", "email"),
        _field("Full name", "name", "name"),
        _field("Phone", "phone", "tel", "tel"),
        _field("Street address", "line1", "address-line1"),
        _field("Apartment, suite, landmark", "line2", "address-line2", required=False),
        rx.grid(
            _field("City", "city", "address-level2"),
            _field("State", "region", "address-level1"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        _field("Postal code", "postal_code", "postal-code", required=False),
        rx.button("Continue to delivery", size="3", on_click=CheckoutState.submit_contact, data_testid="to-delivery"),
        spacing="3",
        width="100%",
    )


def _choice_card(selected, on_click, title, detail, aside, testid: str) -> rx.Component:
    return rx.el.button(
        rx.hstack(
            rx.icon(rx.cond(selected, "circle-dot", "circle"), size=18),
            rx.vstack(
                rx.text(title, weight="medium", size="2"),
                rx.text(detail, size="1", color_scheme="gray"),
                spacing="0",
                align="start",
            ),
            rx.spacer(),
            rx.text(aside, size="2", weight="bold"),
            align="center",
            width="100%",
        ),
        on_click=on_click,
        class_name=rx.cond(selected, "choice-card choice-card-on", "choice-card"),
        aria_pressed=rx.cond(selected, "true", "false"),
        type="button",
        data_testid=testid,
    )


def _field_error(key: str) -> rx.Component:
    return rx.cond(
        CheckoutState.errors.contains(key),
        rx.text(CheckoutState.errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"),
    )


def _choice_step(options, card, error_key: str, button: rx.Component) -> rx.Component:
    """A list of mutually exclusive cards (delivery or payment), its error and the continue button."""
    return rx.vstack(rx.foreach(options, card), _field_error(error_key), button, spacing="2", width="100%")


def _delivery_step() -> rx.Component:
    return _choice_step(
        CheckoutState.shipping_options,
        lambda option: _choice_card(
            CheckoutState.shipping_method_id == option.id.to_string(),
            CheckoutState.choose_shipping(option.id.to_string()),
            option.name,
            option.estimate,
            option.price_text,
            "shipping-option",
        ),
        "shipping",
        rx.button("Continue to payment", size="3", on_click=CheckoutState.submit_delivery, data_testid="to-payment"),
    )


def _payment_step() -> rx.Component:
    return _choice_step(
        CheckoutState.payment_options,
        lambda option: _choice_card(
            CheckoutState.payment_method == option.code,
            CheckoutState.choose_payment(option.code),
            option.label,
            option.description,
            "",
            "payment-option",
        ),
        "payment",
        rx.button("Review order", size="3", on_click=CheckoutState.submit_payment, data_testid="to-review"),
    )


def _review_step() -> rx.Component:
    return rx.vstack(
        rx.text(
            f"Deliver to {CheckoutState.name}, {CheckoutState.line1}, {CheckoutState.city}, {CheckoutState.region}",
            size="2",
        ),
        rx.text(f"Confirmation goes to {CheckoutState.email}", size="2", color_scheme="gray"),
        rx.cond(
            (CheckoutState.payment_method == "bank_transfer") & (CheckoutState.bank_details.length() > 0),
            rx.callout(
                rx.vstack(
                    rx.text("After placing the order, transfer the total to:", size="2"),
                    rx.foreach(CheckoutState.bank_details, lambda row: rx.text(f"{row.label}: {row.value}", size="2")),
                    spacing="1",
                ),
                icon="landmark",
            ),
        ),
        rx.cond(
            CheckoutState.error != "",
            rx.callout(CheckoutState.error, icon="triangle-alert", color_scheme="red", data_testid="checkout-error"),
        ),
        rx.button(
            rx.cond(CheckoutState.placing, rx.spinner(size="2"), rx.icon("lock", size=16)),
            rx.cond(
                CheckoutState.payment_method == PaymentMethod.CARD.value,
                f"Pay {CheckoutState.total_text}",
                f"Place order · {CheckoutState.total_text}",
            ),
            size="4",
            width="100%",
            on_click=CheckoutState.place_order,
            disabled=CheckoutState.placing,
            data_testid="place-order",
        ),
        spacing="3",
        width="100%",
    )


def _section(number: int, body: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            _step_header(number, STEPS[number - 1]),
            rx.cond(CheckoutState.step == number, body),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid=f"step-{number}",
    )


def _coupon_box() -> rx.Component:
    return rx.vstack(
        rx.cond(
            CheckoutState.coupon_code != "",
            rx.hstack(
                rx.badge(rx.icon("tag", size=12), CheckoutState.coupon_code, size="2", color_scheme="green"),
                rx.text(CheckoutState.coupon_note, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.button("Remove", variant="ghost", size="1", on_click=CheckoutState.remove_coupon),
                align="center",
                width="100%",
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        placeholder="Discount code",
                        value=CheckoutState.coupon_input,
                        on_change=lambda value: CheckoutState.set_field("coupon_input", value),
                        aria_label="Discount code",
                        flex="1",
                        data_testid="coupon-input",
                    ),
                    rx.button("Apply", type="submit", variant="soft", data_testid="apply-coupon"),
                    width="100%",
                ),
                on_submit=lambda _: CheckoutState.apply_coupon(),
                width="100%",
            ),
        ),
        rx.cond(
            CheckoutState.coupon_error != "",
            rx.text(CheckoutState.coupon_error, size="1", color_scheme="red", data_testid="coupon-error"),
        ),
        width="100%",
        spacing="1",
    )


def _order_summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Order summary", size="4"),
            rx.foreach(
                CheckoutState.lines,
                lambda line: rx.hstack(
                    rx.el.img(src=line.image_url, alt="", width="48", height="48", class_name="line-thumb small"),
                    rx.vstack(
                        rx.text(line.product_title, size="2"),
                        rx.text(f"{line.variant_title} × {line.quantity}", size="1", color_scheme="gray"),
                        spacing="0",
                        flex="1",
                    ),
                    rx.text(line.line_total_text, size="2"),
                    width="100%",
                    align="center",
                ),
            ),
            rx.divider(),
            _coupon_box(),
            rx.divider(),
            rx.foreach(
                CheckoutState.summary,
                lambda row: rx.hstack(
                    rx.text(row.label, size="2"), rx.text(row.value, size="2"), justify="between", width="100%"
                ),
            ),
            rx.hstack(
                rx.text("Total", weight="bold"),
                rx.text(CheckoutState.total_text, weight="bold", data_testid="checkout-total"),
                justify="between",
                width="100%",
            ),
            rx.cond(CheckoutState.tax_note != "", rx.text(CheckoutState.tax_note, size="1", color_scheme="gray")),
            rx.cond(CheckoutState.hold_text != "", rx.text(CheckoutState.hold_text, size="1", color_scheme="gray")),
            spacing="3",
            width="100%",
        ),
        height="fit-content",
        position=rx.breakpoints(initial="static", md="sticky"),
        top="120px",
    )


@storefront_page(route="/checkout", title="Checkout", on_load=CheckoutState.load)
def checkout_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Checkout", size="7", as_="h1", data_testid="page-heading"),
        rx.cond(
            CheckoutState.loaded,
            rx.grid(
                rx.vstack(
                    _section(1, _contact_step()),
                    _section(2, _delivery_step()),
                    _section(3, _payment_step()),
                    _section(4, _review_step()),
                    spacing="3",
                    width="100%",
                ),
                _order_summary(),
                columns=rx.breakpoints(initial="1", md="3fr 2fr"),
                spacing="6",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="64px", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
