"""The planner: rules on the stored data, written to the outbox under stable keys.

Each run recomputes what *should* be queued at `now`: for each student and assessment the
latest reminder step that is due (an earlier step still pending is superseded, so a student
never gets a burst), and at most one digest per tutor per day. Keys already in the outbox, in
any state, are never planned again; `planned` rows that are no longer wanted are cancelled with
the reason, before delivery. Rows in other states belong to delivery and are never touched.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.push.facts import Cohort, CourseInfo, load_cohort
from moodle_sync.push.render import (
    DigestCourse,
    DigestFacts,
    DigestStudent,
    ReminderFacts,
    Renderer,
    local_time,
    status_label,
)
from moodle_sync.rules.deadlines import at_wall_clock, local, started_days
from moodle_sync.rules.evaluate import AssessmentResult, ParticipantResult, evaluate_participant
from moodle_sync.rules.facts import Participant
from moodle_sync.rules.policy import Programme
from moodle_sync.rules.reminders import (
    DigestItem,
    PlannedReminder,
    into_window,
    plan_reminders,
    plan_tutor_digests,
)
from moodle_sync.settings import PushSettings
from moodle_sync.store.tables import OutboxMessage

T = TypeVar("T")
_CHUNK = 500
DIGEST_KIND = "tutor_digest"
_SILENT = ("withdrawn", "interrupted")  # progression statuses that get no messages


@dataclass
class PlanReport:
    """What a planning pass did (or, in a dry run, would do)."""

    run_id: int | None
    dry_run: bool
    planned: int = 0
    already_known: int = 0
    cancelled: int = 0
    cancel_reasons: Counter[str] = field(default_factory=Counter)
    messages: list[dict[str, Any]] = field(default_factory=list)
    cancellations: list[dict[str, Any]] = field(default_factory=list)

    def record(self, rows: Sequence[dict[str, Any]], cancelled: Sequence[tuple[str, str]]) -> None:
        self.planned, self.cancelled = len(rows), len(cancelled)
        self.messages = [_summary(row, self.dry_run) for row in rows]
        for key, reason in cancelled:
            self.cancellations.append({"key": key, "reason": reason})
            self.cancel_reasons[reason.split(":", 1)[0]] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "planned": self.planned,
            "already_known": self.already_known,
            "cancelled": self.cancelled,
            "cancel_reasons": dict(sorted(self.cancel_reasons.items())),
            "messages": self.messages,
            "cancellations": self.cancellations,
        }


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
class PlanContext:
    """The cohort evaluated at `now`, and who must not be messaged."""

    cohort: Cohort
    results: dict[str | int, ParticipantResult]
    programme: Programme
    opt_out: frozenset[int]
    now: dt.datetime

    @property
    def in_window(self) -> bool:
        rules, tz = self.programme.reminders, self.programme.timezone
        return into_window(self.now, rules, tz) <= self.now

    def messageable(self, p: Participant) -> bool:
        status = self.results[p.id].progression.status
        return status not in _SILENT and p.id not in self.opt_out

    def reminder_reason(
        self,
        recipient: int,
        assignment: int | None,
        deadline: dt.datetime | None,
        wanted: set[tuple[int, int | None]],
    ) -> str:
        """Why a planned reminder is no longer wanted, as `code: detail`."""
        result = self.results.get(recipient)
        course = self.cohort.course_of(assignment) if assignment is not None else None
        if recipient in self.opt_out:
            return f"opted_out: user {recipient} is on push.opt_out_users"
        if course is None:
            return f"assignment_deleted: assignment {assignment} is gone or no longer mapped"
        if result is None:
            return f"not_a_participant: user {recipient} has no student enrolment in {course.name}"
        status = result.progression.status
        if status in _SILENT:
            return f"{status}: {result.progression.reasons[0]}"
        if course.id not in self.cohort.active_courses.get(recipient, frozenset()):
            return (
                f"enrolment_inactive: user {recipient} is suspended or unenrolled in {course.name}"
            )
        work = next(w for w in result.assessments if w.assessment.id == assignment)
        return _work_reason(work, deadline, (recipient, assignment) in wanted)

    def digest_reason(self, key: str, digests_open: bool) -> str | None:
        """A planned digest from an earlier day is stale; today's goes only if now empty."""
        today = f"{local(self.now, self.programme.timezone).date():%Y%m%d}"
        if not key.endswith(f"-{today}"):
            return "digest_expired: planned for an earlier day and not sent that day"
        if not digests_open:
            return None  # outside the window or before the digest time: keep it
        return "nothing_to_report: the tutor has nothing in today's digest any more"


def _work_reason(work: AssessmentResult, deadline: dt.datetime | None, superseded: bool) -> str:
    a = work.assessment
    if a.is_submitted:
        return f"work_submitted: {a.name} was submitted"
    if a.grade is not None:
        return f"work_graded: {a.name} has a grade"
    if work.deadline != deadline:
        moved = work.deadline.isoformat() if work.deadline else "none"
        return f"deadline_moved: the deadline is now {moved} (extension or new due date)"
    if superseded:
        return "superseded: a later reminder for the same work replaces it"
    return "expired: its reason no longer holds at this time"


