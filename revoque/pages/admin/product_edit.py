"""/admin/products/new and /admin/products/<id>: one product's form: title, description, status,
category, brand, tags, collections, options and the variant grid (prices, compare-at prices, stock,
weight, whether stock is tracked), and, once the product is saved, its images (upload, order, alt
text, delete).

The fields are uncontrolled inputs whose value reaches the state when they lose focus, so typing
sends nothing to the server; changing an option's name or values regenerates the variant grid at
once (``product_admin.regrid``), keeping what was typed in the rows that remain. Saving sends the
whole form through ``product_admin`` (which checks everything and lists every problem). Images are
uploaded with ``rx.upload`` straight to the product; they are checked by content on the server.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import reflex as rx

from revoque.components.admin_choices import native_select
from revoque.components.admin_layout import admin_page, empty_note, panel
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import product_admin, store_identity
from revoque.services.product_admin import (
    MAX_IMAGE_BYTES,
    MAX_OPTIONS,
    STATUS_OPTIONS,
    Choice,
    EditorChoices,
    ImageView,
    OptionForm,
    ProductEditor,
    ProductValidationError,
    VariantForm,
)
from revoque.state.admin import AdminPageState, in_write_session, staff_event, staff_load

ROUTE = product_admin.ADMIN_ROUTE
NONE = "none"  # a select cannot hold an empty value
UPLOAD_ID = "product-images"
TEXT_FIELDS = ("title", "slug", "description", "tags")
CHOICE_FIELDS = ("status", "category_id", "brand_id")
VARIANT_FIELDS = ("sku", "price", "compare_at", "stock", "weight")
IMAGE_TYPES = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/webp": [".webp"]}


def _load(product_id: int) -> tuple[ProductEditor, EditorChoices]:
    with session_scope() as session:
        editor = product_admin.load_editor(session, product_id) if product_id else product_admin.new_editor()
        return editor, product_admin.editor_choices(session)


def _save(actor: User, product_id: int, editor: ProductEditor) -> int:
    with session_scope(write=True) as session:
        data = product_admin.editor_input(editor, store_identity.currency(session))
        return product_admin.save_product(session, actor, product_id or None, data).id


class ProductEditState(AdminPageState, rx.State):
    editing_id: int = 0  # 0: a new product
    title: str = ""
    slug: str = ""
    description: str = ""
    status: str = "draft"
    category_id: str = NONE
    brand_id: str = NONE
    featured: bool = False
    tags: str = ""
    collection_ids: list[str] = []
    options: list[OptionForm] = []
    variants: list[VariantForm] = []
    images: list[ImageView] = []
    store_href: str = ""
    updated_text: str = ""
    has_orders: bool = False
    categories: list[Choice] = []
    brands: list[Choice] = []
    collections: list[Choice] = []
    problems: list[str] = []
    option_problems: list[str] = []
    form_version: int = 0  # bumped whenever the fields are refilled, so uncontrolled inputs remount
    grid_version: int = 0
    saving: bool = False
    uploading: bool = False
    loaded: bool = False
    not_found: bool = False

    @rx.var
    def is_new(self) -> bool:
        return self.editing_id == 0

    @rx.var
    def heading(self) -> str:
        return "New product" if self.editing_id == 0 else (self.title or "Untitled product")

    @rx.var
    def can_add_option(self) -> bool:
        return len(self.options) < MAX_OPTIONS

    def _path_id(self) -> int:
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    def _show(self, editor: ProductEditor) -> None:
        self.editing_id = editor.id
        self.title, self.slug, self.description = editor.title, editor.slug, editor.description
        self.status = editor.status
        self.category_id = editor.category_id or NONE
        self.brand_id = editor.brand_id or NONE
        self.featured, self.tags = editor.featured, editor.tags
        self.collection_ids = [str(i) for i in editor.collection_ids]
        self.options, self.variants, self.images = editor.options, editor.variants, editor.images
        self.store_href, self.updated_text, self.has_orders = editor.store_href, editor.updated_text, editor.has_orders
        self.problems, self.option_problems = [], []
        self.form_version += 1
        self.grid_version += 1

    def _editor(self) -> ProductEditor:
        return ProductEditor(
            id=self.editing_id,
            title=self.title,
            slug=self.slug,
            description=self.description,
            status=self.status,
            category_id="" if self.category_id == NONE else self.category_id,
            brand_id="" if self.brand_id == NONE else self.brand_id,
            featured=self.featured,
            tags=self.tags,
            collection_ids=[int(i) for i in self.collection_ids if str(i).isdigit()],
            options=list(self.options),
            variants=list(self.variants),
        )

    async def _reload(self) -> None:
        editor, choices = await asyncio.to_thread(_load, self.editing_id)
        self._show(editor)
        self.categories, self.brands, self.collections = choices.categories, choices.brands, choices.collections

    @staff_load
    async def load(self):
        self.loaded = False
        path_id = self._path_id()
        if path_id == 0 and not self.router.url.path.rstrip("/").endswith("/new"):
            self.not_found, self.loaded = True, True
            return None
        self.editing_id = path_id
        try:
            await self._reload()
            self.not_found = False
        except NotFound:
            self.not_found = True
        self.loaded = True
        return None

    # --- fields -----------------------------------------------------------------------------------

    @staff_event
    async def set_text(self, name: str, value: str):
        if name in TEXT_FIELDS:
            setattr(self, name, str(value))
        return None

    @staff_event
    async def set_choice(self, name: str, value: str):
        if name in CHOICE_FIELDS:
            setattr(self, name, str(value))
        return None

    @staff_event
    async def set_featured(self, checked: bool):
        self.featured = bool(checked)
        return None

    @staff_event
    async def toggle_collection(self, collection_id: str, checked: bool):
        collection_id = str(collection_id)
        rest = [i for i in self.collection_ids if i != collection_id]
        known = {c.value for c in self.collections}
        self.collection_ids = [*rest, collection_id] if checked and collection_id in known else rest
        return None

    # --- options and the variant grid -------------------------------------------------------------

    def _regrid(self) -> None:
        """Rebuild the grid from the options; while the options are unusable, say why and wait."""
        try:
            self.variants = product_admin.regrid(self.options, self.variants)
            self.option_problems = []
            self.grid_version += 1
        except ProductValidationError as exc:
            self.option_problems = exc.problems

    @staff_event
    async def set_option(self, index: int, name: str, value: str):
        index = int(index)
        if 0 <= index < len(self.options) and name in ("name", "values_text"):
            options = [OptionForm(o.name, o.values_text) for o in self.options]
            before = getattr(options[index], name)
            setattr(options[index], name, str(value))
            changed = before != str(value)
            self.options = options
            if changed and options[index].name.strip() and options[index].values_text.strip():
                self._regrid()
        return None

    @staff_event
    async def add_option(self):
        if len(self.options) < MAX_OPTIONS:
            self.options = [*self.options, OptionForm()]
        return None

    @staff_event
    async def remove_option(self, index: int):
        index = int(index)
        if 0 <= index < len(self.options):
            self.options = [o for i, o in enumerate(self.options) if i != index]
            self._regrid()
        return None

    @staff_event
    async def regenerate(self):
        """Put back every combination of the option values (rows removed by hand come back)."""
        self._regrid()
        return None

    @staff_event
    async def set_variant(self, index: int, name: str, value: str):
        index = int(index)
        if 0 <= index < len(self.variants) and name in VARIANT_FIELDS:
            variants = list(self.variants)
            variants[index] = replace(variants[index], **{name: str(value)})
            self.variants = variants
        return None

    @staff_event
    async def set_tracking(self, index: int, checked: bool):
        index = int(index)
        if 0 <= index < len(self.variants):
            variants = list(self.variants)
            variants[index] = replace(variants[index], track_inventory=bool(checked))
            self.variants = variants
        return None

    @staff_event
    async def remove_variant(self, index: int):
        index = int(index)
        if len(self.variants) <= 1:
            return rx.toast.error("A product needs at least one variant.")
        self.variants = [v for i, v in enumerate(self.variants) if i != index]
        self.grid_version += 1
        return None

    # --- saving -----------------------------------------------------------------------------------

    @staff_event
    async def save(self, actor: User):
        if self.option_problems:
            self.problems = list(self.option_problems)
            yield rx.toast.error("Fix the options first.")
            return
        self.saving = True
        yield
        try:
            product_id = await asyncio.to_thread(_save, actor, self.editing_id, self._editor())
        except ProductValidationError as exc:
            self.problems = exc.problems
            yield rx.toast.error("The product was not saved: see the problems listed.")
            return
        except RevoqueError as exc:
            self.problems = [str(exc)]
            yield rx.toast.error(str(exc))
            return
        finally:
            self.saving = False
        self.problems = []
        if self.editing_id == 0:
            yield [rx.redirect(f"{ROUTE}/{product_id}"), rx.toast.success("Product created. You can add images now.")]
            return
        await self._reload()
        yield rx.toast.success("Product saved.")

    @staff_event
    async def delete_product(self, actor: User):
        if not self.editing_id:
            return None
        try:
            result = await asyncio.to_thread(_bulk_delete, actor, self.editing_id)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        return [rx.redirect(ROUTE), rx.toast.success(result.message, duration=8000)]

    # --- images -----------------------------------------------------------------------------------

    @staff_event
    async def upload_images(self, actor: User, files: list[rx.UploadFile]):
        if not self.editing_id:
            yield rx.toast.error("Save the product first, then add its images.")
            return
        self.uploading = True
        yield
        added, errors = 0, []
        for upload in files:
            name = upload.name or "image"
            data = await upload.read(MAX_IMAGE_BYTES + 1)
            try:
                await asyncio.to_thread(_upload, actor, self.editing_id, data, name)
                added += 1
            except RevoqueError as exc:
                errors.append(str(exc))
        self.uploading = False
        self.images = await asyncio.to_thread(_read_images, self.editing_id)
        events = [rx.clear_selected_files(UPLOAD_ID), *(rx.toast.error(e, duration=10000) for e in errors)]
        if added:
            events.append(rx.toast.success("Image added." if added == 1 else f"{added} images added."))
        yield events

    async def _image_change(self, actor: User, success: str, change, *args):
        try:
            await asyncio.to_thread(in_write_session, change, actor, *args)
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        self.images = await asyncio.to_thread(_read_images, self.editing_id)
        return rx.toast.success(success) if success else None

    @staff_event
    async def set_alt(self, actor: User, image_id: int, alt: str):
        current = next((i for i in self.images if i.id == int(image_id)), None)
        if current is None or current.alt == " ".join(str(alt).split()):
            return None
        return await self._image_change(actor, "Alt text saved.", product_admin.set_image_alt, int(image_id), alt)

    @staff_event
    async def move_image(self, actor: User, image_id: int, offset: int):
        return await self._image_change(actor, "", product_admin.move_image, int(image_id), int(offset))

    @staff_event
    async def delete_image(self, actor: User, image_id: int):
        return await self._image_change(actor, "Image deleted.", product_admin.delete_image, int(image_id))


def _upload(actor: User, product_id: int, data: bytes, name: str) -> None:
    with session_scope(write=True) as session:
        product_admin.upload_image(session, actor, product_id, data, name)


def _read_images(product_id: int) -> list[ImageView]:
    with session_scope() as session:
        return product_admin.product_images(session, product_id)


def _bulk_delete(actor: User, product_id: int):
    with session_scope(write=True) as session:
        return product_admin.bulk_delete(session, actor, [product_id], confirmed=True)


# --- the form ---------------------------------------------------------------------------------------


def _field(label: str, control: rx.Component, hint: str | rx.Component = "", **props) -> rx.Component:
    if isinstance(hint, str):
        hint = rx.text(hint, size="1", color_scheme="gray") if hint else None
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), control, class_name="admin-field-label"),
        *([hint] if hint is not None else []),
        spacing="1",
        width="100%",
        **props,
    )


def _text(name: str, label: str, placeholder: str = "", hint: str | rx.Component = "", **props) -> rx.Component:
    return _field(
        label,
        rx.input(
            default_value=getattr(ProductEditState, name),
            on_blur=lambda value: ProductEditState.set_text(name, value),
            placeholder=placeholder,
            width="100%",
            data_testid=f"product-{name}",
            **props,
        ),
        hint,
    )


def _choice(name: str, label: str, choices, none_label: str | None) -> rx.Component:
    """A Radix select for a short fixed list; a native one for the catalog's long lists."""
    if not isinstance(choices, list):
        control = native_select(
            choices,
            none_label=none_label or "—",
            none_value=NONE,
            label=label,
            value=getattr(ProductEditState, name),
            on_change=lambda value: ProductEditState.set_choice(name, value),
            data_testid=f"product-{name}",
        )
        return _field(label, control)
    return _field(
        label,
        rx.select.root(
            rx.select.trigger(width="100%", data_testid=f"product-{name}"),
            rx.select.content(*[rx.select.item(o.label, value=o.value) for o in choices]),
            value=getattr(ProductEditState, name),
            on_change=lambda value: ProductEditState.set_choice(name, value),
        ),
    )


