"""Reflex configuration: everything comes from revoque.settings so the app and the CLI agree."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from revoque.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="revoque",
    redis_url=_settings.redis_url or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="teal", gray_color="sand", radius="large"),
        ),
    ],
)
