"""The programme's academic rules as pure functions: no database, no HTTP, no clock.

policy.py     the programme (config/programme.toml) as validated models; load_programme
checks.py     semantic checks on a programme (unreachable awards, unknown modules, ...)
facts.py      the participant, module and assessment records the rules read
deadlines.py  effective deadlines, the late window W, wall-clock versus elapsed time
penalties.py  lateness and the pluggable late-penalty schemes
outcomes.py   module marks, resits, condonation
credits.py    prior-learning caps, credit totals, award eligibility, classification
progression.py  the progression status and its reasons
reminders.py  the reminder plan and tutor digests, each with a stable key
evaluate.py   one participant through every rule
inputs.py / document.py  the JSON contract of `moodle-sync rules evaluate`
quick_read.py  the hot path of inputs.py: well-formed participants read in one pass
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moodle_sync.errors import ProgrammeError, RulesInputError
from moodle_sync.rules.policy import Programme, load_programme

if TYPE_CHECKING:
    from moodle_sync.rules.document import evaluate_document

__all__ = ["Programme", "ProgrammeError", "RulesInputError", "evaluate_document", "load_programme"]


def __getattr__(name: str) -> Any:
    """`evaluate_document` is imported when first asked for: every command loads the
    programme (policy.py), and only the ones that evaluate need the rest (~40 ms)."""
    if name == "evaluate_document":
        from moodle_sync.rules.document import evaluate_document

        return evaluate_document
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
