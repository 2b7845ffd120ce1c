"""Progression records in Moodle (local_cetadsync_save_progression), after the profile push.

Only the participants whose profile values changed and were accepted this run are sent (the
plugin writes nothing for an unchanged record either). The plugin takes reasons as
`[A-Za-z0-9_-]` words, so each plain-English reason travels as a slug.
"""

from __future__ import annotations

import re
from typing import Any

from moodle_sync.client.cetadsync import save_progression
from moodle_sync.client.params import chunk_rows
from moodle_sync.client.requester import Requester
from moodle_sync.cohort import Evaluation
from moodle_sync.push.profile import ProfileReport
from moodle_sync.rules.evaluate import ParticipantResult

__all__ = ["save_changed_progression"]

SITE_COURSE = 1  # the programme as a whole
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def save_changed_progression(
    requester: Requester, evaluation: Evaluation, profiles: ProfileReport
) -> int:
    """Calls: local_cetadsync_save_progression (chunked). Returns how many records were sent."""
    skipped = set(profiles.failed) | set(profiles.in_doubt)
    changed = sorted({u["user_id"] for u in profiles.updates} - skipped)
    records = [record(uid, evaluation.results[uid]) for uid in changed]
    for chunk in chunk_rows(records, "records", fixed=None,
                            budget=requester.settings.max_input_vars,
                            max_rows=requester.settings.max_ids_per_call):  # fmt: skip
        save_progression(requester, chunk)
    return len(records)


def record(userid: int, result: ParticipantResult) -> dict[str, Any]:
    progression = result.progression
    reasons = [_NOT_WORD.sub("_", reason).strip("_")[:100] for reason in progression.reasons]
    return {"userid": userid, "courseid": SITE_COURSE, "status": progression.status,
            "reasons": [r for r in reasons if r], "credits": float(result.target.total),
            "nextdeadline": 0}  # fmt: skip