def _details() -> rx.Component:
    state = ProductEditState
    return panel(
        "Details",
        rx.vstack(
            _text("title", "Title", "Ankara Wrap Dress", required=True),
            _field(
                "Description",
                rx.text_area(
                    default_value=state.description,
                    on_blur=lambda value: state.set_text("description", value),
                    rows="6",
                    width="100%",
                    placeholder="What it is, what it is made of, how it fits…",
                    data_testid="product-description",
                ),
            ),
            _text(
                "slug",
                "URL name",
                "made from the title when left empty",
                hint=rx.text(
                    rx.cond(state.slug != "", f"The product's page: /product/{state.slug}", ""),
                    size="1",
                    color_scheme="gray",
                ),
            ),
            spacing="4",
            width="100%",
        ),
    )


def _organisation() -> rx.Component:
    state = ProductEditState
    return panel(
        "Organisation",
        rx.vstack(
            _choice("status", "Status", STATUS_OPTIONS, None),
            rx.text("Only active products are shown in the store and found by search.", size="1", color_scheme="gray"),
            _choice("category_id", "Category", state.categories, "No category"),
            _choice("brand_id", "Brand", state.brands, "No brand"),
            _text("tags", "Tags", "Summer, Gift idea", hint="Separate tags with commas."),
            rx.el.label(
                rx.hstack(
                    rx.checkbox(checked=state.featured, on_change=state.set_featured, data_testid="product-featured"),
                    rx.text("Featured on the home page", size="2"),
                    spacing="2",
                    align="center",
                ),
            ),
            rx.vstack(
                rx.text("Collections", size="2", weight="medium"),
                rx.cond(
                    state.collections.length() > 0,
                    rx.vstack(
                        rx.foreach(
                            state.collections,
                            lambda c: rx.el.label(
                                rx.hstack(
                                    rx.checkbox(
                                        checked=state.collection_ids.contains(c.value),
                                        on_change=lambda checked: state.toggle_collection(c.value, checked),
                                    ),
                                    rx.text(c.label, size="2"),
                                    spacing="2",
                                    align="center",
                                )
                            ),
                        ),
                        spacing="1",
                        class_name="admin-check-list",
                    ),
                    rx.text("No collections yet (create them under Catalog).", size="1", color_scheme="gray"),
                ),
                spacing="1",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
    )


def _option_row(option: OptionForm, index) -> rx.Component:
    state = ProductEditState
    return rx.hstack(
        rx.input(
            default_value=option.name,
            on_blur=lambda value: state.set_option(index, "name", value),
            placeholder="Size",
            aria_label="Option name",
            width="160px",
            data_testid="option-name",
        ),
        rx.input(
            default_value=option.values_text,
            on_blur=lambda value: state.set_option(index, "values_text", value),
            placeholder="S, M, L",
            aria_label="Option values, separated by commas",
            flex="1",
            min_width="0",
            data_testid="option-values",
        ),
        rx.icon_button(
            rx.icon("x", size=16),
            variant="ghost",
            color_scheme="gray",
            on_click=state.remove_option(index),
            aria_label="Remove this option",
            type="button",
        ),
        align="center",
        spacing="2",
        width="100%",
        key=f"{state.form_version}-{index}",
    )


def _options() -> rx.Component:
    state = ProductEditState
    return panel(
        "Options",
        rx.vstack(
            rx.text(
                "Options are what shoppers choose between, such as Size or Colour. Separate values with commas: "
                "the variants below follow as soon as you leave the field.",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(state.options, _option_row),
            rx.cond(
                state.option_problems.length() > 0,
                rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert", size=16)),
                    rx.vstack(rx.foreach(state.option_problems, lambda p: rx.text(p, size="2")), spacing="1"),
                    color_scheme="amber",
                    size="1",
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.button(
                    rx.icon("plus", size=14),
                    "Add option",
                    variant="soft",
                    size="2",
                    on_click=state.add_option,
                    disabled=~state.can_add_option,
                    type="button",
                    data_testid="add-option",
                ),
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    "Rebuild variants",
                    variant="ghost",
                    size="2",
                    on_click=state.regenerate,
                    type="button",
                ),
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
    )


def _variant_input(row: VariantForm, index, name: str, label: str, width: str, **props) -> rx.Component:
    return rx.input(
        default_value=getattr(row, name),
        on_blur=lambda value: ProductEditState.set_variant(index, name, value),
        aria_label=f"{label} of {row.key}",
        width=width,
        size="2",
        data_testid=f"variant-{name.replace('_', '-')}",
        **props,
    )


def _variant_row(row: VariantForm, index) -> rx.Component:
    state = ProductEditState
    return rx.table.row(
        rx.table.cell(rx.text(row.key, size="2", weight="medium", white_space="nowrap")),
        rx.table.cell(_variant_input(row, index, "sku", "SKU", "230px", placeholder="generated")),
        rx.table.cell(_variant_input(row, index, "price", "Price", "120px", inputmode="decimal")),
        rx.table.cell(_variant_input(row, index, "compare_at", "Compare-at price", "120px", inputmode="decimal")),
        rx.table.cell(_variant_input(row, index, "stock", "Stock", "80px", inputmode="numeric")),
        rx.table.cell(_variant_input(row, index, "weight", "Weight in grams", "80px", inputmode="numeric")),
        rx.table.cell(
            rx.checkbox(
                checked=row.track_inventory,
                on_change=lambda checked: state.set_tracking(index, checked),
                aria_label=f"Track stock of {row.key}",
            ),
            text_align="center",
        ),
        rx.table.cell(
            rx.icon_button(
                rx.icon("trash-2", size=14),
                variant="ghost",
                color_scheme="gray",
                on_click=state.remove_variant(index),
                aria_label=f"Remove variant {row.key}",
                type="button",
            )
        ),
        key=f"{state.grid_version}-{row.key}",
        vertical_align="middle",
        data_testid="variant-row",
    )


def _variants() -> rx.Component:
    state = ProductEditState
    headers = ["Variant", "SKU", "Price", "Compare-at", "Stock", "Weight (g)", "Track", ""]
    return panel(
        "Variants",
        rx.text(
            "Prices in the store currency (12500 or 12,500.50). A compare-at price shows the product on sale; "
            "it must be higher than the price. Leave SKU empty to have one made.",
            size="2",
            color_scheme="gray",
        ),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(rx.foreach(state.variants, _variant_row)),
                variant="ghost",
                size="1",
                width="100%",
            ),
            class_name="admin-table-scroll",
            padding_top="8px",
        ),
        action=rx.badge(f"{state.variants.length()} variants", variant="soft", color_scheme="gray"),
    )


def _image_card(image: ImageView) -> rx.Component:
    state = ProductEditState
    return rx.box(
        rx.el.img(src=image.url, alt=image.alt, class_name="admin-image-preview", loading="lazy"),
        rx.input(
            default_value=image.alt,
            on_blur=lambda value: state.set_alt(image.id, value),
            placeholder="Alt text (what the picture shows)",
            aria_label="Alt text",
            size="1",
            width="100%",
            data_testid="image-alt",
        ),
        rx.hstack(
            rx.cond(image.position == 0, rx.badge("Main", color_scheme="teal", variant="soft")),
            rx.spacer(),
            rx.icon_button(
                rx.icon("arrow-left", size=14),
                variant="ghost",
                size="1",
                on_click=state.move_image(image.id, -1),
                disabled=image.position == 0,
                aria_label="Move earlier",
            ),
            rx.icon_button(
                rx.icon("arrow-right", size=14),
                variant="ghost",
                size="1",
                on_click=state.move_image(image.id, 1),
                disabled=image.position == state.images.length() - 1,
                aria_label="Move later",
            ),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.icon_button(
                        rx.icon("trash-2", size=14),
                        variant="ghost",
                        color_scheme="red",
                        size="1",
                        aria_label="Delete image",
                    )
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Delete this image?"),
                    rx.alert_dialog.description("It is removed from the product and from the store's files."),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                        rx.alert_dialog.action(
                            rx.button("Delete", color_scheme="red", on_click=state.delete_image(image.id))
                        ),
                        justify="end",
                        spacing="3",
                        padding_top="16px",
                    ),
                    max_width="400px",
                ),
            ),
            align="center",
            spacing="1",
            width="100%",
        ),
        class_name="admin-image-card",
        key=f"{image.id}-{image.alt}",
        data_testid="product-image",
    )


