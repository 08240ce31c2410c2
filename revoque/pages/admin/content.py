"""/admin/content: the FAQs (in the order staff arrange them; add, edit, hide, delete, move) and the
policy pages (edit) that the shopping assistant answers from. ``revoque.services.content_admin``
checks and audits every change and queues the rebuild of the assistant's knowledge after it
commits, so the assistant quotes the new text within moments."""

from __future__ import annotations

import asyncio

import reflex as rx

from revoque.components.admin_forms import (
    area_field,
    confirm,
    form_dialog,
    move_buttons,
    select_field,
    switch_field,
    text_field,
)
from revoque.components.admin_layout import admin_page, empty_note, panel
from revoque.components.admin_table import row_list
from revoque.db import session_scope
from revoque.errors import NotFound, RevoqueError
from revoque.models import User
from revoque.services import content_admin
from revoque.services.admin_forms import FormInvalid
from revoque.services.content_admin import FaqFormValues, FaqRow, PolicyFormValues, PolicyRow
from revoque.state.admin import AdminEditState, staff_event, staff_load

ROUTE = "/admin/content"
REINDEX_NOTE = "Saved. The assistant's knowledge is being rebuilt with it."


def _overview() -> tuple[list[FaqRow], list[PolicyRow], list[str], int]:
    with session_scope() as session:
        return (
            content_admin.list_faqs(session),
            content_admin.list_policies(session),
            content_admin.topic_options(session),
            content_admin.passage_count(session),
        )


def _read(reader, item_id: int):
    with session_scope() as session:
        return reader(session, item_id)


def _save_faq(actor: User, faq_id: int, form: dict) -> None:
    data = content_admin.parse_faq_form(form)
    with session_scope(write=True) as session:
        if faq_id:
            content_admin.update_faq(session, actor, faq_id, data)
        else:
            content_admin.create_faq(session, actor, data)


def _save_policy(actor: User, policy_id: int, form: dict) -> None:
    data = content_admin.parse_policy_form(form)
    with session_scope(write=True) as session:
        content_admin.update_policy(session, actor, policy_id, data)


class AdminContentState(AdminEditState, rx.State):
    faqs: list[FaqRow] = []
    policies: list[PolicyRow] = []
    topics: list[str] = []
    passages: int = 0
    loaded: bool = False
    faq_open: bool = False
    faq: FaqFormValues = FaqFormValues()
    faq_errors: dict[str, str] = {}
    policy_open: bool = False
    policy: PolicyFormValues = PolicyFormValues()
    policy_errors: dict[str, str] = {}
    form_version: int = 0

    async def _refresh(self) -> None:
        self.faqs, self.policies, self.topics, self.passages = await asyncio.to_thread(_overview)

    @staff_load
    async def load(self):
        self.loaded = False
        await self._refresh()
        self.faq_open = self.policy_open = False
        self.loaded = True
        return None

    # --- FAQs

    @staff_event
    async def start_new_faq(self):
        self.faq, self.faq_errors, self.faq_open = FaqFormValues(), {}, True
        self.form_version += 1
        return None

    @staff_event
    async def start_edit_faq(self, faq_id: int):
        try:
            self.faq = await asyncio.to_thread(_read, content_admin.faq_form_values, int(faq_id))
        except NotFound as exc:
            await self._refresh()
            return rx.toast.error(str(exc))
        self.faq_errors, self.faq_open = {}, True
        self.form_version += 1
        return None

    @staff_event
    async def set_faq_open(self, open_: bool):
        self.faq_open = bool(open_)
        return None

    @staff_event
    async def save_faq(self, actor: User, form: dict):
        faq_id = self.faq.id
        self.busy = True
        try:
            await asyncio.to_thread(_save_faq, actor, faq_id, form)
        except FormInvalid as invalid:
            self.faq_errors, self.faq = invalid.problems, content_admin.faq_values_from(form, faq_id)
            return rx.toast.error("Check the highlighted fields: " + str(invalid))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        self.faq_open, self.faq_errors = False, {}
        await self._refresh()
        return rx.toast.success(REINDEX_NOTE)

    @staff_event
    async def delete_faq(self, actor: User, faq_id: int):
        deleted = "FAQ deleted. The assistant no longer quotes it."
        return await self._make_change(actor, deleted, content_admin.delete_faq, int(faq_id), refresh_on_error=True)

    @staff_event
    async def move_faq(self, actor: User, faq_id: int, direction: str):
        return await self._make_change(
            actor, "", content_admin.move_faq, int(faq_id), str(direction), refresh_on_error=True
        )

    # --- policies

    @staff_event
    async def start_edit_policy(self, policy_id: int):
        try:
            self.policy = await asyncio.to_thread(_read, content_admin.policy_form_values, int(policy_id))
        except NotFound as exc:
            await self._refresh()
            return rx.toast.error(str(exc))
        self.policy_errors, self.policy_open = {}, True
        self.form_version += 1
        return None

    @staff_event
    async def set_policy_open(self, open_: bool):
        self.policy_open = bool(open_)
        return None

    @staff_event
    async def save_policy(self, actor: User, form: dict):
        policy_id, slug = self.policy.id, self.policy.slug
        if not policy_id:
            return rx.toast.error("Choose a policy to edit first.")
        self.busy = True
        try:
            await asyncio.to_thread(_save_policy, actor, policy_id, form)
        except FormInvalid as invalid:
            self.policy_errors = invalid.problems
            self.policy = content_admin.policy_values_from(form, policy_id, slug)
            return rx.toast.error("Check the highlighted fields: " + str(invalid))
        except RevoqueError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.busy = False
        self.policy_open, self.policy_errors = False, {}
        await self._refresh()
        return rx.toast.success(REINDEX_NOTE)


