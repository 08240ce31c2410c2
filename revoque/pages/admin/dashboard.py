"""/admin: the dashboard. Revenue, orders, average order value and new customers for the chosen
period (7, 30 or 90 days, in the URL as ``?period=``) against the period before; revenue and orders
per day; best sellers; low stock; and the shopping funnel. Every figure comes from
``revoque.services.dashboard``; this module only shows them."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import reflex as rx
from reflex.vars.function import FunctionVar

from revoque.components.admin_layout import admin_page, empty_note, panel
from revoque.db import session_scope
from revoque.services import dashboard, search
from revoque.services.dashboard import Dashboard, FunnelStep, LowStockItem, Metric, TopProduct
from revoque.state.admin import AdminPageState, staff_load
from revoque.state.nav import NavState

ROUTE = "/admin"
METRIC_ICONS = {"revenue": "banknote", "orders": "shopping-bag", "aov": "receipt", "customers": "user-plus"}


def _build(days: int) -> tuple[Dashboard, str]:
    with session_scope() as session:
        board = dashboard.build_dashboard(session, days)
    return board, search.index_status().summary


class DashboardState(AdminPageState, rx.State):
    days: int = dashboard.DEFAULT_PERIOD
    range_text: str = ""
    metrics: list[Metric] = []
    series: list[dict[str, str | int]] = []  # chart points (recharts takes plain objects)
    top_products: list[TopProduct] = []
    low_stock: list[LowStockItem] = []
    low_stock_total: int = 0
    funnel: list[FunnelStep] = []
    index_text: str = ""  # documents and vectors against active products
    loaded: bool = False

    @staff_load
    async def load(self):
        self.loaded = False
        days = dashboard.parse_period(self.router.url.query_parameters.get("period"))
        board, self.index_text = await asyncio.to_thread(_build, days)  # aggregate queries, off the event loop
        self.days, self.range_text, self.metrics = board.days, board.range_text, board.metrics
        self.series = [asdict(point) for point in board.series]
        self.top_products, self.low_stock, self.funnel = board.top_products, board.low_stock, board.funnel
        self.low_stock_total = board.low_stock_total
        self.loaded = True
        return None


# --- pieces --------------------------------------------------------------------------------------


def _period_picker() -> rx.Component:
    return rx.hstack(
        *[
            rx.link(
                f"{days} days",
                href=f"{ROUTE}?period={days}",
                underline="none",
                class_name=rx.cond(DashboardState.days == days, "admin-segment active", "admin-segment"),
                data_testid=f"period-{days}",
            )
            for days in dashboard.PERIODS
        ],
        class_name="admin-segments",
        spacing="0",
        role="group",
        aria_label="Period",
    )


def _metric_card(metric: Metric) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(metric.label, size="2", color_scheme="gray", weight="medium"),
            rx.spacer(),
            rx.center(
                rx.match(
                    metric.key,
                    *[(key, rx.icon(icon, size=16)) for key, icon in METRIC_ICONS.items()],
                    rx.icon("chart-line", size=16),
                ),
                class_name="admin-metric-icon",
            ),
            align="center",
            width="100%",
        ),
        rx.text(metric.value_text, class_name="admin-metric-value", data_testid=f"metric-{metric.key}"),
        rx.hstack(
            rx.badge(
                rx.match(
                    metric.trend,
                    ("up", rx.icon("trending-up", size=12)),
                    ("down", rx.icon("trending-down", size=12)),
                    rx.icon("minus", size=12),
                ),
                metric.change_text,
                color_scheme=rx.match(metric.trend, ("up", "green"), ("down", "red"), "gray"),
                variant="soft",
                radius="full",
                data_testid="metric-change",
            ),
            rx.text(f"vs {metric.previous_text}", size="1", color_scheme="gray"),
            align="center",
            spacing="2",
        ),
        class_name="admin-metric",
        data_testid="metric-card",
    )


def _money_axis() -> FunctionVar:
    """A JS formatter for the revenue axis: "₦24K" (the chart is in whole currency units). The symbol
    is the store's at run time (a state var inside the function), not the one at compile time."""
    return rx.Var(
        f"((v) => {NavState.currency_symbol} + new Intl.NumberFormat('en', {{notation: 'compact'}}).format(v))"
    ).to(FunctionVar)


def _money_tooltip() -> rx.Var:
    """Recharts' tooltip ``formatter``: "₦24,000" (Reflex has no prop for it, so it goes in as-is)."""
    return rx.Var(f"((v, name) => [{NavState.currency_symbol} + new Intl.NumberFormat('en').format(v), name])")


def _chart_tooltip(**props) -> rx.Component:
    return rx.recharts.graphing_tooltip(
        separator=": ",
        cursor={"fill": "var(--gray-a3)"},
        content_style={
            "background": "var(--color-panel-solid)",
            "border": "1px solid var(--gray-a5)",
            "borderRadius": "8px",
            "fontSize": "13px",
        },
        **props,
    )


