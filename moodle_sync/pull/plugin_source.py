"""The pull on the plugin path: local_cetadsync's bulk functions.

Every mapped course is found in one `local_cetadsync_get_courses` (it returns idnumbers to
its own capability, so a rollover shows), enrolments of every course come in one
`local_cetadsync_get_enrolments`, the records of a group of courses in one
`local_cetadsync_get_assignment_records` (on an incremental run, only what changed), and
students' own dates in bulk and incrementally. Each lands in the same store rows as the core
path's reads.

Enrolments: the plugin's rows carry status, roles and groups but no names: names come from
core_user_get_users_by_field (chunked) for the users the store does not know yet (for all of
them on a `--full` run, which is how a changed name arrives). A plugin older than 2026120401
sends no groups: then a course with a team-submission assignment, whose teams are its groups,
is read again through core, one call for that course.

Own dates: every live assignment of the mapped courses in one call (chunked if many),
instead of one mod_assign_get_participant per open pair. The core path asks only the *open*
pairs (`cohort.own_dates.open_pairs`), because each costs a call and choosing them costs a
read of the whole store. Here one call covers every assignment, and the plugin records when an
assignment's dates, overrides or students last changed. Its answer for an assignment lists
the students whose dates are their own; everyone else has the assignment's. The store keeps
that answer as it is: a row for each listed student (the same row the core path writes for
an override) and no row for the others, which `cohort` reads as the assignment's dates. So a
first sync writes a row per override, not per student, and a night with nothing changed reads
nothing but the bookmarks. (A user listed who is not, or not yet, an active student in the
store has her row too: a role given later needs no new read.)

Each assignment keeps a bookmark (stream `own_dates`, partition the assignment id): the
plugin's `time` from the answer that last listed its students, committed with the rows. An
assignment read before is asked with that `since`: `changed: false` keeps the stored rows.
A changed one has its active students' rows replaced by the answer. An assignment never read,
or a `--full` run, asks with `since=0`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.assignments import get_assignments
from moodle_sync.client.cetadsync import (
    AssignmentDates,
    PluginEnrolment,
    get_assignment_records,
    get_courses,
    get_effective_dates,
    get_enrolments,
)
from moodle_sync.client.envelope import Listing
from moodle_sync.client.models import Course, EnrolledUser, User
from moodle_sync.client.users import get_users_by_field
from moodle_sync.cohort.rows import STUDENT_ROLE
from moodle_sync.errors import RetriableError, SkippableError
from moodle_sync.probe import AccessReport, attempter
from moodle_sync.pull.core_source import fetch_enrolments
from moodle_sync.pull.fetch import (
    Bookmarks,
    Counted,
    CourseData,
    Fetched,
    Progress,
    all_bookmarked,
    attempt,
    course_since,
    describe,
    fetch_assignments,
    record_groups,
    split_records,
)
from moodle_sync.pull.source import OwnDatesReport
from moodle_sync.pull.streams import ASSIGNMENT_STREAMS
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import Assignment, Bookmark, Enrolment, OwnDates
from moodle_sync.store.tables import Course as CourseRow
from moodle_sync.store.tables import User as UserRow
from moodle_sync.store.upsert import upsert

__all__ = ["PluginSource", "refresh_own_dates_bulk", "stored_people"]

log = logging.getLogger(__name__)
STREAM = "own_dates"
MAX_USERS_BOUND = 5000  # more user ids than this are not bound as parameters: all are read
PLUGIN_MESSAGING = "notifications through local_cetadsync: each student's preferences decide"


@dataclass
class PluginSource:
    """Reads through local_cetadsync, as the integration user."""

    requester: Requester

    def find_courses(self, wanted: Sequence[str]) -> dict[str, Course]:
        """Calls: local_cetadsync_get_courses once (chunked if many)."""
        return _by_plugin(self.requester, list(wanted))

    def read_courses(
        self,
        courses: Sequence[Course],
        known_cmids: Mapping[int, int],
        progress: Progress | None,
        *,
        sessions: sessionmaker[Session],
        full: bool,
        digests: Mapping[int, str],
    ) -> Fetched:
        """Calls: mod_assign_get_assignments, then the enrolments in bulk (after the
        assignments, which say which courses need groups). Names come from the store unless
        `full`, which is how a changed name arrives."""
        fetched = Fetched({course.id: CourseData(course) for course in courses})
        counted = Counted("reading enrolments", len(courses), progress)
        fetch_assignments(self.requester, fetched, known_cmids)
        known = _nobody if full else stored_people(sessions)
        fetch_enrolments_bulk(self.requester, fetched, counted, known, digests)
        return fetched

    def record_groups(
        self, fetched: Fetched, bookmarks: Bookmarks, *, full: bool
    ) -> list[list[CourseData]]:
        """An incremental read (every course bookmarked, not `--full`) groups courses, not
        assignments: one call per `max_ids_per_call` courses brings what changed."""
        per_course = not full and all_bookmarked(fetched, bookmarks)
        limit = self.requester.settings.max_ids_per_call
        return record_groups(fetched, limit, bookmarks, per_course=per_course)

    def read_records(
        self,
        fetched: Fetched,
        group: Sequence[CourseData],
        bookmarks: Bookmarks,
        *,
        full: bool,
        window: dt.timedelta,
    ) -> None:
        fetch_group_records_bulk(self.requester, fetched, group, bookmarks, full=full,
                                 window=window)  # fmt: skip

    def refresh_own_dates(
        self,
        sessions: sessionmaker[Session],
        programme: Programme,
        now: dt.datetime,
        *,
        full: bool,
        run_id: int | None,
    ) -> OwnDatesReport:
        return refresh_own_dates_bulk(self.requester, sessions, programme, now, full=full,
                                      run_id=run_id)  # fmt: skip

    def probe(self, course: Course, userid: int, available: set[str]) -> AccessReport:
        return probe_plugin_access(self.requester, course.id, course.idnumber, available)


def _by_plugin(requester: Requester, wanted: list[str]) -> dict[str, Course]:
    """A course the plugin refuses (a warning) is missing, as core's lookup would leave it."""
    courses, warnings = get_courses(requester, wanted)
    for warning in warnings:
        log.warning("local_cetadsync_get_courses: course %s not readable: %s (%s)",
                    warning.itemid, warning.message, warning.warningcode)  # fmt: skip
    found: dict[str, Course] = {}
    for course in courses:  # ordered by idnumber, then id: the lowest id wins, as in core
        found.setdefault(course.idnumber, course)
    return found


