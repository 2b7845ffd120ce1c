"""The service's own copy of Moodle, its run ledger, bookmarks and outbox.

Rows are keyed by Moodle's ids so that upserts are idempotent. Nothing is hard-deleted:
`ended_at` and `deleted_at` keep history queryable after a user leaves or an assignment goes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from moodle_sync.store.types import UTCDateTime

# Moodle ids are 64-bit on PostgreSQL; SQLite only autoincrements a plain INTEGER key.
MoodleId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        int: MoodleId,
    }


class Course(Base):
    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    idnumber: Mapped[str] = mapped_column(String(100), index=True)
    shortname: Mapped[str] = mapped_column(String(255))
    fullname: Mapped[str] = mapped_column(String(1333))
    category_id: Mapped[int | None]
    visible: Mapped[bool]
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # A course rolled over: its idnumber now names `replaced_by`. Kept as history, no longer
    # mapped to its module, and never merged into the module's data.
    replaced_by: Mapped[int | None]
    replaced_at: Mapped[datetime | None]
    # sha256 of the enrolment answer the course's stored enrolments were written from: the
    # same answer again (most nights) leaves them as they are (`pull.enrolments`)
    enrolments_digest: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(100))
    idnumber: Mapped[str | None] = mapped_column(String(255))
    firstname: Mapped[str | None] = mapped_column(String(100))
    lastname: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(100))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Enrolment(Base):
    """A user in a course; `roles` is a sorted comma-separated list of role shortnames and
    `groups` of the course group ids the user is a member of."""

    __tablename__ = "enrolments"
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # active | suspended
    roles: Mapped[str] = mapped_column(String(255))
    groups: Mapped[str] = mapped_column(Text, server_default="")
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # no longer returned by Moodle


class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    cmid: Mapped[int]
    name: Mapped[str] = mapped_column(String(1333))
    due_at: Mapped[datetime | None]
    cutoff_at: Mapped[datetime | None]
    grading_due_at: Mapped[datetime | None]
    allow_from_at: Mapped[datetime | None]
    max_grade: Mapped[Decimal] = mapped_column(Numeric(10, 5))
    marking_workflow: Mapped[bool]
    team_submission: Mapped[bool]
    team_grouping_id: Mapped[int | None]  # the grouping whose groups are the teams; 0/None: all
    time_modified: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Submission(Base):
    """A student's latest attempt, or (user None) a team's: Moodle's `userid` 0 row of a group
    assignment, which counts for every member of `group_id` (0: the default group)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id", "attempt"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None]
    attempt: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))  # new | draft | submitted | reopened
    time_created: Mapped[datetime | None]
    time_modified: Mapped[datetime | None]
    last_seen_at: Mapped[datetime]


class UserFlags(Base):
    """Per-student assignment flags: the extension lives here (0 in Moodle = none)."""

    __tablename__ = "user_flags"
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    extension_due_at: Mapped[datetime | None]
    locked: Mapped[bool]
    workflow_state: Mapped[str | None] = mapped_column(String(30))
    last_seen_at: Mapped[datetime]


class Grade(Base):
    __tablename__ = "grades"
    __table_args__ = (Index("ix_grades_assignment_user", "assignment_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attempt: Mapped[int]
    grade: Mapped[Decimal | None] = mapped_column(Numeric(10, 5))  # None: not graded (-1)
    grader_id: Mapped[int | None]
    time_modified: Mapped[datetime | None]
    last_seen_at: Mapped[datetime]


class SyncRun(Base):
    """The ledger: one row per run, with what it read, wrote and what went wrong."""

    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # incremental | full | reconcile
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20))  # running | complete | partial | failed
    counts: Mapped[dict[str, Any]]
    problems: Mapped[dict[str, Any]]


class Bookmark(Base):
    """How far a stream has read in one partition (course); written with its rows."""

    __tablename__ = "bookmarks"
    stream: Mapped[str] = mapped_column(String(50), primary_key=True)
    partition: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    updated_at: Mapped[datetime]


class OutboxMessage(Base):
    """Something to push to Moodle, under a stable key so it is planned and sent once.

    States: planned -> sending -> sent | failed; planned -> cancelled. A row found `sending`
    at start-up is in doubt until Moodle's own record of sent messages settles it.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[int]
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(20))  # planned|sending|sent|failed|cancelled
    planned_at: Mapped[datetime]
    send_after: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    moodle_message_id: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    assignment_id: Mapped[int | None]
    deadline_at: Mapped[datetime | None]  # the effective deadline the key was made for
    run_id: Mapped[int | None]  # the run that planned it
    attempts: Mapped[int] = mapped_column(server_default="0")
    sending_started_at: Mapped[datetime | None]  # when its batch went out
    sent_at: Mapped[datetime | None]


class OwnDates(Base):
    """A student's own dates as mod_assign_get_participant last reported them.

    `due_overridden` / `cutoff_overridden` say whether Moodle's answer differed from the
    assignment's dates read in the same pull: an override then stays the student's date even
    when a teacher later moves the assignment's, as in Moodle; otherwise the assignment's
    current date applies. No time of ours is ever compared with one of Moodle's.
    `participant` is false when Moodle answered `usernotincourse`.
    """

    __tablename__ = "due_date_overrides"
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    due_at: Mapped[datetime | None]
    cutoff_at: Mapped[datetime | None]
    due_overridden: Mapped[bool] = mapped_column(server_default=true())
    cutoff_overridden: Mapped[bool] = mapped_column(server_default=true())
    participant: Mapped[bool] = mapped_column(server_default=true())
    checked_at: Mapped[datetime]  # when it was asked (the service's clock; for people only)


class ProfileValue(Base):
    """The last value pushed to a user's custom profile field, so only changes are sent."""

    __tablename__ = "profile_values"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    pushed_at: Mapped[datetime]
    run_id: Mapped[int | None]


class PipelineLock(Base):
    """The lease that keeps one pipeline at a time on SQLite (PostgreSQL uses an advisory lock).

    A holder renews `expires_at` while it runs; a crashed holder's lease simply runs out.
    """

    __tablename__ = "pipeline_lock"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))  # host, pid and command
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditEntry(Base):
    """What a person did by hand (outbox fixes, purges, reconciliations), and who."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]


class ProgressionFingerprint(Base):
    """A digest of the last progression record local_cetadsync accepted for a participant, so
    a record is sent again exactly when any of its fields changed (its detail included), and
    the plugin's `recordsepoch` that call answered: the fingerprint holds only while the
    plugin's epoch is still that one (a privacy deletion moves it). None: a plugin without
    the epoch, or a row from before it was kept."""

    __tablename__ = "progression_fingerprints"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the record, hex
    saved_at: Mapped[datetime]
    run_id: Mapped[int | None]
    epoch: Mapped[int | None]
