"""Progression status and credits pushed to Moodle profile fields, and the field-existence proof."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.cetadsync import ProfileField
from moodle_sync.cohort.facts import evaluate_store
from moodle_sync.push import profile
from moodle_sync.push.core_writer import CoreWrites
from moodle_sync.push.plugin_writer import PluginWrites, plugin_field_problems
from moodle_sync.push.profile import (
    ProfileReport,
    missing_field_problem,
    prove_profile_fields,
)
from moodle_sync.push.writer import DryRunWrites
from moodle_sync.rules.policy import Programme
from moodle_sync.sandbox.server import PLUGIN_TOKEN, Sandbox
from moodle_sync.settings import PushSettings
from moodle_sync.store.db import rolled_back
from moodle_sync.store.tables import ProfileValue
from tests.push.conftest import MakeRequester, StoreBuilder

RAPL, MPC, OCVB = 2, 3, 4
AMELIA, BEN, GHOST = 5, 6, 999  # GHOST is in the store but not in Moodle
TUTOR = 17  # a teacher in Moodle
PORTFOLIO, ESSAY, LOG = 1, 2, 3
NOW = datetime(2025, 12, 9, 10, tzinfo=UTC)
INTEGRATION_USER = 3


@pytest.fixture
def cohort(store: StoreBuilder) -> StoreBuilder:
    """Amelia: RAPL passed (60 credits), MPC essay passed (20), the OCVB log 4 days overdue."""
    store.course(RAPL, "CETAD-RAPL", "Recognition and Accreditation of Prior Learning")
    store.course(MPC, "CETAD-MPC", "Models for Planning Change")
    store.course(OCVB, "CETAD-OCVB", "Organisations: Culture, Values and Behaviours")
    for uid, first, last in ((AMELIA, "Amelia", "Hughes"), (BEN, "Ben", "Okafor")):
        store.user(uid, first, last)
        for course in (RAPL, MPC, OCVB):
            store.enrol(uid, course)
    store.assignment(PORTFOLIO, RAPL, "RAPL Claim Portfolio", NOW - timedelta(days=60))
    store.assignment(ESSAY, MPC, "Essay", NOW - timedelta(days=30))
    store.assignment(LOG, OCVB, "Log", NOW - timedelta(days=3, hours=12))
    for uid in (AMELIA, BEN):
        store.grade(PORTFOLIO, uid, Decimal(62))
        store.grade(ESSAY, uid, Decimal(60))
    store.submit(LOG, BEN)
    return store


def push_profiles(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    settings: PushSettings,
    now: datetime,
    run_id: int,
    *,
    dry_run: bool = False,
) -> ProfileReport:
    """Evaluate the store and push its values, as a run's push stage does."""
    with sessions() as session:
        evaluation = evaluate_store(session, programme, now)
    if not dry_run:
        writes = CoreWrites(requester)
        return profile.push_profiles(evaluation, sessions, writes, settings, now, run_id)
    with rolled_back(sessions.kw["bind"]) as scoped:
        dry = DryRunWrites(CoreWrites(requester))
        return profile.push_profiles(evaluation, scoped, dry, settings, now, run_id, dry_run=True)


def values(sandbox: Sandbox, user: int) -> dict[str, str]:
    return dict(sandbox.state.users[user].customfields)


def stored(sessions: sessionmaker[Session]) -> dict[tuple[int, str], str]:
    with sessions() as session:
        return {(r.user_id, r.field): r.value for r in session.scalars(select(ProfileValue))}


@pytest.mark.usefixtures("cohort")
def test_status_and_credits_are_written_in_plain_english(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    sandbox: Sandbox,
) -> None:
    report = push_profiles(sessions, requester, programme, push_settings, NOW, 1)
    assert values(sandbox, AMELIA) == {
        "cetad_progression": "At risk: OCVB Log 4 days overdue",
        "cetad_credits": "80 of 120 (PG Diploma)",
    }
    assert values(sandbox, BEN)["cetad_progression"].startswith("On track: 80 of 120 credits")
    assert (report.participants, report.pushed, report.failed) == (2, 2, {})
    assert stored(sessions)[(AMELIA, "cetad_credits")] == "80 of 120 (PG Diploma)"


@pytest.mark.usefixtures("cohort")
def test_only_changed_values_are_pushed(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    store: StoreBuilder,
) -> None:
    push_profiles(sessions, requester, programme, push_settings, NOW, 1)
    calls = requester.stats.calls
    again = push_profiles(sessions, requester, programme, push_settings, NOW, 2)
    assert (again.unchanged, again.updates, requester.stats.calls) == (2, [], calls)
    store.submit(LOG, AMELIA)
    changed = push_profiles(sessions, requester, programme, push_settings, NOW, 3)
    assert changed.updates == [
        {
            "user_id": AMELIA,
            "fields": {
                "cetad_progression": "On track: 80 of 120 credits "
                "toward PG Diploma in Professional Practice"
            },
        }
    ]