def _images() -> rx.Component:
    state = ProductEditState
    return panel(
        "Images",
        rx.cond(
            state.is_new,
            rx.text("Save the product first; then add its pictures here.", size="2", color_scheme="gray"),
            rx.vstack(
                rx.cond(
                    state.images.length() > 0,
                    rx.box(rx.foreach(state.images, _image_card), class_name="admin-image-grid"),
                    rx.text("No images yet. The first image is the one listings show.", size="2", color_scheme="gray"),
                ),
                rx.upload.root(
                    rx.vstack(
                        rx.cond(state.uploading, rx.spinner(size="3"), rx.icon("image-plus", size=26)),
                        rx.text(
                            rx.cond(state.uploading, "Uploading…", "Drop pictures here, or click to choose"),
                            size="2",
                            weight="medium",
                        ),
                        rx.text(
                            f"PNG, JPEG or WebP, up to {MAX_IMAGE_BYTES // (1024 * 1024)} MB each",
                            size="1",
                            color_scheme="gray",
                        ),
                        align="center",
                        spacing="1",
                    ),
                    id=UPLOAD_ID,
                    accept=IMAGE_TYPES,
                    max_size=MAX_IMAGE_BYTES,
                    multiple=True,
                    disabled=state.uploading,
                    on_drop=state.upload_images(rx.upload_files(upload_id=UPLOAD_ID)),
                    class_name="admin-dropzone",
                    data_testid="image-upload",
                ),
                spacing="3",
                width="100%",
            ),
        ),
    )


