"""Progression fingerprints: the plugin's records epoch each was accepted under.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Moodle's integers: 64-bit on PostgreSQL, a plain INTEGER on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("progression_fingerprints") as batch:
        batch.add_column(sa.Column("epoch", ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("progression_fingerprints") as batch:
        batch.drop_column("epoch")
