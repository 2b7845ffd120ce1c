"""The pull's own question of the store: which students' own dates Moodle must be asked for.

Core Moodle shows an override only through `mod_assign_get_participant`, one call per student
and assignment; the pull asks it only for the pairs whose outcome can still depend on the date
(`rules.reminders.own_dates_matter`), judged on the rows the store holds now.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from moodle_sync.cohort.rows import AnyRow, Pair, Rows
from moodle_sync.rules.deadlines import effective_deadline
from moodle_sync.rules.facts import mark_released
from moodle_sync.rules.policy import Programme, Reminders
from moodle_sync.rules.reminders import own_dates_matter


def open_pairs(session: Session, programme: Programme, now: dt.datetime) -> list[Pair]:
    """The (assignment, student) pairs whose outcome depends on the student's own dates now,
    for which Moodle must be asked again (`rules.reminders.own_dates_matter`)."""
    store = Rows.load(session, programme)
    rules, pairs = programme.reminders, []
    for uid, by_course in store.students().items():
        for cid, active in by_course.items():
            if not active:
                continue
            for a in store.by_course.get(cid, ()):
                pair = (a.id, uid)
                if matters(store, pair, a, rules, now):
                    pairs.append(pair)
    return sorted(pairs)


def matters(store: Rows, pair: Pair, a: AnyRow, rules: Reminders, now: dt.datetime) -> bool:
    """Whether Moodle must be asked for this pair's own dates in this run."""
    uid = pair[1]
    grade, flag = store.grades.get(pair), store.flags.get(pair)
    graded = grade is not None and grade.grade is not None
    released = graded and mark_released(
        a.marking_workflow, flag.workflow_state if flag is not None else None
    )
    extension = flag.extension_due_at if flag is not None else None
    base = effective_deadline(a.due_at, extension)
    sub = store.submission(a, uid)
    submitted_at = sub.time_modified if sub is not None and sub.status == "submitted" else None
    submitted = sub is not None and sub.status == "submitted"
    answered = pair in store.own
    return own_dates_matter(base, submitted, submitted_at, released, answered, now, rules)