def stored_people(sessions: sessionmaker[Session]) -> Callable[[Collection[int]], dict[int, User]]:
    """A look-up of stored users' names, as core_user_get_users_by_field would give them."""

    def lookup(ids: Collection[int]) -> dict[int, User]:
        with sessions() as session:
            rows = session.execute(
                select(UserRow.id, UserRow.username, UserRow.firstname, UserRow.lastname,
                       UserRow.email, UserRow.idnumber).where(UserRow.id.in_(sorted(ids)))
            )  # fmt: skip
            return {uid: User(id=uid, username=username, firstname=first, lastname=last,
                              fullname=f"{first} {last}", email=email, idnumber=idnumber)
                    for uid, username, first, last, email, idnumber in rows}  # fmt: skip

    return lookup


def fetch_enrolments_bulk(
    requester: Requester,
    fetched: Fetched,
    counted: Counted,
    known: Callable[[Collection[int]], Mapping[int, User]],
    digests: Mapping[int, str],
) -> None:
    """Calls: local_cetadsync_get_enrolments, core_user_get_users_by_field; with a plugin
    that sends no groups, core_enrol_get_enrolled_users for each course with team submissions.

    A course whose rows digest to its stored `digests` entry keeps its stored rows; names are
    looked up (`known`, then Moodle) only for the courses read again."""
    ids = [cid for cid in fetched.courses if cid not in fetched.failures]
    if not ids:
        return
    answer = attempt(lambda: get_enrolments(requester, ids, digests))
    if isinstance(answer, Exception):
        fetched.fail(ids, f"enrolments: {answer}")
        return
    listings, warnings = answer
    rows = [row for listing in listings.values() for row in listing.items or ()]
    if any(row.groups is None for row in rows):
        teams = [
            cid for cid in ids if any(a.teamsubmission for a in fetched.courses[cid].assignments)
        ]
        fetch_enrolments(requester, fetched, counted, teams, digests=digests)
        ids = [cid for cid in ids if cid not in teams]
    for warning in warnings:
        fetched.fail([warning.itemid or 0], f"enrolments: {describe(warning)}")
    wanted = {r.userid for cid in ids if cid in listings for r in listings[cid].items or ()}
    stored = known(wanted) if wanted else {}
    unknown = sorted(wanted - set(stored))
    people = attempt(lambda: get_users_by_field(requester, "id", unknown) if unknown else [])
    if isinstance(people, Exception):
        fetched.fail(ids, f"enrolments (users' names): {people}")
        return
    names = {**stored, **{user.id: user for user in people}}
    for cid in ids:
        if cid in fetched.failures or cid not in listings:
            counted.step()
            continue
        listing = listings[cid]
        users = None
        if listing.items is not None:
            mine: dict[int, list[PluginEnrolment]] = defaultdict(list)
            for row in listing.items:
                mine[row.userid].append(row)
            users = [enrolled(names.get(uid), uid, rows) for uid, rows in sorted(mine.items())]
        fetched.courses[cid].enrolled(Listing(listing.digest, listing.count, users))
        counted.step()


