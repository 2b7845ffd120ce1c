"""`moodle-sync rules evaluate`: participants as JSON in, the rules' results as JSON out.

The field names are a contract other tools rely on (docs/rules.md); they are spelt here and
nowhere else. Marks are written as JSON numbers, times as ISO-8601 in the programme's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from moodle_sync.rules.credits import CreditPosition
from moodle_sync.rules.evaluate import AssessmentResult, ParticipantResult, evaluate_participant
from moodle_sync.rules.inputs import read_document
from moodle_sync.rules.policy import Programme


def evaluate_document(doc: Mapping[str, Any], programme: Programme) -> dict[str, Any]:
    """Evaluate every participant of an input document (raises RulesInputError when invalid)."""
    now, participants = read_document(doc, programme)
    results = [evaluate_participant(p, programme, now) for p in participants]
    return {"participants": [render_participant(r, programme) for r in results]}


def render_participant(r: ParticipantResult, programme: Programme) -> dict[str, Any]:
    target: CreditPosition = r.target
    return {
        "id": r.participant.id,
        "status": r.progression.status,
        "reasons": list(r.progression.reasons),
        "award_eligible": r.best.award.id if r.best else None,
        "classification": r.classification,
        "prior_learning_credits": target.prior,
        "total_credits": target.total,
        "credits_by_module": target.credits_by_module(programme),
        "modules": [
            {"module": m.code, "outcome": m.outcome, "final_mark": _number(m.mark)}
            for m in target.results
        ],
        "assessments": [_assessment(a, programme) for a in r.assessments],
    }


def _assessment(a: AssessmentResult, programme: Programme) -> dict[str, Any]:
    return {
        "id": a.assessment.id,
        "effective_deadline": _time(a.deadline, programme),
        "days_late": a.days_late,
        "penalty": _number(a.penalty),
        "final_mark": _number(a.final_mark),
        "reminders_due": list(a.reminders_due),
    }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _time(value: dt.datetime | None, programme: Programme) -> str | None:
    return None if value is None else _local_iso(value, programme.timezone)


@lru_cache(maxsize=4096)
def _local_iso(value: dt.datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat()