def _problems() -> rx.Component:
    state = ProductEditState
    return rx.cond(
        state.problems.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-alert", size=18)),
            rx.vstack(
                rx.text("The product was not saved:", weight="bold", size="2"),
                rx.el.ul(rx.foreach(state.problems, lambda p: rx.el.li(p)), class_name="admin-problems"),
                spacing="1",
            ),
            color_scheme="red",
            width="100%",
            role="alert",
            data_testid="product-problems",
        ),
    )


def _delete_button() -> rx.Component:
    state = ProductEditState
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("trash-2", size=14), "Delete", variant="soft", color_scheme="red", type="button")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this product?"),
            rx.alert_dialog.description(
                rx.cond(
                    state.has_orders,
                    "This product appears on orders, so it will be archived instead: hidden from the store, "
                    "kept for the orders' history.",
                    "Its variants, stock and images go too. This cannot be undone.",
                ),
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        rx.cond(state.has_orders, "Archive", "Delete"),
                        color_scheme="red",
                        on_click=state.delete_product,
                    )
                ),
                justify="end",
                spacing="3",
                padding_top="16px",
            ),
            max_width="420px",
        ),
    )


def _header() -> rx.Component:
    state = ProductEditState
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "All products", align="center", spacing="1"),
            href=ROUTE,
            size="2",
        ),
        rx.flex(
            rx.vstack(
                rx.heading(state.heading, size="6", data_testid="product-heading", class_name="clamp-1"),
                rx.cond(
                    ~state.is_new,
                    rx.text(f"Last changed {state.updated_text}", size="1", color_scheme="gray"),
                ),
                spacing="1",
                min_width="0",
                flex="1 1 260px",  # on a phone the buttons go below the title
            ),
            rx.hstack(
                rx.cond(
                    ~state.is_new & (state.status == "active"),
                    rx.link(
                        rx.button(rx.icon("external-link", size=14), "View in store", variant="soft", type="button"),
                        href=state.store_href,
                        is_external=True,
                    ),
                ),
                rx.cond(~state.is_new, _delete_button()),
                rx.button(
                    rx.icon("save", size=16),
                    rx.cond(state.is_new, "Create product", "Save"),
                    on_click=state.save,
                    loading=state.saving,
                    type="button",
                    data_testid="product-save",
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            gap="12px",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.vstack(
        _header(),
        _problems(),
        rx.vstack(
            rx.box(
                rx.vstack(_details(), _options(), spacing="4", width="100%", min_width="0"),
                rx.vstack(_organisation(), spacing="4", width="100%"),
                class_name="admin-grid-main",
            ),
            _variants(),  # full width: a row of inputs per variant needs the room
            _images(),
            spacing="4",
            width="100%",
            key=ProductEditState.form_version,
        ),
        spacing="4",
        width="100%",
    )


def _body() -> rx.Component:
    return rx.cond(
        ProductEditState.loaded,
        rx.cond(
            ProductEditState.not_found,
            rx.vstack(
                empty_note("There is no product with that number; it may have been deleted.", "package-x"),
                rx.link("Back to all products", href=ROUTE),
                align="center",
                width="100%",
            ),
            _form(),
        ),
        rx.skeleton(rx.box(height="420px", width="100%")),
    )


@admin_page(route=f"{ROUTE}/new", title="New product", on_load=ProductEditState.load)
def new_product_page() -> rx.Component:
    return _body()


@admin_page(route=f"{ROUTE}/[product_id]", title="Product", on_load=ProductEditState.load)
def product_page() -> rx.Component:
    return _body()
