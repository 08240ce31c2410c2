"""spreadsheet transfers: product imports and product/order exports

Revision ID: 0006_transfers
Revises: 0005_admin
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_transfers"
down_revision: str | None = "0005_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataimport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("file_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("shape", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("only_valid_rows", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataimport", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataimport_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataimport_status"), ["status"], unique=False)

    op.create_table(
        "dataexport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataexport", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataexport_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataexport_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataexport_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataexport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataexport_status"))
        batch_op.drop_index(batch_op.f("ix_dataexport_kind"))
        batch_op.drop_index(batch_op.f("ix_dataexport_created_at"))
    op.drop_table("dataexport")

    with op.batch_alter_table("dataimport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataimport_status"))
        batch_op.drop_index(batch_op.f("ix_dataimport_created_at"))
    op.drop_table("dataimport")
