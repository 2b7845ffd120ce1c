"""What the rules engine knows about a participant: plain, immutable, already validated.

The JSON input (`document.py`) and, later, the database both turn into these records, so the
rules never see raw JSON or ORM rows. Times are aware datetimes; marks are Decimals out of 100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

SubmissionStatus = Literal["new", "draft", "submitted", "reopened"]
ParticipantStatus = Literal["active", "suspended", "interrupted"]


def mark_released(marking_workflow: bool, workflow_state: str | None) -> bool:
    """Whether Moodle shows a mark to its student: at once, or with marking workflow on only
    once its workflow state is `released`."""
    return not marking_workflow or workflow_state == "released"


# Records are slotted but not frozen: frozen dataclasses cost three times as much to build,
# and the benchmark builds hundreds of thousands. The rules never mutate them.
@dataclass(slots=True)
class Assessment:
    id: str | int
    name: str
    due: dt.datetime | None = None
    extension: dt.datetime | None = None
    cutoff: dt.datetime | None = None
    submitted_at: dt.datetime | None = None
    submission_status: SubmissionStatus | None = None
    grade: Decimal | None = None
    released: bool = True
    resit: bool = False
    weight: Decimal | None = None
    own_date: bool = False  # `due` is the student's own (a user or group override in Moodle)

    @property
    def is_submitted(self) -> bool:
        """Handed in: Moodle says submitted, or (status unknown) a submission time exists."""
        if self.submission_status is None:
            return self.submitted_at is not None
        return self.submission_status == "submitted"

    @property
    def has_draft(self) -> bool:
        return self.submission_status == "draft"

    @property
    def released_grade(self) -> Decimal | None:
        return self.grade if self.released else None


@dataclass(frozen=True, slots=True)
class ModuleRecord:
    """One module's work; `enrolled` is false while the enrolment in its course is suspended
    or ended: its marks still count, but its work is neither reminded nor a risk."""

    module: str
    assessments: tuple[Assessment, ...] = ()
    enrolled: bool = True


@dataclass(frozen=True, slots=True)
class Participant:
    id: str | int
    name: str
    modules: tuple[ModuleRecord, ...] = ()
    target_award: str | None = None
    prior_learning_credits: int | None = None
    status: ParticipantStatus = "active"
