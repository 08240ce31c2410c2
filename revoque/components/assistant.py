"""The chat widget on every storefront page: a floating button opening the assistant's panel.

Plain elements styled by ``assets/styles.css`` (``/* assistant */``): a panel beside the page on
wide screens, full screen on phones. Product cards in answers add to the shopper's own cart through
``CartState.add`` exactly like any other "Add to cart" button, so the header count and the drawer
follow.
"""

import reflex as rx

from revoque.state.assistant import AssistantState
from revoque.state.cart import CartState


def _chat_card(card) -> rx.Component:
    return rx.el.div(
        rx.el.a(
            rx.el.img(src=card.image_url, alt=card.title, loading="lazy", width="64", height="64"),
            href=card.href,
            class_name="chat-card-media",
            tab_index=-1,
        ),
        rx.el.div(
            rx.el.a(card.title, href=card.href, class_name="chat-card-title clamp-2", data_testid="chat-card-title"),
            rx.el.span(card.price_text, class_name="chat-card-price", data_testid="chat-card-price"),
            rx.el.span(
                rx.cond(card.variant_title != "", card.variant_title + " · " + card.stock_text, card.stock_text),
                class_name=rx.cond(card.in_stock, "chat-card-stock", "chat-card-stock chat-card-out"),
            ),
            rx.el.div(
                rx.cond(
                    card.variant_id > 0,
                    rx.el.button(
                        rx.icon("shopping-cart", size=14),
                        "Add to cart",
                        on_click=CartState.add(card.variant_id, 1),
                        disabled=CartState.busy,
                        class_name="chat-btn chat-btn-solid",
                        type="button",
                        data_testid="chat-add-to-cart",
                    ),
                ),
                rx.el.a("View", href=card.href, class_name="chat-btn", data_testid="chat-view"),
                class_name="chat-card-actions",
            ),
            class_name="chat-card-body",
        ),
        class_name="chat-card",
        data_testid="chat-card",
        data_product_id=card.id,
    )


def _message(item) -> rx.Component:
    mine = item.role == "user"
    return rx.el.div(
        rx.el.div(item.text, class_name=rx.cond(mine, "chat-bubble chat-bubble-me", "chat-bubble")),
        rx.cond(
            item.cards.length() > 0,
            rx.el.div(rx.foreach(item.cards, _chat_card), class_name="chat-cards"),
        ),
        rx.cond(item.label != "", rx.el.span(item.label, class_name="chat-label")),
        class_name=rx.cond(mine, "chat-row chat-row-me", "chat-row"),
        data_testid=rx.cond(mine, "chat-question", "chat-answer"),
    )


def _typing() -> rx.Component:
    return rx.cond(
        AssistantState.typing,
        rx.el.div(
            rx.cond(
                AssistantState.streaming != "",
                rx.el.div(AssistantState.streaming, class_name="chat-bubble", data_testid="chat-streaming"),
                rx.el.div(
                    rx.el.span(class_name="chat-dot"),
                    rx.el.span(class_name="chat-dot"),
                    rx.el.span(class_name="chat-dot"),
                    class_name="chat-bubble chat-typing",
                    aria_label="The assistant is typing",
                    data_testid="chat-typing",
                ),
            ),
            class_name="chat-row",
        ),
    )


def _welcome() -> rx.Component:
    return rx.cond(
        AssistantState.items.length() == 0,
        rx.el.div(
            rx.el.p("Hi! I can find products, check your orders and explain delivery, returns and payment."),
            class_name="chat-welcome",
        ),
    )


def _chips() -> rx.Component:
    return rx.el.div(
        rx.foreach(
            AssistantState.quick_replies,
            lambda text: rx.el.button(
                text,
                on_click=AssistantState.send_text(text),
                disabled=AssistantState.typing,
                class_name="chat-chip",
                type="button",
                data_testid="chat-chip",
            ),
        ),
        class_name="chat-chips",
    )


def _composer() -> rx.Component:
    return rx.el.form(
        rx.el.input(
            value=AssistantState.draft,
            on_change=AssistantState.set_draft,
            placeholder="Ask about products, orders, delivery…",
            max_length=1000,
            aria_label="Your message",
            auto_complete="off",
            class_name="chat-input",
            data_testid="chat-input",
        ),
        rx.el.button(
            rx.icon("send-horizontal", size=18),
            disabled=AssistantState.typing,
            aria_label="Send",
            class_name="chat-send",
            type="submit",
            data_testid="chat-send",
        ),
        on_submit=AssistantState.submit,
        reset_on_submit=False,
        class_name="chat-composer",
    )


def _panel() -> rx.Component:
    return rx.el.section(
        rx.el.header(
            rx.el.div(
                rx.icon("sparkles", size=18),
                rx.el.strong("Shopping assistant"),
                class_name="chat-title",
            ),
            rx.el.button(
                rx.icon("rotate-ccw", size=16),
                on_click=AssistantState.new_conversation,
                aria_label="New conversation",
                title="New conversation",
                class_name="icon-button chat-icon",
                type="button",
                data_testid="chat-new",
            ),
            rx.el.button(
                rx.icon("x", size=18),
                on_click=AssistantState.close,
                aria_label="Close the assistant",
                class_name="icon-button chat-icon",
                type="button",
                data_testid="chat-close",
            ),
            class_name="chat-header",
        ),
        rx.auto_scroll(
            _welcome(),
            rx.foreach(AssistantState.items, _message),
            _typing(),
            class_name="chat-log",
            aria_live="polite",
            data_testid="chat-log",
        ),
        _chips(),
        _composer(),
        class_name="chat-panel",
        aria_label="Shopping assistant",
        data_testid="chat-panel",
    )


def assistant_widget() -> rx.Component:
    """The launcher button and, when open, the panel."""
    return rx.fragment(
        rx.cond(AssistantState.is_open, _panel()),
        rx.el.button(
            rx.cond(AssistantState.is_open, rx.icon("x", size=24), rx.icon("message-circle", size=24)),
            on_click=AssistantState.toggle,
            class_name="chat-launcher",
            aria_label=rx.cond(AssistantState.is_open, "Close the assistant", "Ask the shopping assistant"),
            aria_expanded=rx.cond(AssistantState.is_open, "true", "false"),
            type="button",
            data_testid="chat-launcher",
        ),
    )
