"""Staff pages under /admin; importing this package registers them. Every page state inherits
``revoque.state.admin.AdminPageState`` and checks the role on the server in every handler."""

from revoque.pages.admin import (
    audit,
    catalog,
    content,
    conversations,
    coupons,
    customers,
    dashboard,
    exports,
    imports,
    jobs,
    orders,
    outbox,
    product_edit,
    products,
    settings,
    shipping,
)

__all__ = [
    "audit",
    "catalog",
    "content",
    "conversations",
    "coupons",
    "customers",
    "dashboard",
    "exports",
    "imports",
    "jobs",
    "orders",
    "outbox",
    "product_edit",
    "products",
    "settings",
    "shipping",
]
