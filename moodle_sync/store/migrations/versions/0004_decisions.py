"""Decisions on the freshest facts: course rollover, team work, own dates without two clocks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Moodle ids: 64-bit on PostgreSQL, a plain INTEGER (rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaced_by", ID, nullable=True))
        batch_op.add_column(sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("groups", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_grouping_id", ID, nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=ID, nullable=True)
        batch_op.add_column(sa.Column("group_id", ID, nullable=True))
    with op.batch_alter_table("due_date_overrides", schema=None) as batch_op:
        for name in ("due_overridden", "cutoff_overridden", "participant"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False)
            )
    _mark_answers_equal_to_the_assignment()


def _mark_answers_equal_to_the_assignment() -> None:
    """An answer stored before this revision that equals its assignment's dates was no
    override: from now on it follows the assignment's dates, as Moodle does."""
    for column in ("due", "cutoff"):
        op.execute(
            f"UPDATE due_date_overrides SET {column}_overridden = "
            f"(SELECT CASE WHEN a.{column}_at IS NULL AND due_date_overrides.{column}_at IS NULL "
            f"THEN 0 = 1 WHEN a.{column}_at = due_date_overrides.{column}_at THEN 0 = 1 "
            "ELSE 1 = 1 END FROM assignments a WHERE a.id = due_date_overrides.assignment_id)"
        )


def downgrade() -> None:
    with op.batch_alter_table("due_date_overrides", schema=None) as batch_op:
        for name in ("participant", "cutoff_overridden", "due_overridden"):
            batch_op.drop_column(name)
    op.execute("DELETE FROM submissions WHERE user_id IS NULL")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("group_id")
        batch_op.alter_column("user_id", existing_type=ID, nullable=False)
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("team_grouping_id")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_column("groups")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("replaced_at")
        batch_op.drop_column("replaced_by")
