"""The programme policy: every number of the regulations as validated configuration.

Regulations change by year and by programme, so nothing in the rules engine hard-codes a
mark, a credit total or a time. `load_programme` reads `config/programme.toml` once and
reports every problem together, each naming the file and the entry, so an administrator can
fix the file in one pass.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import re
import tomllib
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from moodle_sync.errors import ProgrammeError

ModuleKind = Literal["prior_learning", "taught", "project"]
Mark = Decimal


def _wall_clock(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError(
            f"{value.isoformat()!r} carries a time zone; give a wall-clock time such as "
            "'09:00' (the programme's timezone applies)"
        )
    return value


# A time of day in the programme's time zone. pydantic would also read a number of seconds
# (as a UTC time) or an offset, which cannot be compared with wall-clock times.
WallClock = Annotated[dt.time, AfterValidator(_wall_clock)]


class _Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __hash__(self) -> int:
        """Computed once (the model is frozen): the rules' caches hash policy on every lookup."""
        return self._field_hash

    @cached_property
    def _field_hash(self) -> int:
        return hash((type(self), *(getattr(self, name) for name in type(self).model_fields)))


class Module(_Strict):
    code: str
    title: str
    credits: int = Field(gt=0)
    level: int = Field(ge=4, le=8)
    kind: ModuleKind
    moodle_course: str | None = None  # the Moodle course idnumber; None = no course yet


class Award(_Strict):
    id: str
    title: str
    credits: int = Field(gt=0)
    min_level7_credits: int = Field(ge=0)
    required_modules: tuple[str, ...] = ()
    condonation_limit: int = Field(ge=0, description="credits that may be condoned (PT 7)")


class LatePenalty(_Strict):
    """Pluggable late-work scheme; the defaults are Lancaster's postgraduate rule (GR 2.3.7)."""

    scheme: Literal["points", "percent", "cap_at_pass_mark"] = "points"
    amount: Decimal = Field(default=Decimal(10), ge=0)
    per_started_day: bool = False
    window_days: int = Field(default=3, ge=0)
    weekend_moves_to: WallClock | None = dt.time(10, 0)
    zero_after_window: bool = True


class PriorLearning(_Strict):
    cap_fraction: Fraction = Fraction(1, 2)


class Condonation(_Strict):
    min_mark: Decimal = Field(default=Decimal(40), ge=0, le=100)


class Resits(_Strict):
    cap: Decimal | None = None  # None: the pass mark
    name_pattern: str = r"(?i)\bresit\b"


class Classification(_Strict):
    distinction: Decimal = Decimal(70)
    merit: Decimal = Decimal(60)
    pass_: Decimal = Field(default=Decimal(50), alias="pass")
    borderline_width: Decimal = Field(default=Decimal(2), ge=0)


class Reminders(_Strict):
    at: WallClock = dt.time(9, 0)
    before_days: tuple[int, ...] = (7, 2)
    due_today_early_before: WallClock = dt.time(12, 0)
    due_today_early_hours: int = Field(default=3, ge=0)
    draft_hours_before: int = Field(default=48, ge=0)
    overdue_days_after: tuple[int, ...] = (1, 3)
    cutoff_hours_before: int = Field(default=24, ge=0)
    send_window_start: WallClock = dt.time(8, 0)
    send_window_end: WallClock = dt.time(20, 0)
    digest_at: WallClock = dt.time(8, 0)
    tutor_roles: tuple[str, ...] = ("editingteacher", "teacher")

    @cached_property
    def horizon(self) -> dt.timedelta:
        """No reminder is sent earlier than this before its deadline (a day spare for the wall
        clock), so work further out needs no plan yet."""
        days = max(self.before_days, default=0) + 2
        hours = max(self.draft_hours_before, self.due_today_early_hours, 24)
        return max(dt.timedelta(days=days), dt.timedelta(hours=hours))


