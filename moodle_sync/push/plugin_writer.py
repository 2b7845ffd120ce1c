"""The push on the plugin path: local_cetadsync's functions, exactly once by key.

Calls: local_cetadsync_send_notifications (the outbox key as idempotency key: a key seen
before sends nothing and answers with the original send), local_cetadsync_get_delivered (to
settle rows in doubt), local_cetadsync_save_profile_values (students' two progression fields,
nothing else: the role needs no moodle/user:update), local_cetadsync_save_progression (the
records the plugin's pages show) and, for `check`, local_cetadsync_get_profile_fields.

Settling is exact: the plugin records each idempotency key before it sends, so ``sent`` ->
``sent`` with Moodle's notification id; ``unknown`` (never seen: nothing was sent) ->
``planned`` again, checked once more at claim time like any planned row; ``pending``
(reserved, outcome not recorded) -> stays ``sending``, reported in doubt.

Progression records are sent when their fingerprint (`progression.fingerprint`) differs from
that of the last one the plugin accepted, and the fingerprint is written only after the call
succeeded: a call that fails, or whose outcome is unknown, leaves it, so the next run sends
the record again (the plugin's upsert is idempotent). Each run calls at least once, with no
records when nothing changed, so the pages' "last synchronised" is true. A fingerprint is
trusted only under the plugin's `recordsepoch` it was accepted with: the plugin moves the
epoch whenever it removed records (a privacy deletion, a deleted user or course), so when an
answer carries another epoch every participant whose record was accepted under an older one
is sent again in the same run. `run --full` and `reconcile` (`resend`) send every record.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.cetadsync import (
    Delivery,
    ProfileField,
    get_delivered,
    get_profile_fields,
    save_profile_values,
    save_progression,
    send_notifications,
)
from moodle_sync.client.messages import OutgoingMessage
from moodle_sync.client.models import MessageResult, Result
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.client.users import UserUpdate
from moodle_sync.cohort.facts import Evaluation
from moodle_sync.push import outbox
from moodle_sync.push.outbox import Delivered
from moodle_sync.push.profile import EVERYONE, FIELDS_PAGE, SETUP, missing_field_problem
from moodle_sync.push.progression import fingerprint, record
from moodle_sync.push.writer import InDoubtReport
from moodle_sync.rules.detail import late_work
from moodle_sync.store.tables import ProgressionFingerprint
from moodle_sync.store.upsert import upsert

__all__ = ["PluginWrites", "plugin_field_problems", "save_changed_progression", "settle_by_key"]

PASSES = 3  # resends after an epoch change, at most: removals during the run wait for the next


@dataclass
class PluginWrites:
    """Writes through local_cetadsync, as the integration user."""

    requester: Requester

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        """Calls: local_cetadsync_send_notifications."""
        answers = send_notifications(self.requester, [notification(m) for m in messages])
        return [message_result(answer) for answer in answers]

    def settle(self, sessions: sessionmaker[Session], now: dt.datetime) -> InDoubtReport:
        return settle_by_key(self.requester, sessions, now)

    def update_users(self, updates: Sequence[UserUpdate]) -> Result[list[int]]:
        """Calls: local_cetadsync_save_profile_values."""
        return save_profile_values(self.requester, updates)

    def save_progression(
        self,
        evaluation: Evaluation,
        sessions: sessionmaker[Session],
        now: dt.datetime,
        run_id: int | None,
        only_user: int | None,
        resend: bool,
    ) -> int:
        return save_changed_progression(self.requester, evaluation, sessions, now, run_id,
                                        only_user, resend)  # fmt: skip

    def field_problems(
        self, userid: int, functions: Sequence[str], fields: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """Calls: local_cetadsync_get_profile_fields; the plugin describes each field."""
        return plugin_field_problems(get_profile_fields(self.requester), fields), []


def notification(message: OutgoingMessage) -> dict[str, object]:
    """Plain text only: the plugin builds the notification's HTML from it, escaped, and refuses
    any HTML a caller sends (``fullmessagehtml`` is no parameter of the function)."""
    subject = message.subject or "CETAD"
    return {"idempotencykey": message.clientmsgid, "provider": message.provider,
            "touserid": message.touserid, "subject": subject,
            "fullmessage": message.plain or text_of(message.text),
            "smallmessage": subject}  # fmt: skip


def text_of(body: str) -> str:
    """The words of an HTML body, for a message planned without its own plain text: sent as
    HTML it would show its tags, escaped."""
    lines = re.sub(r"(?i)<br\s*/?>|</p>", "\n", body)
    return html.unescape(re.sub(r"<[^>]*>", "", lines)).strip()


def message_result(answer: Delivery) -> MessageResult:
    """sent (now or before) -> delivered; pending -> in doubt; failed -> refused with its code."""
    key = answer.idempotencykey
    if answer.status == "sent":
        return MessageResult(msgid=answer.messageid, clientmsgid=key)  # 0: stored, no id
    if answer.status == "failed":
        return MessageResult(clientmsgid=key, errormessage=f"local_cetadsync: {answer.errorcode}")
    return MessageResult(clientmsgid=key, pending=True)


def settle_by_key(
    requester: Requester, sessions: sessionmaker[Session], now: dt.datetime
) -> InDoubtReport:
    """Calls: local_cetadsync_get_delivered, once for every row in doubt (chunked)."""
    with sessions() as session:
        rows = outbox.in_doubt_rows(session)
    report = InDoubtReport(checked=len(rows), covered=True)
    if not rows:
        return report
    answers = {a.idempotencykey: a for a in get_delivered(requester, [r.key for r in rows])}
    sent, unknown = [], []
    for row in rows:
        answer = answers.get(row.key)
        if answer is not None and answer.status == "sent":
            sent.append(Delivered(row.id, answer.messageid, now))
            report.found_sent.append(row.key)
        elif answer is not None and answer.status == "unknown":
            unknown.append(row.id)
            report.returned_to_planned.append(row.key)
        else:
            report.still_in_doubt.append(row.key)
    with sessions.begin() as session:
        outbox.mark_sent(session, sent, now)
        outbox.requeue(session, unknown, now)
    return report


def save_changed_progression(
    requester: Requester,
    evaluation: Evaluation,
    sessions: sessionmaker[Session],
    now: dt.datetime,
    run_id: int | None,
    only_user: int | None = None,
    resend: bool = False,
) -> int:
    """Calls: local_cetadsync_save_progression (chunked; once with no records when nothing
    changed). Returns how many participants' records were sent."""
    late = late_work(evaluation.programme)
    wanted = {
        uid: record(uid, result, evaluation, late)
        for uid, result in sorted(evaluation.results.items())
        if only_user in (None, uid)
    }
    prints = {uid: fingerprint(rec) for uid, rec in wanted.items()}
    with sessions() as session:
        stored = _stored(session, list(prints))
    changed = [uid for uid in wanted if resend or stored.get(uid, (None, None))[0] != prints[uid]]
    send = _Sender(requester, sessions, wanted, prints, now, run_id)
    epoch = send(changed, always=True)
    for _ in range(PASSES):
        with sessions() as session:
            stale = [uid for uid, (_p, seen) in _stored(session, list(wanted)).items()
                     if seen != epoch]  # fmt: skip
        if not stale:
            break
        epoch = send(stale)
    return len(send.sent)


