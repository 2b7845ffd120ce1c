"""Initial schema: Moodle copy, run ledger, bookmarks and outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 03:05:09.791345
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Moodle ids: 64-bit on PostgreSQL, a plain INTEGER (rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("idnumber", sa.String(length=100), nullable=False),
        sa.Column("shortname", sa.String(length=255), nullable=False),
        sa.Column("fullname", sa.String(length=1333), nullable=False),
        sa.Column("category_id", ID, nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_idnumber"), ["idnumber"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient_id", ID, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moodle_message_id", ID, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state", ["state"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "users",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("idnumber", sa.String(length=255), nullable=True),
        sa.Column("firstname", sa.String(length=100), nullable=True),
        sa.Column("lastname", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=100), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("course_id", ID, nullable=False),
        sa.Column("cmid", ID, nullable=False),
        sa.Column("name", sa.String(length=1333), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grading_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("allow_from_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_grade", sa.Numeric(precision=10, scale=5), nullable=False),
        sa.Column("marking_workflow", sa.Boolean(), nullable=False),
        sa.Column("team_submission", sa.Boolean(), nullable=False),
        sa.Column("time_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_course_id"), ["course_id"], unique=False)

    op.create_table(
        "bookmarks",
        sa.Column("stream", sa.String(length=50), nullable=False),
        sa.Column("partition", sa.String(length=100), nullable=False),
        sa.Column("value", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
        ),
        sa.PrimaryKeyConstraint("stream", "partition"),
    )
    op.create_table(
        "enrolments",
        sa.Column("course_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("roles", sa.String(length=255), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id"),
    )
    op.create_table(
        "grades",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("assignment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("attempt", ID, nullable=False),
        sa.Column("grade", sa.Numeric(precision=10, scale=5), nullable=True),
        sa.Column("grader_id", ID, nullable=True),
        sa.Column("time_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grades_assignment_user", ["assignment_id", "user_id"], unique=False
        )

    op.create_table(
        "submissions",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("assignment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("attempt", ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("time_created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "user_id", "attempt"),
    )
    op.create_table(
        "user_flags",
        sa.Column("assignment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("extension_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("workflow_state", sa.String(length=30), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
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


def downgrade() -> None:
    op.drop_table("user_flags")
    op.drop_table("submissions")
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.drop_index("ix_grades_assignment_user")

    op.drop_table("grades")
    op.drop_table("enrolments")
    op.drop_table("bookmarks")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_course_id"))

    op.drop_table("assignments")
    op.drop_table("users")
    op.drop_table("sync_runs")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_state")

    op.drop_table("outbox")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_idnumber"))

    op.drop_table("courses")
