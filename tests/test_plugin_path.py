"""The plugin path (local_cetadsync) against the core path: the same facts, fewer calls.

The same scenario, at the same moment, is pulled once with the core-only token and once with
the plugin's; the stored rows the rules read and the statuses they decide must be identical.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.cohort.rows import Pair
from moodle_sync.paths import detect
from moodle_sync.rules.policy import load_programme
from moodle_sync.run import PipelineReport
from moodle_sync.sandbox import INTEGRATION_TOKEN, PLUGIN_TOKEN, Sandbox, start_sandbox
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.settings import MoodleSettings, Settings
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import (
    Bookmark,
    Enrolment,
    Grade,
    OutboxMessage,
    OwnDates,
    Submission,
    User,
    UserFlags,
)
from tests.conftest import REPO, pipeline

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PROGRAMME = load_programme(REPO / "config" / "programme.toml")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(now=NOW) as running:
        yield running


class Worker:
    """One store and requester on one token."""

    def __init__(self, sandbox: Sandbox, token: str, folder: Path) -> None:
        folder.mkdir()
        self.settings = Settings(
            moodle=MoodleSettings(url=sandbox.url, token=SecretStr(token), max_attempts=1),
            push={"templates_dir": REPO / "config" / "templates"},
        )
        self.sessions: sessionmaker[Session] = open_database(f"sqlite:///{folder}/s.db")[1]
        self.requester = Requester(self.settings.require_moodle(), sleep=lambda _s: None)
        self.functions: Counter[str] = Counter()
        call = self.requester.call

        def counted(function: str, *args: Any, **kwargs: Any) -> Any:
            self.functions[function] += 1
            return call(function, *args, **kwargs)

        self.requester.call = counted  # type: ignore[method-assign]

    def run(self, **options: Any) -> PipelineReport:
        return pipeline(self.settings, PROGRAMME, self.requester, self.sessions, NOW,
                        dry_run=True, **options)  # fmt: skip

    def rows(self) -> dict[str, Any]:
        with self.sessions() as session:
            enrolments = session.execute(
                select(
                    Enrolment.course_id,
                    Enrolment.user_id,
                    Enrolment.status,
                    Enrolment.roles,
                    Enrolment.groups,
                    Enrolment.ended_at,
                )
            ).all()
            users = session.execute(
                select(User.id, User.username, User.firstname, User.lastname, User.email)
            ).all()
            own = session.execute(
                select(
                    OwnDates.assignment_id,
                    OwnDates.user_id,
                    OwnDates.due_at,
                    OwnDates.cutoff_at,
                    OwnDates.due_overridden,
                    OwnDates.cutoff_overridden,
                    OwnDates.participant,
                )
            ).all()
            records = {
                name: sorted(session.execute(select(*columns)).all())
                for name, columns in RECORD_COLUMNS.items()
            }
        return {"enrolments": sorted(enrolments), "users": sorted(users), "own": sorted(own),
                **records}  # fmt: skip


RECORD_COLUMNS: dict[str, tuple[Any, ...]] = {
    "submissions": (Submission.id, Submission.assignment_id, Submission.user_id,
                    Submission.group_id, Submission.attempt, Submission.status,
                    Submission.time_modified),
    "user_flags": (UserFlags.assignment_id, UserFlags.user_id, UserFlags.extension_due_at,
                   UserFlags.locked, UserFlags.workflow_state),
    "grades": (Grade.id, Grade.assignment_id, Grade.user_id, Grade.attempt, Grade.grade,
               Grade.grader_id, Grade.time_modified),
}  # fmt: skip


def both_workers(sandbox: Sandbox, folder: Path) -> tuple[Worker, Worker]:
    """A core-path worker (the admin guide's token) and a plugin-path one, each its own store."""
    return (Worker(sandbox, INTEGRATION_TOKEN, folder / "core"),
            Worker(sandbox, PLUGIN_TOKEN, folder / "plugin"))  # fmt: skip


def assert_same_rows(core: Worker, plugin: Worker, moved: Iterable[Pair] = ()) -> None:
    """Both stores hold the same rows, but for own dates: core stores its answer for each open
    pair it asked, the plugin a row for each student whose dates are their own and none for
    the others (the assignment's dates). For every pair core asked, both say the same dates;
    `moved` pairs, which core may no longer ask, are left out."""
    core_rows, plugin_rows = core.rows(), plugin.rows()
    core_own, plugin_own = own_dates(core_rows.pop("own")), own_dates(plugin_rows.pop("own"))
    for rows in (core_rows, plugin_rows):  # ended at each run's own start: whether, not when
        rows["enrolments"] = [(*row[:5], row[5] is not None) for row in rows["enrolments"]]
    assert plugin_rows == core_rows
    asked = sorted(core_own.keys() - set(moved))
    assert {p: plugin_own.get(p, (None, None)) for p in asked} == {p: core_own[p] for p in asked}


def own_dates(rows: list[Any]) -> dict[Pair, tuple[datetime | None, datetime | None]]:
    """Pair -> (own due date, own cut-off), None where it is the assignment's."""
    return {(aid, uid): (due if due_own else None, cutoff if cutoff_own else None)
            for aid, uid, due, cutoff, due_own, cutoff_own, _participant in rows}  # fmt: skip


def statuses(report: PipelineReport) -> dict[int, tuple[str, tuple[str, ...]]]:
    assert report.evaluation is not None
    return {uid: (r.progression.status, tuple(r.progression.reasons))
            for uid, r in report.evaluation.results.items()}  # fmt: skip


def test_site_info_decides_the_path(sandbox: Sandbox, tmp_path: Path) -> None:
    core, plugin = both_workers(sandbox, tmp_path)
    assert (detect(core.requester).site.name, detect(plugin.requester).site.name) == (
        "core", "plugin")  # fmt: skip


def test_both_paths_store_the_same_rows_and_decide_the_same_statuses(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    core, plugin = both_workers(sandbox, tmp_path)
    core_report, plugin_report = core.run(), plugin.run()
    assert_same_rows(core, plugin)
    assert core.rows()["own"], "the scenario has open pairs to compare"
    assert statuses(plugin_report) == statuses(core_report)
    assert core.functions["mod_assign_get_participant"] > 1
    assert plugin.functions["local_cetadsync_get_enrolments"] == 1
    assert plugin.functions["local_cetadsync_get_effective_dates"] == 1
    assert not plugin.functions["mod_assign_get_participant"]
    assert not plugin.functions["core_enrol_get_enrolled_users"]
    assert plugin.functions["local_cetadsync_get_assignment_records"] == 1
    for core_read in ("mod_assign_get_submissions", "mod_assign_get_user_flags",
                      "mod_assign_get_grades"):  # fmt: skip
        assert not plugin.functions[core_read] and core.functions[core_read] == 1
    plugin.functions.clear()
    plugin.run()
    # the documented role cannot see idnumbers by course id: core looks each one up, the
    # plugin finds every mapped idnumber in one call
    assert plugin.functions["local_cetadsync_get_courses"] == 1
    assert not plugin.functions["core_course_get_courses_by_field"]
    assert not plugin.functions["core_user_get_users_by_field"], "known users: names stored"
    assert sum(plugin.functions.values()) == 6, plugin.functions
    core.functions.clear()
    core.run()
    assert core.functions["core_course_get_courses_by_field"] == 7


def test_an_override_after_the_first_run_lands_the_same_on_both_paths(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    core, plugin = both_workers(sandbox, tmp_path)
    core.run(), plugin.run()
    state = sandbox.state
    moved = {}
    for aid, uid in [row[:2] for row in core.rows()["own"]][:3]:
        state.advance_clock(5)
        moved[(aid, uid)] = state.clock() + 9 * 86400
        state.override_due_date(aid, uid, moved[(aid, uid)])
        state.grant_extension(aid, uid, state.clock() + 12 * 86400)
    state.advance_clock(5)
    core_report, plugin_report = core.run(), plugin.run()
    # an extension can take a pair out of core's open set, so core keeps its last answer;
    # the plugin's call reports the new date whether or not the pair is open
    assert_same_rows(core, plugin, moved=moved)
    own = {(row[0], row[1]): row for row in plugin.rows()["own"]}
    for pair, due in moved.items():
        assert (int(own[pair][2].timestamp()), own[pair][4]) == (due, True)
    assert statuses(plugin_report) == statuses(core_report)


def test_enrolments_changed_after_a_run_land_the_same_on_both_paths(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Each path keeps a course's rows while Moodle's answer for it is unchanged, and reads a
    changed course again: a suspension, an unenrolment and a new student land on both."""
    core, plugin = both_workers(sandbox, tmp_path)
    core.run(), plugin.run()
    state = sandbox.state
    students = [e for e in state.enrolments if e.role == "student" and e.status == "active"]
    state.suspend_enrolment(students[0].userid, students[0].courseid)
    gone = next(e for e in students if e.courseid != students[0].courseid)
    state.unenrol(gone.userid, gone.courseid)
    elsewhere = next(e for e in students if e.courseid not in (students[0].courseid,
                                                               gone.courseid))  # fmt: skip
    newcomer = next(e.userid for e in students if e.courseid != elsewhere.courseid
                    and state.enrolment(e.userid, elsewhere.courseid) is None)  # fmt: skip
    state.enrol(newcomer, elsewhere.courseid)
    state.advance_clock(5)
    core_report, plugin_report = core.run(), plugin.run()
    assert_same_rows(core, plugin)
    enrolments = {(c, u): (status, ended) for c, u, status, _r, _g, ended in plugin.rows()[
        "enrolments"]}  # fmt: skip
    assert enrolments[(students[0].courseid, students[0].userid)][0] == "suspended"
    assert enrolments[(gone.courseid, gone.userid)][1] is not None
    assert (elsewhere.courseid, newcomer) in enrolments
    assert statuses(plugin_report) == statuses(core_report)


def test_a_removed_override_gives_the_student_the_assignments_dates_on_both_paths(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The plugin path keeps a row only for a student whose dates are their own: when the
    override goes, so does the row, and both paths decide with the assignment's dates."""
    core, plugin = both_workers(sandbox, tmp_path)
    core.run(), plugin.run()
    state = sandbox.state
    aid, uid = next(row[:2] for row in core.rows()["own"])
    state.advance_clock(5)
    state.override_due_date(aid, uid, state.clock() + 2 * 86400)
    state.advance_clock(5)
    core.run(), plugin.run()
    assert own_dates(plugin.rows()["own"])[(aid, uid)][0] is not None
    state.advance_clock(5)
    state.remove_override(aid, uid)
    state.advance_clock(5)
    core_report, plugin_report = core.run(), plugin.run()
    assert (aid, uid) not in own_dates(plugin.rows()["own"])
    assert own_dates(core.rows()["own"])[(aid, uid)] == (None, None)
    assert_same_rows(core, plugin)
    assert statuses(plugin_report) == statuses(core_report)


def test_a_rollover_is_seen_on_the_plugin_path_as_on_the_core_path(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The plugin's course lookup carries idnumbers, so a moved idnumber is a rollover."""
    core, plugin = both_workers(sandbox, tmp_path)
    core.run(), plugin.run()
    state = sandbox.state
    old = next(c for c in state.courses.values() if c.idnumber == "CETAD-MPC")
    state.set_course_idnumber(old.id, "CETAD-MPC-2026")
    state.add_course(30, "CETAD-MPC", "Models for Planning Change 2027", "MPC27")
    state.advance_clock(5)
    core_report, plugin_report = core.run(), plugin.run()
    moved = [(r.idnumber, r.old_id, r.new_id) for r in plugin_report.sync.rolled_over]
    assert moved == [("CETAD-MPC", old.id, 30)]
    assert moved == [(r.idnumber, r.old_id, r.new_id) for r in core_report.sync.rolled_over]
    assert_same_rows(core, plugin)
    assert statuses(plugin_report) == statuses(core_report)


def test_the_plugin_course_lookup_answers_like_core_and_refuses_without_its_capability(
    sandbox: Sandbox,
) -> None:
    from moodle_sync.client.cetadsync import get_courses
    from moodle_sync.client.courses import get_courses_by_field
    from moodle_sync.errors import MoodleError
    from moodle_sync.sandbox import PLUGIN_NO_CAPABILITY_TOKEN

    def requester(token: str) -> Requester:
        settings = MoodleSettings(url=sandbox.url, token=SecretStr(token), max_attempts=1)
        return Requester(settings, sleep=lambda _s: None)

    wanted = sorted(PROGRAMME.mapped_courses())
    found, warnings = get_courses(requester(PLUGIN_TOKEN), [*wanted, "NO-SUCH-COURSE", ""])
    assert not warnings and [c.idnumber for c in found] == wanted  # unknown ones: absent
    core = requester(INTEGRATION_TOKEN)
    for course in found:
        [same] = get_courses_by_field(core, "idnumber", [course.idnumber]).data
        fields = ("id", "shortname", "fullname", "startdate", "enddate", "visible")
        assert [getattr(same, f) for f in fields] == [getattr(course, f) for f in fields]
    with pytest.raises(MoodleError) as refused:
        get_courses(requester(PLUGIN_NO_CAPABILITY_TOKEN), wanted)
    assert refused.value.errorcode == "nopermissions"


def test_records_changed_after_a_run_land_the_same_on_both_paths_even_in_the_same_second(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The plugin's one read with `since` loses nothing core's three reads bring: a submission,
    a grade and a workflow state changed after the first run, the submission stamped in the
    very second of the bookmark the next `since` comes from (no safety window here, so only
    `timemodified >= since` keeps it)."""
    core, plugin = both_workers(sandbox, tmp_path)
    for worker in (core, plugin):
        sync = worker.settings.sync.model_copy(update={"safety_window_seconds": 0})
        worker.settings = worker.settings.model_copy(update={"sync": sync})
    core.run(), plugin.run()
    state = sandbox.state
    assignid, userid = core.rows()["own"][0][:2]
    course = state.assignments[assignid].courseid
    with plugin.sessions() as session:  # the course's earlier bookmark: its `since`
        mark = min(session.scalars(select(Bookmark.value).where(
            Bookmark.stream.in_(["submissions", "grades"]),
            Bookmark.partition == str(course))))  # fmt: skip
    same_second = int(mark.replace(tzinfo=UTC).timestamp())
    state.submit(assignid, userid, "submitted", at=same_second)
    state.advance_clock(5)
    graded = next(a for a in state.assignments.values() if state.assignment_submissions(a.id))
    student = state.assignment_submissions(graded.id)[0].userid
    state.grade(graded.id, student, 71.0)
    state.set_workflow_state(graded.id, student, "released")
    state.advance_clock(5)
    core.functions.clear()
    plugin.functions.clear()
    core_report, plugin_report = core.run(), plugin.run()
    assert_same_rows(core, plugin)
    assert statuses(plugin_report) == statuses(core_report)
    stored = plugin.rows()
    [mine] = [row for row in stored["submissions"] if row[1:3] == (assignid, userid)]
    assert (mine[5], mine[6].replace(tzinfo=UTC)) == ("submitted", mark.replace(tzinfo=UTC))
    assert any(row[1:3] == (graded.id, student) and row[4] == 71.0 for row in stored["grades"])
    assert plugin.functions["local_cetadsync_get_assignment_records"] == 1


def test_a_full_run_reads_every_record_again_through_the_plugin(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run and `--full` ask with no `since` (everything, as the core path reads it);
    an incremental run asks each course with its own."""
    import moodle_sync.pull.plugin_source as plugin_source
    from moodle_sync.client.cetadsync import get_assignment_records

    seen: list[Any] = []

    def spy(req: Requester, since: Any) -> Any:
        seen.append(set(since.values()))
        return get_assignment_records(req, since)

    monkeypatch.setattr(plugin_source, "get_assignment_records", spy)
    plugin = Worker(sandbox, PLUGIN_TOKEN, tmp_path / "plugin")
    plugin.run()
    plugin.run()
    plugin.run(full=True)
    assert seen[0] == {None} and None not in seen[1] and seen[2] == {None}


LOTC, LOTC_CASE = 5, 5  # a course and its assignment, made a team assignment below
AMELIA, DANIEL = 5, 12


def test_a_team_course_is_read_in_bulk_with_its_groups(sandbox: Sandbox, tmp_path: Path) -> None:
    """The plugin's enrolments carry groups, so a course whose teams are its groups needs no
    core_enrol_get_enrolled_users; the stored groups are core's."""
    sandbox.state.set_team_submission(LOTC_CASE)
    sandbox.state.add_group(LOTC, 50, "Team North", [AMELIA, DANIEL])
    core, plugin = both_workers(sandbox, tmp_path)
    core.run()
    plugin.run()
    assert (LOTC, AMELIA, "50") in {
        (c, u, g) for c, u, _s, _r, g, _e in plugin.rows()["enrolments"]
    }
    assert_same_rows(core, plugin)
    assert not plugin.functions["core_enrol_get_enrolled_users"]


def test_a_plugin_without_groups_leaves_team_courses_to_core(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin older than 2026120401 sends no groups: the team course is read through core,
    so its teams are not lost."""
    from moodle_sync.sandbox.functions import cetadsync

    full_row = cetadsync._enrolment_row

    def without_groups(call: Any, enrolment: Any) -> dict[str, Any]:
        row = full_row(call, enrolment)
        del row["groups"]
        return row

    monkeypatch.setattr(cetadsync, "_enrolment_row", without_groups)
    sandbox.state.set_team_submission(LOTC_CASE)
    sandbox.state.add_group(LOTC, 50, "Team North", [AMELIA, DANIEL])
    core, plugin = both_workers(sandbox, tmp_path)
    core.run()
    plugin.run()
    assert_same_rows(core, plugin)
    assert plugin.functions["core_enrol_get_enrolled_users"] == 1


@pytest.mark.parametrize(
    ("token", "records"),
    [(INTEGRATION_TOKEN, "mod_assign_get_submissions"),
     (PLUGIN_TOKEN, "local_cetadsync_get_assignment_records")],
)  # fmt: skip
def test_a_course_the_pull_could_not_read_sends_no_reminder_on_its_old_facts(
    sandbox: Sandbox, tmp_path: Path, token: str, records: str
) -> None:
    """Planned at night, the student then leaves; the morning's pull cannot read the course
    (on the plugin path one failed call is every course): her reminder is held, not sent on
    the night's facts, and cancelled by the next run that reads the course."""
    worker = Worker(sandbox, token, tmp_path / "w")
    night, morning = datetime(2026, 11, 26, 2, tzinfo=UTC), datetime(2026, 11, 26, 9, tzinfo=UTC)
    run = partial(pipeline, worker.settings, PROGRAMME, worker.requester, worker.sessions)
    run(night)
    with worker.sessions() as session:
        planned = select(OutboxMessage).where(OutboxMessage.assignment_id.is_not(None))
        row = session.scalars(planned.where(OutboxMessage.state == "planned")).first()
        assert row is not None and row.assignment_id is not None
        key, student, assignment = row.key, row.recipient_id, row.assignment_id
    sandbox.state.unenrol(student, sandbox.state.assignments[assignment].courseid)
    sandbox.set_faults(FaultPlan(rules=[FaultRule(function=records, kind=FaultKind.HTTP_500)]))
    unread = run(morning)
    sandbox.set_faults(None)
    assert unread.sync.failed_courses
    assert key not in delivered_keys(sandbox)
    assert unread.plan.held > 0
    run(morning + timedelta(minutes=10))
    assert key not in delivered_keys(sandbox)
    with worker.sessions() as session:
        assert (
            session.scalars(select(OutboxMessage.state).where(OutboxMessage.key == key)).one()
            == "cancelled"
        )


def delivered_keys(sandbox: Sandbox) -> set[str]:
    state = sandbox.state.snapshot()
    texts = [m["text"] for m in state["messages"]] + [
        n["fullmessage"] for n in state["notifications"]
    ]
    return {key for text in texts for key in re.findall(r"Ref: ([A-Za-z0-9_-]+)", text)}