def enrolled(user: User | None, userid: int, rows: Sequence[PluginEnrolment]) -> EnrolledUser:
    """One user of a course as core_enrol_get_enrolled_users would list them: active
    when any of their enrolments is; suspended, ended or not started is `suspended` (trap 6)."""
    roles = {role.roleid: role for row in rows for role in row.roles}
    active = any(row.status == "active" for row in rows)
    return EnrolledUser(
        id=userid,
        username=user.username if user else "",
        firstname=user.firstname if user else "",
        lastname=user.lastname if user else "",
        fullname=user.fullname if user else "",
        email=user.email if user else "",
        idnumber=user.idnumber if user else "",
        roles=[roles[rid] for rid in sorted(roles)],
        groups=sorted(
            {g.id: g for row in rows for g in row.groups or []}.values(), key=lambda g: g.id
        ),
        status="active" if active else "suspended",
    )


def _nobody(ids: Collection[int]) -> Mapping[int, User]:
    return {}


def fetch_group_records_bulk(
    requester: Requester,
    fetched: Fetched,
    group: Sequence[CourseData],
    bookmarks: Bookmarks,
    *,
    full: bool,
    window: dt.timedelta,
) -> None:
    """The three streams of a group's courses in one call. Each course is read from its own
    `since`: the earlier of its submission and grade bookmarks, less the window (none on a
    full read or while it has no bookmark yet), so each stream gets at least what its own
    `since` would bring; user flags come whole, as core's read gives them, and are diffed as
    before."""
    since = {data.course.id: course_since(data, bookmarks, full, window) for data in group}
    course_ids = list(since)
    answer = attempt(lambda: get_assignment_records(requester, since))
    if isinstance(answer, Exception):
        fetched.fail(course_ids, f"assignment records: {answer}")
        return
    records, warnings = answer
    owner = {a.id: data.course.id for data in group for a in data.assignments}
    for warning in warnings:
        if warning.item == "course" and warning.itemid in course_ids:
            fetched.fail([warning.itemid], f"assignment records: {describe(warning)}")
        elif warning.item == "assignment" and warning.itemid in owner:
            fetched.fail([owner[warning.itemid]], f"assignment records: {describe(warning)}")
        else:  # an assignment mod_assign_get_assignments did not list: not read on any path
            log.info("assignment records: %s", describe(warning))
    for stream in ASSIGNMENT_STREAMS:
        split_records(fetched, stream, group, records[stream.name], [], None)


