"""/admin/products: the product table, searched by title or SKU and filtered by status, category and
stock, sorted and paged (all in the URL, so a view can be reloaded and shared), with bulk actions
over the ticked rows: activate, archive, change prices by a percentage, delete (after a confirmation
that explains that products with orders are archived instead). The state holds one page of rows
and the ids ticked on it; every handler checks the viewer's role first."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_choices import native_select
from revoque.components.admin_forms import confirm, labelled_filter
from revoque.components.admin_layout import admin_page, color_badge, empty_note, panel
from revoque.components.admin_table import ANY, filter_form, loading, paged_table
from revoque.db import session_scope
from revoque.errors import RevoqueError
from revoque.models import User
from revoque.services import product_admin
from revoque.services.catalog_admin import category_tree
from revoque.services.product_admin import (
    SORT_OPTIONS,
    STATUS_OPTIONS,
    STOCK_OPTIONS,
    BulkAction,
    BulkResult,
    Choice,
    ProductFilters,
    ProductRow,
    ProductRowsPage,
)
from revoque.state.admin import AdminListState, filtered_redirect, staff_event, staff_load

ROUTE = product_admin.ADMIN_ROUTE
STATUS_COLORS = {"active": "green", "draft": "amber", "archived": "gray"}
STOCK_COLORS = {"in": "gray", "low": "amber", "out": "red"}


def products_query(q: str = "", status: str = "", category: str = "", stock: str = "", sort: str = "") -> str:
    """The filters as a query string, leaving out empty ones and the default sort (no page)."""
    values = {"q": " ".join(q.split()), "status": status, "category": category, "stock": stock, "sort": sort}
    return urlencode(
        {
            key: value
            for key, value in values.items()
            if value and value != ANY and not (key == "sort" and value == product_admin.ProductSort.NEWEST)
        }
    )


def _load_page(filters: ProductFilters, page: int) -> tuple[ProductRowsPage, list[Choice]]:
    with session_scope() as session:
        result = product_admin.list_products(session, filters, page)
        categories = [Choice(str(node.id), node.path) for node in category_tree(session, with_counts=False)]
    return result, categories


def _bulk(actor: User, action: str, ids: list[int], percent: str, confirmed: bool) -> BulkResult:
    with session_scope(write=True) as session:
        return product_admin.run_bulk(session, actor, action, ids, percent=percent, confirmed=confirmed)


class AdminProductsState(AdminListState, rx.State):
    rows: list[ProductRow] = []
    q: str = ""
    status: str = ANY
    category: str = ANY
    stock: str = ANY
    sort: str = product_admin.ProductSort.NEWEST.value
    categories: list[Choice] = []
    selected: list[int] = []
    busy: bool = False

    @rx.var
    def query(self) -> str:
        return products_query(self.q, self.status, self.category, self.stock, self.sort)

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.rows) and all(row.id in self.selected for row in self.rows)

    async def _refresh(self) -> None:
        filters = product_admin.parse_filters(self._url_params())
        result, self.categories = await asyncio.to_thread(_load_page, filters, self._requested_page())
        self.rows = self._take_page(result)
        self.q, self.sort = filters.q, filters.sort
        self.status, self.stock = filters.status or ANY, filters.stock or ANY
        self.category = str(filters.category_id) if filters.category_id else ANY
        shown = {row.id for row in self.rows}
        self.selected = [i for i in self.selected if i in shown]

    @staff_load
    async def load(self):
        self.loaded = False
        self.selected = []
        await self._refresh()
        self.loaded = True
        return None

    @staff_event
    async def apply_filters(self, form: dict):
        fields = [str(form.get(name, "")) for name in ("q", "status", "category", "stock", "sort")]
        return filtered_redirect(ROUTE, products_query(*fields))

    @staff_event
    async def toggle(self, product_id: int, checked: bool):
        product_id = int(product_id)
        rest = [i for i in self.selected if i != product_id]
        self.selected = [*rest, product_id] if checked and product_id in {r.id for r in self.rows} else rest
        return None

    @staff_event
    async def toggle_all(self, checked: bool):
        self.selected = [row.id for row in self.rows] if checked else []
        return None

    async def _run(self, actor: User, action: str, percent: str = "", confirmed: bool = False):
        """Run a bulk action as ``actor`` (already admitted) on the ticked rows, then reload the page."""
        if not self.selected:
            return rx.toast.error("Tick at least one product first.")
        self.busy = True
        try:
            result = await asyncio.to_thread(_bulk, actor, action, list(self.selected), percent, confirmed)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        self.selected = []
        await self._refresh()
        return rx.toast.success(result.message, duration=8000)

    @staff_event
    async def activate(self, actor: User):
        return await self._run(actor, BulkAction.ACTIVATE)

    @staff_event
    async def archive(self, actor: User):
        return await self._run(actor, BulkAction.ARCHIVE)

    @staff_event
    async def change_prices(self, actor: User, form: dict):
        return await self._run(actor, BulkAction.PRICE, percent=str(form.get("percent", "")))

    @staff_event
    async def delete_selected(self, actor: User):
        return await self._run(actor, BulkAction.DELETE, confirmed=True)


# --- filters --------------------------------------------------------------------------------------


def _select(name: str, options, default, any_label: str, label: str) -> rx.Component:
    return labelled_filter(
        label,
        native_select(options, label=label, none_label=any_label, none_value=ANY, name=name, default_value=default),
    )


def _filters() -> rx.Component:
    state = AdminProductsState
    return filter_form(
        labelled_filter(
            "Search",
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                name="q",
                default_value=state.q,
                placeholder="Title or SKU",
                type="search",
                width="100%",
                data_testid="products-search",
            ),
            flex="2 1 220px",
        ),
        _select("status", STATUS_OPTIONS, state.status, "Any status", "Status"),
        _select("category", state.categories, state.category, "Any category", "Category"),
        _select("stock", STOCK_OPTIONS, state.stock, "Any stock", "Stock"),
        _select("sort", SORT_OPTIONS, state.sort, "", "Sort"),
        on_submit=state.apply_filters,
        key=state.query,
        route=ROUTE,
        testid="products-apply",
    )


# --- bulk actions ---------------------------------------------------------------------------------


def _price_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("percent", size=14), "Change prices", variant="soft", size="2", data_testid="bulk-price")
        ),
        rx.dialog.content(
            rx.dialog.title("Change prices by a percentage"),
            rx.dialog.description(
                f"Every variant of the {AdminProductsState.selected_count} ticked products: 10 raises prices by "
                "10 %, -15 lowers them by 15 %. Prices are rounded to whole currency units and never go below zero; a "
                "compare-at price that is no longer above the new price is removed.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    rx.input(
                        rx.input.slot("%", side="right"),
                        name="percent",
                        placeholder="10 or -15",
                        inputmode="decimal",
                        required=True,
                        auto_focus=True,
                        data_testid="bulk-percent",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.dialog.close(rx.button("Change prices", type="submit", data_testid="bulk-price-apply")),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    padding_top="12px",
                ),
                on_submit=AdminProductsState.change_prices,
                reset_on_submit=True,
            ),
            max_width="440px",
        ),
    )


def _delete_dialog() -> rx.Component:
    return confirm(
        rx.button(rx.icon("trash-2", size=14), "Delete", variant="soft", color_scheme="red", data_testid="bulk-delete"),
        f"Delete {AdminProductsState.selected_count} products?",
        "Their variants, images and stock go too, and this cannot be undone. Products that appear on orders are "
        "archived instead, so those orders keep their history.",
        "Delete",
        AdminProductsState.delete_selected,
        yes_testid="bulk-delete-confirm",
        cancel_label="Keep them",
    )


def _bulk_bar() -> rx.Component:
    state = AdminProductsState
    return rx.cond(
        state.selected_count > 0,
        rx.hstack(
            rx.text(f"{state.selected_count} selected", size="2", weight="medium", data_testid="bulk-count"),
            rx.button(
                rx.icon("circle-check", size=14),
                "Activate",
                variant="soft",
                color_scheme="green",
                on_click=state.activate,
                loading=state.busy,
                data_testid="bulk-activate",
            ),
            rx.button(
                rx.icon("archive", size=14),
                "Archive",
                variant="soft",
                color_scheme="gray",
                on_click=state.archive,
                loading=state.busy,
                data_testid="bulk-archive",
            ),
            _price_dialog(),
            _delete_dialog(),
            rx.spacer(),
            rx.button("Clear selection", variant="ghost", color_scheme="gray", on_click=state.toggle_all(False)),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
            class_name="admin-bulk-bar",
            role="toolbar",
            aria_label="Bulk actions",
        ),
    )


# --- the table ------------------------------------------------------------------------------------


def status_badge(status, label, **props) -> rx.Component:
    return color_badge(label, status, STATUS_COLORS, **props)


def _row(row: ProductRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=AdminProductsState.selected.contains(row.id),
                on_change=lambda checked: AdminProductsState.toggle(row.id, checked),
                aria_label=f"Select {row.title}",
                data_testid="product-select",
            ),
            width="36px",
        ),
        rx.table.cell(
            rx.hstack(
                rx.el.img(src=row.image_url, alt="", width="40", height="40", class_name="admin-thumb", loading="lazy"),
                rx.vstack(
                    rx.link(row.title, href=row.href, weight="medium", size="2", data_testid="product-link"),
                    rx.text(row.brand, size="1", color_scheme="gray"),
                    spacing="0",
                    min_width="0",
                ),
                align="center",
                spacing="3",
            )
        ),
        rx.table.cell(status_badge(row.status, row.status_label, data_testid="product-status")),
        rx.table.cell(
            rx.text(
                row.stock_text,
                size="2",
                color_scheme=rx.match(row.stock_state, *STOCK_COLORS.items(), "gray"),
                weight=rx.cond(row.stock_state == "in", "regular", "medium"),
                white_space="nowrap",
                data_testid="product-stock",
            )
        ),
        rx.table.cell(rx.text(row.category, size="2", class_name="clamp-1")),
        rx.table.cell(rx.text(row.price_text, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(rx.text(row.updated_text, size="2", color_scheme="gray", white_space="nowrap")),
        data_testid="admin-product-row",
        vertical_align="middle",
    )


def _table() -> rx.Component:
    state = AdminProductsState
    select_all = rx.checkbox(
        checked=state.all_selected,
        on_change=state.toggle_all,
        aria_label="Select every product on this page",
        data_testid="product-select-all",
    )
    headers = [select_all, "Product", "Status", "Stock", "Category", ("Price", "right"), "Updated"]
    return paged_table(
        state,
        ROUTE,
        headers,
        _row,
        empty_note("No products match these filters.", "search-x"),
        above=_bulk_bar(),
        none_yet=rx.vstack(
            empty_note("There are no products yet.", "package-open"),
            rx.link(rx.button(rx.icon("plus", size=16), "Add your first product"), href=f"{ROUTE}/new"),
            align="center",
            width="100%",
            padding_bottom="16px",
        ),
    )


def _new_button() -> rx.Component:
    return rx.link(
        rx.button(rx.icon("plus", size=16), "New product", size="2", data_testid="new-product"),
        href=f"{ROUTE}/new",
    )


@admin_page(route=ROUTE, title="Products", on_load=AdminProductsState.load)
def products_page() -> rx.Component:
    loaded = AdminProductsState.loaded
    return rx.vstack(
        panel("Find products", loading(loaded, _filters(), "58px"), action=_new_button()),
        panel("Products", loading(loaded, _table(), "320px")),
        spacing="4",
        width="100%",
    )
