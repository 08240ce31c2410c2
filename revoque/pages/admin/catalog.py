"""/admin/catalog: the catalog's structure in three tabs (the tab is in the URL, and only its data is
loaded): the category tree (add, rename, move under another category, move up and down), collections
(create, rename, and the products in one: add by title or SKU, remove) and brands (create, rename).
Renames and moves go through one shared dialog. Every change is audited by ``catalog_admin``."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import reflex as rx

from revoque.components.admin_forms import form_dialog
from revoque.components.admin_layout import admin_page, empty_note, pager, panel
from revoque.components.admin_table import row_list
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import catalog_admin
from revoque.services.catalog_admin import BrandRow, CategoryNode, CollectionRow, MemberRow
from revoque.state.admin import AdminPageState, in_write_session, staff_event, staff_load
from revoque.state.listing import int_param

ROUTE = "/admin/catalog"
TABS = (
    ("categories", "Categories", "folder-tree"),
    ("collections", "Collections", "layers"),
    ("brands", "Brands", "award"),
)
TOP = "top"  # the "top level" choice of the parent menu (a select cannot hold an empty value)
DIALOG_TITLES = {
    "rename_category": "Rename category",
    "move_category": "Move category",
    "rename_collection": "Rename collection",
    "rename_brand": "Rename brand",
}


def catalog_href(tab: str, **params) -> str:
    query = urlencode({"tab": tab, **{k: v for k, v in params.items() if v}})
    return f"{ROUTE}?{query}"


class CatalogState(AdminPageState, rx.State):
    tab: str = "categories"
    nodes: list[CategoryNode] = []
    collections: list[CollectionRow] = []
    collection_id: int = 0  # the collection whose products are shown (0: none)
    collection_title: str = ""
    members: list[MemberRow] = []
    members_total: int = 0
    brands: list[BrandRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    picks: list[MemberRow] = []  # products found to add to the open collection
    pick_query: str = ""
    dialog: str = ""  # which dialog is open (see DIALOG_TITLES), "" when none
    dialog_target: int = 0
    dialog_name: str = ""
    dialog_parent: str = TOP
    busy: bool = False
    loaded: bool = False

    @rx.var
    def dialog_title(self) -> str:
        return DIALOG_TITLES.get(self.dialog, "")

    @rx.var
    def parent_choices(self) -> list[CategoryNode]:
        """Where the category in the move dialog may go: anywhere but itself and its subtree."""
        if self.dialog != "move_category":
            return []
        banned, inside = set(), False
        depth = 0
        for node in self.nodes:
            if node.id == self.dialog_target:
                banned.add(node.id)
                inside, depth = True, node.depth
            elif inside and node.depth > depth:
                banned.add(node.id)
            else:
                inside = False
        return [node for node in self.nodes if node.id not in banned]

    def _params(self) -> dict[str, str]:
        return dict(self.router.url.query_parameters)

    async def _refresh(self) -> None:
        params = self._params()
        tab = params.get("tab", "categories")
        self.tab = tab if tab in {t[0] for t in TABS} else "categories"
        page = int_param(params.get("page"), 1)
        if self.tab == "categories":
            self.nodes = await asyncio.to_thread(_read, catalog_admin.category_tree)
        elif self.tab == "collections":
            self.collections = await asyncio.to_thread(_read, catalog_admin.list_collections)
            self.collection_id = int_param(params.get("collection"), 0)
            chosen = next((c for c in self.collections if c.id == self.collection_id), None)
            self.collection_title = chosen.title if chosen else ""
            if chosen is None:
                self.collection_id, self.members, self.members_total = 0, [], 0
            else:
                result = await asyncio.to_thread(_read, catalog_admin.collection_members, chosen.id, page)
                self.members, self.members_total = result.items, result.total
                self.page, self.pages = result.page, result.pages
        else:
            result = await asyncio.to_thread(_read, catalog_admin.list_brands, page)
            self.brands, self.total, self.page, self.pages = result.items, result.total, result.page, result.pages

    @staff_load
    async def load(self):
        self.loaded = False
        self.dialog, self.picks, self.pick_query = "", [], ""
        await self._refresh()
        self.loaded = True
        return None

    async def _apply(self, actor: User, success: str, change, *args):
        """Make one change as ``actor`` (already admitted), reload the tab and say how it went."""
        self.busy = True
        try:
            await asyncio.to_thread(in_write_session, change, actor, *args)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        self.dialog = ""
        await self._refresh()
        return rx.toast.success(success)

    # --- categories --------------------------------------------------------------------------------

    @staff_event
    async def add_category(self, actor: User, form: dict):
        name = str(form.get("name", ""))
        parent = str(form.get("parent", TOP))
        parent_id = int(parent) if parent.isdigit() else None
        return await self._apply(
            actor, f"Category “{name.strip()}” added.", catalog_admin.add_category, name, parent_id
        )

    @staff_event
    async def move_category(self, actor: User, category_id: int, offset: int):
        return await self._apply(actor, "Order saved.", catalog_admin.reorder_category, int(category_id), int(offset))

    # --- the shared rename / move dialog -------------------------------------------------------------

    @staff_event
    async def open_dialog(self, kind: str, target_id: int):
        if kind not in DIALOG_TITLES:
            return None
        target_id = int(target_id)
        if kind.endswith("category"):
            node = next((n for n in self.nodes if n.id == target_id), None)
            name, parent = (node.name, str(node.parent_id or TOP)) if node else ("", TOP)
        elif kind == "rename_collection":
            name = next((c.title for c in self.collections if c.id == target_id), "")
            parent = TOP
        else:
            name = next((b.name for b in self.brands if b.id == target_id), "")
            parent = TOP
        self.dialog, self.dialog_target, self.dialog_name, self.dialog_parent = kind, target_id, name, parent
        return None

    @staff_event
    async def close_dialog(self, open_: bool = False):
        if not open_:
            self.dialog = ""
        return None

    @staff_event
    async def submit_dialog(self, actor: User, form: dict):
        target, name = self.dialog_target, str(form.get("name", ""))
        if self.dialog == "rename_category":
            return await self._apply(actor, "Category renamed.", catalog_admin.rename_category, target, name)
        if self.dialog == "move_category":
            parent = str(form.get("parent", TOP))
            parent_id = int(parent) if parent.isdigit() else None
            return await self._apply(actor, "Category moved.", catalog_admin.move_category, target, parent_id)
        if self.dialog == "rename_collection":
            return await self._apply(actor, "Collection renamed.", catalog_admin.rename_collection, target, name)
        if self.dialog == "rename_brand":
            return await self._apply(actor, "Brand renamed.", catalog_admin.rename_brand, target, name)
        self.dialog = ""
        return None

    # --- collections -------------------------------------------------------------------------------

    @staff_event
    async def create_collection(self, actor: User, form: dict):
        title = str(form.get("title", ""))
        return await self._apply(
            actor, f"Collection “{title.strip()}” created.", catalog_admin.create_collection, title
        )

    @staff_event
    async def find_products(self, form: dict):
        self.pick_query = str(form.get("q", ""))[:100]
        self.picks = await asyncio.to_thread(_read, catalog_admin.find_products, self.pick_query)
        if not self.picks:
            return rx.toast.info("No product has that title or SKU.")
        return None

    @staff_event
    async def add_member(self, actor: User, product_id: int):
        if not self.collection_id:
            return None
        self.picks = [p for p in self.picks if p.id != int(product_id)]
        ids = [int(product_id)]
        return await self._apply(
            actor, "Added to the collection.", catalog_admin.add_to_collection, self.collection_id, ids
        )

    @staff_event
    async def remove_member(self, actor: User, product_id: int):
        if not self.collection_id:
            return None
        ids = [int(product_id)]
        return await self._apply(
            actor, "Removed from the collection.", catalog_admin.remove_from_collection, self.collection_id, ids
        )

    # --- brands ------------------------------------------------------------------------------------

    @staff_event
    async def create_brand(self, actor: User, form: dict):
        name = str(form.get("name", ""))
        return await self._apply(actor, f"Brand “{name.strip()}” created.", catalog_admin.create_brand, name)


def _read(query, *args):
    try:
        with session_scope() as session:
            return query(session, *args)
    except NotFound:
        return []


# --- tabs -------------------------------------------------------------------------------------------


def _tabs() -> rx.Component:
    return rx.hstack(
        *[
            rx.link(
                rx.hstack(rx.icon(icon, size=14), label, spacing="1", align="center"),
                href=catalog_href(key),
                underline="none",
                class_name=rx.cond(CatalogState.tab == key, "admin-segment active", "admin-segment"),
                aria_current=rx.cond(CatalogState.tab == key, "page", None),
                data_testid=f"catalog-tab-{key}",
            )
            for key, label, icon in TABS
        ],
        class_name="admin-segments",
        spacing="0",
        role="group",
        aria_label="Catalog sections",
    )


def _inline_form(on_submit, *fields: rx.Component, button: str, testid: str) -> rx.Component:
    return rx.form(
        rx.flex(
            *fields,
            rx.button(rx.icon("plus", size=14), button, type="submit", loading=CatalogState.busy, data_testid=testid),
            spacing="2",
            align="end",
            wrap="wrap",
            width="100%",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
        width="100%",
    )


def _small_button(icon: str, label: str, on_click, disabled=False, color: str = "gray") -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=14),
        variant="ghost",
        color_scheme=color,
        size="1",
        on_click=on_click,
        disabled=disabled,
        aria_label=label,
        title=label,
        type="button",
    )


# --- categories -------------------------------------------------------------------------------------


def _parent_select(name: str, choices, default) -> rx.Component:
    return rx.el.select(
        rx.el.option("Top level", value=TOP),
        rx.foreach(choices, lambda node: rx.el.option(node.path, value=node.id.to_string())),
        name=name,
        default_value=default,
        aria_label="Parent category",
        class_name="admin-native-select",
    )


def _category_row(node: CategoryNode) -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.icon(rx.cond(node.child_count > 0, "folder-open", "folder"), size=16, color=rx.color("gray", 9)),
            rx.link(node.name, href=node.href, size="2", weight="medium", is_external=True),
            rx.badge(f"{node.product_count}", variant="soft", color_scheme="gray", title="products directly in it"),
            align="center",
            spacing="2",
            min_width="0",
            padding_left=f"{node.depth * 22}px",
            flex="1",
        ),
        _small_button("arrow-up", f"Move {node.name} up", CatalogState.move_category(node.id, -1), node.is_first),
        _small_button("arrow-down", f"Move {node.name} down", CatalogState.move_category(node.id, 1), node.is_last),
        _small_button("pencil", f"Rename {node.name}", CatalogState.open_dialog("rename_category", node.id)),
        _small_button("move", f"Move {node.name} elsewhere", CatalogState.open_dialog("move_category", node.id)),
        align="center",
        spacing="1",
        class_name="admin-list-row",
        data_testid="category-node",
    )


def _categories() -> rx.Component:
    state = CatalogState
    return rx.vstack(
        panel(
            "Add a category",
            _inline_form(
                state.add_category,
                rx.box(rx.input(name="name", placeholder="Category name", required=True), flex="2 1 200px"),
                rx.box(_parent_select("parent", state.nodes, TOP), flex="1 1 200px"),
                button="Add",
                testid="category-add",
            ),
        ),
        panel(
            "Category tree",
            row_list(
                state.nodes, _category_row, empty_note("No categories yet. Add the first one above.", "folder-tree")
            ),
        ),
        spacing="4",
        width="100%",
    )


# --- collections ------------------------------------------------------------------------------------


def _collection_row(row: CollectionRow) -> rx.Component:
    state = CatalogState
    return rx.hstack(
        rx.vstack(
            rx.link(
                row.title,
                href=f"{ROUTE}?tab=collections&collection={row.id}",
                size="2",
                weight="medium",
                data_testid="collection-link",
            ),
            rx.text(f"{row.product_count} products · /collection/{row.slug}", size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        _small_button("pencil", f"Rename {row.title}", state.open_dialog("rename_collection", row.id)),
        align="center",
        class_name=rx.cond(state.collection_id == row.id, "admin-list-row admin-row-active", "admin-list-row"),
        data_testid="collection-row",
    )


def _member(row: MemberRow, action: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.el.img(src=row.image_url, alt="", width="40", height="40", class_name="admin-thumb", loading="lazy"),
        rx.vstack(
            rx.link(row.title, href=row.href, size="2", weight="medium"),
            rx.text(f"{row.price_text} · {row.status}", size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        action,
        align="center",
        class_name="admin-list-row",
        data_testid="collection-member",
    )


def _members() -> rx.Component:
    state = CatalogState
    return panel(
        rx.cond(state.collection_title != "", f"In “{state.collection_title}”", ""),
        rx.form(
            rx.hstack(
                rx.input(name="q", placeholder="Find a product by title or SKU", type="search", flex="1"),
                rx.button(rx.icon("search", size=14), "Find", type="submit", variant="soft"),
                spacing="2",
                width="100%",
            ),
            on_submit=state.find_products,
            width="100%",
        ),
        rx.foreach(
            state.picks,
            lambda pick: _member(
                pick,
                rx.button(
                    rx.icon("plus", size=14), "Add", size="1", variant="soft", on_click=state.add_member(pick.id)
                ),
            ),
        ),
        rx.divider(margin_y="8px"),
        rx.cond(
            state.members_total > 0,
            rx.vstack(
                rx.foreach(
                    state.members,
                    lambda member: _member(
                        member,
                        _small_button("x", "Remove from the collection", state.remove_member(member.id), color="red"),
                    ),
                ),
                pager(
                    state.page,
                    state.pages,
                    state.members_total,
                    lambda p: f"{ROUTE}?tab=collections&collection={state.collection_id}&page={p}",
                ),
                spacing="0",
                width="100%",
            ),
            empty_note("No products in this collection yet. Find some above.", "layers"),
        ),
    )


def _collections() -> rx.Component:
    state = CatalogState
    return rx.box(
        rx.vstack(
            panel(
                "New collection",
                _inline_form(
                    state.create_collection,
                    rx.box(rx.input(name="title", placeholder="Collection title", required=True), flex="1 1 200px"),
                    button="Create",
                    testid="collection-add",
                ),
            ),
            panel(
                "Collections",
                row_list(state.collections, _collection_row, empty_note("No collections yet.", "layers")),
            ),
            spacing="4",
            width="100%",
            min_width="0",
        ),
        rx.cond(
            state.collection_id > 0,
            _members(),
            panel("Products", empty_note("Choose a collection to see and change its products.", "mouse-pointer-click")),
        ),
        class_name="admin-grid-2",
    )


# --- brands -----------------------------------------------------------------------------------------


def _brand_row(row: BrandRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(row.name, size="2", weight="medium"),
            rx.text(f"{row.product_count} products", size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
        ),
        _small_button("pencil", f"Rename {row.name}", CatalogState.open_dialog("rename_brand", row.id)),
        align="center",
        class_name="admin-list-row",
        data_testid="brand-row",
    )


def _brands() -> rx.Component:
    state = CatalogState
    return rx.vstack(
        panel(
            "New brand",
            _inline_form(
                state.create_brand,
                rx.box(rx.input(name="name", placeholder="Brand name", required=True), flex="1 1 200px"),
                button="Create",
                testid="brand-add",
            ),
        ),
        panel(
            "Brands",
            rx.cond(
                state.total > 0,
                rx.vstack(
                    rx.box(rx.foreach(state.brands, _brand_row), class_name="admin-brand-list"),
                    pager(state.page, state.pages, state.total, lambda p: f"{ROUTE}?tab=brands&page={p}"),
                    width="100%",
                ),
                empty_note("No brands yet.", "award"),
            ),
        ),
        spacing="4",
        width="100%",
    )


# --- the dialog -------------------------------------------------------------------------------------


def _dialog() -> rx.Component:
    state = CatalogState
    return form_dialog(
        state.dialog_title,
        "",
        rx.cond(
            state.dialog == "move_category",
            rx.vstack(
                rx.text(f"Move “{state.dialog_name}” and everything in it under:", size="2"),
                _parent_select("parent", state.parent_choices, state.dialog_parent),
                spacing="2",
                width="100%",
            ),
            rx.input(
                name="name",
                default_value=state.dialog_name,
                required=True,
                auto_focus=True,
                aria_label="New name",
                data_testid="dialog-name",
            ),
        ),
        on_submit=state.submit_dialog,
        key=f"{state.dialog}-{state.dialog_target}",
        busy=state.busy,
        save_testid="dialog-save",
        open_=state.dialog != "",
        on_open_change=state.close_dialog,
        max_width="460px",
    )


@admin_page(route=ROUTE, title="Catalog", on_load=CatalogState.load)
def catalog_page() -> rx.Component:
    state = CatalogState
    return rx.vstack(
        _tabs(),
        rx.cond(
            state.loaded,
            rx.match(
                state.tab,
                ("collections", _collections()),
                ("brands", _brands()),
                _categories(),
            ),
            rx.skeleton(rx.box(height="320px", width="100%")),
        ),
        _dialog(),
        spacing="4",
        width="100%",
    )
