"""store name: admins rename the store from the settings page (empty keeps STORE_NAME)

Revision ID: 0009_store_name
Revises: 0008_failed_jobs
Create Date: 2026-11-28 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_store_name"
down_revision: str | None = "0008_failed_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("storeconfig") as batch:
        batch.add_column(
            sa.Column("store_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("storeconfig") as batch:
        batch.drop_column("store_name")
