"""Credits, award eligibility and classification (PL 2.4, PT 5.2-5.8).

Each award is judged on its own terms: its own prior-learning cap and its own condonation
limit. The highest award met is the one reported; one below the target is an exit award.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from moodle_sync.rules.outcomes import ModuleResult, condone, round_mark
from moodle_sync.rules.policy import Award, Programme

_COUNTED = ("passed", "condoned")


@dataclass(frozen=True, slots=True)
class CreditPosition:
    """Where a participant stands against one award."""

    award: Award
    prior: int  # prior-learning credits counted, capped for this award
    total: int
    level7: int
    results: tuple[ModuleResult, ...]  # outcomes with this award's condonation applied
    missing_modules: tuple[str, ...]

    @property
    def met(self) -> bool:
        return (
            self.total >= self.award.credits
            and self.level7 >= self.award.min_level7_credits
            and not self.missing_modules
        )

    def credits_by_module(self, programme: Programme) -> dict[str, int]:
        """Credits each module contributes; prior learning shows its capped credits."""
        out = {r.code: _earned(programme, r) for r in self.results}
        prior_module = programme.prior_learning_module()
        if prior_module is not None and (self.prior or prior_module.code in out):
            out[prior_module.code] = self.prior
        return out


def counted_prior(programme: Programme, award: Award, awarded: int) -> int:
    """Exactly: min(prior credits awarded, floor(cap fraction x the award's credits))."""
    return min(awarded, programme.prior_cap(award))


def credit_position(
    programme: Programme, award: Award, results: Sequence[ModuleResult], prior_awarded: int
) -> CreditPosition:
    limit, min_mark = award.condonation_limit, programme.condonation.min_mark
    judged = tuple(condone(results, programme.modules, limit, min_mark))
    return _position(programme, award, judged, prior_awarded, _tally(programme, judged))


def positions(
    programme: Programme, results: Sequence[ModuleResult], prior_awarded: int
) -> dict[str, CreditPosition]:
    """The participant's position against every award, lowest award first."""
    awards = programme.ranked_awards
    if any(r.below_after_resit for r in results):
        return {a.id: credit_position(programme, a, results, prior_awarded) for a in awards}
    # Nothing to condone, so every award judges the same outcomes: tally them once.
    judged = tuple(results)
    tally = _tally(programme, judged)
    return {a.id: _position(programme, a, judged, prior_awarded, tally) for a in awards}


_Tally = tuple[int, int, set[str]]


def _tally(programme: Programme, judged: Sequence[ModuleResult]) -> _Tally:
    """Credits and Level 7 credits of counted modules, and the codes passed or condoned."""
    credits = level7 = 0
    done = set()
    for r in judged:
        if r.outcome in _COUNTED:
            done.add(r.code)
            module = programme.modules[r.code]
            if module.kind != "prior_learning":
                credits += module.credits
                level7 += module.credits if module.level >= 7 else 0
    return credits, level7, done


def _position(
    programme: Programme,
    award: Award,
    judged: tuple[ModuleResult, ...],
    prior_awarded: int,
    tally: _Tally,
) -> CreditPosition:
    credits, level7, done = tally
    prior = counted_prior(programme, award, prior_awarded)
    prior_module = programme.prior_learning_module()
    prior7 = prior if prior_module is None or prior_module.level >= 7 else 0
    return CreditPosition(
        award=award,
        prior=prior,
        total=prior + credits,
        level7=prior7 + level7,
        results=judged,
        missing_modules=tuple(c for c in award.required_modules if c not in done),
    )


def highest_met(by_award: dict[str, CreditPosition]) -> CreditPosition | None:
    """The highest award whose credits, Level 7 minimum and required modules are all met."""
    return next((p for p in reversed(by_award.values()) if p.met), None)


def highest_award_met(
    programme: Programme, results: Sequence[ModuleResult], prior_awarded: int
) -> CreditPosition | None:
    return highest_met(positions(programme, results, prior_awarded))


def classify(programme: Programme, results: Sequence[ModuleResult]) -> str | None:
    """Class on the credit-weighted mean of assessed modules, with the borderline rule (PT 5.6).

    Assessed modules are those counted toward the award (passed or condoned), prior learning
    excluded. A mean below every band, even after the borderline rule, has no class (None).
    """
    marked = [
        (programme.modules[r.code].credits, r.mark)
        for r in results
        if _counts(programme, r) and r.mark is not None
    ]
    credits = sum(c for c, _ in marked)
    if credits == 0:
        return None
    mean = round_mark(sum((c * m for c, m in marked), Decimal(0)) / credits)
    bands = programme.classification
    width = bands.borderline_width
    for name, floor in (
        ("distinction", bands.distinction),
        ("merit", bands.merit),
        ("pass", bands.pass_),
    ):
        if mean >= floor:
            return name
        at_or_above = sum(c for c, m in marked if m >= floor)
        if mean >= floor - width and 2 * at_or_above >= credits:
            return name
    return None


def _counts(programme: Programme, r: ModuleResult) -> bool:
    return r.outcome in _COUNTED and programme.modules[r.code].kind != "prior_learning"


def _earned(programme: Programme, r: ModuleResult) -> int:
    return programme.modules[r.code].credits if _counts(programme, r) else 0