# --- student reminders -----------------------------------------------------------------------
def reminder_drafts(ctx: PlanContext) -> Iterator[Draft]:
    for p in ctx.cohort.participants:
        if not ctx.messageable(p):
            continue
        active = ctx.cohort.active_courses.get(int(p.id), frozenset())
        for work in ctx.results[p.id].assessments:
            course = ctx.cohort.course_of(int(work.assessment.id))
            if course is not None and course.id in active:
                draft = _reminder(ctx, p, course, work)
                if draft is not None:
                    yield draft


def _reminder(
    ctx: PlanContext, p: Participant, course: CourseInfo, work: AssessmentResult
) -> Draft | None:
    """The latest step due for this work, unless it would reach the student after it expires."""
    rules, tz, deadline = ctx.programme.reminders, ctx.programme.timezone, work.deadline
    if deadline is None or ctx.now < deadline - rules.horizon:
        return None
    chosen = latest_due(plan_reminders(p.id, work.assessment, deadline, rules, tz), ctx.now)
    if chosen is None:
        return None
    send_after = chosen.send_at if ctx.in_window else into_window(ctx.now, rules, tz)
    if chosen.expires_at is not None and send_after >= chosen.expires_at:
        return None
    facts = _reminder_facts(ctx, p, course, work, chosen)
    assignment = int(work.assessment.id)
    return Draft(chosen.key, chosen.step, int(p.id), assignment, deadline, send_after, facts)


