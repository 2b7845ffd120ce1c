"""Support tools: every outbox command moves only the rows it may, and records who did it."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.cli import main
from moodle_sync.store.db import open_database
from moodle_sync.store.tables import AuditEntry, OutboxMessage, ProfileValue, User

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
STATES = ("planned", "sending", "sent", "failed", "cancelled")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    """Two users; user 5 has one outbox row in each state, user 6 one planned row."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = tmp_path / "settings.toml"
    config.write_text(f"[database]\nurl = '{url}'\n")
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(config))
    _engine, sessions = open_database(url)
    with sessions.begin() as session:
        for uid, name in ((5, "amelia"), (6, "oliver")):
            session.add(User(id=uid, username=name, email=f"{name}@example.ac.uk",
                             firstname=name.title(), lastname="Test",
                             first_seen_at=T0, last_seen_at=T0))  # fmt: skip
        session.flush()
        for i, state in enumerate(STATES):
            session.add(row(f"r-5-{state}", 5, state, T0 + dt.timedelta(minutes=i)))
        session.add(row("r-6-planned", 6, "planned", T0))
        session.add(ProfileValue(user_id=5, field="cetad_progression", value="at_risk",
                                 pushed_at=T0 + dt.timedelta(hours=1), run_id=1))  # fmt: skip
    return sessions


def row(key: str, user: int, state: str, at: dt.datetime) -> OutboxMessage:
    return OutboxMessage(
        key=key, kind="overdue_1d", recipient_id=user, state=state, planned_at=at,
        updated_at=at, payload={"subject": f"Subject {key}", "text": "t", "html": "<p>t</p>"},
        sent_at=at if state == "sent" else None, moodle_message_id=None,
        error="refused by Moodle" if state == "failed" else None,
    )  # fmt: skip


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def state_of(sessions: sessionmaker[Session], key: str) -> str:
    with sessions() as session:
        return session.scalars(select(OutboxMessage.state).where(OutboxMessage.key == key)).one()


@pytest.mark.parametrize(
    ("command", "allowed", "after"),
    [
        (("resolve", "--delivered"), ("sending",), "sent"),
        (("resolve", "--not-delivered"), ("sending",), "planned"),
        (("cancel",), ("planned",), "cancelled"),
        (("resend",), ("failed", "cancelled"), "planned"),
    ],
)
@pytest.mark.parametrize("before", STATES)
def test_each_command_moves_only_the_states_it_applies_to(
    store: sessionmaker[Session], command: tuple[str, ...], allowed: tuple[str, ...],
    after: str, before: str,
) -> None:  # fmt: skip
    key = f"r-5-{before}"
    result = cli("outbox", command[0], key, *command[1:])
    with store() as session:
        audits = list(session.scalars(select(AuditEntry)))
    if before in allowed:
        assert result.exit_code == 0, result.output
        assert state_of(store, key) == after
        [entry] = audits
        assert (entry.actor, entry.action, entry.target) == (
            getpass.getuser(),
            f"outbox.{command[0]}",
            "user:5",
        )
        assert entry.detail == {"key": key, "from": before, "to": after}
    else:
        assert result.exit_code == 1
        assert f"outbox row {key!r} is {before!r}" in result.output
        assert state_of(store, key) == before and audits == []


def test_resolving_a_delivered_row_records_when(store: sessionmaker[Session]) -> None:
    assert cli("outbox", "resolve", "r-5-sending", "--delivered").exit_code == 0
    with store() as session:
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "r-5-sending"))
        assert sent.one().sent_at is not None


def test_resolve_without_an_answer_is_a_usage_error(store: sessionmaker[Session]) -> None:
    result = cli("outbox", "resolve", "r-5-sending")
    assert result.exit_code == 2 and "--delivered or --not-delivered" in result.output
    assert state_of(store, "r-5-sending") == "sending"


