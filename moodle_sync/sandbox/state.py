"""The live, in-memory sandbox site, and the changes tests make to it between syncs.

Handlers read and write it under `lock`; tests call the mutators below (which take the lock) to
play teacher, student or administrator while the service under test keeps syncing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from moodle_sync.sandbox.index import RowIndex
from moodle_sync.sandbox.model import (
    Assignment,
    Course,
    Enrolment,
    Grade,
    Group,
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
    groups: dict[int, Group] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)  # table -> the last id it gave
    # local_cetadsync's tables: sent notifications by key, progression by (user, course), and
    # when each assignment's dates last moved (its events; a row written straight is not seen)
    plugin_sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    plugin_progress: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    # each save_progression call: the user ids it carried (its config `lastsync` is the last)
    plugin_saves: list[tuple[int, ...]] = field(default_factory=list)
    plugin_lastsync: int = 0
    # the plugin's progression fields (its settings) and, per field, (locked, visible) as a site
    # holds them; a field not listed is as the plugin's install leaves it: (True, 3)
    plugin_fields: tuple[str, ...] = ("cetad_progression", "cetad_credits")
    field_rules: dict[str, tuple[bool, int]] = field(default_factory=dict)
    siteadmins: set[int] = field(default_factory=lambda: {2})
    # config `recordsepoch`: counts removals of stored records (privacy deletions, deleted
    # users and courses), which save_progression's answer carries
    plugin_epoch: int = 0
    dates_changed: dict[int, int] = field(default_factory=dict)
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
        """A student's own latest submission (Moodle's row with `groupid` 0)."""
        rows = self._index.submission_rows.group(self.submissions, (assignid, userid))
        return next((s for s in rows if s.groupid == 0), None)

    def team_submission(self, assignid: int, groupid: int) -> Submission | None:
        """A team's submission: Moodle's row with `userid` 0 and the team's group id."""
        rows = self._index.submission_rows.group(self.submissions, (assignid, 0))
        return next((s for s in rows if s.groupid == groupid), None)

    # --- team work, as mod/assign/locallib.php decides it ------------------------------------
    def user_groups(self, courseid: int, userid: int, groupingid: int = 0) -> list[Group]:
        """`groups_get_all_groups(course, user, grouping)`."""
        return [
            g
            for g in sorted(self.groups.values(), key=lambda g: g.id)
            if g.courseid == courseid
            and userid in g.members
            and (not groupingid or groupingid in g.groupings)
        ]

    def submission_group(self, assign: Assignment, userid: int) -> int:
        """`assign::get_submission_group`: the one team group of the user, else 0 (default)."""
        groups = self.user_groups(assign.courseid, userid, assign.teamsubmissiongroupingid)
        return groups[0].id if len(groups) == 1 else 0

    def team_members(self, assign: Assignment, groupid: int) -> list[int]:
        """`get_submission_group_members`: active students whose submission group it is."""
        students = [
            e.userid
            for e in self.course_enrolments(assign.courseid)
            if e.role == "student" and e.status == "active"
        ]
        return [uid for uid in students if self.submission_group(assign, uid) == groupid]

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

    def next_id(self, table: str) -> int:
        """A new row's id in `table` (submissions, grades, ...), as a database sequence gives
        it: never one a deleted row had (a reused id made a grade of one assignment look like
        an unchanged grade of another)."""
        used = max((r.id for r in getattr(self, table)), default=0)
        self.sequences[table] = max(self.sequences.get(table, 0), used) + 1
        return self.sequences[table]

    # --- mutators for tests and the demo ----------------------------------------------------
    def submit(
        self, assignid: int, userid: int, status: str = "submitted", at: int | None = None
    ) -> None:
        """Add or change a student's submission (status new, draft or submitted); on a team
        assignment also the team's, as `assign::update_team_submission` does."""
        with self.lock:
            when = self.clock() if at is None else at
            self._own_row(assignid, userid, status, when)
            assign = self.assignments[assignid]
            if assign.teamsubmission:
                self._team_row(assign, self.submission_group(assign, userid), status, when)

    def _own_row(self, assignid: int, userid: int, status: str, when: int) -> None:
        sub = self.submission(assignid, userid)
        if sub is None:
            sub = Submission(self.next_id("submissions"), assignid, userid, status, when, when)
            self.submissions.append(sub)
        sub.status, sub.timemodified = status, when

    def _team_row(self, assign: Assignment, groupid: int, status: str, when: int) -> None:
        """The team's status: with `requireallteammemberssubmit`, submitted only once every
        member has submitted (else draft); otherwise submitted once anyone has."""
        team = self.team_submission(assign.id, groupid)
        if team is None:
            team = Submission(self.next_id("submissions"), assign.id, 0, "new", when, when,
                              groupid=groupid)  # fmt: skip
            self.submissions.append(team)
        team.status, team.timemodified = status, when
        if status in ("new", "reopened"):
            return
        mine = [self.submission(assign.id, uid) for uid in self.team_members(assign, groupid)]
        done = [s is not None and s.status == "submitted" for s in mine]
        if assign.requireallteammemberssubmit:
            team.status = "submitted" if all(done) else "draft"
        elif any(done):
            team.status = "submitted"

    def add_group(
        self, courseid: int, groupid: int, name: str, members: list[int],
        groupings: list[int] | None = None,
    ) -> None:  # fmt: skip
        """A course group (a team on group assignments)."""
        with self.lock:
            self.groups[groupid] = Group(groupid, courseid, name, list(members), groupings or [])

    def set_team_submission(
        self, assignid: int, require_all: bool = False, groupingid: int = 0
    ) -> None:
        """Turn an assignment into a group assignment (`teamsubmission` on)."""
        with self.lock:
            assign = self.assignments[assignid]
            assign.teamsubmission = 1
            assign.requireallteammemberssubmit = int(require_all)
            assign.teamsubmissiongroupingid = groupingid
            assign.timemodified = self.clock()

    def grade(self, assignid: int, userid: int, grade: float | None, grader: int = 17) -> None:
        """Enter (or with None, open without marking) a grade.

        As Moodle's grader does, grading a student who never opened the assignment creates
        their submission record (status "new"): mod_assign_get_grades only returns grades
        joined to a latest submission.
        """
        with self.lock:
            when = self.clock()
            if self.submission(assignid, userid) is None:
                self._own_row(assignid, userid, "new", when)
            row = self.grade_row(assignid, userid)
            if row is None:
                row = Grade(self.next_id("grades"), assignid, userid, grade, grader, when, when)
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
            self._dates_moved([assignid])

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
            self._dates_moved([assignid])

    def remove_override(self, assignid: int, userid: int) -> None:
        """A teacher deletes a student's override: they have the assignment's dates again."""
        with self.lock:
            self.overrides = [o for o in self.overrides
                              if (o.assignment, o.userid) != (assignid, userid)]  # fmt: skip
            self._dates_moved([assignid])

    def add_course(self, courseid: int, idnumber: str, fullname: str, shortname: str) -> None:
        """A new course in the programme's category (next year's run of a module)."""
        with self.lock:
            template = next(c for c in self.courses.values() if c.idnumber)
            self.courses[courseid] = Course(
                courseid, shortname, fullname, idnumber, template.categoryid,
                max(c.sortorder for c in self.courses.values()) + 1, fullname, "topics",
                template.startdate, template.enddate, self.clock(),
            )  # fmt: skip

    def set_course_idnumber(self, courseid: int, idnumber: str) -> None:
        """Change a course's idnumber, as an administrator does at rollover."""
        with self.lock:
            self.courses[courseid].idnumber = idnumber

    def enrol(self, userid: int, courseid: int, role: str = "student") -> None:
        with self.lock:
            self.enrolments.append(Enrolment(userid, courseid, role))
            self._dates_moved(a.id for a in self.course_assignments(courseid))

    def add_assignment(
        self, assignid: int, courseid: int, name: str, duedate: int, cutoffdate: int = 0
    ) -> None:
        """A new assignment (course module id = assignment id + 1000)."""
        with self.lock:
            now = self.clock()
            self.assignments[assignid] = Assignment(
                assignid, assignid + 1000, courseid, name, now - 86400 * 30, duedate,
                cutoffdate, 0, now,
            )  # fmt: skip

    def suspend_enrolment(self, userid: int, courseid: int) -> None:
        with self.lock:
            enrolment = self.enrolment(userid, courseid)
            if enrolment is None:
                raise KeyError(f"user {userid} is not enrolled in course {courseid}")
            enrolment.status = "suspended"
            self._dates_moved(a.id for a in self.course_assignments(courseid))

    def unenrol(self, userid: int, courseid: int) -> None:
        with self.lock:
            self.enrolments = [
                e for e in self.enrolments if not (e.userid == userid and e.courseid == courseid)
            ]
            self._dates_moved(a.id for a in self.course_assignments(courseid))

    def delete_assignment(self, assignid: int) -> None:
        """Remove an assignment and its rows; Moodle leaves no tombstone."""
        with self.lock:
            del self.assignments[assignid]
            self.submissions = [s for s in self.submissions if s.assignment != assignid]
            self.grades = [g for g in self.grades if g.assignment != assignid]
            self.userflags = [f for f in self.userflags if f.assignment != assignid]

    def privacy_delete(self, userid: int) -> None:
        """Moodle's privacy API deleting one user's plugin data (her progression records and
        sent log), as the plugin's provider does: the epoch moves when a record went."""
        with self.lock:
            mine = [key for key in self.plugin_progress if key[0] == userid]
            for key in mine:
                del self.plugin_progress[key]
            self.plugin_sent = {k: r for k, r in self.plugin_sent.items() if r["userid"] != userid}
            if mine:
                self.plugin_epoch += 1

    def revoke_course_access(self, token: str, courseid: int) -> None:
        """Make one course inaccessible to a token (context checks fail there)."""
        with self.lock:
            self.tokens[token].denied_courses.add(courseid)

    def set_maintenance(self, enabled: bool) -> None:
        """Maintenance mode switched on in the settings: `sitemaintenance` for non-admins."""
        with self.lock:
            self.site.maintenance = enabled

    def _dates_moved(self, assignids: Iterable[int]) -> None:
        """What the plugin's event observers record (`local_cetadsync_datechange`)."""
        now = self.clock()
        for assignid in assignids:
            self.dates_changed[assignid] = now

    def _flag_for(self, assignid: int, userid: int) -> UserFlag:
        flag = self.flag(assignid, userid)
        if flag is None:
            flag = UserFlag(self.next_id("userflags"), assignid, userid)
            self.userflags.append(flag)
        return flag

    # --- side channel -----------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What the service pushed, for tests and the demo (never includes tokens)."""
        with self.lock:
            return {
                "now": self.clock(),
                "messages": [asdict(m) for m in self.messages],
                "notifications": [dict(row) for row in self.plugin_sent.values()],
                "profile_fields": {
                    str(u.id): dict(u.customfields) for u in self.users.values() if u.customfields
                },
                "extensions": [asdict(f) for f in self.userflags if f.extensionduedate],
                "submissions": [asdict(s) for s in self.submissions if s.status != "new"],
                "maintenance": self.site.maintenance,
            }


class _Indexes:
    """One index per lookup; each rebuilds alone when its list changes (see index.py)."""

    def __init__(self) -> None:
        self.enrolment = RowIndex[tuple[int, int], Enrolment](lambda e: (e.userid, e.courseid))
        self.course_enrolments = RowIndex[int, Enrolment](lambda e: e.courseid)
        self.user_enrolments = RowIndex[int, Enrolment](lambda e: e.userid)
        self.submission_rows = RowIndex[tuple[int, int], Submission](
            lambda s: (s.assignment, s.userid)
        )
        self.assignment_submissions = RowIndex[int, Submission](lambda s: s.assignment)
        self.grade = RowIndex[tuple[int, int], Grade](lambda g: (g.assignment, g.userid))
        self.assignment_grades = RowIndex[int, Grade](lambda g: g.assignment)
        self.flag = RowIndex[tuple[int, int], UserFlag](lambda f: (f.assignment, f.userid))
        self.assignment_flags = RowIndex[int, UserFlag](lambda f: f.assignment)
