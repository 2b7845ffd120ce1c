"""`make chaos` in small: five seeded fortnights on each path, under the same faults and kills,
match their twins.

Also the crash the chaos runs found: a run killed while creating a fresh SQLite schema used to
leave tables without their revision, so every later run failed with "table already exists".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, inspect

from chaos import verify
from chaos.runner import run_chaos, summarise, table
from chaos.schedule import SEND, SETTLE, attempts
from moodle_sync.client.registry import PATHS
from moodle_sync.rules.policy import load_programme
from moodle_sync.store import db
from tests.conftest import REPO

SEEDS = 5


def test_faulty_fortnights_on_both_paths_lose_and_repeat_no_message_and_match_their_twins(
    tmp_path: Path,
) -> None:
    results = run_chaos(list(range(1, SEEDS + 1)), tmp_path, jobs=2)
    report = summarise(results, 0.0, f"CHAOS_RUNS={SEEDS} make chaos")
    failures = "\n".join(f"seed {f['seed']} {f['path']}: {f['problems']}" for f in report.failures)
    assert report.passed, f"{failures}\n{table(report)}"
    assert list(report.paths) == ["core", "plugin"]
    for path in report.paths.values():
        assert path.schedules == SEEDS
        assert path.messages["expected"] > 0
        assert path.messages["delivered"] == path.messages["expected"]
        assert path.messages["duplicated"] == path.messages["lost"] == 0
        assert sum(path.faults.values()) > SEEDS, "the sandbox injected too few faults"
        assert path.kills > 0


def test_both_paths_get_the_same_faults_and_kills_aimed_at_their_own_calls() -> None:
    names = {SEND["plugin"]: SEND["core"], SETTLE["plugin"]: SETTLE["core"]}
    plans = {path: [attempts(seed, day, 2.5, path) for seed in range(1, 30) for day in range(3)]
             for path in PATHS}  # fmt: skip
    core, plugin = (
        json.dumps(plans["core"], default=vars),
        json.dumps(plans["plugin"], default=vars),
    )
    for theirs, ours in names.items():
        plugin = plugin.replace(theirs, ours)
    assert plugin == core
    rules = [rule for day in plans["plugin"] for a in day for rule in a.plan["rules"]]
    aimed = {(rule["kind"], rule.get("function")) for rule in rules}
    for kind in ("kill_before", "kill_during", "kill_after"):
        assert {(kind, SEND["plugin"]), (kind, SETTLE["plugin"])} <= aimed
    assert {("lost_answer", SEND["plugin"]), ("slow_answer", SEND["plugin"])} <= aimed
    assert any(function == SETTLE["plugin"] and kind == "reset" for kind, function in aimed)


def test_the_checks_catch_a_message_at_night_and_a_reminder_after_the_work_was_in() -> None:
    programme = load_programme(REPO / "config" / "programme.toml")
    at_2am = int(datetime(2025, 10, 8, 2, tzinfo=UTC).timestamp())
    at_10am = at_2am + 8 * 3600
    reminder = {"text": "<p>Due soon</p><p>Ref: r-5-2-due-20251010T110000Z</p>", "useridto": 5}
    state = {
        "messages": [{**reminder, "timecreated": at_2am}, {**reminder, "timecreated": at_10am}],
        "submissions": [{"assignment": 2, "userid": 5, "status": "submitted",
                         "timemodified": at_2am + 60}],
    }  # fmt: skip
    assert len(verify.outside_the_window(state, programme)) == 1
    [late] = verify.sent_after_the_reason_had_gone(state)
    assert "r-5-2-due" in late and "after the work was handed in" in late


def test_the_checks_catch_a_reminder_after_the_student_left_and_two_digests_in_a_day() -> None:
    programme = load_programme(REPO / "config" / "programme.toml")
    at_10am = int(datetime(2025, 10, 8, 10, tzinfo=UTC).timestamp())
    reminder = {"text": "<p>Due soon</p><p>Ref: r-5-2-due-20251010T110000Z</p>", "useridto": 5}
    digest = {"text": "<p>3 students</p><p>Ref: d-17-20251008</p>", "useridto": 17}
    state = {"messages": [{**reminder, "timecreated": at_10am},
                          {**digest, "timecreated": at_10am},
                          {**digest, "text": "<p>Ref: d-17-20251007</p>",
                           "timecreated": at_10am + 3600}]}  # fmt: skip
    course_of = {2: 3}
    assert verify.sent_after_the_student_left(state, {(5, 3): at_10am + 1}, course_of) == []
    [late] = verify.sent_after_the_student_left(state, {(5, 3): at_10am - 60}, course_of)
    assert "r-5-2-due" in late and "left the course" in late
    assert verify.sent_after_the_student_left(state, {(5, 4): at_10am - 60}, course_of) == []
    assert verify.two_digests_in_a_day(state, programme) == ["tutor 17 got 2 digests on 2025-10-08"]
    state["messages"].pop()
    assert verify.two_digests_in_a_day(state, programme) == []


def test_the_checks_read_the_plugins_notifications_as_deliveries_too() -> None:
    programme = load_programme(REPO / "config" / "programme.toml")
    at_2am = int(datetime(2025, 10, 8, 2, tzinfo=UTC).timestamp())
    at_10am = at_2am + 8 * 3600
    reminder = {"fullmessage": "Due soon\n\nRef: r-5-2-due-20251010T110000Z", "userid": 5}
    digest = {"fullmessage": "3 students\n\nRef: d-17-20251008", "userid": 17}
    state = {
        "messages": [],
        "notifications": [{**reminder, "timesent": at_2am}, {**digest, "timesent": at_10am},
                          {**digest, "fullmessage": "Ref: d-17-20251007", "timesent": at_10am}],
        "submissions": [{"assignment": 2, "userid": 5, "status": "submitted",
                         "timemodified": at_2am - 60}],
    }  # fmt: skip
    assert verify.received(state) == {"r-5-2-due-20251010T110000Z": 1, "d-17-20251008": 1,
                                      "d-17-20251007": 1}  # fmt: skip
    assert len(verify.outside_the_window(state, programme)) == 1
    assert len(verify.sent_after_the_reason_had_gone(state)) == 1
    assert len(verify.sent_after_the_student_left(state, {(5, 3): at_2am - 1}, {2: 3})) == 1
    assert verify.two_digests_in_a_day(state, programme) == ["tutor 17 got 2 digests on 2025-10-08"]
    keys = ["r-5-2-due-20251010T110000Z", "d-17-20251009", "d-17-20251007"]
    for notification, key in zip(state["notifications"], keys, strict=True):
        notification["idempotencykey"] = key
    [wrong] = verify.keyed_by_another_key(state)
    assert "'d-17-20251009' carries ['d-17-20251008']" in wrong


def test_a_migration_that_dies_half_way_leaves_no_tables_and_the_next_run_upgrades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/store.db"

    def dying_engine(*args: Any, **kwargs: Any) -> Engine:
        engine = create_engine(*args, **kwargs)
        created: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def die_on_third_table(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if statement.lstrip().upper().startswith("CREATE TABLE"):
                created.append(statement)
                if len(created) == 3:
                    raise KeyboardInterrupt("killed mid-migration")

        return engine

    monkeypatch.setattr(db, "create_engine", dying_engine)
    with pytest.raises(KeyboardInterrupt):
        db.open_database(url)
    monkeypatch.undo()
    engine = db.create_db_engine(url)
    assert inspect(engine).get_table_names() == []
    db.open_database(url)
    assert db.current_revision(engine) == db.head_revision(engine)
