"""A full run on the real site, through the CLI: what Moodle then holds, and a rerun.

One run (`run --now <anchor>`, the cohort's 10:00) and its rerun are made once for the module;
each test reads what they left in Moodle with the admin's token, or a student's own token.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import cli_for
from tests.live.site import LiveSite

INTEGRATION_USER = 3
STUDENTS = list(range(5, 17))


def anchor_iso(site: LiveSite) -> str:
    return datetime.fromtimestamp(site.anchor, UTC).isoformat(timespec="minutes")


def sent_by_integration_user(site: LiveSite) -> list[dict[str, Any]]:
    """Every message the integration user sent, as Moodle stored it (trap 15)."""
    answer = site.call("core_message_get_messages", useridto=0, useridfrom=INTEGRATION_USER,
                       type="conversations", read=2, newestfirst=1, limitnum=0)  # fmt: skip
    messages: list[dict[str, Any]] = answer["messages"]
    return messages


@pytest.fixture(scope="module")
def ran(live_site: LiveSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    live_site.reset()
    database = tmp_path_factory.mktemp("run") / "moodle-sync.db"
    cli = cli_for(live_site, database)
    first = cli("run", "--now", anchor_iso(live_site))
    after_first = sent_by_integration_user(live_site)
    again = cli("run", "--now", anchor_iso(live_site))
    return {"first": first, "again": again, "after_first": after_first,
            "after_again": sent_by_integration_user(live_site), "database": database}  # fmt: skip


def stored(database: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


@pytest.mark.smoke
def test_a_full_run_succeeds_and_sends_reminders(ran: dict[str, Any]) -> None:
    assert ran["first"].returncode == 0, ran["first"].stdout + ran["first"].stderr
    sent = stored(ran["database"], "SELECT count(*) FROM outbox WHERE state = 'sent'")[0][0]
    assert sent > 0
    assert len(ran["after_first"]) == sent


@pytest.mark.smoke
def test_a_rerun_at_the_same_instant_sends_nothing(ran: dict[str, Any]) -> None:
    assert ran["again"].returncode == 0, ran["again"].stdout + ran["again"].stderr
    assert len(ran["after_again"]) == len(ran["after_first"])


def test_every_reminder_names_its_student(live_site: LiveSite, ran: dict[str, Any]) -> None:
    users = live_site.call("core_user_get_users_by_field", field="id", values=STUDENTS)
    first_names = {u["id"]: u["firstname"] for u in users}
    for message in ran["after_first"]:
        assert "Dear user" not in message["fullmessage"]
        if message["useridto"] in first_names:
            assert f"Dear {first_names[message['useridto']]}" in message["fullmessage"]


def test_profile_fields_read_back_as_pushed(live_site: LiveSite, ran: dict[str, Any]) -> None:
    pushed = dict(((u, f), v) for u, f, v in stored(
        ran["database"], "SELECT user_id, field, value FROM profile_values"))  # fmt: skip
    assert pushed, "the run pushed no profile fields"
    users = live_site.call("core_user_get_users_by_field", field="id", values=STUDENTS)
    in_moodle = {(u["id"], f["shortname"]): f["value"]
                 for u in users for f in u.get("customfields", [])}  # fmt: skip
    assert {key: in_moodle.get(key) for key in pushed} == pushed


def test_a_student_reads_the_reminder_in_their_chat_from_the_integration_user(
    live_site: LiveSite, ran: dict[str, Any]
) -> None:
    to_amelia = [m for m in ran["after_first"] if m["useridto"] == 5]
    assert to_amelia, "no reminder was sent to p1001"
    token = live_site.student_tokens["p1001"]
    chats = live_site.call("core_message_get_conversations", token=token, userid=5)
    (chat,) = [c for c in chats["conversations"]
               if INTEGRATION_USER in {m["id"] for m in c["members"]}]  # fmt: skip
    seen = live_site.call("core_message_get_conversation_messages", token=token, currentuserid=5,
                          convid=chat["id"], newest=1)  # fmt: skip
    texts = [m["text"] for m in seen["messages"]]
    assert len(texts) == len(to_amelia)
    assert all("Dear Amelia" in text for text in texts)
    assert all(m["useridfrom"] == INTEGRATION_USER for m in seen["messages"])


def test_an_in_doubt_send_is_settled_from_moodles_list_not_resent(
    live_site: LiveSite, tmp_path: Path
) -> None:
    live_site.reset()
    database = tmp_path / "moodle-sync.db"
    cli = cli_for(live_site, database)
    assert cli("run", "--now", anchor_iso(live_site)).returncode == 0
    before = sent_by_integration_user(live_site)
    ((row_id, message_id),) = stored(database, "SELECT id, moodle_message_id FROM outbox "
                                     "WHERE state = 'sent' ORDER BY id LIMIT 1")  # fmt: skip
    with sqlite3.connect(database) as connection:  # as if the answer to the send was lost
        connection.execute("UPDATE outbox SET state = 'sending', moodle_message_id = NULL, "
                           "sent_at = NULL WHERE id = ?", (row_id,))  # fmt: skip
    done = cli("run", "--now", anchor_iso(live_site))
    assert done.returncode == 0, done.stdout + done.stderr
    assert stored(database, f"SELECT state, moodle_message_id FROM outbox WHERE id = {row_id}") == [
        ("sent", message_id)
    ]
    assert len(sent_by_integration_user(live_site)) == len(before)


# Found by the differential test on the first live runs: a student's own dates counted only
# when checked_at (the run's now, the worker's clock) was after the assignment's
# time_modified (Moodle's clock), so an override was dropped when Moodle's clock ran ahead.
# cohort/ no longer compares the two clocks; this keeps it so.
def test_an_override_counts_even_when_the_assignment_was_edited_after_now(
    live_site: LiveSite, tmp_path: Path
) -> None:
    live_site.reset()
    live_site.sql("UPDATE mdl_assign SET timemodified = %s WHERE id = 3", live_site.anchor + 3600)
    database = tmp_path / "moodle-sync.db"
    assert cli_for(live_site, database)("run", "--now", anchor_iso(live_site)).returncode == 0
    keys = {k for (k,) in stored(database, "SELECT key FROM outbox WHERE state = 'sent' AND "
                                 "recipient_id = 15 AND assignment_id = 3")}  # fmt: skip
    assert keys, "p1011 got no reminder for MPC Reflective Learning Log (override +5d)"
