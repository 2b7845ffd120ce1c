"""The live, in-memory sandbox site, and the changes tests make to it between syncs.

Handlers read and write it under `lock`; tests call the mutators below (which take the lock) to
play teacher, student or administrator while the service under test keeps syncing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from moodle_sync.sandbox.index import RowIndex
from moodle_sync.sandbox.model import (
    Assignment,
    Course,
    Enrolment,
    Grade,
    Message,
    Override,
    Site,
    Submission,
    Token,
    User,
    UserFlag,
)


@dataclass
class SiteState:
    site: Site
    now: int  # the scenario's "now"; the clock runs on from it
    profile_fields: dict[str, tuple[str, str]]  # shortname -> (display name, type)
    categories: dict[int, str]
    courses: dict[int, Course]
    users: dict[int, User]
    enrolments: list[Enrolment]
    assignments: dict[int, Assignment]
    submissions: list[Submission]
    grades: list[Grade]
    userflags: list[UserFlag]
    overrides: list[Override]
    tokens: dict[str, Token]
    installed_functions: set[str]
    messages: list[Message] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _started: float = field(default_factory=time.monotonic, repr=False)
    _base: float | None = field(default=None, repr=False)  # set by set_clock; else `now`
    _index: _Indexes = field(default_factory=lambda: _Indexes(), repr=False)

    def clock(self) -> int:
        """Current site time: the clock's last setting (the scenario's now) plus time since."""
        base = self.now if self._base is None else self._base
        return int(base + time.monotonic() - self._started)

    def set_clock(self, now: float) -> None:
        """Move the site's clock (it runs on from there): times the service writes follow it."""
        with self.lock:
            self._base, self._started = now, time.monotonic()

    def advance_clock(self, seconds: int) -> None:
        self.set_clock(self.clock() + seconds)

    # --- lookups used by the handlers (indexed: a generated site has 50,000 rows) -------------
    def enrolment(self, userid: int, courseid: int) -> Enrolment | None:
        return self._index.enrolment.first(self.enrolments, (userid, courseid))

    def course_enrolments(self, courseid: int) -> list[Enrolment]:
        rows = self._index.course_enrolments.group(self.enrolments, courseid)
        return sorted(rows, key=lambda e: e.userid)

    def user_enrolments(self, userid: int) -> list[Enrolment]:
        return list(self._index.user_enrolments.group(self.enrolments, userid))

    def submission(self, assignid: int, userid: int) -> Submission | None:
        return self._index.submission.first(self.submissions, (assignid, userid))

    def assignment_submissions(self, assignid: int) -> list[Submission]:
        rows = self._index.assignment_submissions.group(self.submissions, assignid)
        return sorted(rows, key=lambda s: s.id)

    def grade_row(self, assignid: int, userid: int) -> Grade | None:
        return self._index.grade.first(self.grades, (assignid, userid))

    def assignment_grades(self, assignid: int) -> list[Grade]:
        rows = self._index.assignment_grades.group(self.grades, assignid)
        return sorted(rows, key=lambda g: g.id)

    def flag(self, assignid: int, userid: int) -> UserFlag | None:
        return self._index.flag.first(self.userflags, (assignid, userid))

    def assignment_flags(self, assignid: int) -> list[UserFlag]:
        rows = self._index.assignment_flags.group(self.userflags, assignid)
        return sorted(rows, key=lambda f: f.id)

    def course_assignments(self, courseid: int) -> list[Assignment]:
        return sorted(
            (a for a in self.assignments.values() if a.courseid == courseid), key=lambda a: a.id
        )

    def override(self, assignid: int, userid: int) -> Override | None:
        return next(
            (o for o in self.overrides if o.assignment == assignid and o.userid == userid), None
        )

    def next_id(self, rows: list[Any]) -> int:
        return max((r.id for r in rows), default=0) + 1

    # --- mutators for tests and the demo ----------------------------------------------------
    def submit(
        self, assignid: int, userid: int, status: str = "submitted", at: int | None = None
    ) -> None:
        """Add or change a student's submission (status new, draft or submitted)."""
        with self.lock:
            when = self.clock() if at is None else at
            sub = self.submission(assignid, userid)
            if sub is None:
                sub = Submission(
                    self.next_id(self.submissions), assignid, userid, status, when, when
                )
                self.submissions.append(sub)
            sub.status, sub.timemodified = status, when

    def grade(self, assignid: int, userid: int, grade: float | None, grader: int = 17) -> None:
        """Enter (or with None, open without marking) a grade.

        As Moodle's grader does, grading a student who never opened the assignment creates
        their submission record (status "new"): mod_assign_get_grades only returns grades
        joined to a latest submission.
        """
        with self.lock:
            when = self.clock()
            if self.submission(assignid, userid) is None:
                self.submit(assignid, userid, status="new", at=when)
            row = self.grade_row(assignid, userid)
            if row is None:
                row = Grade(self.next_id(self.grades), assignid, userid, grade, grader, when, when)
                self.grades.append(row)
            row.grade, row.grader, row.timemodified = grade, grader, when

    def set_workflow_state(self, assignid: int, userid: int, state: str) -> None:
        """Move a grade through marking workflow (inmarking, readyforrelease, released...)."""
        with self.lock:
            self._flag_for(assignid, userid).workflowstate = state

    def grant_extension(self, assignid: int, userid: int, until: int) -> None:
        """Set `extensionduedate`; 0 removes the extension."""
        with self.lock:
            self._flag_for(assignid, userid).extensionduedate = until

    def remove_extension(self, assignid: int, userid: int) -> None:
        self.grant_extension(assignid, userid, 0)

    def move_due_date(self, assignid: int, duedate: int, cutoffdate: int | None = None) -> None:
        """Change an assignment's base dates, as a teacher editing its settings would."""
        with self.lock:
            assign = self.assignments[assignid]
            assign.duedate = duedate
            if cutoffdate is not None:
                assign.cutoffdate = cutoffdate
            assign.timemodified = self.clock()

    def override_due_date(self, assignid: int, userid: int, duedate: int) -> None:
        """A per-student override, which only mod_assign_get_participant shows."""
        with self.lock:
            existing = self.override(assignid, userid)
            if existing is None:
                self.overrides.append(Override(assignid, userid, duedate=duedate))
            else:
                existing.duedate = duedate

    def suspend_enrolment(self, userid: int, courseid: int) -> None:
        with self.lock:
            enrolment = self.enrolment(userid, courseid)
            if enrolment is None:
                raise KeyError(f"user {userid} is not enrolled in course {courseid}")
            enrolment.status = "suspended"

    def unenrol(self, userid: int, courseid: int) -> None:
        with self.lock:
            self.enrolments = [
                e for e in self.enrolments if not (e.userid == userid and e.courseid == courseid)
            ]

    def delete_assignment(self, assignid: int) -> None:
        """Remove an assignment and its rows; Moodle leaves no tombstone."""
        with self.lock:
            del self.assignments[assignid]
            self.submissions = [s for s in self.submissions if s.assignment != assignid]
            self.grades = [g for g in self.grades if g.assignment != assignid]
            self.userflags = [f for f in self.userflags if f.assignment != assignid]

    def revoke_course_access(self, token: str, courseid: int) -> None:
        """Make one course inaccessible to a token (context checks fail there)."""
        with self.lock:
            self.tokens[token].denied_courses.add(courseid)

    def set_maintenance(self, enabled: bool) -> None:
        """Maintenance mode switched on in the settings: `sitemaintenance` for non-admins."""
        with self.lock:
            self.site.maintenance = enabled

    def _flag_for(self, assignid: int, userid: int) -> UserFlag:
        flag = self.flag(assignid, userid)
        if flag is None:
            flag = UserFlag(self.next_id(self.userflags), assignid, userid)
            self.userflags.append(flag)
        return flag

    # --- side channel -----------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What the service pushed, for tests and the demo (never includes tokens)."""
        with self.lock:
            return {
                "now": self.clock(),
                "messages": [asdict(m) for m in self.messages],
                "profile_fields": {
                    str(u.id): dict(u.customfields) for u in self.users.values() if u.customfields
                },
                "extensions": [asdict(f) for f in self.userflags if f.extensionduedate],
                "maintenance": self.site.maintenance,
            }


class _Indexes:
    """One index per lookup; each rebuilds alone when its list changes (see index.py)."""

    def __init__(self) -> None:
        self.enrolment = RowIndex[tuple[int, int], Enrolment](lambda e: (e.userid, e.courseid))
        self.course_enrolments = RowIndex[int, Enrolment](lambda e: e.courseid)
        self.user_enrolments = RowIndex[int, Enrolment](lambda e: e.userid)
        self.submission = RowIndex[tuple[int, int], Submission](lambda s: (s.assignment, s.userid))
        self.assignment_submissions = RowIndex[int, Submission](lambda s: s.assignment)
        self.grade = RowIndex[tuple[int, int], Grade](lambda g: (g.assignment, g.userid))
        self.assignment_grades = RowIndex[int, Grade](lambda g: g.assignment)
        self.flag = RowIndex[tuple[int, int], UserFlag](lambda f: (f.assignment, f.userid))
        self.assignment_flags = RowIndex[int, UserFlag](lambda f: f.assignment)