def _reminder_facts(
    ctx: PlanContext, p: Participant, course: CourseInfo, work: AssessmentResult, r: PlannedReminder
) -> ReminderFacts:
    a, deadline = work.assessment, r.deadline
    extension = a.extension if deadline == a.extension and a.due != deadline else None
    return ReminderFacts(
        key=r.key,
        step=r.step,
        kind=r.kind,
        student=p.name,
        assignment=a.name,
        course=course.name,
        module=course.module,
        cmid=ctx.cohort.assignments[int(a.id)].cmid,
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


# --- tutor digests ---------------------------------------------------------------------------
def digest_drafts(ctx: PlanContext) -> list[Draft] | None:
    """Today's digests, or None before the digest time or outside the send window."""
    rules, tz = ctx.programme.reminders, ctx.programme.timezone
    opening = at_wall_clock(local(ctx.now, tz).date(), rules.digest_at, tz)
    if ctx.now < into_window(opening, rules, tz) or not ctx.in_window:
        return None
    by_tutor = _digest_courses(ctx)
    items = {
        tutor: [DigestItem(s.name, line) for c in courses for s in c.students for line in s.lines]
        for tutor, courses in by_tutor.items()
    }
    names = {t.id: t.name for c in ctx.cohort.courses.values() for t in c.tutors}
    drafts = []
    for d in plan_tutor_digests(items, ctx.now, rules, tz):
        tutor = int(d.tutor)
        facts = DigestFacts(d.key, names[tutor], d.day, tuple(by_tutor[tutor]))
        drafts.append(Draft(d.key, DIGEST_KIND, tutor, None, None, d.send_at, facts))
    return drafts


def _digest_courses(ctx: PlanContext) -> dict[str | int, list[DigestCourse]]:
    """Tutor -> their courses with the students worth a look (opted-out tutors get none)."""
    notes = _course_notes(ctx)
    by_tutor: dict[str | int, list[DigestCourse]] = {}
    for course in ctx.cohort.courses.values():
        students = tuple(notes.get(course.id, ()))
        for tutor in course.tutors if students else ():
            if tutor.id not in ctx.opt_out:
                entry = DigestCourse(course.name, course.module, students)
                by_tutor.setdefault(tutor.id, []).append(entry)
    return by_tutor


def _course_notes(ctx: PlanContext) -> dict[int, list[DigestStudent]]:
    """Course id -> the active students with something a tutor should know, in name order."""
    notes: dict[int, list[DigestStudent]] = {}
    for p in sorted(ctx.cohort.participants, key=lambda p: (p.name, str(p.id))):
        result = ctx.results[p.id]
        if result.progression.status in _SILENT:
            continue
        for course_id in sorted(ctx.cohort.active_courses.get(int(p.id), ())):
            lines = _student_lines(ctx, result, ctx.cohort.courses[course_id])
            if lines:
                label = status_label(result.progression.status)
                notes.setdefault(course_id, []).append(DigestStudent(p.name, label, lines))
    return notes


def _student_lines(
    ctx: PlanContext, result: ParticipantResult, course: CourseInfo
) -> tuple[str, ...]:
    lines = [
        line
        for w in result.assessments
        if (owner := ctx.cohort.course_of(int(w.assessment.id))) is not None
        and owner.id == course.id
        and (line := _work_line(ctx, w)) is not None
    ]
    for r in result.target.results:
        if r.code == course.module and r.outcome == "referred":
            lines.append(f"Module referred: mark {r.mark}, resit pending")
        elif r.code == course.module and r.outcome == "failed":
            lines.append(f"Module failed after the resit (mark {r.mark})")
    return tuple(lines)


def _work_line(ctx: PlanContext, work: AssessmentResult) -> str | None:
    """Overdue work, a draft close to its deadline, or a submission awaiting marking."""
    a, deadline, now = work.assessment, work.deadline, ctx.now
    if a.is_submitted:
        return f"{a.name}: submitted, awaiting marking" if a.grade is None else None
    if a.grade is not None or deadline is None:
        return None
    if deadline < now:
        days = started_days(deadline, now)
        return f"{a.name}: {days} day{'s' * (days != 1)} overdue, not submitted"
    draft_warning = dt.timedelta(hours=ctx.programme.reminders.draft_hours_before)
    if a.has_draft and deadline - now < draft_warning:
        due = local_time(deadline, ctx.programme.timezone)
        return f"{a.name}: draft not submitted, due {due}"
    return None


def plan(
    sessions: sessionmaker[Session],
    programme: Programme,
    push_settings: PushSettings,
    now: dt.datetime,
    run_id: int | None,
    *,
    dry_run: bool = False,
    site_url: str = "",
) -> PlanReport:
    """Plan every message due at `now` and cancel the planned ones whose reason has gone.

    `site_url` is the Moodle site root, for the assignment links in the messages.
    """
    renderer = Renderer(push_settings.templates_dir, programme, site_url)
    renderer.check()
    report = PlanReport(run_id, dry_run)
    with sessions() as session:
        ctx = _context(session, programme, push_settings, now)
        digests = digest_drafts(ctx)
        drafts = {d.key: d for d in (*reminder_drafts(ctx), *(digests or ()))}
        known = known_keys(session, drafts)
        new = [d for key, d in drafts.items() if key not in known]
        report.already_known = len(drafts) - len(new)
        stale = list(_stale_rows(session, ctx, drafts, digests_open=digests is not None))
        rows = [_row(d, renderer, now, run_id) for d in new]
        report.record(rows, [(key, reason) for _, key, reason in stale])
        if not dry_run:
            cancel_rows(session, [(row_id, reason) for row_id, _, reason in stale], now)
            insert_rows(session, rows)
            session.commit()
    return report


def _context(
    session: Session, programme: Programme, settings: PushSettings, now: dt.datetime
) -> PlanContext:
    cohort = load_cohort(session, programme, settings.interrupted_users)
    results = {p.id: evaluate_participant(p, programme, now) for p in cohort.participants}
    return PlanContext(cohort, results, programme, frozenset(settings.opt_out_users), now)


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def known_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys already in the outbox, whatever their state."""
    found: set[str] = set()
    for chunk in chunked(list(keys), _CHUNK):
        found.update(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))))
    return found


def _row(draft: Draft, renderer: Renderer, now: dt.datetime, run_id: int | None) -> dict[str, Any]:
    payload = draft.render(renderer)
    return {
        "key": draft.key,
        "kind": draft.kind,
        "recipient_id": draft.recipient_id,
        "assignment_id": draft.assignment_id,
        "deadline_at": draft.deadline_at,
        "send_after": draft.send_after,
        "payload": payload,
        "state": "planned",
        "planned_at": now,
        "updated_at": now,
        "run_id": run_id,
    }


def _summary(row: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    """One planned message as reports show it; a dry run shows the full text."""
    out = {k: row[k] for k in ("key", "kind", "recipient_id", "assignment_id")}
    out["send_after"] = row["send_after"].isoformat()
    out["subject"] = row["payload"]["subject"]
    if dry_run:
        out["text"] = row["payload"]["text"]
    return out


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert idempotently: a key that appeared meanwhile (another planner) is left alone."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for chunk in chunked(rows, _CHUNK):
        statement = insert(OutboxMessage).values(chunk)
        session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def cancel_rows(session: Session, rows: Iterable[tuple[int, str]], now: dt.datetime) -> None:
    """`planned` -> `cancelled` with the reason; a row delivery has taken meanwhile is kept."""
    for row_id, reason in rows:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.state == "planned")
            .values(state="cancelled", error=reason, updated_at=now)
        )


def _stale_rows(
    session: Session, ctx: PlanContext, wanted: dict[str, Draft], *, digests_open: bool
) -> Iterator[tuple[int, str, str]]:
    """(id, key, reason) of each planned row no longer wanted."""
    pairs = {(d.recipient_id, d.assignment_id) for d in wanted.values()}
    columns = (OutboxMessage.id, OutboxMessage.key, OutboxMessage.kind)
    extra = (OutboxMessage.recipient_id, OutboxMessage.assignment_id, OutboxMessage.deadline_at)
    rows = session.execute(
        select(*columns, *extra).where(OutboxMessage.state == "planned").order_by(OutboxMessage.id)
    ).all()
    for row in rows:
        if row.key in wanted:
            continue
        if row.kind != DIGEST_KIND and row.assignment_id is None:
            continue  # not planned here (an administrators' alert): not the planner's to cancel
        if row.kind == DIGEST_KIND:
            reason = ctx.digest_reason(row.key, digests_open)
        else:
            reason = ctx.reminder_reason(
                row.recipient_id, row.assignment_id, row.deadline_at, pairs
            )
        if reason is not None:
            yield row.id, row.key, reason
