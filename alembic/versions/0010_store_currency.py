"""store currency: admins choose the store's currency in the settings while it has no orders (empty
keeps STORE_CURRENCY)

Revision ID: 0010_store_currency
Revises: 0009_store_name
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010_store_currency"
down_revision: str | None = "0009_store_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("storeconfig") as batch:
        batch.add_column(
            sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("storeconfig") as batch:
        batch.drop_column("currency")
