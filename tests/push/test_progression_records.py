"""Progression records for local_cetadsync's pages (issue 14): what each carries, and which are
sent (a fingerprint of the last accepted record per participant)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from moodle_sync.cohort.facts import AssignmentInfo, Cohort, CourseInfo, evaluate
from moodle_sync.push.progression import record
from moodle_sync.rules.detail import late_work
from moodle_sync.rules.facts import Assessment, ModuleRecord, Participant
from moodle_sync.rules.policy import load_programme
from moodle_sync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from moodle_sync.sandbox.functions import cetadsync
from moodle_sync.store.tables import ProgressionFingerprint
from tests.conftest import REPO
from tests.test_every_student import AMELIA, MPC_REPORT, OLIVER, TODAY, Site, at, plugin_site

PROGRAMME = load_programme(REPO / "config" / "programme.toml")
NOW = datetime(2025, 12, 1, 10, tzinfo=UTC)
DAY = timedelta(days=1)
SAVE = "local_cetadsync_save_progression"
MPC_COURSE, OCVB_COURSE = 3, 4


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _records(*participants: Participant) -> dict[int, dict]:
    courses = {MPC_COURSE: CourseInfo(MPC_COURSE, "MPC", "Models", ()),
               OCVB_COURSE: CourseInfo(OCVB_COURSE, "OCVB", "Organisations", ())}  # fmt: skip
    assignments = {
        aid: AssignmentInfo(aid, course, 100 + aid, name)
        for aid, course, name in [(1, MPC_COURSE, "MPC Essay"), (2, MPC_COURSE, "MPC Report"),
                                  (3, OCVB_COURSE, "Essay"), (4, OCVB_COURSE, "Essay resit")]
    }  # fmt: skip
    cohort = Cohort(participants, courses, assignments, {})
    evaluation = evaluate(cohort, PROGRAMME, NOW)
    late = late_work(PROGRAMME)
    return {int(p.id): record(int(p.id), evaluation.results[p.id], evaluation, late)
            for p in participants}  # fmt: skip


OVERDUE = Assessment(1, "MPC Essay", due=NOW - 3 * DAY + timedelta(hours=1), own_date=True)
EXTENDED = Assessment(2, "MPC Report", due=NOW - DAY, extension=NOW + 2 * DAY)


def test_an_overdue_item_makes_an_urgent_record_with_plain_reasons() -> None:
    [rec] = _records(Participant(7, "Ola", (ModuleRecord("MPC", (OVERDUE, EXTENDED)),))).values()
    assert (rec["status"], rec["reasons"]) == ("at_risk", ["MPC Essay 3 days overdue"])
    assert rec["urgency"] == 3003
    assert rec["nextdeadline"] == _epoch(NOW + 2 * DAY), "the extension, not the passed due date"
    essay, report = rec["items"]
    assert essay == {
        "courseid": MPC_COURSE, "assignid": 1, "cmid": 101, "name": "MPC Essay", "module": "MPC",
        "duedate": _epoch(OVERDUE.due), "extension": 0, "owndate": True, "state": "new",
        "concern": "overdue", "required": True, "mark": None,
    }  # fmt: skip
    assert (report["duedate"], report["extension"], report["owndate"], report["concern"]) == (
        _epoch(NOW + 2 * DAY), _epoch(NOW + 2 * DAY), False, "")  # fmt: skip
    assert rec["latework"].startswith("Work submitted after the deadline and up to 3 days")


def test_a_referred_module_with_prior_learning_capped() -> None:
    ocvb = ModuleRecord("OCVB", (
        Assessment(3, "Essay", due=NOW - 30 * DAY, submitted_at=NOW - 31 * DAY,
                   submission_status="submitted", grade=Decimal("41.25")),
        Assessment(4, "Essay resit", due=NOW + 10 * DAY, resit=True),
    ))  # fmt: skip
    mpc = ModuleRecord("MPC", (EXTENDED,))
    p = Participant(8, "Ravi", (ocvb, mpc), prior_learning_credits=80)
    [rec] = _records(p).values()
    assert (rec["status"], rec["reasons"]) == (
        "referred",
        ["OCVB referred: mark 41.3, resit pending"],
    )
    assert (rec["award"], rec["awardcredits"]) == ("PG Diploma in Professional Practice", 120)
    assert (rec["priorcredits"], rec["priorcap"], rec["credits"]) == (60, 60, 60.0)
    assert rec["urgency"] == 2000
    assert rec["modules"] == [  # the programme's order, not the participant's
        {"code": "MPC", "title": "Models for Planning Change", "credits": 20,
         "outcome": "not_started", "mark": None},  # extended: no deadline has passed
        {"code": "OCVB", "title": "Organisations: Culture, Values and Behaviours",
         "credits": 20, "outcome": "referred", "mark": 41.3},
    ]  # fmt: skip
    by_name = {item["name"]: item for item in rec["items"]}
    assert (by_name["Essay"]["state"], by_name["Essay"]["mark"]) == ("graded", 41.3)
    assert by_name["Essay resit"]["required"] is True, "needed: the module is referred"


def test_a_resit_not_needed_is_not_required_and_a_tag_like_name_survives_param_text() -> None:
    passed = ModuleRecord("OCVB", (
        Assessment(3, "Essay <draft>", due=NOW - 9 * DAY, submission_status="submitted",
                   submitted_at=NOW - 10 * DAY, grade=Decimal(70)),
        Assessment(4, "Essay resit", due=NOW + 10 * DAY, resit=True),
    ))  # fmt: skip
    [rec] = _records(Participant(9, "Li", (passed,))).values()
    essay, resit = rec["items"]
    assert essay["name"] == "Essay < draft>"
    assert (resit["required"], rec["nextdeadline"], rec["modules"][0]["outcome"]) == (
        False, 0, "passed")  # fmt: skip


# --- which records are sent: the plugin path against the sandbox ---
@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with plugin_site(tmp_path) as running:
        yield running


WHEN = at(TODAY + timedelta(days=1), 10)


def _saves_during(site: Site, when: datetime) -> list[tuple[int, ...]]:
    """The user ids of each save_progression call the run at `when` made."""
    before = len(site.state.plugin_saves)
    site.run(when)
    return site.state.plugin_saves[before:]


def test_every_participant_first_then_an_empty_call_when_nothing_changed(site: Site) -> None:
    first = site.run(WHEN)
    assert first.profiles.progression_saved == len(site.state.plugin_progress) > 0
    stored = site.state.plugin_progress[(AMELIA, 1)]
    assert stored["latework"] and stored["detail"]["items"], "the full record reached the plugin"
    synced = site.state.plugin_lastsync
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [()], "one call, no records: only 'last synchronised'"
    assert site.state.plugin_lastsync > synced


def test_a_changed_extension_resends_that_participant_only(site: Site) -> None:
    site.run(WHEN)
    site.state.advance_clock(5)
    until = int((WHEN + 20 * DAY).timestamp())
    site.state.grant_extension(MPC_REPORT, AMELIA, until)
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [(AMELIA,)]
    items = site.state.plugin_progress[(AMELIA, 1)]["detail"]["items"]
    assert [i["extension"] for i in items if i["assignid"] == MPC_REPORT] == [until]


def test_a_failed_or_unanswered_call_is_sent_again_next_run(site: Site) -> None:
    site.run(WHEN)
    site.state.advance_clock(5)
    until = int((WHEN + 20 * DAY).timestamp())
    site.state.grant_extension(MPC_REPORT, AMELIA, until)
    site.state.advance_clock(5)
    site.sandbox.set_faults(FaultPlan(rules=[FaultRule(function=SAVE, kind=FaultKind.HTTP_503)]))
    site.fails(WHEN)
    site.heal()
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [(AMELIA,)], "refused: sent again"
    site.state.grant_extension(MPC_REPORT, AMELIA, until + 86400)
    site.state.advance_clock(5)
    lost = FaultRule(function=SAVE, kind=FaultKind.LOST_ANSWER, times=1)
    site.sandbox.set_faults(FaultPlan(rules=[lost]))
    site.fails(WHEN)
    stored = site.state.plugin_progress[(AMELIA, 1)]["detail"]["items"]
    assert until + 86400 in [i["extension"] for i in stored], "applied, answer lost"
    site.heal()
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [(AMELIA,)], "in doubt: sent again (an upsert)"
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [()]


# --- healing: a record the plugin removed comes back ---
def test_a_privacy_deletion_is_restored_by_the_next_run(site: Site) -> None:
    site.run(WHEN)
    everyone = set(site.state.plugin_progress)
    site.state.privacy_delete(AMELIA)
    assert (AMELIA, 1) not in site.state.plugin_progress
    site.state.advance_clock(5)
    calls = _saves_during(site, WHEN)
    assert set(site.state.plugin_progress) == everyone, "her record is back"
    assert calls[0] == (), "the first answer tells of the removal"
    assert {uid for call in calls[1:] for uid in call} == {uid for uid, _ in everyone}, (
        "every record is sent again: the plugin may have lost any of them"
    )
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [()], "healed: nothing is sent again after that"


def test_a_removal_during_the_run_resends_the_chunks_sent_before_it(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.run(WHEN)
    everyone = set(site.state.plugin_progress)
    site.requester.settings = site.requester.settings.model_copy(update={"max_ids_per_call": 2})
    saving, deleted = cetadsync._save, []

    def deleting_amelias_once_hers_is_sent(call: Any, record: dict[str, Any]) -> str:
        outcome = saving(call, record)
        if record["userid"] == OLIVER and not deleted:  # the chunk after it is not sent yet
            call.state.privacy_delete(AMELIA)
            deleted.append(AMELIA)
        return outcome

    monkeypatch.setattr(cetadsync, "_save", deleting_amelias_once_hers_is_sent)
    with site.sessions.begin() as session:  # every record is sent, two to a chunk
        session.execute(delete(ProgressionFingerprint))
    site.state.advance_clock(5)
    site.run(WHEN)
    assert deleted and set(site.state.plugin_progress) == everyone, "hers, removed mid-run, is back"


def test_full_and_reconcile_send_every_record_whatever_the_fingerprints(site: Site) -> None:
    site.run(WHEN)
    everyone = {uid for uid, _ in site.state.plugin_progress}
    site.state.advance_clock(5)
    before = len(site.state.plugin_saves)
    site.run(WHEN, full=True)
    assert {uid for call in site.state.plugin_saves[before:] for uid in call} == everyone
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [()]
    # A reconciliation of one participant sends hers, changed or not.
    before = len(site.state.plugin_saves)
    site.run(WHEN, kind="reconcile", full=True, only_user=AMELIA, send=False)
    assert site.state.plugin_saves[before:] == [(AMELIA,)]


def test_fingerprints_from_before_the_epoch_are_trusted_once_after_one_resend(site: Site) -> None:
    site.run(WHEN)
    with site.sessions.begin() as session:
        session.execute(update(ProgressionFingerprint).values(epoch=None))
    site.state.advance_clock(5)
    calls = _saves_during(site, WHEN)
    assert {uid for call in calls for uid in call} == {uid for uid, _ in site.state.plugin_progress}
    site.state.advance_clock(5)
    assert _saves_during(site, WHEN) == [()]


def test_a_refused_record_is_not_taken_for_a_stale_one(site: Site) -> None:
    site.run(WHEN)
    site.state.privacy_delete(AMELIA)
    del site.state.users[OLIVER]  # Moodle now refuses his record (invaliduser)
    site.state.advance_clock(5)
    calls = _saves_during(site, WHEN)
    assert sum(OLIVER in call for call in calls) == 1, calls
    with site.sessions() as session:
        assert session.get(ProgressionFingerprint, OLIVER) is None