def refresh_own_dates_bulk(
    requester: Requester,
    sessions: sessionmaker[Session],
    programme: Programme,
    now: dt.datetime,
    *,
    full: bool = False,
    run_id: int | None = None,
) -> OwnDatesReport:
    """Calls: local_cetadsync_get_effective_dates, once per distinct `since` (chunked)."""
    with sessions() as session:
        live = set(session.scalars(_live_assignments(programme)))
        marks = {} if full else _bookmarks(session, live)
    by_since: dict[int, set[int]] = defaultdict(set)
    for aid in live:
        by_since[marks.get(aid, 0)].add(aid)
    report = OwnDatesReport()
    answers: dict[int, AssignmentDates] = {}
    times: dict[int, int] = {}
    failed: dict[int, str] = {}
    for since, aids in sorted(by_since.items()):
        report.asked += 1
        try:
            answer = get_effective_dates(requester, sorted(aids), since)
        except (SkippableError, RetriableError) as exc:
            failed.update(dict.fromkeys(aids, f"{exc.errorcode}: {exc}"))
            continue
        for warning in answer.warnings:
            failed[warning.itemid or 0] = f"{warning.warningcode}: {warning.message}"
        for item in answer.assignments:
            answers[item.assignmentid] = item
            times[item.assignmentid] = answer.time
    changed = {aid: answer for aid, answer in answers.items() if answer.changed}
    with sessions.begin() as session:
        for aid, uids in _students(session, set(failed)).items():
            report.unconfirmed.update({(aid, uid): failed[aid] for uid in uids})
        _replace(session, changed, now, report)
        _advance(session, answers, times, now, run_id)
    return report


def _replace(
    session: Session, changed: dict[int, AssignmentDates], now: dt.datetime, report: OwnDatesReport
) -> None:
    """The changed assignments' rows become the answer's. The plugin lists every user enrolled
    in the course (in any state, any role) whose dates are her own, so each listed user gets a
    row, and a stored row of a user still enrolled but no longer listed goes (a removed
    override, or a core-path row that now matches the assignment). A user the store no longer
    has enrolled keeps her last row, as on the core path."""
    stored: dict[int, set[int]] = defaultdict(set)
    query = select(OwnDates.assignment_id, OwnDates.user_id)
    for aid, uid in session.execute(query.where(OwnDates.assignment_id.in_(sorted(changed)))):
        stored[aid].add(uid)
    enrolled = _enrolled(session, set(stored), set().union(*stored.values()))
    rows = []
    for aid, answer in sorted(changed.items()):
        listed = {own.userid for own in answer.students}
        gone = (stored[aid] & enrolled.get(aid, set())) - listed
        if gone:
            session.execute(delete(OwnDates).where(OwnDates.assignment_id == aid,
                                                   OwnDates.user_id.in_(sorted(gone))))  # fmt: skip
        for own in answer.students:
            overridden = (own.duedate != answer.duedate, own.cutoffdate != answer.cutoffdate)
            report.overrides += any(overridden)
            rows.append({"assignment_id": aid, "user_id": own.userid, "checked_at": now,
                         "due_at": own.duedate, "cutoff_at": own.cutoffdate,
                         "due_overridden": overridden[0], "cutoff_overridden": overridden[1],
                         "participant": True})  # fmt: skip
    upsert(session, OwnDates, rows)


def _live_assignments(programme: Programme) -> Select[int]:
    """The live assignments of the mapped courses still current (a course that rolled over
    is history)."""
    current = select(CourseRow.id).where(
        CourseRow.idnumber.in_(list(programme.mapped_courses())), CourseRow.replaced_at.is_(None)
    )
    return select(Assignment.id).where(
        Assignment.course_id.in_(current), Assignment.deleted_at.is_(None)
    )


def _students(session: Session, aids: set[int]) -> dict[int, list[int]]:
    """Assignment id -> its active students, in user id order (read by course: a course's
    students are every assignment's)."""
    out: dict[int, list[int]] = {}
    for aid, rows in _enrolments(session, aids, None, active=True).items():
        out[aid] = [uid for uid, roles in rows if STUDENT_ROLE in roles.split(",")]
    return out


