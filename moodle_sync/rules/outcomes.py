"""Module marks and outcomes: means, resits (PT 5.3, 6.1-6.5) and condonation (PT 7.1-7.4).

Marks are Decimals rounded half-up to one decimal place, so 69.85 becomes 69.9 as the
regulations say, not 69.8 as binary floats would have it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from moodle_sync.rules.policy import Module

Outcome = Literal["passed", "failed", "referred", "condoned", "pending"]
_ONE_PLACE = Decimal("0.1")
_ONE = Decimal(1)
_ZERO = Decimal(0)


def round_mark(mark: Decimal) -> Decimal:
    """Half-up to one decimal place (69.85 -> 69.9)."""
    return mark.quantize(_ONE_PLACE, rounding=ROUND_HALF_UP)


def scale_to_percent(grade: Decimal, maximum: Decimal) -> Decimal:
    """A Moodle grade out of another maximum, as a percentage."""
    return grade * 100 / maximum


@dataclass(slots=True)
class AssessmentMark:
    """One assessment's final mark (None until released), weight and attempt."""

    final: Decimal | None
    weight: Decimal | None = None
    resit: bool = False


@dataclass(slots=True)
class ModuleResult:
    code: str
    outcome: Outcome
    mark: Decimal | None  # the module mark that counts, after any resit
    below_after_resit: bool = False  # failed its resit: condonable or failed


def weighted_mean(marks: Sequence[AssessmentMark]) -> Decimal | None:
    """Rounded mean of released marks; None while any mark is missing (or none exist)."""
    finals = [m.final for m in marks if m.final is not None]
    if not finals or len(finals) < len(marks):
        return None
    given = [m.weight for m in marks]
    if given.count(None) == len(given):
        return round_mark(sum(finals, _ZERO) / len(finals))
    weights = [_ONE if w is None else w for w in given]
    total_weight = sum(weights, _ZERO)
    if total_weight == 0:
        return None
    return round_mark(sum(map(operator.mul, weights, finals), _ZERO) / total_weight)


def module_result(
    code: str, marks: Sequence[AssessmentMark], pass_mark: Decimal, resit_cap: Decimal
) -> ModuleResult:
    """Outcome before condonation: pending, passed, referred, or below the pass after resit."""
    first = weighted_mean([m for m in marks if not m.resit])
    if first is None:
        return ModuleResult(code, "pending", None)
    if first >= pass_mark:
        return ModuleResult(code, "passed", first)
    resit = weighted_mean([m for m in marks if m.resit])
    if resit is None:
        return ModuleResult(code, "referred", first)
    mark = max(first, min(resit, resit_cap))
    if mark >= pass_mark:
        return ModuleResult(code, "passed", mark)
    return ModuleResult(code, "failed", mark, below_after_resit=True)


def condone(
    results: Iterable[ModuleResult],
    modules: Mapping[str, Module],
    limit: int,
    min_mark: Decimal,
) -> list[ModuleResult]:
    """Condone modules failed after resit with marks >= min_mark, highest marks first, while the
    condoned credits stay within `limit`; prior learning is never condoned."""
    results = list(results)
    if not any(r.below_after_resit for r in results):
        return results
    candidates = sorted(
        (r for r in results if _condonable(r, modules, min_mark)),
        key=lambda r: (-(r.mark or 0), r.code),
    )
    used, condoned = 0, set()
    for r in candidates:
        credits = modules[r.code].credits
        if used + credits <= limit:
            used += credits
            condoned.add(r.code)
    return [replace(r, outcome="condoned") if r.code in condoned else r for r in results]


def _condonable(r: ModuleResult, modules: Mapping[str, Module], min_mark: Decimal) -> bool:
    return (
        r.below_after_resit
        and r.mark is not None
        and r.mark >= min_mark
        and modules[r.code].kind != "prior_learning"
    )
