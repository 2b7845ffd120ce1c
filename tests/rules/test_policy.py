"""The programme file: the defaults of programme.md, and every mistake reported by entry."""

from __future__ import annotations

import pathlib
from fractions import Fraction

import pytest

from moodle_sync.errors import ProgrammeError
from moodle_sync.rules.policy import Programme, load_programme
from tests.rules.conftest import PROGRAMME_TOML, make_programme


def test_default_programme_holds_every_number_of_the_brief(programme: Programme) -> None:
    assert programme.pass_mark == 50
    assert programme.timezone.key == "Europe/London"
    assert programme.prior_learning.cap_fraction == Fraction(1, 2)
    assert programme.condonation.min_mark == 40
    assert programme.resit_cap == 50
    assert programme.late_penalty.amount == 10 and programme.late_penalty.window_days == 3
    assert [
        (a.id, a.credits, a.min_level7_credits, a.condonation_limit)
        for a in programme.awards_ascending()
    ] == [
        ("pg_certificate", 60, 40, 20),
        ("pg_diploma", 120, 90, 30),
        ("masters", 180, 150, 45),
    ]
    assert programme.awards["masters"].required_modules == ("WBP", "MRP")


@pytest.mark.parametrize(
    ("code", "credits", "kind", "course"),
    [
        ("RAPL", 60, "prior_learning", "CETAD-RAPL"),
        ("MPC", 20, "taught", "CETAD-MPC"),
        ("OCVB", 20, "taught", "CETAD-OCVB"),
        ("LOTC", 20, "taught", "CETAD-LOTC"),
        ("ULM", 20, "taught", "CETAD-ULM"),
        ("WBP", 20, "project", "CETAD-WBP"),
        ("MRP", 60, "project", "CETAD-MRP"),
    ],
)
def test_default_modules_match_the_brief(
    programme: Programme, code: str, credits: int, kind: str, course: str
) -> None:
    module = programme.modules[code]
    assert (module.code, module.credits, module.level, module.kind) == (code, credits, 7, kind)
    assert programme.module_for_course(course) == module


def test_only_mapped_courses_are_known(programme: Programme) -> None:
    assert programme.module_for_course("CETAD-OTHER") is None
    assert set(programme.mapped_courses()) == {m.moodle_course for m in programme.modules.values()}


def _problems(tmp_path: pathlib.Path, text: str) -> list[str]:
    path = tmp_path / "programme.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    return caught.value.problems


def _default_with(old: str, new: str) -> str:
    text = PROGRAMME_TOML.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'kind = "project"\nmoodle_course = "CETAD-WBP"',
            'kind = "prior_learning"\nmoodle_course = "CETAD-WBP"',
            "modules[WBP].kind: a project can never be prior learning",
        ),
        (
            'required_modules = ["WBP"]',
            'required_modules = ["WPB"]',
            "awards[pg_diploma].required_modules: module 'WPB' is not defined",
        ),
        (
            "credits = 180",
            "credits = 400",
            "awards[masters]: nobody can reach it: needs 400 credits, modules give 220",
        ),
        ("pass_mark = 50", "pass_mark = 50\npas_mark = 40", "pas_mark: unknown key"),
        ("pass_mark = 50", 'pass_mark = "fifty"', "pass_mark: Input should be a valid decimal"),
        ('cap_fraction = "1/2"', 'cap_fraction = "3/2"', "prior_learning.cap_fraction: must be"),
        ('timezone = "Europe/London"', 'timezone = "Europe/Lundon"', "timezone: invalid timezone"),
    ],
)
def test_invalid_programme_names_the_entry(
    tmp_path: pathlib.Path, old: str, new: str, expected: str
) -> None:
    problems = _problems(tmp_path, _default_with(old, new))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "programme.toml") + ": ") for p in problems)


def test_every_problem_is_reported_together(tmp_path: pathlib.Path) -> None:
    text = _default_with('required_modules = ["WBP"]', 'required_modules = ["NOPE"]')
    text = text.replace(
        'kind = "project"\nmoodle_course = "CETAD-MRP"',
        'kind = "prior_learning"\nmoodle_course = "CETAD-MRP"',
    )
    problems = _problems(tmp_path, text)
    assert any("awards[pg_diploma].required_modules" in p for p in problems)
    assert any("modules[MRP].kind" in p for p in problems)


def test_toml_syntax_error_gives_the_line(tmp_path: pathlib.Path) -> None:
    (problem,) = _problems(tmp_path, 'name = "x"\npass_mark = = 50\n')
    assert "TOML syntax error" in problem and "line 2" in problem


def test_unreadable_file_is_a_programme_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ProgrammeError) as caught:
        load_programme(tmp_path / "missing.toml")
    assert caught.value.problems == [
        f"{tmp_path / 'missing.toml'}: cannot read the programme file: No such file or directory"
    ]


def test_a_one_third_cap_stays_exact_where_floats_would_floor_to_39() -> None:
    p = make_programme(prior_learning={"cap_fraction": "1/3"})
    assert [p.prior_cap(a) for a in p.awards_ascending()] == [20, 40, 60]


def test_equal_policies_hash_alike_so_cached_schedules_are_shared() -> None:
    first, second = make_programme(), make_programme()
    assert first.reminders == second.reminders
    assert hash(first.reminders) == hash(second.reminders)
    assert hash(first.late_penalty) == hash(second.late_penalty)
    other = make_programme(reminders={"at": "10:00:00"})
    assert hash(other.reminders) != hash(first.reminders)


@pytest.mark.parametrize("value", ["0", '"20:00Z"', '"20:00+01:00"'])
def test_a_reminder_time_with_a_time_zone_is_named_not_a_crash(
    tmp_path: pathlib.Path, value: str
) -> None:
    text = PROGRAMME_TOML.read_text()
    path = tmp_path / "programme.toml"
    path.write_text(text.replace('send_window_end = "20:00"', f"send_window_end = {value}"))
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    assert any("reminders.send_window_end" in p and "time zone" in p for p in caught.value.problems)