def _enrolled(session: Session, aids: set[int], users: set[int]) -> dict[int, set[int]]:
    """Assignment id -> which of `users` are enrolled in its course, in any state."""
    found = _enrolments(session, aids, users, active=False)
    return {aid: {uid for uid, _roles in rows} for aid, rows in found.items()}


def _enrolments(
    session: Session, aids: set[int], users: set[int] | None, *, active: bool
) -> dict[int, list[tuple[int, str]]]:
    """Assignment id -> (user, roles) of the stored enrolments in its course not ended (only
    active ones if `active`; of `users` only, if given), in user id order."""
    if not aids or users == set():
        return {}
    by_id = select(Assignment.id, Assignment.course_id).where(Assignment.id.in_(sorted(aids)))
    courses: dict[int, int] = {aid: cid for aid, cid in session.execute(by_id)}
    query = select(Enrolment.course_id, Enrolment.user_id, Enrolment.roles).where(
        Enrolment.course_id.in_(sorted(set(courses.values()))), Enrolment.ended_at.is_(None)
    )
    if active:
        query = query.where(Enrolment.status == "active")
    if users is not None and len(users) <= MAX_USERS_BOUND:
        query = query.where(Enrolment.user_id.in_(sorted(users)))
    by_course: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cid, uid, roles in sorted(session.execute(query).all()):
        if users is None or uid in users:
            by_course[cid].append((uid, roles))
    return {aid: by_course[cid] for aid, cid in sorted(courses.items()) if cid in by_course}


def _bookmarks(session: Session, aids: set[int]) -> dict[int, int]:
    query = select(Bookmark.partition, Bookmark.value).where(Bookmark.stream == STREAM)
    marks = {int(p): v for p, v in session.execute(query) if int(p) in aids}
    return {aid: int(_aware(value).timestamp()) for aid, value in marks.items()}


def _advance(
    session: Session,
    answers: dict[int, AssignmentDates],
    times: dict[int, int],
    now: dt.datetime,
    run_id: int | None,
) -> None:
    """An assignment whose students were listed is current as of that answer's `time`."""
    rows = [{"stream": STREAM, "partition": str(aid), "run_id": run_id, "updated_at": now,
             "value": dt.datetime.fromtimestamp(times[aid], dt.UTC)}
            for aid, answer in answers.items() if answer.changed]  # fmt: skip
    upsert(session, Bookmark, rows)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def probe_plugin_access(
    req: Requester, course_id: int, idnumber: str, available: set[str]
) -> AccessReport:
    """Make each read of the plugin path once on `course_id` (enrolments, assignments, their
    records and own dates, a student's name), naming every refusal with the capabilities to
    grant. Messaging has nothing of the role's to prove: notifications come from the site."""
    report = AccessReport(idnumber, messaging=PLUGIN_MESSAGING)
    attempt = attempter(report, available)
    enrolments = attempt("local_cetadsync_get_enrolments", lambda: get_enrolments(req, [course_id]))
    listing = enrolments[0].get(course_id) if enrolments else None
    rows = (listing.items or []) if listing else []
    students = sorted({r.userid for r in rows if any(x.shortname == "student" for x in r.roles)})
    found = attempt("mod_assign_get_assignments", lambda: get_assignments(req, [course_id]))
    attempt("local_cetadsync_get_assignment_records",
            lambda: get_assignment_records(req, {course_id: None}))  # fmt: skip
    assignment = next(iter(found.data), None) if found else None
    if assignment is not None:
        attempt("local_cetadsync_get_effective_dates",
                lambda: get_effective_dates(req, [assignment.id]))  # fmt: skip
    if students:
        named = attempt("core_user_get_users_by_field",
                        lambda: get_users_by_field(req, "id", students[:1]))  # fmt: skip
        if named is not None and not any(u.firstname or u.lastname for u in named):
            report.problems.append(
                f"students' names are hidden from the integration user (user id {students[0]}): "
                "grant moodle/site:viewfullnames, or reminders say 'Dear user N'"
            )
    return report
