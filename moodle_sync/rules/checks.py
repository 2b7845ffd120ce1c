"""Semantic checks on a programme: the mistakes a schema cannot see.

Each check returns (location, message) pairs so that `load_programme` can report all of them
together, each naming the entry to fix (`modules[WBP].kind: ...`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

if TYPE_CHECKING:
    from moodle_sync.rules.policy import Award, Programme

Problem = tuple[tuple[str, ...], str]
_PROJECT_WORDS = re.compile(r"(?i)\b(project|dissertation)\b")


def raise_problems(programme: Programme) -> None:
    """Raise one ValidationError carrying every semantic problem, each at its own location."""
    problems = programme_problems(programme)
    if problems:
        details = [
            InitErrorDetails(type=PydanticCustomError("programme", msg), loc=loc, input=None)
            for loc, msg in problems
        ]
        raise ValidationError.from_exception_data("Programme", details)


def programme_problems(p: Programme) -> list[Problem]:
    problems = _module_problems(p) + _general_problems(p)
    for award in p.awards.values():
        problems += _award_problems(p, award)
    return problems


def _module_problems(p: Programme) -> list[Problem]:
    problems: list[Problem] = []
    seen_courses: dict[str, str] = {}
    for code, module in p.modules.items():
        if module.code != code:
            problems.append(((("modules", code, "code")), f"must match the table key {code!r}"))
        if module.kind == "prior_learning" and _PROJECT_WORDS.search(module.title):
            problems.append((("modules", code, "kind"), "a project can never be prior learning"))
        if module.moodle_course:
            other = seen_courses.setdefault(module.moodle_course, code)
            if other != code:
                problems.append(
                    (
                        ("modules", code, "moodle_course"),
                        f"course {module.moodle_course!r} is already mapped to module {other}",
                    )
                )
    return problems


def _general_problems(p: Programme) -> list[Problem]:
    problems: list[Problem] = []
    if p.default_target_award not in p.awards:
        known = ", ".join(p.awards)
        problems.append(
            (("default_target_award",), f"no award {p.default_target_award!r} ({known})")
        )
    if not 0 < p.prior_learning.cap_fraction <= 1:
        problems.append((("prior_learning", "cap_fraction"), "must be above 0 and at most 1"))
    if p.condonation.min_mark > p.pass_mark:
        problems.append(
            (("condonation", "min_mark"), f"must not exceed the pass mark {p.pass_mark}")
        )
    try:
        re.compile(p.resits.name_pattern)
    except re.error as exc:
        problems.append((("resits", "name_pattern"), f"not a regular expression: {exc}"))
    r = p.reminders
    if r.send_window_start >= r.send_window_end:
        problems.append((("reminders", "send_window_end"), "must be later than send_window_start"))
    c = p.classification
    if not c.pass_ < c.merit < c.distinction:
        problems.append((("classification",), "bands must rise: pass < merit < distinction"))
    return problems


def _award_problems(p: Programme, award: Award) -> list[Problem]:
    loc = ("awards", award.id)
    problems: list[Problem] = []
    for code in award.required_modules:
        if code not in p.modules:
            problems.append(
                ((*loc, "required_modules"), f"module {code!r} is not defined under [modules]")
            )
    if award.min_level7_credits > award.credits:
        problems.append(
            ((*loc, "min_level7_credits"), f"exceeds the award's {award.credits} credits")
        )
    reachable, reachable7 = _reachable_credits(p, award)
    if reachable < award.credits:
        problems.append(
            (loc, f"nobody can reach it: needs {award.credits} credits, modules give {reachable}")
        )
    elif reachable7 < award.min_level7_credits:
        problems.append(
            (
                loc,
                f"nobody can reach it: needs {award.min_level7_credits} Level 7 credits, "
                f"modules give {reachable7}",
            )
        )
    return problems


def _reachable_credits(p: Programme, award: Award) -> tuple[int, int]:
    """Most credits (all, Level 7) anyone could count toward the award, prior learning capped."""
    prior = [m for m in p.modules.values() if m.kind == "prior_learning"]
    assessed = [m for m in p.modules.values() if m.kind != "prior_learning"]
    cap = p.prior_cap(award)
    prior_all = min(sum(m.credits for m in prior), cap)
    prior7 = min(sum(m.credits for m in prior if m.level >= 7), cap)
    total = prior_all + sum(m.credits for m in assessed)
    total7 = prior7 + sum(m.credits for m in assessed if m.level >= 7)
    return total, total7
