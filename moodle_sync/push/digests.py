"""Tutors' daily digests: who in each of their courses is worth a look, at most once a day.

A digest is for one local day (its key holds the date): yesterday's unsent digest is cancelled
when today's is planned, so a tutor never gets two in one day. The lines word what the rules
decided (`rules.progression.Concern`, module outcomes); nothing is judged here.
"""

from __future__ import annotations

from moodle_sync.cohort.facts import CourseInfo
from moodle_sync.push.drafts import DIGEST_KIND, Audience, Draft
from moodle_sync.push.render import (
    DigestCourse,
    DigestFacts,
    DigestStudent,
    local_time,
    status_label,
)
from moodle_sync.rules.deadlines import at_wall_clock, local
from moodle_sync.rules.evaluate import AssessmentResult, ParticipantResult
from moodle_sync.rules.reminders import DigestItem, into_window, plan_tutor_digests


def digests_open(audience: Audience) -> bool:
    """Today's digests may be planned: the digest time has come and the window is open."""
    p = audience.evaluation.programme
    rules, tz, now = p.reminders, p.timezone, audience.now
    opening = at_wall_clock(local(now, tz).date(), rules.digest_at, tz)
    return now >= into_window(opening, rules, tz) and audience.in_window()


def today_key_suffix(audience: Audience) -> str:
    p = audience.evaluation.programme
    return f"-{local(audience.now, p.timezone).date():%Y%m%d}"


def digest_drafts(audience: Audience) -> list[Draft]:
    """Today's digests (none before the digest time or outside the send window)."""
    if not digests_open(audience):
        return []
    p, cohort = audience.evaluation.programme, audience.evaluation.cohort
    by_tutor = _digest_courses(audience)
    items: dict[str | int, list[DigestItem]] = {
        tutor: [DigestItem(s.name, line) for c in courses for s in c.students for line in s.lines]
        for tutor, courses in by_tutor.items()
    }
    names = {t.id: t.name for c in cohort.courses.values() for t in c.tutors}
    drafts = []
    for d in plan_tutor_digests(items, audience.now, p.reminders, p.timezone):
        tutor = int(d.tutor)
        facts = DigestFacts(d.key, names[tutor], d.day, tuple(by_tutor[tutor]))
        drafts.append(Draft(d.key, DIGEST_KIND, tutor, None, None, d.send_at, facts))
    return drafts


def digest_reason(audience: Audience, key: str) -> str | None:
    """Why a digest not wanted now is no longer wanted; None to keep it waiting."""
    if not key.endswith(today_key_suffix(audience)):
        return (
            "digest_expired: planned for an earlier day and not sent that day; today's replaces it"
        )
    if not digests_open(audience):
        return None  # outside the window or before the digest time: keep it
    return "nothing_to_report: the tutor has nothing in today's digest any more"


def _digest_courses(audience: Audience) -> dict[int, list[DigestCourse]]:
    """Tutor -> their courses with the students worth a look (opted-out tutors get none)."""
    notes = _course_notes(audience)
    by_tutor: dict[int, list[DigestCourse]] = {}
    for course in audience.evaluation.cohort.courses.values():
        students = tuple(notes.get(course.id, ()))
        for tutor in course.tutors if students else ():
            if tutor.id not in audience.opt_out:
                entry = DigestCourse(course.name, course.module, students)
                by_tutor.setdefault(tutor.id, []).append(entry)
    return by_tutor


def _course_notes(audience: Audience) -> dict[int, list[DigestStudent]]:
    """Course id -> the active students with something a tutor should know, in name order."""
    evaluation = audience.evaluation
    cohort = evaluation.cohort
    notes: dict[int, list[DigestStudent]] = {}
    ordered = sorted(evaluation.results.items(), key=lambda i: (i[1].participant.name, i[0]))
    for uid, result in ordered:
        if result.silent:
            continue
        for course_id in sorted(cohort.active_courses.get(uid, ())):
            lines = _student_lines(audience, result, cohort.courses[course_id])
            if lines:
                label = status_label(result.progression.status)
                student = DigestStudent(result.participant.name, label, lines)
                notes.setdefault(course_id, []).append(student)
    return notes


def _student_lines(
    audience: Audience, result: ParticipantResult, course: CourseInfo
) -> tuple[str, ...]:
    cohort = audience.evaluation.cohort
    lines = [
        line
        for w in result.assessments
        if (owner := cohort.course_of(int(w.assessment.id))) is not None
        and owner.id == course.id
        and (line := work_line(audience, w)) is not None
    ]
    for r in result.target.results:
        if r.code == course.module and r.outcome == "referred":
            lines.append(f"Module referred: mark {r.mark}, resit pending")
        elif r.code == course.module and r.outcome == "failed":
            lines.append(f"Module failed after the resit (mark {r.mark})")
    return tuple(lines)


def work_line(audience: Audience, work: AssessmentResult) -> str | None:
    """The rules' concern about one piece of work, in words."""
    c, name = work.concern, work.assessment.name
    if c is None:
        return None
    if c.kind == "overdue":
        return f"{name}: {c.days} day{'s' * (c.days != 1)} overdue, not submitted"
    if c.kind == "draft_due_soon" and work.deadline is not None:
        due = local_time(work.deadline, audience.evaluation.programme.timezone)
        return f"{name}: draft not submitted, due {due}"
    return f"{name}: submitted, awaiting marking"
