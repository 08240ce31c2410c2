"""One order as the customer sees it: used by the account's order page and the order confirmation."""

import reflex as rx

STATUS_COLORS = {
    "Pending": "amber",
    "Paid": "teal",
    "Processing": "blue",
    "Shipped": "indigo",
    "Delivered": "green",
    "Cancelled": "gray",
    "Refunded": "gray",
}


def status_badge(status) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"), variant="soft", size="2")


def _line(line) -> rx.Component:
    title = rx.text(line.title, size="2", weight="medium")
    return rx.hstack(
        rx.el.img(src=line.image_url, alt="", width="56", height="56", class_name="line-thumb small"),
        rx.vstack(
            rx.cond(line.href != "", rx.link(title, href=line.href, color_scheme="gray", high_contrast=True), title),
            rx.cond(line.variant != "", rx.text(line.variant, size="1", color_scheme="gray")),
            rx.text(f"{line.quantity} × {line.unit_price}", size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.text(line.line_total, size="2", weight="bold"),
        align="center",
        spacing="3",
        width="100%",
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="order-line",
    )


def _total_row(label, value, strong: bool = False) -> rx.Component:
    size = "3" if strong else "2"
    return rx.hstack(
        rx.text(label, size=size, weight="bold" if strong else "regular"),
        rx.text(value, size=size, weight="bold" if strong else "regular"),
        justify="between",
        width="100%",
    )


def _totals(order) -> rx.Component:
    return rx.vstack(
        _total_row("Subtotal", order.subtotal),
        rx.cond(order.discount != "", _total_row(f"Discount {order.coupon_code}", f"−{order.discount}")),
        _total_row("Delivery", order.shipping),
        rx.cond(
            order.tax_included,
            _total_row("Includes VAT", order.tax),
            _total_row("VAT", order.tax),
        ),
        rx.divider(),
        _total_row("Total", order.total, strong=True),
        spacing="2",
        width="100%",
        padding_top="8px",
    )


def _address_block(title: str, lines) -> rx.Component:
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        rx.cond(
            lines.length() > 0,
            rx.foreach(lines, lambda line: rx.text(line, size="2", color_scheme="gray")),
            rx.text("—", size="2", color_scheme="gray"),
        ),
        spacing="0",
        width="100%",
    )


def _timeline_entry(entry, index) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="10px",
            height="10px",
            border_radius="999px",
            margin_top="6px",
            flex_shrink="0",
            background_color=rx.cond(index == 0, rx.color("teal", 9), rx.color("gray", 7)),
        ),
        rx.vstack(
            rx.text(entry.title, size="2", weight="medium"),
            rx.cond(entry.message != "", rx.text(entry.message, size="2")),
            rx.text(entry.created_text, size="1", color_scheme="gray"),
            spacing="0",
        ),
        spacing="3",
        align="start",
        data_testid="timeline-entry",
    )


def order_view(order) -> rx.Component:
    """Status, items with totals, addresses, delivery and payment, and the timeline of one order."""
    return rx.vstack(
        rx.hstack(
            rx.text(f"Placed {order.date}", size="2", color_scheme="gray"),
            status_badge(order.status),
            rx.badge(f"Payment: {order.payment_status}", variant="outline", color_scheme="gray", size="2"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Items", size="4", as_="h2"),
                    rx.box(rx.foreach(order.lines, _line), width="100%"),
                    _totals(order),
                    spacing="2",
                    width="100%",
                ),
                size="3",
            ),
            rx.vstack(
                rx.card(
                    rx.vstack(
                        _address_block("Delivery address", order.shipping_address),
                        _address_block("Billing address", order.billing_address),
                        rx.vstack(
                            rx.text("Delivery and payment", weight="bold", size="2"),
                            rx.text(order.shipping_method, size="2", color_scheme="gray"),
                            rx.text(order.payment_method, size="2", color_scheme="gray"),
                            spacing="0",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    size="3",
                    width="100%",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Timeline", size="4", as_="h2"),
                        rx.cond(
                            order.timeline.length() > 0,
                            rx.vstack(rx.foreach(order.timeline, _timeline_entry), spacing="3"),
                            rx.text("No updates yet.", size="2", color_scheme="gray"),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    size="3",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", md="3fr 2fr"),
            spacing="4",
            align="start",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
