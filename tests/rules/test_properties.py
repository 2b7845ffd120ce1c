"""Invariants the rules must keep whatever the data (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from moodle_sync.rules import evaluate_document
from moodle_sync.rules.credits import counted_prior, highest_award_met
from moodle_sync.rules.facts import Assessment
from moodle_sync.rules.outcomes import ModuleResult
from moodle_sync.rules.penalties import lateness, penalised_mark
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.rules.reminders import due_kinds, plan_reminders, reminders_due
from tests.rules.conftest import LONDON, PROGRAMME_TOML, make_programme

PROGRAMME = load_programme(PROGRAMME_TOML)
FAST = settings(max_examples=60, deadline=None)
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

instants = st.integers(0, 2 * 365 * 24 * 60).map(lambda m: START + dt.timedelta(minutes=m))
marks = st.integers(0, 1000).map(lambda n: Decimal(n) / 10)
taught = ["MPC", "OCVB", "LOTC", "ULM", "WBP", "MRP"]


@FAST
@given(
    prior=st.integers(0, 400),
    cap=st.fractions(Fraction(1, 8), Fraction(1)),  # below 1/9 no Masters is reachable
    award=st.sampled_from(["pg_certificate", "pg_diploma", "masters"]),
)
def test_counted_prior_credits_never_exceed_the_cap(prior: int, cap: Fraction, award: str) -> None:
    p = make_programme(prior_learning={"cap_fraction": str(cap)})
    the_award = p.awards[award]
    counted = counted_prior(p, the_award, prior)
    assert counted <= cap * the_award.credits and counted <= prior


@FAST
@given(due=instants, extension=instants, submitted=instants, mark=marks)
def test_an_extension_never_makes_work_later_or_the_penalty_larger(
    due: dt.datetime, extension: dt.datetime, submitted: dt.datetime, mark: Decimal
) -> None:
    rule = PROGRAMME.late_penalty
    without = lateness(due, submitted, rule, LONDON)
    with_ext = lateness(max(due, extension), submitted, rule, LONDON)
    assert with_ext.days_late <= without.days_late
    pen = [mark - penalised_mark(mark, late, rule, Decimal(50)) for late in (without, with_ext)]
    assert pen[1] <= pen[0]


module_states = st.lists(
    st.tuples(st.sampled_from(["passed", "failed", "referred", "pending"]), st.integers(20, 90)),
    min_size=len(taught),
    max_size=len(taught),
)


def _results(states: list[tuple[str, int]]) -> list[ModuleResult]:
    out = []
    for code, (outcome, mark) in zip(taught, states, strict=True):
        below = outcome == "failed"
        m = Decimal(min(mark, 49)) if outcome != "passed" else Decimal(max(mark, 50))
        out.append(ModuleResult(code, outcome, None if outcome == "pending" else m, below))  # type: ignore[arg-type]
    return out


def _rank(p: Programme, results: list[ModuleResult], prior: int) -> int:
    best = highest_award_met(p, results, prior)
    return -1 if best is None else p.award_rank(best.award.id)


@FAST
@given(
    states=module_states, which=st.integers(0, len(taught) - 1), prior=st.sampled_from([0, 30, 60])
)
def test_passing_one_more_module_never_lowers_the_award(
    states: list[tuple[str, int]], which: int, prior: int
) -> None:
    before = _results(states)
    after = list(before)
    after[which] = ModuleResult(taught[which], "passed", Decimal(55))
    assert _rank(PROGRAMME, after, prior) >= _rank(PROGRAMME, before, prior)


@FAST
@given(
    deadline=instants,
    cutoff_days=st.one_of(st.none(), st.integers(-3, 14)),
    status=st.sampled_from([None, "new", "draft", "submitted", "reopened"]),
)
def test_reminders_never_for_submitted_work_nor_outside_the_window(
    deadline: dt.datetime, cutoff_days: int | None, status: str | None
) -> None:
    cutoff = None if cutoff_days is None else deadline + dt.timedelta(days=cutoff_days)
    work = Assessment(1, "Essay", due=deadline, cutoff=cutoff, submission_status=status)  # type: ignore[arg-type]
    rules = PROGRAMME.reminders
    plan = plan_reminders(7, work, deadline, rules, LONDON)
    if status == "submitted":
        assert plan == []
    for r in plan:
        local = r.send_at.astimezone(LONDON).time()
        assert rules.send_window_start <= local < rules.send_window_end
        assert r.expires_at is None or r.send_at < r.expires_at


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


assessments = st.builds(
    lambda ident, due, late_h, grade, status: {
        "id": ident,
        "name": "Essay",
        "due": _iso(due),
        "submitted_at": _iso(due + dt.timedelta(hours=late_h)) if status == "submitted" else None,
        "submission_status": status,
        "grade": grade,
    },
    st.integers(1, 10**6),
    instants,
    st.integers(-48, 200),
    st.one_of(st.none(), st.integers(0, 100)),
    st.sampled_from(["new", "draft", "submitted"]),
)
participants = st.builds(
    lambda ident, prior, target, works: {
        "id": ident,
        "name": "P",
        "target_award": target,
        "prior_learning_credits": prior,
        "modules": [{"module": c, "assessments": [w]} for c, w in zip(taught, works, strict=False)],
    },
    st.integers(1, 10**6),
    st.sampled_from([None, 0, 30, 60, 90]),
    st.sampled_from(["pg_certificate", "pg_diploma", "masters"]),
    st.lists(assessments, min_size=1, max_size=5),
)


@settings(max_examples=40, deadline=None)
@given(now=instants, people=st.lists(participants, min_size=1, max_size=4), seed=st.integers())
def test_evaluation_is_deterministic_and_order_independent(
    now: dt.datetime, people: list[dict[str, object]], seed: int
) -> None:
    doc = {"now": now.isoformat(), "participants": people}
    first = evaluate_document(doc, PROGRAMME)
    assert evaluate_document(doc, PROGRAMME) == first
    shuffled = list(people)
    random.Random(seed).shuffle(shuffled)
    again = evaluate_document({"now": now.isoformat(), "participants": shuffled}, PROGRAMME)
    by_id = {id(p): out for p, out in zip(people, first["participants"], strict=True)}
    assert again["participants"] == [by_id[id(p)] for p in shuffled]


@settings(max_examples=40, deadline=None)
@given(now=instants, person=participants)
def test_reported_prior_credits_respect_the_target_cap(
    now: dt.datetime, person: dict[str, object]
) -> None:
    doc = {"now": now.isoformat(), "participants": [person]}
    (out,) = evaluate_document(doc, PROGRAMME)["participants"]
    target = PROGRAMME.awards[str(person["target_award"])]
    assert out["prior_learning_credits"] <= PROGRAMME.prior_cap(target)
    assert sum(out["credits_by_module"].values()) == out["total_credits"]


hours = st.integers(0, 2 * 365 * 24).map(lambda h: START + dt.timedelta(hours=h))


@settings(max_examples=300, deadline=None)
@given(
    deadline=hours,
    hours_after=st.integers(-24 * 10, 24 * 5),
    cutoff_days=st.none() | st.integers(-3, 14),
    status=st.sampled_from([None, "new", "draft", "submitted", "reopened"]),
    grade=st.none() | marks,
)
def test_reminders_due_is_the_due_part_of_the_full_plan(
    deadline: dt.datetime,
    hours_after: int,
    cutoff_days: int | None,
    status: str | None,
    grade: Decimal | None,
) -> None:
    """`reminders_due` skips building the plan (and caches per deadline); it must not differ,
    even at the very hour a reminder falls due."""
    now = deadline + dt.timedelta(hours=hours_after)
    cutoff = None if cutoff_days is None else deadline + dt.timedelta(days=cutoff_days)
    work = Assessment(1, "Essay", due=deadline, cutoff=cutoff, grade=grade)
    work.submission_status = status  # type: ignore[assignment]
    rules = PROGRAMME.reminders
    full = due_kinds(plan_reminders(7, work, deadline, rules, LONDON), now)
    assert reminders_due(7, work, deadline, rules, LONDON, now) == full
