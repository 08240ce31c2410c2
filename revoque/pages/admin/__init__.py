"""Staff pages under /admin; importing this package registers them. Every page state inherits
``revoque.state.admin.AdminPageState`` and checks the role on the server in every handler."""

from revoque.pages.admin import audit, dashboard, orders

__all__ = ["audit", "dashboard", "orders"]
