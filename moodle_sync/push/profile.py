"""Progression status and credits in Moodle's custom user profile fields.

Only values that changed since the last successful push are sent (ProfileValue remembers
them), in batches, and ProfileValue is written only after Moodle accepted the batch. Setting a
field is idempotent, so a batch whose outcome is unknown is simply pushed again next run.

Moodle silently ignores an unknown field (trap 11) and no core function lists the fields, so
on the core path `prove_profile_fields` writes a probe value to the integration user's own
profile, reads it back and clears it: a field that does not come back does not exist. Whether
a student can edit her own value (the field is not locked) only local_cetadsync can say
(`plugin_writer.plugin_field_problems`); on the core path `check` says what to look at by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.client.users import UserUpdate, get_users_by_field, update_users
from moodle_sync.cohort.facts import Evaluation
from moodle_sync.errors import InDoubtError
from moodle_sync.push.render import status_label
from moodle_sync.push.writer import MoodleWrites
from moodle_sync.rules.evaluate import ParticipantResult
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import AuditEntry, ProfileValue
from moodle_sync.store.upsert import upsert

PROBE = "moodle-sync field check"
MAX_LENGTH = 255  # a short label reads better in the participants page, and fits any field


@dataclass
class ProfileReport:
    dry_run: bool
    participants: int = 0
    unchanged: int = 0  # participants whose fields already hold the values
    updates: list[dict[str, Any]] = field(default_factory=list)  # {user_id, fields}
    pushed: int = 0  # users Moodle accepted
    failed: dict[int, str] = field(default_factory=dict)  # user id -> Moodle's warning
    in_doubt: list[int] = field(default_factory=list)  # pushed again next run
    progression_saved: int = 0  # records sent to local_cetadsync (plugin path only)

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "failed": {str(k): v for k, v in self.failed.items()}}


def status_text(result: ParticipantResult) -> str:
    """'At risk: MPC Essay 4 days overdue' (the main reason, and how many more)."""
    status, reasons = result.progression.status, result.progression.reasons
    text = reasons[0] if status.startswith("eligible_") else f"{status_label(status)}: {reasons[0]}"
    if len(reasons) > 1:
        text += f" (+{len(reasons) - 1} more)"
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


def credits_text(result: ParticipantResult) -> str:
    """'80 of 120 (PG Diploma)': credits toward the target award, named without its subject."""
    award = result.target.award
    return f"{result.target.total} of {award.credits} ({award.title.split(' in ')[0]})"


def push_profiles(
    evaluation: Evaluation,
    sessions: sessionmaker[Session],
    writes: MoodleWrites,
    push_settings: PushSettings,
    now: dt.datetime,
    run_id: int | None,
    *,
    dry_run: bool = False,
    only_user: int | None = None,
) -> ProfileReport:
    """Calls: core_user_update_users (core path) or local_cetadsync_save_profile_values (plugin
    path; `writes` decides), in batches of `push.batch_size`, for changed values only.

    `only_user` limits the push to one person (a reconciliation of one student)."""
    report = ProfileReport(dry_run)
    wanted = wanted_values(evaluation, push_settings, only_user)
    with sessions() as session:
        changes = _changes(session, wanted)
    report.participants, report.unchanged = len(wanted), len(wanted) - len(changes)
    updates = [UserUpdate(uid, values) for uid, values in sorted(changes.items())]
    report.updates = [{"user_id": u.user_id, "fields": dict(u.customfields)} for u in updates]
    for start in range(0, len(updates), push_settings.batch_size):
        batch = updates[start : start + push_settings.batch_size]
        _push_batch(sessions, writes, batch, now, run_id, report)
    return report


def wanted_values(
    evaluation: Evaluation, settings: PushSettings, only_user: int | None = None
) -> dict[int, dict[str, str]]:
    """Each participant's field values, as the evaluation gives them."""
    return {
        uid: {
            settings.progression_field: status_text(result),
            settings.credits_field: credits_text(result),
        }
        for uid, result in evaluation.results.items()
        if only_user in (None, uid)
    }


def _changes(
    session: Session, wanted: Mapping[int, Mapping[str, str]]
) -> dict[int, dict[str, str]]:
    """Only the fields whose value differs from the last successful push."""
    names = sorted({name for values in wanted.values() for name in values})
    stored = {
        (row.user_id, row.field): row.value
        for row in session.scalars(select(ProfileValue).where(ProfileValue.field.in_(names)))
    }
    changes = {}
    for uid, values in wanted.items():
        changed = {k: v for k, v in values.items() if stored.get((uid, k)) != v}
        if changed:
            changes[uid] = changed
    return changes


def _push_batch(
    sessions: sessionmaker[Session],
    writes: MoodleWrites,
    batch: Sequence[UserUpdate],
    now: dt.datetime,
    run_id: int | None,
    report: ProfileReport,
) -> None:
    try:
        result = writes.update_users(batch)
    except InDoubtError:
        report.in_doubt.extend(u.user_id for u in batch)
        return
    accepted = set(result.data)
    for warning in result.warnings:
        if warning.itemid is not None:
            report.failed[warning.itemid] = f"{warning.warningcode}: {warning.message}"
    rows = [
        {"user_id": u.user_id, "field": name, "value": value, "pushed_at": now, "run_id": run_id}
        for u in batch
        if u.user_id in accepted
        for name, value in u.customfields.items()
    ]
    history = [  # `history --user` shows every status a person has had, with when and why
        AuditEntry(at=now, actor=SERVICE_ACTOR, action="status", target=f"user:{row['user_id']}",
                   detail={"field": row["field"], "value": row["value"], "run_id": run_id})
        for row in rows
    ]  # fmt: skip
    with sessions.begin() as session:
        upsert(session, ProfileValue, rows)
        session.add_all(history)
    report.pushed += len(accepted)


SERVICE_ACTOR = "moodle-sync"


def prove_profile_fields(
    requester: Requester, integration_userid: int, fields: Sequence[str]
) -> list[str]:
    """The fields that do not exist: a probe written to the integration user's own profile
    does not come back. Calls: core_user_update_users, core_user_get_users_by_field."""
    update_users(requester, [UserUpdate(integration_userid, dict.fromkeys(fields, PROBE))])
    try:
        users = get_users_by_field(requester, "id", [integration_userid])
        found = users[0].customfields if users else {}
        return [name for name in fields if found.get(name) != PROBE]
    finally:
        update_users(requester, [UserUpdate(integration_userid, dict.fromkeys(fields, ""))])


FIELD_SETTINGS = "Locked: Yes; Who is this field visible to: 'Visible to user, teachers and admins'"
EVERYONE = 2  # Moodle's PROFILE_VISIBLE_ALL
SETUP = "php local/cetadsync/cli/setup.php"
FIELDS_PAGE = "Site administration > Users > Accounts > User profile fields"


def missing_field_problem(name: str) -> str:
    """What `moodle-sync check` says about a field that does not exist, and how to fix it."""
    return (
        f"custom profile field {name!r} does not exist in Moodle (a value written to it was "
        f"silently ignored): create it in {FIELDS_PAGE} as a 'Text input' with short name "
        f"{name!r} ({FIELD_SETTINGS}), or set push.progression_field / push.credits_field to an "
        "existing field"
    )


def unverified_lock_note(names: Sequence[str]) -> str:
    """What `check` says on the core path, where no function shows a field's definition."""
    return (
        f"profile fields {', '.join(names)}: whether students can edit their own values cannot "
        f"be checked without local_cetadsync; check by hand in {FIELDS_PAGE} that each is "
        f"{FIELD_SETTINGS}"
    )
