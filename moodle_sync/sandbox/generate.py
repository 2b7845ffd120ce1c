"""A large, realistic sandbox site for benchmarks, generated from a seed.

Courses of uneven size (students take about five each), more assignments in bigger courses,
submissions in every status and not for everyone (trap 8: no row for work never opened), some
extensions, grades marked or not, released or still in marking workflow. The site, its tokens
and services come from the bundled CETAD scenario, so the integration token works unchanged.
Dates are offsets from the sandbox's now, or absolute epochs when `now` is given.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from moodle_sync.sandbox.scenario import read_scenario

DAY = 86400
SYSTEM_USERS = (2, 3, 4)  # admin, the integration user, the no-capability user
_FIRST = ("Alex", "Sam", "Priya", "Tom", "Aisha", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace")
_LAST = ("Hughes", "Khan", "Sharma", "Walsh", "Okafor", "Brown", "Nowak", "Reid", "Patel", "Lee")
_WORKFLOW = (("released", 5), ("readyforrelease", 2), ("inmarking", 2), ("inreview", 1))
Row = dict[str, Any]


class GeneratedSite(NamedTuple):
    scenario: Row  # the format scenario.py loads; pass it to start_sandbox(scenario=...)
    course_idnumbers: list[str]  # every generated course, for a programme that maps them all


def generate_site(
    courses: int = 200,
    enrolments: int = 10_000,
    assignments: int = 1_000,
    submissions: int = 50_000,
    seed: int = 0,
    now: int | None = None,
) -> GeneratedSite:
    """Exactly these counts (enrolments include one editing teacher per course)."""
    if enrolments <= courses or assignments < courses:
        raise ValueError(
            f"{courses} courses need more than {courses} enrolments (one teacher each, then "
            f"students) and at least {courses} assignments; got {enrolments} and {assignments}"
        )
    rng, base = random.Random(seed), read_scenario().model_dump()
    course_rows = _courses(courses, now)
    sizes = _spread(enrolments - courses, [rng.uniform(0.4, 1.6) for _ in range(courses)])
    users, enrolment_rows, roster = _people(rng, [c["id"] for c in course_rows], sizes)
    assign_rows, dues = _assignments(rng, course_rows, sizes, assignments, now)
    teachers = {e["courseid"]: e["userid"] for e in enrolment_rows if e["role"] != "student"}
    marking = {a["id"]: (bool(a["markingworkflow"]), teachers[a["courseid"]]) for a in assign_rows}
    pairs = _pairs(rng, assign_rows, roster, submissions)
    subs, grades, flags = _work(rng, pairs, dues, marking, now)
    scenario = base | {
        "description": f"Generated: {courses} courses, {enrolments} enrolments, seed {seed}",
        "categories": [{"id": 2 + i, "name": f"Faculty {i + 1}"} for i in range(courses // 25 + 1)],
        "courses": [base["courses"][0], *course_rows],
        "users": [u for u in base["users"] if u["id"] in SYSTEM_USERS] + users,
        "enrolments": enrolment_rows,
        "assignments": assign_rows,
        "submissions": subs,
        "grades": grades,
        "userflags": flags,
        "overrides": [],
    }
    return GeneratedSite(scenario, [c["idnumber"] for c in course_rows])


def _spread(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainders get the rest)."""
    shares = [total * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _when(offset: int, now: int | None) -> str | int:
    if now is not None:
        return now + offset
    return f"{'-' if offset < 0 else '+'}{abs(offset)}s"


def _courses(count: int, now: int | None) -> list[Row]:
    return [
        {
            "id": 2 + i,
            "shortname": f"B{i + 1:04d}",
            "fullname": f"Benchmark module {i + 1}",
            "idnumber": f"BENCH-{i + 1:04d}",
            "categoryid": 2 + i // 25,
            "sortorder": 10000 * (2 + i // 25) + i,
            "summary": f"Generated module {i + 1}",
            "format": "topics",
            "startdate": _when(-120 * DAY, now),
            "enddate": _when(240 * DAY, now),
        }
        for i in range(count)
    ]


def _person(uid: int, prefix: str) -> Row:
    first, last = _FIRST[uid % len(_FIRST)], _LAST[uid // len(_FIRST) % len(_LAST)]
    return {
        "id": uid,
        "username": f"{prefix.lower()}{uid}",
        "firstname": first,
        "lastname": last,
        "email": f"{prefix.lower()}{uid}@example.ac.uk",
        "idnumber": f"{prefix}{uid}",
        "department": "CETAD",
    }


def _people(
    rng: random.Random, course_ids: list[int], sizes: list[int]
) -> tuple[list[Row], list[Row], dict[int, list[int]]]:
    """Staff (one editing teacher per course, four courses each) and students drawn per course."""
    staff = [100 + i for i in range(len(course_ids) // 4 + 1)]
    pool = max(sum(sizes) // 5, max(sizes))
    students = [staff[-1] + 1 + i for i in range(pool)]
    rows, roster = [], {}
    for i, (course, size) in enumerate(zip(course_ids, sizes, strict=True)):
        rows.append({"userid": staff[i // 4], "courseid": course, "role": "editingteacher"})
        roster[course] = sorted(rng.sample(students, size))
        rows += [
            {"userid": u, "courseid": course, "role": "student", "status": _status(rng)}
            for u in roster[course]
        ]
    users = [_person(u, "T") for u in staff] + [_person(u, "P") for u in students]
    return users, rows, roster


def _status(rng: random.Random) -> str:
    return "suspended" if rng.random() < 0.03 else "active"


def _assignments(
    rng: random.Random, courses: list[Row], sizes: list[int], total: int, now: int | None
) -> tuple[list[Row], dict[int, int]]:
    """At least one per course, the rest in proportion to its size; also each one's due offset."""
    per_course = [1 + n for n in _spread(total - len(courses), [float(s) for s in sizes])]
    rows: list[Row] = []
    dues: dict[int, int] = {}
    for course, count in zip(courses, per_course, strict=True):
        for k in range(count):
            aid, due = len(rows) + 1, rng.randint(-60, 45) * DAY + rng.randint(1, 23) * 3600
            dues[aid] = due
            rows.append(
                {
                    "id": aid,
                    "cmid": 1000 + aid,
                    "courseid": course["id"],
                    "name": f"{course['shortname']} Assignment {k + 1}",
                    "allowsubmissionsfromdate": _when(due - 60 * DAY, now),
                    "duedate": _when(due, now),
                    "cutoffdate": _when(due + 7 * DAY, now),
                    "gradingduedate": _when(due + 14 * DAY, now),
                    "markingworkflow": int(rng.random() < 0.3),
                }
            )
    return rows, dues


def _pairs(
    rng: random.Random, assigns: list[Row], roster: dict[int, list[int]], total: int
) -> list[tuple[int, int]]:
    """`total` distinct (assignment, student of its course) pairs, in assignment order."""
    pairs = [(a["id"], u) for a in assigns for u in roster[a["courseid"]]]
    if total > len(pairs):
        raise ValueError(
            f"{total} submissions do not fit: these courses and assignments hold at most "
            f"{len(pairs)} (assignment, student) pairs; raise enrolments or lower submissions"
        )
    return sorted(rng.sample(pairs, total))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _submission_state(rng: random.Random, due: int) -> tuple[str, int]:
    """A status (all four occur) and when it last changed, never after now (offset 0)."""
    past = (("submitted", 78), ("draft", 8), ("new", 8), ("reopened", 6))
    future = (("submitted", 35), ("draft", 35), ("new", 30))
    status = _weighted(rng, past if due < 0 else future)
    if status == "submitted":  # mostly on time, some up to two days late
        at = due + rng.randint(-10 * DAY, 2 * DAY)
        # Work not yet due was handed in some time this past week, not all in one instant:
        # a cluster at one second would be re-read by every incremental run's safety window.
        return status, at if at <= -60 else rng.randint(-7 * DAY, -60)
    return status, rng.randint(due - 60 * DAY, min(due, -60))


def _work(
    rng: random.Random,
    pairs: list[tuple[int, int]],
    dues: dict[int, int],
    marking: dict[int, tuple[bool, int]],
    now: int | None,
) -> tuple[list[Row], list[Row], list[Row]]:
    """Submissions for these (assignment, student) pairs, then their grades and user flags.

    `marking` is per assignment: (marking workflow on, grader's user id).
    """
    subs: list[Row] = []
    grades: list[Row] = []
    flags: dict[tuple[int, int], Row] = {}
    for aid, uid in pairs:
        due, (workflow, grader) = dues[aid], marking[aid]
        status, at = _submission_state(rng, due)
        subs.append({"id": len(subs) + 1, "assignment": aid, "userid": uid, "status": status})
        subs[-1]["timemodified"] = _when(at, now)
        if rng.random() < 0.04:
            extension = due + rng.randint(3, 14) * DAY
            flags[aid, uid] = {"extensionduedate": _when(extension, now)}
        if status == "submitted" and due < 0 and rng.random() < 0.65:
            mark = None if rng.random() < 0.03 else float(min(100, max(0, rng.gauss(62, 12))))
            grades.append(
                {"id": len(grades) + 1, "assignment": aid, "userid": uid, "grader": grader}
            )
            grades[-1] |= {"grade": mark, "timemodified": _when(rng.randint(due, -60), now)}
            if workflow:
                flags.setdefault((aid, uid), {})["workflowstate"] = _weighted(rng, _WORKFLOW)
    flag_rows = [
        {"id": i + 1, "assignment": aid, "userid": uid} | flag
        for i, ((aid, uid), flag) in enumerate(sorted(flags.items()))
    ]
    return subs, grades, flag_rows