class _Sender:
    """Sends records in chunks and keeps each accepted one's fingerprint with the epoch its
    call answered, and forgets a refused one's (the plugin holds none: it is sent again next
    run, never taken for stale); calls once with no records when asked to send none
    (`always`)."""

    def __init__(
        self,
        requester: Requester,
        sessions: sessionmaker[Session],
        wanted: Mapping[int, dict[str, Any]],
        prints: Mapping[int, str],
        now: dt.datetime,
        run_id: int | None,
    ) -> None:
        self.requester, self.sessions, self.wanted = requester, sessions, wanted
        self.prints, self.now, self.run_id = prints, now, run_id
        self.sent: set[int] = set()

    def __call__(self, user_ids: Sequence[int], always: bool = False) -> int | None:
        """The epoch of the last answer."""
        settings = self.requester.settings
        chunks = list(chunk_rows([self.wanted[uid] for uid in user_ids], "records", fixed=None,
                                 budget=settings.max_input_vars,
                                 max_rows=settings.max_ids_per_call))  # fmt: skip
        epoch = None
        for chunk in chunks or ([[]] if always else []):
            saved = save_progression(self.requester, chunk)
            epoch = saved.recordsepoch
            asked = {rec["userid"] for rec in chunk}
            accepted = {r.userid for r in saved.results} & asked
            kept = {"saved_at": self.now, "run_id": self.run_id, "epoch": epoch}
            rows = [{"user_id": uid, "fingerprint": self.prints[uid], **kept}
                    for uid in sorted(accepted)]  # fmt: skip
            with self.sessions.begin() as session:
                upsert(session, ProgressionFingerprint, rows)
                refused = ProgressionFingerprint.user_id.in_(asked - accepted)
                session.execute(delete(ProgressionFingerprint).where(refused))
            self.sent.update(asked)
        return epoch


def _stored(session: Session, user_ids: Sequence[int]) -> dict[int, tuple[str, int | None]]:
    """Each participant's stored fingerprint and the epoch it was accepted under."""
    f = ProgressionFingerprint
    query = select(f.user_id, f.fingerprint, f.epoch).where(f.user_id.in_(user_ids))
    return {uid: (value, epoch) for uid, value, epoch in session.execute(query)}


def plugin_field_problems(described: Sequence[ProfileField], names: Sequence[str]) -> list[str]:
    """What `check` says about the progression fields as local_cetadsync describes them: one
    the plugin does not write, a missing one, one a student can edit, one everyone sees."""
    by_name = {field.shortname: field for field in described}
    problems = []
    for name in names:
        field = by_name.get(name)
        if field is None:
            problems.append(
                f"profile field {name!r} is not one local_cetadsync writes "
                f"({', '.join(by_name)}): set push.progression_field / push.credits_field to "
                "those, or the plugin's settings (Site administration > Plugins > Local plugins "
                "> CETAD Sync) to these"
            )
        elif not field.exists:
            problems.append(missing_field_problem(name) + f"; {SETUP} creates it")
        elif not field.locked:
            problems.append(
                f"profile field {name!r} is not locked: each student can edit her own value, "
                f"and the service, which sends only changes, leaves her edit there; {SETUP} "
                f"locks it, or set Locked: Yes in {FIELDS_PAGE}"
            )
        elif field.visible == EVERYONE:
            problems.append(
                f"profile field {name!r} is visible to everyone who can see a profile; {SETUP} "
                f"makes it 'Visible to user, teachers and admins', or change it in {FIELDS_PAGE}"
            )
    return problems
