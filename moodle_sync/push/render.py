"""Messages people want to read: the planner's facts through editable Jinja2 templates.

Wording lives in `config/templates/` (settings `push.templates_dir`) so the programme team can
change it without a release. HTML templates are autoescaped, so a course or student name with
`<` or `&` shows as written; plain-text ones are not. Whatever the templates say, every body
ends with `Ref: <key>`, the marker the delivery half uses to settle an in-doubt message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from moodle_sync.client.messages import MAX_TEXT_BYTES
from moodle_sync.errors import TemplateError
from moodle_sync.rules.deadlines import late_window_end
from moodle_sync.rules.penalties import late_work_in_words
from moodle_sync.rules.policy import Programme

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_TEMPLATES = {
    "reminder": ("reminder_subject.txt.j2", "reminder.txt.j2", "reminder.html.j2"),
    "digest": ("digest_subject.txt.j2", "digest.txt.j2", "digest.html.j2"),
}

_STATUS_LABELS = {
    "withdrawn": "Withdrawn",
    "interrupted": "Interrupted",
    "referred": "Referred",
    "at_risk": "At risk",
    "on_track": "On track",
    "not_started": "Not started",
}


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """One student reminder, as the planner knows it (names as Moodle gave them)."""

    key: str
    step: str  # before_7d, due_today, overdue_1d, ...
    kind: str  # before_7d, due_today, overdue, ...
    student: str
    assignment: str
    course: str
    module: str
    cmid: int
    deadline: dt.datetime  # effective: the extension when one is granted and later
    due: dt.datetime | None  # the due date before any extension
    extension: dt.datetime | None
    cutoff: dt.datetime | None
    tutors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DigestStudent:
    name: str
    status: str  # a label such as "At risk"
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DigestCourse:
    name: str
    module: str
    students: tuple[DigestStudent, ...]


@dataclass(frozen=True, slots=True)
class DigestFacts:
    key: str
    tutor: str
    day: dt.date
    courses: tuple[DigestCourse, ...]
    omitted: int = 0  # students left out to fit Moodle's message size


def marker(key: str) -> str:
    """The reference line every message carries, so Moodle's copy can be matched to its row."""
    return f"Ref: {key}"


def without_last_student(facts: DigestFacts) -> DigestFacts:
    """The same digest less its last student (and any course left empty)."""
    *rest, last = facts.courses
    trimmed = DigestCourse(last.name, last.module, last.students[:-1])
    courses = (*rest, trimmed) if trimmed.students else tuple(rest)
    return dataclasses.replace(facts, courses=courses, omitted=facts.omitted + 1)


def long_date(day: dt.date) -> str:
    """'Friday 5 December 2025', independent of the machine's locale."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def local_time(moment: dt.datetime, tz: ZoneInfo) -> str:
    """'Friday 5 December 2025, 12:00 (GMT)': weekday, wall clock and the zone's abbreviation."""
    here = moment.astimezone(tz)
    return f"{long_date(here.date())}, {here:%H:%M} ({here.tzname()})"


def late_rule(deadline: dt.datetime, programme: Programme) -> str:
    """The late-work rule that would apply to this deadline, in words."""
    rule, tz = programme.late_penalty, programme.timezone
    end = local_time(late_window_end(deadline, rule, tz), tz)
    return late_work_in_words(rule, programme.pass_mark, window_end=end)


def status_label(status: str) -> str:
    """'at_risk' -> 'At risk'; every `eligible_*` status reads 'Eligible'."""
    if status.startswith("eligible_"):
        return "Eligible"
    return _STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def names_text(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


class Renderer:
    """Renders payloads `{"subject", "text", "html"}` from the templates in one folder."""

    def __init__(self, templates_dir: Path, programme: Programme, site_url: str = "") -> None:
        self.templates_dir = templates_dir
        self.programme = programme
        self.site_url = site_url.rstrip("/")
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            autoescape=lambda name: name is not None and name.endswith(".html.j2"),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def check(self) -> None:
        """Load every template now, so a broken one fails before any message is planned."""
        for names in _TEMPLATES.values():
            for name in names:
                self._template(name)

    def reminder(self, facts: ReminderFacts) -> dict[str, str]:
        tz = self.programme.timezone
        context = {
            "r": facts,
            "deadline": local_time(facts.deadline, tz),
            "due": local_time(facts.due, tz) if facts.due else None,
            "extension": local_time(facts.extension, tz) if facts.extension else None,
            "cutoff": local_time(facts.cutoff, tz) if facts.cutoff else None,
            "late_rule": late_rule(facts.deadline, self.programme),
            "link": f"{self.site_url}/mod/assign/view.php?id={facts.cmid}",
            "contacts": names_text(facts.tutors),
        }
        return self._render("reminder", facts.key, context)

    def digest(self, facts: DigestFacts) -> dict[str, str]:
        """One message a day, so a long one is cut to Moodle's 4,096 bytes, saying how many
        students it leaves out, rather than split into several."""
        while True:
            payload = self._render("digest", facts.key, {"d": facts, "day": long_date(facts.day)})
            if len(payload["html"].encode()) <= MAX_TEXT_BYTES or not facts.courses:
                return payload
            facts = without_last_student(facts)

    def _render(self, kind: str, key: str, context: Mapping[str, Any]) -> dict[str, str]:
        subject_name, text_name, html_name = _TEMPLATES[kind]
        subject = " ".join(self._fill(subject_name, context).split())
        text = self._fill(text_name, context).rstrip()
        body = self._fill(html_name, context).rstrip()
        return {
            "subject": subject,
            "text": f"{text}\n\n{marker(key)}",
            "html": f"{body}\n<p>{html.escape(marker(key))}</p>",
        }

    def _fill(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._template(name)
        try:
            return template.render(context)
        except jinja2.TemplateError as exc:
            raise TemplateError(
                f"message template {self._path(name)} failed to render: {exc}; "
                f"the values it may use are {sorted(context)}"
            ) from exc

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self._env.get_template(name)
        except jinja2.TemplateNotFound:
            raise TemplateError(
                f"message template {self._path(name)} is missing: copy it from the repository's "
                "config/templates/ or point push.templates_dir at a folder that has it"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"message template {self._path(name)}, line {exc.lineno}: {exc.message}; "
                "fix the template (Jinja2 syntax) and run again"
            ) from None

    def _path(self, name: str) -> Path:
        return self.templates_dir / name
