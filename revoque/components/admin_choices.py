"""A native ``<select>`` for admin forms that must load fast (the product table's filters, the
product form's category and brand).

Radix's Select mounts every item, hidden, to know their labels: with a catalog's sixty or hundreds
of categories that cost the product table ~80 ms of rendering on every load (measured with
``bench/admin_products.py``). The browser's own select costs nothing until opened, types ahead on
the keyboard and uses the phone's picker; the ``admin-native-select`` class makes it look like the
Radix select triggers used elsewhere.
"""

from __future__ import annotations

import reflex as rx


def native_select(options, *, label: str, none_label: str = "", none_value: str = "", **props) -> rx.Component:
    """``options``: a list var of items with ``value`` and ``label``, or a plain list of such items.
    The first choice is ``none_label`` (value ``none_value``) when given. Pass ``name`` and
    ``default_value`` for a form field, or ``value`` and ``on_change`` for a controlled one."""
    first = [rx.el.option(none_label, value=none_value)] if none_label else []
    if isinstance(options, list):
        items = [rx.el.option(option.label, value=option.value) for option in options]
    else:
        items = [rx.foreach(options, lambda option: rx.el.option(option.label, value=option.value))]
    return rx.el.select(*first, *items, aria_label=label, class_name="admin-native-select", **props)
