"""order requests: refunds and returns staff asked for (one-time keys) and returned lines

Revision ID: 0007_order_requests
Revises: 0006_transfers
Create Date: 2026-11-28 10:31:32.742815
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_order_requests"
down_revision: str | None = "0006_transfers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orderrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("refund_amount", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["refund_id"], ["refund.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("orderrequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orderrequest_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orderrequest_key"), ["key"], unique=True)
        batch_op.create_index(batch_op.f("ix_orderrequest_order_id"), ["order_id"], unique=False)

    op.create_table(
        "returnline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("restocked_units", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_returnline_quantity_positive"),
        sa.ForeignKeyConstraint(["order_line_id"], ["orderline.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["orderrequest.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("returnline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returnline_order_line_id"), ["order_line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_returnline_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("returnline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returnline_request_id"))
        batch_op.drop_index(batch_op.f("ix_returnline_order_line_id"))

    op.drop_table("returnline")
    with op.batch_alter_table("orderrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orderrequest_order_id"))
        batch_op.drop_index(batch_op.f("ix_orderrequest_key"))
        batch_op.drop_index(batch_op.f("ix_orderrequest_created_at"))

    op.drop_table("orderrequest")