def _revenue_chart() -> rx.Component:
    return rx.recharts.area_chart(
        rx.el.svg.defs(
            rx.el.svg.linear_gradient(
                rx.el.svg.stop(offset="5%", stop_color="var(--teal-9)", stop_opacity=0.35),
                rx.el.svg.stop(offset="95%", stop_color="var(--teal-9)", stop_opacity=0.02),
                id="admin-revenue-fill",
                x1=0,
                y1=0,
                x2=0,
                y2=1,
            )
        ),
        rx.recharts.cartesian_grid(vertical=False, stroke_dasharray="3 3", stroke="var(--gray-a4)"),
        rx.recharts.x_axis(data_key="label", tick_line=False, axis_line=False, min_tick_gap=24, font_size=12),
        rx.recharts.y_axis(tick_line=False, axis_line=False, width=56, font_size=12, tick_formatter=_money_axis()),
        _chart_tooltip(custom_attrs={"formatter": _money_tooltip()}),
        rx.recharts.area(
            data_key="revenue_major",
            name="Revenue",
            type_="linear",
            stroke="var(--teal-9)",
            stroke_width=2,
            fill="url(#admin-revenue-fill)",
            is_animation_active=False,
        ),
        data=DashboardState.series,
        height=260,
        width="100%",
        margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
    )


def _orders_chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(vertical=False, stroke_dasharray="3 3", stroke="var(--gray-a4)"),
        rx.recharts.x_axis(data_key="label", tick_line=False, axis_line=False, min_tick_gap=24, font_size=12),
        rx.recharts.y_axis(tick_line=False, axis_line=False, width=32, allow_decimals=False, font_size=12),
        _chart_tooltip(),
        rx.recharts.bar(
            data_key="orders", name="Orders", fill="var(--amber-9)", radius=[4, 4, 0, 0], is_animation_active=False
        ),
        data=DashboardState.series,
        height=260,
        width="100%",
        margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
    )


def _top_product(product: TopProduct) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(product.title, size="2", weight="medium", class_name="clamp-1"),
            rx.text(f"{product.units} sold", size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.text(product.revenue_text, size="2", weight="bold", white_space="nowrap"),
        class_name="admin-list-row",
        data_testid="top-product",
    )


def _low_stock_item(item: LowStockItem) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.link(item.product_title, href=item.href, size="2", weight="medium", class_name="clamp-1"),
            rx.text(
                rx.cond(item.variant_title != "", f"{item.variant_title} · {item.sku}", item.sku),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.badge(
            rx.cond(item.stock == 0, "Sold out", f"{item.stock} left"),
            color_scheme=rx.cond(item.stock == 0, "red", "orange"),
            variant="soft",
        ),
        class_name="admin-list-row",
        data_testid="low-stock-item",
    )


def _funnel_step(step: FunnelStep) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(step.label, size="2", weight="medium"),
            rx.spacer(),
            rx.text(step.visitors, size="2", weight="bold"),
            rx.cond(step.rate_text != "", rx.text(step.rate_text, size="1", color_scheme="gray", width="44px")),
            align="center",
            width="100%",
        ),
        rx.box(rx.box(class_name="admin-funnel-fill", width=f"{step.share}%"), class_name="admin-funnel-track"),
        class_name="admin-funnel-step",
        data_testid="funnel-step",
    )


def _figures() -> rx.Component:
    return rx.vstack(
        rx.box(rx.foreach(DashboardState.metrics, _metric_card), class_name="admin-metrics"),
        rx.box(
            panel("Revenue", _revenue_chart(), data_testid="revenue-chart"),
            panel("Orders", _orders_chart(), data_testid="orders-chart"),
            class_name="admin-grid-2",
        ),
        rx.box(
            panel(
                "Top products",
                rx.cond(
                    DashboardState.top_products.length() > 0,
                    rx.foreach(DashboardState.top_products, _top_product),
                    empty_note("No sales in this period yet.", "chart-no-axes-column"),
                ),
            ),
            panel(
                "Shopping funnel",
                rx.vstack(rx.foreach(DashboardState.funnel, _funnel_step), spacing="3", width="100%"),
                rx.text("Visitors at each step in this period.", size="1", color_scheme="gray", padding_top="8px"),
            ),
            panel(
                "Low stock",
                rx.cond(
                    DashboardState.low_stock_total > 0,
                    rx.vstack(
                        rx.foreach(DashboardState.low_stock, _low_stock_item),
                        rx.cond(
                            DashboardState.low_stock_total > DashboardState.low_stock.length(),
                            rx.text(
                                f"{DashboardState.low_stock_total} variants are running low in all.",
                                size="1",
                                color_scheme="gray",
                            ),
                        ),
                        spacing="0",
                        width="100%",
                    ),
                    empty_note("Everything is well stocked.", "package-check"),
                ),
            ),
            class_name="admin-grid-3",
        ),
        spacing="4",
        width="100%",
    )


def _loading() -> rx.Component:
    return rx.vstack(
        rx.box(*[rx.skeleton(rx.box(height="112px")) for _ in range(4)], class_name="admin-metrics"),
        rx.skeleton(rx.box(height="320px", width="100%")),
        spacing="4",
        width="100%",
    )


@admin_page(route=ROUTE, title="Dashboard", on_load=DashboardState.load)
def dashboard_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.text(
                rx.cond(DashboardState.loaded, DashboardState.range_text, ""),
                size="2",
                color_scheme="gray",
                data_testid="dashboard-range",
            ),
            _period_picker(),
            justify="between",
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(DashboardState.loaded, _figures(), _loading()),
        rx.text(DashboardState.index_text, size="1", color_scheme="gray", data_testid="index-status"),
        spacing="4",
        width="100%",
    )
