"""failed jobs: jobs that used up their retries, for staff to read and run again

Revision ID: 0008_failed_jobs
Revises: 0007_order_requests
Create Date: 2026-11-28 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008_failed_jobs"
down_revision: str | None = "0007_order_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failedjob",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("function", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retried_by", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("failedjob", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failedjob_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_failedjob_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("failedjob", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_failedjob_job_id"))
        batch_op.drop_index(batch_op.f("ix_failedjob_failed_at"))
    op.drop_table("failedjob")
