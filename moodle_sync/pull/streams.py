"""The streams a sync reads, declared once: where each goes and what counts as a change.

Courses are the partitions. Enrolments and assignments hang off a course; submissions, user
flags and grades hang off its assignments. Only submissions and grades accept Moodle's
`since`, so only they keep bookmarks; the others are re-read in full and diffed. How each is
read from Moodle is the path's (`core_source`, `plugin_source`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from moodle_sync.client import models as moodle
from moodle_sync.store import tables
from moodle_sync.store.tables import Base

Row = dict[str, Any]


@dataclass(frozen=True)
class AssignmentStream:
    """Records read by assignment id, stored one row per Moodle record."""

    name: str
    table: type[Base]
    to_row: Callable[[Any, datetime], Row]
    compare: tuple[str, ...]  # columns whose change makes the row "updated"
    incremental: bool  # Moodle filters by `since`; keep a bookmark
    teams: bool = False  # also keeps Moodle's `userid` 0 rows (a team's, on group work)
    modified: Callable[[Any], datetime | None] = lambda record: record.timemodified

    @cached_property
    def key_columns(self) -> tuple[str, ...]:
        columns = self.table.__table__.primary_key.columns  # type: ignore[attr-defined]
        return tuple(column.name for column in columns)

    def key(self, row: Mapping[str, Any]) -> Any:
        """As `diff.stored_rows` keys the stored row: the value of a one-column key."""
        names = self.key_columns
        return row[names[0]] if len(names) == 1 else tuple(row[name] for name in names)


def submission_row(record: moodle.Submission, now: datetime) -> Row:
    return {
        "id": record.id,
        "assignment_id": record.assignment_id,
        "user_id": record.userid or None,  # None: the team's submission of `group_id`
        "group_id": record.groupid if record.userid == 0 else None,
        "attempt": record.attemptnumber,
        "status": record.status,
        "time_created": record.timecreated,
        "time_modified": record.timemodified,
        "last_seen_at": now,
    }


def user_flags_row(record: moodle.UserFlags, now: datetime) -> Row:
    return {
        "assignment_id": record.assignment_id,
        "user_id": record.userid,
        "extension_due_at": record.extensionduedate,
        "locked": record.locked,
        "workflow_state": record.workflowstate or None,
        "last_seen_at": now,
    }


def grade_row(record: moodle.Grade, now: datetime) -> Row:
    return {
        "id": record.id,
        "assignment_id": record.assignment_id,
        "user_id": record.userid,
        "attempt": record.attemptnumber,
        "grade": record.grade,
        "grader_id": record.grader if record.grader > 0 else None,
        "time_modified": record.timemodified,
        "last_seen_at": now,
    }


SUBMISSIONS = AssignmentStream(
    "submissions", tables.Submission, submission_row,
    compare=("status", "attempt", "time_modified"), incremental=True, teams=True,
)  # fmt: skip
USER_FLAGS = AssignmentStream(
    "user_flags", tables.UserFlags, user_flags_row,
    compare=("extension_due_at", "locked", "workflow_state"), incremental=False,
    modified=lambda _record: None,
)  # fmt: skip
GRADES = AssignmentStream(
    "grades", tables.Grade, grade_row,
    compare=("grade", "grader_id", "attempt", "time_modified"), incremental=True,
)  # fmt: skip
ASSIGNMENT_STREAMS = (SUBMISSIONS, USER_FLAGS, GRADES)


def assignment_row(record: moodle.Assignment, now: datetime) -> Row:
    return {
        "id": record.id,
        "course_id": record.course_id,
        "cmid": record.cmid,
        "name": record.name,
        "due_at": record.duedate,
        "cutoff_at": record.cutoffdate,
        "grading_due_at": record.gradingduedate,
        "allow_from_at": record.allowsubmissionsfromdate,
        "max_grade": record.grade,
        "marking_workflow": record.markingworkflow,
        "team_submission": record.teamsubmission,
        "team_grouping_id": record.teamsubmissiongroupingid or None,
        "time_modified": record.timemodified,
        "first_seen_at": now,
        "last_seen_at": now,
        "deleted_at": None,
    }


ASSIGNMENT_COMPARE = ("name", "due_at", "cutoff_at", "grading_due_at", "allow_from_at",
                      "max_grade", "marking_workflow", "team_submission", "team_grouping_id",
                      "deleted_at")  # fmt: skip