def test_an_unknown_key_says_how_to_find_one(store: sessionmaker[Session]) -> None:
    result = cli("outbox", "cancel", "no-such-key")
    assert result.exit_code == 1 and "no outbox row has key 'no-such-key'" in result.output


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), {f"r-5-{s}" for s in STATES} | {"r-6-planned"}),
        (("--state", "planned"), {"r-5-planned", "r-6-planned"}),
        (("--user", "6"), {"r-6-planned"}),
        (("--user", "amelia", "--state", "failed"), {"r-5-failed"}),
        (("--user", "oliver@example.ac.uk"), {"r-6-planned"}),
    ],
)
def test_list_filters_by_state_and_user(
    store: sessionmaker[Session], filters: tuple[str, ...], expected: set[str]
) -> None:
    result = cli("outbox", "list", "--json", *filters)
    assert result.exit_code == 0, result.output
    assert {r["key"] for r in json.loads(result.stdout)} == expected


@pytest.mark.parametrize(
    "command", [("outbox", "list", "--user"), ("history", "--user")], ids=["outbox", "history"]
)
def test_an_unknown_user_is_a_usage_error_with_exit_2_in_every_command(
    store: sessionmaker[Session], command: tuple[str, ...]
) -> None:
    result = cli(*command, "nobody")
    assert result.exit_code == 2 and "no stored user match 'nobody'" in result.output


def test_show_gives_the_row_its_text_and_what_was_done_to_it(
    store: sessionmaker[Session],
) -> None:
    assert cli("outbox", "resend", "r-5-failed").exit_code == 0
    shown = json.loads(cli("outbox", "show", "r-5-failed", "--json").stdout)
    assert (shown["state"], shown["subject"], shown["text"]) == (
        "planned",
        "Subject r-5-failed",
        "t",
    )
    assert [a["action"] for a in shown["audit"]] == ["outbox.resend"]
    assert shown["audit"][0]["actor"] == getpass.getuser()


def test_show_prints_the_message_as_its_reader_sees_it_and_names_the_recipient(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        failed = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "r-5-failed"))
        text = "Dear Amelia,\nYour essay is overdue.\nRef: r-5-failed"
        failed.one().payload = {"subject": "Overdue", "html": "<p>x</p>", "text": text}
    shown = cli("outbox", "show", "r-5-failed").stdout
    assert "r-5-failed: failed overdue_1d to Amelia Test (amelia)" in shown
    assert "Dear Amelia,\nYour essay is overdue.\nRef: r-5-failed" in shown
    assert "why: refused by Moodle" in shown and "{" not in shown


def test_list_names_each_recipient(store: sessionmaker[Session]) -> None:
    listed = cli("outbox", "list").stdout
    assert "to Amelia Test (amelia)" in listed and "to Oliver Test (oliver)" in listed


def test_resend_by_state_plans_every_failed_row_again_and_a_dry_run_changes_nothing(
    store: sessionmaker[Session],
) -> None:
    with store.begin() as session:
        session.add(row("r-6-failed", 6, "failed", T0 + dt.timedelta(days=2)))
    dry = cli("outbox", "resend", "--state", "failed", "--dry-run")
    assert dry.exit_code == 0 and "r-5-failed: would be planned again" in dry.stdout
    assert state_of(store, "r-5-failed") == state_of(store, "r-6-failed") == "failed"
    since = cli("outbox", "resend", "--state", "failed", "--since", "2026-03-03")
    assert since.exit_code == 0, since.output
    assert (state_of(store, "r-5-failed"), state_of(store, "r-6-failed")) == ("failed", "planned")
    assert cli("outbox", "resend", "--state", "failed").exit_code == 0
    assert state_of(store, "r-5-failed") == "planned"
    assert cli("outbox", "resend").exit_code == 2  # neither a key nor a state


def test_history_lists_messages_outcomes_profile_values_and_actions_in_order(
    store: sessionmaker[Session],
) -> None:
    assert cli("outbox", "cancel", "r-5-planned").exit_code == 0
    events = json.loads(cli("history", "--user", "amelia", "--json").stdout)
    whats = [e["what"] for e in events]
    assert whats.count("planned overdue_1d") == len(STATES)
    assert {"sent", "failed", "cancelled", "sending", "outbox.cancel"} <= set(whats)
    assert "profile cetad_progression" in whats
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert all(e["detail"] != "r-6-planned" for e in events)
    text = cli("history", "--user", "5").stdout
    assert "refused by Moodle" in text and "at_risk" in text