# --- FAQs ----------------------------------------------------------------------------------------


def _faq_row(faq: FaqRow) -> rx.Component:
    state = AdminContentState
    return rx.hstack(
        move_buttons(faq.question, state.move_faq(faq.id, "up"), state.move_faq(faq.id, "down"), faq.first, faq.last),
        rx.vstack(
            rx.hstack(
                rx.text(faq.question, size="2", weight="medium", data_testid="faq-question"),
                rx.badge(faq.topic, variant="soft", color_scheme="gray", size="1"),
                rx.cond(~faq.active, rx.badge("Hidden", color_scheme="amber", variant="soft", size="1")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(faq.answer_preview, size="1", color_scheme="gray"),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.hstack(
            rx.button(
                "Edit", size="1", variant="outline", on_click=state.start_edit_faq(faq.id), data_testid="edit-faq"
            ),
            confirm(
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    aria_label=f"Delete {faq.question}",
                    data_testid="delete-faq",
                ),
                "Delete this FAQ?",
                f"“{faq.question}” will be deleted and the assistant will stop quoting it. To keep it but hide "
                "it, edit it and switch it off instead.",
                "Delete",
                state.delete_faq(faq.id),
                testid="delete-faq",
            ),
            spacing="2",
        ),
        align="center",
        spacing="3",
        class_name="admin-list-row",
        data_testid="faq-row",
    )


def _faq_dialog() -> rx.Component:
    state, errors = AdminContentState, AdminContentState.faq_errors
    return form_dialog(
        rx.cond(state.faq.id > 0, "Edit FAQ", "New FAQ"),
        "The assistant quotes the answer when a shopper asks something close to the question.",
        text_field("Question", "question", state.faq.question, errors, placeholder="How long does delivery take?"),
        area_field("Answer", "answer", state.faq.answer, errors, rows="6"),
        select_field("Topic", "topic", state.faq.topic, state.topics, errors),
        switch_field("Shown", "active", state.faq.active, errors, hint="Hidden FAQs are not quoted."),
        on_submit=state.save_faq,
        key=state.form_version,
        busy=state.busy,
        save_testid="save-faq",
        open_=state.faq_open,
        on_open_change=state.set_faq_open,
        max_width="560px",
    )


# --- policies ------------------------------------------------------------------------------------


def _policy_row(policy: PolicyRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(policy.title, size="2", weight="medium", data_testid="policy-title"),
                rx.code(policy.slug, size="1", variant="ghost"),
                spacing="2",
                align="center",
            ),
            rx.text(policy.preview, size="1", color_scheme="gray"),
            rx.text(f"{policy.paragraphs} paragraphs · changed {policy.updated_text}", size="1", color_scheme="gray"),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.button(
            "Edit",
            size="1",
            variant="outline",
            on_click=AdminContentState.start_edit_policy(policy.id),
            data_testid="edit-policy",
        ),
        align="center",
        spacing="3",
        class_name="admin-list-row",
        data_testid="policy-row",
    )


def _policy_dialog() -> rx.Component:
    state, errors = AdminContentState, AdminContentState.policy_errors
    return form_dialog(
        "Edit policy",
        "Separate paragraphs with a blank line: each paragraph is a passage the assistant can quote.",
        text_field("Title", "title", state.policy.title, errors),
        area_field("Text", "body", state.policy.body, errors, rows="14"),
        on_submit=state.save_policy,
        key=state.form_version,
        busy=state.busy,
        save_testid="save-policy",
        open_=state.policy_open,
        on_open_change=state.set_policy_open,
        max_width="720px",
    )


def _body() -> rx.Component:
    state = AdminContentState
    return rx.vstack(
        rx.callout(
            f"The assistant answers from {state.passages} passages: the FAQs that are shown and each paragraph of "
            "each policy. It is rebuilt in the background after every change.",
            icon="sparkles",
            size="1",
            width="100%",
            data_testid="knowledge-note",
        ),
        panel(
            "FAQs",
            row_list(
                state.faqs,
                _faq_row,
                empty_note("No FAQs yet. Add the questions shoppers ask most.", "message-circle-question"),
            ),
            action=rx.button(rx.icon("plus", size=16), "New FAQ", on_click=state.start_new_faq, data_testid="new-faq"),
        ),
        panel(
            "Policies",
            row_list(state.policies, _policy_row, empty_note("No policy pages yet.", "file-text")),
        ),
        _faq_dialog(),
        _policy_dialog(),
        spacing="4",
        width="100%",
    )


@admin_page(route=ROUTE, title="FAQs and policies", on_load=AdminContentState.load)
def content_page() -> rx.Component:
    return rx.cond(AdminContentState.loaded, _body(), rx.skeleton(rx.box(height="420px", width="100%")))
