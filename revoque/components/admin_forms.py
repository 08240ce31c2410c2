"""Form pieces shared by the admin's edit pages and dialogs: a labelled field with its error under
it, switches, a confirmation dialog for destructive actions, up/down buttons for ordering lists,
and a search-and-filter bar whose values live in the URL.

Fields are uncontrolled (``default_value``) and read on submit, so typing never sends an event to
the server; the form that holds them is keyed on a version the page state bumps when it loads new
values, which mounts the fields afresh. Errors come from the page state as a field → message map
(``revoque.services.admin_forms.FormInvalid.problems``) and are announced to screen readers.
"""

from __future__ import annotations

import reflex as rx

from revoque.components.admin_layout import panel


def field_error(errors, name: str) -> rx.Component:
    message = errors.get(name, "")
    return rx.cond(
        message != "",
        rx.text(message, size="1", color_scheme="red", role="alert", data_testid=f"error-{name}"),
    )


def form_field(label: str, name: str, control: rx.Component, errors, hint: str = "") -> rx.Component:
    """A label, the control, an optional hint and the field's error message."""
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=f"field-{name}"),
        control,
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        field_error(errors, name),
        spacing="1",
        width="100%",
        class_name="admin-field",
    )


def text_field(
    label: str, name: str, default, errors, *, hint: str = "", placeholder: str = "", type_: str = "text", **props
) -> rx.Component:
    return form_field(
        label,
        name,
        rx.input(
            name=name,
            id=f"field-{name}",
            default_value=default,
            placeholder=placeholder,
            type=type_,
            width="100%",
            aria_invalid=rx.cond(errors.get(name, "") != "", "true", "false"),
            data_testid=f"field-{name}",
            **props,
        ),
        errors,
        hint,
    )


def area_field(label: str, name: str, default, errors, *, hint: str = "", rows: str = "4", **props) -> rx.Component:
    return form_field(
        label,
        name,
        rx.text_area(
            name=name,
            id=f"field-{name}",
            default_value=default,
            rows=rows,
            width="100%",
            aria_invalid=rx.cond(errors.get(name, "") != "", "true", "false"),
            data_testid=f"field-{name}",
            **props,
        ),
        errors,
        hint,
    )


def select_field(label: str, name: str, default, options, errors, *, hint: str = "", disabled=False) -> rx.Component:
    """``options``: (value, label) pairs known when the page is compiled, or a Var list of strings.
    A ``disabled`` select (a bool or a Var) sends nothing with the form."""
    items = (
        rx.foreach(options, lambda option: rx.select.item(option, value=option))
        if isinstance(options, rx.Var)
        else [rx.select.item(text, value=value) for value, text in options]
    )
    return form_field(
        label,
        name,
        rx.select.root(
            rx.select.trigger(width="100%", id=f"field-{name}", data_testid=f"field-{name}"),
            rx.select.content(*([items] if isinstance(items, rx.Component) else items)),
            name=name,
            default_value=default,
            disabled=disabled,
        ),
        errors,
        hint,
    )


def switch_field(label: str, name: str, default, errors=None, *, hint: str = "") -> rx.Component:
    """A switch with its label beside it (clicking the label toggles it)."""
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.switch(name=name, default_checked=default, id=f"field-{name}", data_testid=f"field-{name}"),
                rx.vstack(
                    rx.text(label, size="2", weight="medium"),
                    *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
                    spacing="0",
                ),
                align="start",
                spacing="3",
            ),
            class_name="admin-switch-label",
        ),
        *([field_error(errors, name)] if errors is not None else []),
        spacing="1",
        width="100%",
    )


def confirm(
    trigger: rx.Component,
    title: str,
    description,
    confirm_label: str,
    on_confirm,
    testid: str = "confirm",
    danger: bool = True,
    *,
    yes_testid: str = "",
    cancel_label: str = "Cancel",
    max_width: str = "440px",
) -> rx.Component:
    """An action behind "are you sure?": nothing happens until the confirm button is pressed (red
    for destructive actions). The confirm button's test id is ``yes_testid``, else ``<testid>-yes``."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(cancel_label, variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label,
                        color_scheme="red" if danger else "teal",
                        on_click=on_confirm,
                        data_testid=yes_testid or f"{testid}-yes",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width=max_width,
        ),
    )


def form_dialog(
    title,
    description: str,
    *fields: rx.Component,
    on_submit,
    key,
    busy,
    save_testid: str,
    open_,
    on_open_change,
    max_width: str,
) -> rx.Component:
    """A form in a dialog, with Cancel and Save. The page state holds whether it is ``open_`` and
    bumps ``key`` when it loads new values, so the uncontrolled fields mount afresh."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            *([rx.dialog.description(description, size="2", color_scheme="gray")] if description else []),
            rx.form(
                rx.vstack(
                    *fields,
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", loading=busy, data_testid=save_testid),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    padding_top="12px",
                ),
                on_submit=on_submit,
                key=key,
            ),
            max_width=max_width,
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def form_panel(title: str, *fields: rx.Component) -> rx.Component:
    """A panel of form fields, one under the other."""
    return panel(title, rx.vstack(*fields, spacing="3", width="100%"))


def move_buttons(label, on_up, on_down, first, last) -> rx.Component:
    """Up/down buttons that move a row in an ordered list; named for screen readers."""
    return rx.hstack(_move_button(label, "up", on_up, first), _move_button(label, "down", on_down, last), spacing="1")


def _move_button(label, direction: str, on_click, disabled) -> rx.Component:
    return rx.icon_button(
        rx.icon(f"arrow-{direction}", size=14),
        size="1",
        variant="soft",
        color_scheme="gray",
        disabled=disabled,
        on_click=on_click,
        aria_label=f"Move {label} {direction}",
        title=f"Move {direction}",
        data_testid=f"move-{direction}",
    )


def labelled_filter(text: str, control: rx.Component, **props) -> rx.Component:
    return rx.vstack(
        rx.text(text, size="1", weight="medium", color_scheme="gray"),
        control,
        spacing="1",
        class_name="admin-filter",
        **props,
    )


def yes_no(value) -> rx.Component:
    return rx.cond(
        value,
        rx.badge("On", color_scheme="green", variant="soft", radius="full"),
        rx.badge("Off", color_scheme="gray", variant="soft", radius="full"),
    )
