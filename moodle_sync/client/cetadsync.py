"""The local_cetadsync plugin's functions (local_cetadsync/README.md): bulk reads core lacks,
notifications sent at most once per key, progression records, and the progression profile
fields written and described without moodle/user:update."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from moodle_sync.client.enrolments import READING
from moodle_sync.client.envelope import Listing, answer_digest, reading_answer
from moodle_sync.client.models import (
    Course,
    Grade,
    Group,
    MoodleModel,
    MoodleWarning,
    Result,
    Role,
    Submission,
    Timestamp,
    UserFlags,
)
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.client.users import UserUpdate
from moodle_sync.errors import InDoubtError

__all__ = [
    "Delivery",
    "EffectiveDates",
    "PluginEnrolment",
    "ProfileField",
    "SavedProgression",
    "SavedRecord",
    "get_assignment_records",
    "get_courses",
    "get_delivered",
    "get_effective_dates",
    "get_enrolments",
    "get_profile_fields",
    "save_profile_values",
    "save_progression",
    "send_notifications",
]


class PluginEnrolment(MoodleModel):
    """One user enrolment (a user enrolled by two methods has two)."""

    courseid: int
    userid: int
    method: str
    status: Literal["active", "suspended", "notcurrent"]
    reason: str = ""
    roles: list[Role] = Field(default_factory=list)
    groups: list[Group] | None = None  # None: a plugin older than 2026120401 (no groups)


class StudentDates(MoodleModel):
    userid: int
    duedate: Timestamp = None
    cutoffdate: Timestamp = None
    extensionduedate: Timestamp = None


class AssignmentDates(MoodleModel):
    assignmentid: int
    courseid: int
    duedate: Timestamp = None
    cutoffdate: Timestamp = None
    changed: bool
    students: list[StudentDates] = Field(default_factory=list)


class EffectiveDates(MoodleModel):
    time: int  # the next call's `since`
    assignments: list[AssignmentDates] = Field(default_factory=list)
    warnings: list[MoodleWarning] = Field(default_factory=list)


class Delivery(MoodleModel):
    """One key's outcome: sent (duplicate: an earlier call sent it), failed, pending, unknown."""

    idempotencykey: str
    status: Literal["sent", "failed", "pending", "unknown"]
    duplicate: bool = False
    messageid: int = 0
    errorcode: str = ""


def get_courses(
    req: Requester, idnumbers: Sequence[str]
) -> tuple[list[Course], list[MoodleWarning]]:
    """Calls: local_cetadsync_get_courses (every idnumber at once, chunked if many). Each
    course carries its idnumber; an idnumber no course holds is absent, a course the caller
    may not read is a warning."""
    if not idnumbers:
        return [], []
    raw = req.call_batched("local_cetadsync_get_courses", "idnumbers", list(idnumbers))
    with reading_answer("local_cetadsync_get_courses"):
        rows = [Course.model_validate(row) for row in raw["courses"]]
        return rows, [MoodleWarning.model_validate(w) for w in raw.get("warnings") or []]


def get_assignment_records(
    req: Requester, since: Mapping[int, datetime | None]
) -> tuple[dict[str, list[Any]], list[MoodleWarning]]:
    """Calls: local_cetadsync_get_assignment_records (chunked if many courses): every assignment
    of the courses (`since`'s keys), its submissions and grades modified at or after the
    course's ``since`` (None: all) and all its user flags, as mod_assign_get_submissions,
    _get_grades and _get_user_flags select them. Records by stream name (submissions,
    user_flags, grades), and the warnings."""
    if not since:
        return {"submissions": [], "user_flags": [], "grades": []}, []
    courses = [{"courseid": cid, "since": mark or 0} for cid, mark in since.items()]
    raw = req.call_batched("local_cetadsync_get_assignment_records", "courses", courses)
    records: dict[str, list[Any]] = {"submissions": [], "user_flags": [], "grades": []}
    with reading_answer("local_cetadsync_get_assignment_records"):
        for entry in raw.get("assignments") or []:
            aid = {"assignment_id": entry["assignmentid"]}
            records["submissions"] += [Submission.model_validate(r | aid)
                                       for r in entry["submissions"]]  # fmt: skip
            records["user_flags"] += [UserFlags.model_validate(r | aid) for r in entry["userflags"]]
            records["grades"] += [Grade.model_validate(r | aid) for r in entry["grades"]]
        return records, [MoodleWarning.model_validate(w) for w in raw.get("warnings") or []]


def get_enrolments(
    req: Requester, course_ids: Sequence[int], known: Mapping[int, str] | None = None
) -> tuple[dict[int, Listing[PluginEnrolment]], list[MoodleWarning]]:
    """Calls: local_cetadsync_get_enrolments (every course at once, chunked if many). Each
    course read gets a listing of its rows; a course whose rows digest to the one the caller
    `known`s is not read again (most nights, most courses)."""
    raw = req.call_batched("local_cetadsync_get_enrolments", "courseids", list(course_ids))
    with reading_answer("local_cetadsync_get_enrolments"):
        warnings = [MoodleWarning.model_validate(w) for w in raw.get("warnings") or []]
        by_course: dict[int, list[dict[str, Any]]] = {}
        for row in raw["enrolments"]:
            by_course.setdefault(row["courseid"], []).append(row)
        refused = {w.itemid for w in warnings}
        listings = {}
        for cid in dict.fromkeys(course_ids):
            if cid in refused:
                continue
            rows = by_course.get(cid, [])
            digest = answer_digest(rows, READING)
            users = len({row["userid"] for row in rows})
            same = known is not None and known.get(cid) == digest
            items = None if same else [PluginEnrolment.model_validate(row) for row in rows]
            listings[cid] = Listing(digest, users, items)
        return listings, warnings