class Programme(_Strict):
    name: str
    timezone: ZoneInfo = ZoneInfo("Europe/London")
    pass_mark: Decimal = Field(default=Decimal(50), ge=0, le=100)
    default_target_award: str
    modules: dict[str, Module]
    awards: dict[str, Award]
    late_penalty: LatePenalty = LatePenalty()
    prior_learning: PriorLearning = PriorLearning()
    condonation: Condonation = Condonation()
    resits: Resits = Resits()
    classification: Classification = Classification()
    reminders: Reminders = Reminders()

    @model_validator(mode="before")
    @classmethod
    def _codes_from_keys(cls, data: Any) -> Any:
        """`[modules.WBP]` names the module once: the table key becomes its code (or id)."""
        if isinstance(data, dict):
            data = dict(data)
            for field, key_name in (("modules", "code"), ("awards", "id")):
                table = data.get(field)
                if isinstance(table, dict):
                    data[field] = {
                        k: ({key_name: k, **v} if isinstance(v, dict) else v)
                        for k, v in table.items()
                    }
        return data

    @model_validator(mode="after")
    def _semantics(self) -> Programme:
        from moodle_sync.rules.checks import raise_problems

        raise_problems(self)
        return self

    # Derived views are cached: the model is frozen, and the rules ask for them per participant.
    @cached_property
    def resit_cap(self) -> Decimal:
        return self.resits.cap if self.resits.cap is not None else self.pass_mark

    @cached_property
    def resit_regex(self) -> re.Pattern[str]:
        return re.compile(self.resits.name_pattern)

    @cached_property
    def ranked_awards(self) -> tuple[Award, ...]:
        """Awards from the lowest to the highest (by credits), the order exit awards follow."""
        return tuple(sorted(self.awards.values(), key=lambda a: (a.credits, a.min_level7_credits)))

    @cached_property
    def course_map(self) -> dict[str, Module]:
        return {m.moodle_course: m for m in self.modules.values() if m.moodle_course}

    @cached_property
    def prior_module(self) -> Module | None:
        return next((m for m in self.modules.values() if m.kind == "prior_learning"), None)

    def awards_ascending(self) -> list[Award]:
        return list(self.ranked_awards)

    @cached_property
    def _award_ranks(self) -> dict[str, int]:
        return {a.id: i for i, a in enumerate(self.ranked_awards)}

    def award_rank(self, award_id: str) -> int:
        return self._award_ranks[award_id]

    def prior_cap(self, award: Award) -> int:
        """floor(cap fraction x the award's credits), exactly (PL 2.4)."""
        numerator, denominator = self._cap_ratio
        return award.credits * numerator // denominator

    @cached_property
    def _cap_ratio(self) -> tuple[int, int]:
        fraction = self.prior_learning.cap_fraction
        return fraction.numerator, fraction.denominator

    def prior_learning_module(self) -> Module | None:
        return self.prior_module

    def module_for_course(self, idnumber: str) -> Module | None:
        return self.course_map.get(idnumber)

    def mapped_courses(self) -> dict[str, Module]:
        """Moodle course idnumber -> module; only these courses are synchronised."""
        return dict(self.course_map)


def load_programme(path: pathlib.Path) -> Programme:
    """Read and validate a programme TOML file, reporting every problem at once."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgrammeError([f"{path}: cannot read the programme file: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise ProgrammeError([f"{path}: not UTF-8 text ({exc.reason})"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError([f"{path}: TOML syntax error: {exc}"]) from exc
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        raise ProgrammeError([_problem_line(path, e) for e in exc.errors()]) from exc


def _problem_line(path: pathlib.Path, error: Any) -> str:
    loc = format_loc(error["loc"])
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        msg = "unknown key (check its spelling against config/programme.toml)"
    return f"{path}: {loc}: {msg}" if loc else f"{path}: {msg}"


def format_loc(loc: tuple[str | int, ...]) -> str:
    """('modules', 'WBP', 'kind') -> 'modules[WBP].kind', the way the TOML reads."""
    out = ""
    for i, part in enumerate(loc):
        keyed = isinstance(part, int) or (i > 0 and loc[i - 1] in ("modules", "awards"))
        out += f"[{part}]" if keyed else (f".{part}" if out else str(part))
    return out
