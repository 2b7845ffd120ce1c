"""Push: outbox delivery columns, per-student due dates, last pushed profile values.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:14:05.583753
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Moodle ids: 64-bit on PostgreSQL, a plain INTEGER (rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "profile_values",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("user_id", "field"),
    )
    op.create_table(
        "due_date_overrides",
        sa.Column("assignment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("assignment_id", "user_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignment_id", ID, nullable=True))
        batch_op.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("run_id", ID, nullable=True))
        batch_op.add_column(sa.Column("attempts", ID, server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("sending_started_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("sent_at")
        batch_op.drop_column("sending_started_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("run_id")
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("assignment_id")

    op.drop_table("due_date_overrides")
    op.drop_table("profile_values")
