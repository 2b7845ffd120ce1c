"""Progression records for local_cetadsync's pages (issue 14), built from the run's evaluation.

The plugin's pages show only what is sent, so each record carries the whole picture from the
run's one evaluation: status and plain-English reasons, credits toward the target award and
the prior-learning cap, the next deadline, an urgency to sort by, the late-work rule, each
module and each piece of work. Every judgement in it is made in `rules/` (`rules.detail`);
this module only assembles a record and its fingerprint. The plugin path's writer
(`plugin_writer.save_changed_progression`) sends those whose fingerprint changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from moodle_sync.cohort.facts import AssignmentInfo, Evaluation
from moodle_sync.rules.detail import (
    module_outcome,
    next_deadline,
    urgency,
    work_state,
)
from moodle_sync.rules.evaluate import AssessmentResult, ParticipantResult
from moodle_sync.rules.outcomes import round_mark
from moodle_sync.rules.policy import Programme

__all__ = ["fingerprint", "record"]

SITE_COURSE = 1  # the programme as a whole
# PARAM_TEXT strips tags and Moodle then refuses the changed value, failing the whole call:
# a '<' that would open a tag gets a space after it (PHP's strip_tags leaves '< x' alone).
_TAG_START = re.compile(r"<(?=[^\s<>])")


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