def get_effective_dates(
    req: Requester, assignment_ids: Sequence[int], since: int = 0
) -> EffectiveDates:
    """Calls: local_cetadsync_get_effective_dates (chunked if many); `since` is a previous
    answer's `time`. Chunks answer at about the same moment: the first chunk's `time` is kept."""
    raw = req.call_batched(
        "local_cetadsync_get_effective_dates", "assignmentids", list(assignment_ids),
        {"since": since},
    )  # fmt: skip
    with reading_answer("local_cetadsync_get_effective_dates"):
        return EffectiveDates.model_validate(raw)


def send_notifications(req: Requester, notifications: Sequence[dict[str, Any]]) -> list[Delivery]:
    """Calls: local_cetadsync_send_notifications (a write: chunked, never retried); one
    result per notification, in order. A key seen before sends nothing and answers
    `duplicate`. If a chunk's outcome is unknown, ``InDoubtError`` is raised with
    ``.completed`` holding the earlier chunks' results (`get_delivered` settles the rest)."""
    results: list[Delivery] = []
    chunks = chunk_rows(list(notifications), "notifications", fixed=None,
                        budget=req.settings.max_input_vars,
                        max_rows=req.settings.max_ids_per_call)  # fmt: skip
    for chunk in chunks:
        try:
            raw = req.call("local_cetadsync_send_notifications", {"notifications": chunk},
                           write=True)  # fmt: skip
            with reading_answer("local_cetadsync_send_notifications", write=True):
                parsed = [Delivery.model_validate(row) for row in raw["results"]]
        except InDoubtError as exc:
            exc.completed = list(results)
            raise
        results.extend(parsed)
    return results


def get_delivered(req: Requester, keys: Sequence[str]) -> list[Delivery]:
    """Calls: local_cetadsync_get_delivered (chunked); one result per key, in the order asked."""
    raw = req.call_batched("local_cetadsync_get_delivered", "idempotencykeys", list(keys))
    with reading_answer("local_cetadsync_get_delivered"):
        return [Delivery.model_validate(row) for row in raw["results"]]


class SavedRecord(MoodleModel):
    """One stored record's outcome: created, updated or unchanged (the upsert compares every
    column)."""

    userid: int
    courseid: int
    outcome: str


class SavedProgression(MoodleModel):
    """The records the plugin stored; a record it refused (unknown user or course) is a
    warning instead. `recordsepoch` counts the plugin's removals of stored records (privacy
    deletions, deleted users or courses), read before this call wrote: when it differs from
    the one a record was accepted under, that record may be gone. None: a plugin older than
    the epoch."""

    results: list[SavedRecord] = Field(default_factory=list)
    warnings: list[MoodleWarning] = Field(default_factory=list)
    recordsepoch: int | None = None


def save_progression(req: Requester, records: Sequence[dict[str, Any]]) -> SavedProgression:
    """Calls: local_cetadsync_save_progression (one transaction for the batch). An upsert, so a
    retried call is harmless; with no records it still records the time as the plugin's
    "last synchronised" (a form-encoded empty list is no variable: `records` has a default)."""
    raw = req.call("local_cetadsync_save_progression", {"records": list(records)})
    with reading_answer("local_cetadsync_save_progression"):
        return SavedProgression.model_validate(raw)


def save_profile_values(req: Requester, updates: Sequence[UserUpdate]) -> Result[list[int]]:
    """Calls: local_cetadsync_save_profile_values (a write: chunked, never retried; setting a
    value is idempotent, so a chunk in doubt is simply sent again next run). ``data`` is the
    users written; a user the plugin refuses (not a student, an administrator, a field that is
    not a progression field) is a warning, as core_user_update_users would give."""
    rows = [{"userid": u.user_id, "fields": [{"shortname": name, "value": value}
             for name, value in u.customfields.items()]} for u in updates]  # fmt: skip
    chunks = chunk_rows(rows, "users", fixed=None, budget=req.settings.max_input_vars,
                        max_rows=req.settings.max_ids_per_call)  # fmt: skip
    warnings: list[MoodleWarning] = []
    for chunk in chunks:
        answer = req.call("local_cetadsync_save_profile_values", {"users": chunk}, write=True)
        with reading_answer("local_cetadsync_save_profile_values", write=True):
            warnings += [MoodleWarning.model_validate(w) for w in answer.get("warnings") or []]
    refused = {w.itemid for w in warnings if w.item == "user"}
    return Result([u.user_id for u in updates if u.user_id not in refused], warnings)


class ProfileField(MoodleModel):
    """One progression field as the site defines it (`visible`: Moodle's PROFILE_VISIBLE_*)."""

    setting: str
    shortname: str
    exists: bool
    name: str = ""
    datatype: str = ""
    locked: bool = False
    visible: int = 0


def get_profile_fields(req: Requester) -> list[ProfileField]:
    """Calls: local_cetadsync_get_profile_fields: the fields save_profile_values writes, whether
    each exists, is locked and who sees it (core has no function that says)."""
    raw = req.call("local_cetadsync_get_profile_fields", {})
    with reading_answer("local_cetadsync_get_profile_fields"):
        return [ProfileField.model_validate(row) for row in raw["fields"]]
