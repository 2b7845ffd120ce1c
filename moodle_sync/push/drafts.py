"""Student reminders: which one is due for each piece of work, its wording context, and why a
planned one is no longer wanted.

Everything is read from the run's evaluation (`cohort.Evaluation`): the rules decided what is
required, due and late; this module picks the one reminder to send for each piece of work
(the latest step due: an earlier step still pending is superseded, so a student never gets a
burst) and words nothing itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from moodle_sync.cohort.facts import CourseInfo, Evaluation
from moodle_sync.push.render import DigestFacts, ReminderFacts, Renderer
from moodle_sync.rules.evaluate import AssessmentResult, ParticipantResult
from moodle_sync.rules.reminders import PlannedReminder, into_window, plan_reminders

DIGEST_KIND = "tutor_digest"


@dataclass(frozen=True, slots=True)
class Draft:
    """A message the rules want queued; rendered only when its key is new."""

    key: str
    kind: str  # the reminder step (overdue_1d, ...) or tutor_digest
    recipient_id: int
    assignment_id: int | None
    deadline_at: dt.datetime | None
    send_after: dt.datetime
    facts: ReminderFacts | DigestFacts

    def render(self, renderer: Renderer) -> dict[str, str]:
        if isinstance(self.facts, ReminderFacts):
            return renderer.reminder(self.facts)
        return renderer.digest(self.facts)


@dataclass(frozen=True)
class Audience:
    """The evaluation, and who must not be messaged (settings `push.opt_out_users`)."""

    evaluation: Evaluation
    opt_out: frozenset[int]

    @property
    def now(self) -> dt.datetime:
        return self.evaluation.now

    def messageable(self, result: ParticipantResult) -> bool:
        return not result.silent and int(result.participant.id) not in self.opt_out

    def in_window(self) -> bool:
        p = self.evaluation.programme
        return into_window(self.now, p.reminders, p.timezone) <= self.now


def reminder_drafts(audience: Audience) -> Iterator[Draft]:
    cohort = audience.evaluation.cohort
    for uid, result in audience.evaluation.results.items():
        if not audience.messageable(result):
            continue
        active = cohort.active_courses.get(uid, frozenset())
        for work in result.assessments:
            course = cohort.course_of(int(work.assessment.id))
            if course is not None and course.id in active and work.required:
                draft = _reminder(audience, uid, result, course, work)
                if draft is not None:
                    yield draft


def _reminder(
    audience: Audience,
    uid: int,
    result: ParticipantResult,
    course: CourseInfo,
    work: AssessmentResult,
) -> Draft | None:
    """The latest step due for this work, unless it would reach the student after it expires."""
    programme, now = audience.evaluation.programme, audience.now
    rules, tz, deadline = programme.reminders, programme.timezone, work.deadline
    if deadline is None or now < deadline - rules.horizon:
        return None
    chosen = latest_due(plan_reminders(uid, work.assessment, deadline, rules, tz), now)
    if chosen is None:
        return None
    send_after = chosen.send_at if audience.in_window() else into_window(now, rules, tz)
    if chosen.expires_at is not None and send_after >= chosen.expires_at:
        return None
    facts = _reminder_facts(audience, result, course, work, chosen)
    assignment = int(work.assessment.id)
    return Draft(chosen.key, chosen.step, uid, assignment, deadline, send_after, facts)


def _reminder_facts(
    audience: Audience,
    result: ParticipantResult,
    course: CourseInfo,
    work: AssessmentResult,
    r: PlannedReminder,
) -> ReminderFacts:
    a, deadline = work.assessment, r.deadline
    extension = a.extension if deadline == a.extension and a.due != deadline else None
    return ReminderFacts(
        key=r.key,
        step=r.step,
        kind=r.kind,
        student=result.participant.name,
        assignment=a.name,
        course=course.name,
        module=course.module,
        cmid=audience.evaluation.cohort.assignments[int(a.id)].cmid,
        deadline=deadline,
        due=a.due,
        extension=extension,
        cutoff=a.cutoff,
        tutors=tuple(t.name for t in course.tutors),
    )


def latest_due(plan: Sequence[PlannedReminder], now: dt.datetime) -> PlannedReminder | None:
    """The most recent step due at `now`: earlier ones it supersedes are never sent late."""
    due = [r for r in plan if r.due(now)]
    return max(due, key=lambda r: (r.send_at, r.step)) if due else None


def reminder_reason(
    audience: Audience,
    recipient: int,
    assignment: int | None,
    deadline: dt.datetime | None,
    superseded: bool,
) -> str:
    """Why a reminder not wanted at `now` is no longer wanted, as `code: detail`."""
    cohort = audience.evaluation.cohort
    result = audience.evaluation.results.get(recipient)
    course = cohort.course_of(assignment) if assignment is not None else None
    if recipient in audience.opt_out:
        return f"opted_out: user {recipient} is on push.opt_out_users"
    if course is None:
        return f"assignment_deleted: assignment {assignment} is gone or no longer mapped"
    if result is None:
        return f"not_a_participant: user {recipient} has no student enrolment in {course.name}"
    if result.silent:
        return f"{result.progression.status}: {result.progression.reasons[0]}"
    if course.id not in cohort.active_courses.get(recipient, frozenset()):
        return f"enrolment_inactive: user {recipient} is suspended or unenrolled in {course.name}"
    work = next((w for w in result.assessments if w.assessment.id == assignment), None)
    if work is None:
        return f"not_a_participant: Moodle says user {recipient} is not in assignment {assignment}"
    return _work_reason(work, deadline, superseded)


def _work_reason(work: AssessmentResult, deadline: dt.datetime | None, superseded: bool) -> str:
    a = work.assessment
    if a.is_submitted:
        return f"work_submitted: {a.name} was submitted"
    if a.released_grade is not None:
        return f"work_graded: {a.name} has a grade"
    if not work.required:
        return f"not_required: {a.name} is a resit this student does not need"
    if work.deadline != deadline:
        moved = work.deadline.isoformat() if work.deadline else "none"
        return f"deadline_moved: the deadline is now {moved} (extension or own due date)"
    if superseded:
        return "superseded: a later reminder for the same work replaces it"
    return "expired: its reason no longer holds at this time"
