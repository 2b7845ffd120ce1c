"""Progression records in Moodle (local_cetadsync_save_progression), after the profile push.

The plugin's pages (issue 14) show only what is sent here, so each record carries the whole
picture from the run's one evaluation: status and plain-English reasons, credits toward the
target award and the prior-learning cap, the next deadline, an urgency to sort by, the
late-work rule, each module and each piece of work. Every judgement in it is made in
`rules/` (`rules.detail`); this module only assembles and sends.

A record is sent when its fingerprint (a digest of the whole record) differs from that of
the last one the plugin accepted, and the fingerprint is written only after the call
succeeded: a call that fails, or whose outcome is unknown, leaves it, so the next run sends
the record again (the plugin's upsert is idempotent). Each run calls at least once, with no
records when nothing changed, so the pages' "last synchronised" is true.

A fingerprint is trusted only under the plugin's `recordsepoch` it was accepted with: the
plugin moves the epoch whenever it removed records (a privacy deletion, a deleted user or
course), so when an answer carries another epoch every participant whose record was accepted
under an older one is sent again in the same run, and what still applies is restored.
`run --full` and `reconcile` (`resend`) send every record whatever the fingerprints say.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client.cetadsync import save_progression
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.cohort import AssignmentInfo, Evaluation
from moodle_sync.rules.detail import (
    late_work,
    module_outcome,
    next_deadline,
    urgency,
    work_state,
)
from moodle_sync.rules.evaluate import AssessmentResult, ParticipantResult
from moodle_sync.rules.outcomes import round_mark
from moodle_sync.rules.policy import Programme
from moodle_sync.store.tables import ProgressionFingerprint
from moodle_sync.store.upsert import upsert

__all__ = ["fingerprint", "record", "save_changed_progression"]

SITE_COURSE = 1  # the programme as a whole
PASSES = 3  # resends after an epoch change, at most: removals during the run wait for the next
# PARAM_TEXT strips tags and Moodle then refuses the changed value, failing the whole call:
# a '<' that would open a tag gets a space after it (PHP's strip_tags leaves '< x' alone).
_TAG_START = re.compile(r"<(?=[^\s<>])")


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


def fingerprint(rec: Mapping[str, Any]) -> str:
    """sha256 of the record as canonical JSON: equal exactly when every field is equal."""
    text = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    userid: int, result: ParticipantResult, evaluation: Evaluation, late: str
) -> dict[str, Any]:
    """The participant's record as the plugin's external function takes it (issue 14)."""
    programme, now = evaluation.programme, evaluation.now
    status, target = result.progression.status, result.target
    works = result.assessments
    deadline = next_deadline(works, now)
    return {
        "userid": userid,
        "courseid": SITE_COURSE,
        "status": status,
        "reasons": [_text(reason) for reason in result.progression.reasons],
        "credits": float(target.total),
        "nextdeadline": _epoch(deadline),
        "award": _text(target.award.title),
        "awardcredits": target.award.credits,
        "priorcredits": target.prior,
        "priorcap": programme.prior_cap(target.award),
        "urgency": urgency(status, works, deadline, now),
        "latework": _text(late),
        "modules": _modules(result, programme, now),
        "items": [
            _item(w, info)
            for w in works
            if (info := evaluation.cohort.assignments.get(int(w.assessment.id))) is not None
        ],
    }


def _modules(
    result: ParticipantResult, programme: Programme, now: dt.datetime
) -> list[dict[str, Any]]:
    """One per module of the participant, in the programme's order, with the target award's
    outcome (condonation applied)."""
    by_code = {r.code: r for r in result.target.results}
    return [
        {
            "code": code,
            "title": _text(module.title),
            "credits": module.credits,
            "outcome": module_outcome(by_code[code], result.assessments, now),
            "mark": _mark(by_code[code].mark),
        }
        for code, module in programme.modules.items()
        if code in by_code
    ]


def _item(w: AssessmentResult, info: AssignmentInfo) -> dict[str, Any]:
    a = w.assessment
    return {
        "courseid": info.course_id,
        "assignid": info.id,
        "cmid": info.cmid,
        "name": _text(a.name),
        "module": w.module,
        "duedate": _epoch(w.deadline),
        "extension": _epoch(a.extension),
        "owndate": a.own_date,
        "state": work_state(a),
        "concern": w.concern.kind if w.concern is not None else "",
        "required": w.required,
        "mark": _mark(w.final_mark),
    }


def _epoch(moment: dt.datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp())


def _mark(mark: Decimal | None) -> float | None:
    """One decimal place, as the regulations round marks; None (not sent: null) until
    released."""
    return None if mark is None else float(round_mark(mark))


def _text(value: str) -> str:
    return _TAG_START.sub("< ", value)
