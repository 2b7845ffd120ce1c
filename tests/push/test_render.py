"""Message rendering: British dates in local time, the late rule, escaping, broken templates."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.client.messages import MAX_TEXT_BYTES
from moodle_sync.push.render import (
    DigestCourse,
    DigestFacts,
    DigestStudent,
    ReminderFacts,
    Renderer,
    TemplateError,
    late_rule,
    local_time,
)
from moodle_sync.rules.policy import LatePenalty, Programme
from tests.conftest import REPO

LONDON = ZoneInfo("Europe/London")
TEMPLATES = REPO / "config" / "templates"
NASTY = "<script>alert('x')</script> & Sons"


def facts(**changes: object) -> ReminderFacts:
    base: dict[str, object] = {
        "key": "r-5-2-before_2d-20251205T120000Z",
        "step": "before_2d",
        "kind": "before_2d",
        "student": "Amelia Hughes",
        "assignment": "MPC Essay",
        "course": "Models for Planning Change",
        "module": "MPC",
        "cmid": 42,
        "deadline": datetime(2025, 12, 5, 12, tzinfo=UTC),
        "due": datetime(2025, 12, 5, 12, tzinfo=UTC),
        "extension": None,
        "cutoff": None,
        "tutors": ("Tess Tutor", "Dr Ravi Rao"),
    }
    return ReminderFacts(**(base | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2025, 12, 5, 12, tzinfo=UTC), "Friday 5 December 2025, 12:00 (GMT)"),
        (datetime(2025, 7, 4, 11, tzinfo=UTC), "Friday 4 July 2025, 12:00 (BST)"),
        (datetime(2025, 3, 30, 0, 30, tzinfo=UTC), "Sunday 30 March 2025, 00:30 (GMT)"),
        (datetime(2025, 3, 30, 1, 30, tzinfo=UTC), "Sunday 30 March 2025, 02:30 (BST)"),
        (datetime(2025, 10, 26, 0, 30, tzinfo=UTC), "Sunday 26 October 2025, 01:30 (BST)"),
        (datetime(2025, 10, 26, 1, 30, tzinfo=UTC), "Sunday 26 October 2025, 01:30 (GMT)"),
    ],
)
def test_deadlines_read_in_london_wall_clock_with_the_zone_in_force(
    moment: datetime, shown: str
) -> None:
    assert local_time(moment, LONDON) == shown


@pytest.mark.parametrize(
    ("deadline", "penalty", "rule"),
    [
        (
            datetime(2025, 12, 5, 12, tzinfo=UTC),
            LatePenalty(),
            "work submitted after the deadline and up to Monday 8 December 2025, 12:00 (GMT) "
            "loses 10 marks; after that it scores 0",
        ),
        (  # W falls on Saturday: 10:00 on the Monday after
            datetime(2025, 12, 3, 12, tzinfo=UTC),
            LatePenalty(),
            "work submitted after the deadline and up to Monday 8 December 2025, 10:00 (GMT) "
            "loses 10 marks; after that it scores 0",
        ),
        (
            datetime(2025, 12, 5, 12, tzinfo=UTC),
            LatePenalty(scheme="percent", amount=5, per_started_day=True, zero_after_window=False),
            "work submitted after the deadline loses 5% of its mark for each started day late",
        ),
    ],
)
def test_the_late_rule_is_worded_from_the_programme_settings(
    programme: Programme, deadline: datetime, penalty: LatePenalty, rule: str
) -> None:
    changed = programme.model_copy(update={"late_penalty": penalty})
    assert late_rule(deadline, changed) == rule


def test_a_reminder_says_what_when_where_and_whom_to_ask(programme: Programme) -> None:
    out = Renderer(TEMPLATES, programme, "https://moodle.example.ac.uk/").reminder(facts())
    text = out["text"]
    assert out["subject"] == "MPC Essay is due Friday 5 December 2025, 12:00 (GMT)"
    assert "MPC Essay for Models for Planning Change is due on Friday 5 December" in text
    assert "up to Monday 8 December 2025, 12:00 (GMT) loses 10 marks" in text
    assert "https://moodle.example.ac.uk/mod/assign/view.php?id=42" in text
    assert "contact Tess Tutor and Dr Ravi Rao: replies to this message are not read" in text
    assert "extension" not in text.split("Please note")[0]
    assert text.endswith("\n\nRef: r-5-2-before_2d-20251205T120000Z")
    assert out["html"].endswith("<p>Ref: r-5-2-before_2d-20251205T120000Z</p>")


def test_a_granted_extension_is_stated_with_both_dates(programme: Programme) -> None:
    moved = datetime(2025, 12, 12, 12, tzinfo=UTC)
    text = Renderer(TEMPLATES, programme).reminder(facts(deadline=moved, extension=moved))["text"]
    assert (
        "You have an extension: your deadline is Friday 12 December 2025, 12:00 (GMT) "
        "instead of Friday 5 December 2025, 12:00 (GMT)."
    ) in text


def test_moodle_values_are_escaped_in_html_and_kept_as_written_in_text(
    programme: Programme,
) -> None:
    out = Renderer(TEMPLATES, programme).reminder(
        facts(student=NASTY, assignment=NASTY, course=NASTY, tutors=(NASTY,))
    )
    assert "<script>" not in out["html"]
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Sons" in out["html"]
    assert f"Dear {NASTY}," in out["text"]


def test_a_digest_escapes_every_name_too(programme: Programme) -> None:
    student = DigestStudent(NASTY, "At risk", (f"{NASTY}: 3 days overdue",))
    digest = DigestFacts(
        "d-17-20251208", NASTY, date(2025, 12, 8), (DigestCourse(NASTY, "MPC", (student,)),)
    )
    out = Renderer(TEMPLATES, programme).digest(digest)
    assert "<script>" not in out["html"] and out["text"].count(NASTY) == 4
    assert out["subject"] == "Student digest for Monday 8 December 2025"


def test_a_missing_template_names_the_file(programme: Programme, tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES, tmp_path, dirs_exist_ok=True)
    (tmp_path / "reminder.html.j2").unlink()
    with pytest.raises(TemplateError, match=r"reminder\.html\.j2 is missing"):
        Renderer(tmp_path, programme).check()


def test_a_broken_template_names_the_file_and_line(programme: Programme, tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES, tmp_path, dirs_exist_ok=True)
    (tmp_path / "digest.txt.j2").write_text("Dear {{ d.tutor }},\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"digest\.txt\.j2, line 2"):
        Renderer(tmp_path, programme).check()


def test_a_template_using_an_unknown_value_names_the_file(
    programme: Programme, tmp_path: Path
) -> None:
    shutil.copytree(TEMPLATES, tmp_path, dirs_exist_ok=True)
    (tmp_path / "reminder_subject.txt.j2").write_text("{{ r.grade }}")
    with pytest.raises(TemplateError, match=r"reminder_subject\.txt\.j2 failed to render"):
        Renderer(tmp_path, programme).reminder(facts())


def test_a_long_digest_is_cut_to_moodles_size_and_says_how_many_it_leaves_out(
    programme: Programme,
) -> None:
    students = tuple(
        DigestStudent(f"Student {i:03d}", "At risk", (f"Essay {i}: 3 days overdue, not submitted",))
        for i in range(200)
    )
    facts = DigestFacts("d-17-20251201", "Helen Marsh", date(2025, 12, 1),
                        (DigestCourse("Models for Planning Change", "MPC", students),))  # fmt: skip
    payload = Renderer(REPO / "config" / "templates", programme).digest(facts)
    assert len(payload["html"].encode()) <= MAX_TEXT_BYTES
    shown = payload["text"].count("- Student ")
    assert 0 < shown < 200
    assert f"{200 - shown} more students not listed here" in payload["text"]
    assert payload["html"].endswith("<p>Ref: d-17-20251201</p>")
