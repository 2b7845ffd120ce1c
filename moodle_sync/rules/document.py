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
from moodle_sync.rules.inputs import stream_document
from moodle_sync.rules.policy import Programme


def evaluate_document(doc: Mapping[str, Any], programme: Programme) -> dict[str, Any]:
    """Evaluate every participant of an input document (raises RulesInputError when invalid).

    Each participant is read, evaluated and rendered before the next is read, so its records
    die young instead of piling up for the garbage collector's full sweeps.
    """
    rendered = [
        render_participant(evaluate_participant(p, programme, now), programme)
        for now, p in stream_document(doc, programme)
    ]
    return {"participants": rendered}


def render_participant(r: ParticipantResult, programme: Programme) -> dict[str, Any]:
    target: CreditPosition = r.target
    tz = programme.timezone
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
        "assessments": [_assessment(a, tz) for a in r.assessments],
    }


def _assessment(a: AssessmentResult, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": a.assessment.id,
        "effective_deadline": None if a.deadline is None else _local_iso(a.deadline, tz),
        "days_late": a.days_late,
        "penalty": _number(a.penalty),
        "final_mark": _number(a.final_mark),
        "reminders_due": list(a.reminders_due),
    }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@lru_cache(maxsize=4096)
def _local_iso(value: dt.datetime, tz: ZoneInfo) -> str:
    """Cached: a cohort shares its deadlines, so most conversions repeat."""
    return value.astimezone(tz).isoformat()
