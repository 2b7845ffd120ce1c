"""The live, in-memory sandbox site, and the changes tests make to it between syncs.

Handlers read and write it under `lock`; tests call the mutators below (which take the lock) to
play teacher, student or administrator while the service under test keeps syncing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

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

    def clock(self) -> int:
        """Current site time: the scenario's now plus the wall-clock time since loading."""
        return self.now + int(time.monotonic() - self._started)

    # --- lookups used by the handlers -------------------------------------------------------
    def enrolment(self, userid: int, courseid: int) -> Enrolment | None:
        return next(
            (e for e in self.enrolments if e.userid == userid and e.courseid == courseid), None
        )

    def course_enrolments(self, courseid: int) -> list[Enrolment]:
        return sorted(
            (e for e in self.enrolments if e.courseid == courseid), key=lambda e: e.userid
        )

    def submission(self, assignid: int, userid: int) -> Submission | None:
        return next(
            (s for s in self.submissions if s.assignment == assignid and s.userid == userid), None
        )

    def flag(self, assignid: int, userid: int) -> UserFlag | None:
        return next(
            (f for f in self.userflags if f.assignment == assignid and f.userid == userid), None
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
        """Enter (or with None, open without marking) a grade."""
        with self.lock:
            when = self.clock()
            row = next(
                (g for g in self.grades if g.assignment == assignid and g.userid == userid), None
            )
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