@pytest.mark.usefixtures("cohort")
def test_updates_go_in_batches_of_the_configured_size(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
) -> None:
    settings = push_settings.model_copy(update={"batch_size": 1})
    push_profiles(sessions, requester, programme, settings, NOW, 1)
    assert requester.stats.calls == 2


@pytest.mark.usefixtures("cohort")
def test_a_dry_run_reports_the_values_and_changes_nothing(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    sandbox: Sandbox,
) -> None:
    before = values(sandbox, AMELIA)
    report = push_profiles(sessions, requester, programme, push_settings, NOW, 1, dry_run=True)
    assert [u["user_id"] for u in report.updates] == [AMELIA, BEN]
    assert (requester.stats.calls, stored(sessions), values(sandbox, AMELIA)) == (0, {}, before)


@pytest.mark.usefixtures("cohort")
def test_a_user_moodle_refuses_fails_alone_and_is_tried_again_next_run(
    sessions: sessionmaker[Session],
    requester: Requester,
    programme: Programme,
    push_settings: PushSettings,
    store: StoreBuilder,
) -> None:
    store.user(GHOST, "Gone", "Away")
    store.enrol(GHOST, MPC)
    report = push_profiles(sessions, requester, programme, push_settings, NOW, 1)
    assert (report.pushed, list(report.failed)) == (2, [GHOST])
    assert "invaliduserid" in report.failed[GHOST]
    assert not any(user == GHOST for user, _ in stored(sessions))
    again = push_profiles(sessions, requester, programme, push_settings, NOW, 2)
    assert [u["user_id"] for u in again.updates] == [GHOST]


def test_the_field_proof_finds_the_missing_field_and_leaves_no_trace(
    requester: Requester, sandbox: Sandbox
) -> None:
    fields = ["cetad_progression", "cetad_credits", "cetad_misspelt"]
    assert prove_profile_fields(requester, INTEGRATION_USER, fields) == ["cetad_misspelt"]
    assert values(sandbox, INTEGRATION_USER) == {}


def test_the_missing_field_message_says_how_to_create_it() -> None:
    message = missing_field_problem("cetad_credits")
    assert "'cetad_credits' does not exist" in message
    assert "User profile fields" in message and "short name 'cetad_credits'" in message


@pytest.mark.usefixtures("cohort")
def test_on_the_plugin_path_values_are_written_by_the_plugin_for_students_only(
    sessions: sessionmaker[Session],
    make_requester: MakeRequester,
    programme: Programme,
    push_settings: PushSettings,
    sandbox: Sandbox,
    store: StoreBuilder,
) -> None:
    """The plugin's role has no moodle/user:update (core_user_update_users would refuse the
    whole batch): the plugin writes the students' values, and refuses a teacher alone."""
    store.user(TUTOR, "Tess", "Tutor")
    store.enrol(TUTOR, MPC)
    requester = make_requester(PLUGIN_TOKEN)
    with sessions() as session:
        evaluation = evaluate_store(session, programme, NOW)
    report = profile.push_profiles(evaluation, sessions, PluginWrites(requester), push_settings,
                                   NOW, 1)  # fmt: skip
    assert (report.pushed, list(report.failed)) == (2, [TUTOR])
    assert "notastudent" in report.failed[TUTOR]
    assert values(sandbox, AMELIA)["cetad_progression"] == "At risk: OCVB Log 4 days overdue"
    assert "cetad_progression" not in values(sandbox, TUTOR)


def _described(**changes: object) -> list[ProfileField]:
    fields = [ProfileField(setting=s, shortname=n, exists=True, name=n, datatype="text",
                           locked=True, visible=3)
              for s, n in (("progressionfield", "cetad_progression"),
                           ("creditsfield", "cetad_credits"))]  # fmt: skip
    fields[0] = fields[0].model_copy(update=changes)
    return fields


WANTED = ["cetad_progression", "cetad_credits"]


def test_fields_locked_and_not_shown_to_everyone_are_no_problem() -> None:
    assert plugin_field_problems(_described(), WANTED) == []
    assert plugin_field_problems(_described(visible=1), WANTED) == []


def test_an_unlocked_field_is_a_problem_that_says_how_to_lock_it() -> None:
    [problem] = plugin_field_problems(_described(locked=False), WANTED)
    assert "'cetad_progression' is not locked" in problem
    assert "each student can edit her own value" in problem and "setup.php" in problem


def test_a_field_shown_to_everyone_a_missing_one_and_a_foreign_one_are_problems() -> None:
    assert "visible to everyone" in plugin_field_problems(_described(visible=2), WANTED)[0]
    assert "does not exist" in plugin_field_problems(_described(exists=False), WANTED)[0]
    [foreign] = plugin_field_problems(_described(), ["cetad_status", "cetad_credits"])
    assert "'cetad_status' is not one local_cetadsync writes" in foreign
