"""Reports: the rules' figures per participant, as CSV and as an HTML page a browser renders."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from moodle_sync.client import Requester
from moodle_sync.pull.runner import run_sync
from moodle_sync.rules.evaluate import evaluate_participant
from moodle_sync.rules.facts import Assessment, ModuleRecord, Participant
from moodle_sync.rules.policy import Programme, load_programme
from moodle_sync.sandbox.server import INTEGRATION_TOKEN, Sandbox, start_sandbox
from moodle_sync.settings import MoodleSettings
from moodle_sync.store.db import open_database
from moodle_sync.support.reports import (
    deadlines,
    module_columns,
    progression_row,
    progression_rows,
    write_csv,
)
from moodle_sync.support.reports_html import STATUSES, render_html
from tests.conftest import REPO
from tests.test_cli import run_cli

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme(REPO / "config" / "programme.toml")


@pytest.fixture(scope="module")
def pulled(
    tmp_path_factory: pytest.TempPathFactory, programme: Programme
) -> Iterator[tuple[Sandbox, sessionmaker[Session], str]]:
    """The sandbox's cohort pulled into a fresh SQLite store."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/store.db"
    _engine, sessions = open_database(url)
    with start_sandbox() as sandbox:
        settings = MoodleSettings(url=sandbox.url, token=SecretStr(INTEGRATION_TOKEN))
        with Requester(settings) as requester:
            assert run_sync(requester, sessions, programme).outcome == "complete"
        yield sandbox, sessions, url


def cli_env(tmp_path: Path, database_url: str, moodle_url: str | None = None) -> dict[str, str]:
    """Environment for `run_cli`: a settings file naming the database (and Moodle)."""
    config = tmp_path / "settings.toml"
    text = f"programme_file = '{REPO / 'config' / 'programme.toml'}'\n"
    text += f"[database]\nurl = '{database_url}'\n"
    if moodle_url:
        text += f"[moodle]\nurl = '{moodle_url}'\ntoken = '{INTEGRATION_TOKEN}'\n"
        text += f"[push]\ntemplates_dir = '{REPO / 'config' / 'templates'}'\n"
    config.write_text(text)
    return {"MOODLE_SYNC_CONFIG": str(config)}


def graded(name: str, mark: int | None, due: dt.datetime, submitted: bool = True) -> Assessment:
    return Assessment(
        id=name,
        name=name,
        due=due,
        submission_status="submitted" if submitted else "new",
        submitted_at=due if submitted else None,
        grade=None if mark is None else Decimal(mark),
    )


@pytest.mark.parametrize(
    ("prior", "mpc_mark", "ocvb_mark", "expected"),
    [
        # prior credits, MPC mark, OCVB mark -> (prior, MPC, OCVB, total, eligible)
        (60, 65, 72, (60, 20, 20, 100, "PG Certificate in Professional Practice")),
        (0, 65, None, (0, 20, 0, 20, "")),
        (0, 30, 55, (0, 0, 20, 20, "")),
        # prior is capped per award: 60 toward the Diploma, 30 toward the Certificate (50 < 60)
        (120, 65, None, (60, 20, 0, 80, "")),
    ],
)
def test_a_row_shows_the_credits_the_rules_count(
    programme: Programme,
    prior: int,
    mpc_mark: int,
    ocvb_mark: int | None,
    expected: tuple[int, int, int, int, str],
) -> None:
    past, ahead = NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=5)
    p = Participant(
        1,
        "Ann Example",
        (
            ModuleRecord("MPC", (graded("MPC essay", mpc_mark, past),)),
            ModuleRecord("OCVB", (graded("OCVB essay", ocvb_mark, past, ocvb_mark is not None),)),
            ModuleRecord("LOTC", (graded("LOTC log", None, ahead, submitted=False),)),
        ),
        prior_learning_credits=prior,
    )
    row = progression_row(evaluate_participant(p, programme, NOW), programme, NOW)
    assert (row.prior, row.credits["MPC"], row.credits["OCVB"], row.total, row.eligible) == expected
    assert row.total == row.prior + sum(row.credits.values())
    assert row.next_deadline == ahead
    assert row.target_award == "PG Diploma in Professional Practice"


def test_csv_has_a_header_and_one_line_per_participant(
    pulled: tuple[Sandbox, sessionmaker[Session], str], programme: Programme
) -> None:
    sandbox, sessions, _url = pulled
    with sessions() as session:
        rows = progression_rows(session, programme, NOW)
    out = io.StringIO()
    write_csv(rows, programme, out)
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    students = {e.userid for e in sandbox.state.enrolments if e.role == "student"}
    assert {int(r["user id"]) for r in records} == students
    for r in records:
        modules = sum(int(r[f"credits {code}"]) for code in module_columns(programme))
        assert int(r["total credits"]) == modules + int(r["prior learning credits"])
        assert r["status"] and r["reasons"]


def test_deadlines_lists_each_students_own_deadline_in_the_window_and_who_submitted(
    pulled: tuple[Sandbox, sessionmaker[Session], str], programme: Programme
) -> None:
    sandbox, sessions, _url = pulled
    now = dt.datetime.fromtimestamp(sandbox.state.clock(), UTC)
    with sessions() as session:
        entries = deadlines(session, programme, now)
    assert entries, "the sandbox cohort has work due in the coming fortnight"
    submitted = {
        (s.assignment, s.userid) for s in sandbox.state.submissions if s.status == "submitted"
    }
    names = {u.id: f"{u.firstname} {u.lastname}" for u in sandbox.state.users.values()}
    by_name = {(a.name): a.id for a in sandbox.state.assignments.values()}
    for e in entries:
        assert now <= e.deadline <= now + dt.timedelta(days=14)
        assert all(now <= due <= now + dt.timedelta(days=14) for _, due in e.outstanding)
        aid = by_name[e.assignment]
        assert {(names[u], u) for a, u in submitted if a == aid} >= set(e.submitted)
        assert not {p for p, _ in e.outstanding} & set(e.submitted)
        assert all(names[p.user_id] == p.name for p, _ in e.outstanding)


def html_report(pulled: tuple[Sandbox, sessionmaker[Session], str], programme: Programme) -> str:
    _sandbox, sessions, _url = pulled
    with sessions() as session:
        return render_html(progression_rows(session, programme, NOW), programme, NOW)


def test_the_html_report_fetches_nothing_and_labels_its_table(
    pulled: tuple[Sandbox, sessionmaker[Session], str], programme: Programme
) -> None:
    page = html_report(pulled, programme)
    for fetching in ("<link", "<script", "<img", "src=", "@import", "url("):
        assert fetching not in page
    assert '<caption id="table-caption">' in page and '<th scope="col">Participant</th>' in page
    assert page.count('<th scope="row">') == page.count("<tr>") - 1
    assert 'id="chart-summary"' in page and "@media print" in page


CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no browser: install Debian's chromium and chromium-driver (.ci/run does)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


CONTRAST_JS = """
const lum = c => { const v = c.match(/\\d+/g).slice(0, 3).map(x => x / 255)
  .map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el)
  .backgroundColor; if (!c.endsWith(', 0)') && c !== 'transparent') return c; }
  return 'rgb(255, 255, 255)'; };
const texts = [...document.querySelectorAll('th, td, caption, p, h1')]
  .map(el => ratio(getComputedStyle(el).color, bg(el)));
const bars = [...document.querySelectorAll('rect.segment')]
  .map(r => ratio(getComputedStyle(r).fill, 'rgb(255, 255, 255)'));
return [Math.min(...texts), Math.min(...bars)];
"""


def test_a_browser_renders_the_table_and_the_chart(
    browser: Any,
    pulled: tuple[Sandbox, sessionmaker[Session], str],
    programme: Programme,
    tmp_path: Path,
) -> None:
    page = tmp_path / "progression.html"
    page.write_text(html_report(pulled, programme), encoding="utf-8")
    browser.get(page.as_uri())
    script = browser.execute_script
    students = {e.userid for e in pulled[0].state.enrolments if e.role == "student"}
    assert script("return document.querySelectorAll('tbody tr').length") == len(students)
    assert script("return performance.getEntriesByType('resource').length") == 0
    svg = script(
        "const b = document.querySelector('svg').getBoundingClientRect();"
        "return [b.width, b.height];"
    )
    assert svg[0] > 300 and svg[1] > 100
    widths = script(
        "return [...document.querySelectorAll('rect.segment')]"
        ".map(r => r.getBoundingClientRect().width)"
    )
    assert widths and all(w > 0 for w in widths)
    # each row's own target line: never a line a bar crosses though the rules say not met
    assert script("return document.querySelectorAll('line.threshold').length") == len(students)
    text_ratio, bar_ratio = script(CONTRAST_JS)
    assert text_ratio >= 4.5 and bar_ratio >= 3


def test_report_commands_write_the_files_and_the_fortnight(
    pulled: tuple[Sandbox, sessionmaker[Session], str], tmp_path: Path
) -> None:
    _sandbox, _sessions, url = pulled
    env = cli_env(tmp_path, url)
    out = tmp_path / "p.html"
    made = run_cli("report", "progression", "--format", "html", "--output", str(out), env=env)
    assert made.returncode == 0, made.stderr
    assert out.read_text().startswith("<!DOCTYPE html>") and "participants to" in made.stderr
    listed = run_cli("report", "progression", "--format", "csv", env=env)
    assert listed.returncode == 0 and listed.stdout.startswith("user id,name,target award")
    fortnight = run_cli("report", "deadlines", "--days", "14", env=env)
    assert fortnight.returncode == 0, fortnight.stderr
    assert "submitted" in fortnight.stdout


def test_the_html_report_puts_the_most_urgent_first_with_counts_badges_and_freshness(
    pulled: tuple[Sandbox, sessionmaker[Session], str], tmp_path: Path
) -> None:
    out = tmp_path / "p.html"
    env = cli_env(tmp_path, pulled[2])
    made = run_cli("report", "progression", "--format", "html", "--output", str(out), env=env)
    assert made.returncode == 0, made.stderr
    page = out.read_text()
    assert "Data last synchronised from Moodle at" in page
    assert '<h2 id="counts">Participants by status</h2>' in page
    badges = re.findall(r'<td><span class="badge" style="background:#\w+">([^<]+)</span>', page)
    order = [label for label, _ in STATUSES.values()]
    assert badges and badges == sorted(badges, key=order.index)
    counted = dict(re.findall(r'<li><span class="badge"[^>]*>([^<]+)</span> (\d+)</li>', page))
    assert {k: int(v) for k, v in counted.items()} == Counter(badges)
    assert re.search(r'<td class="when">\d{4}-\d\d-\d\d \d\d:\d\d (GMT|BST)</td>', page)


def test_prior_learning_is_drawn_at_its_capped_value(programme: Programme) -> None:
    row = progression_row(
        evaluate_participant(Participant(1, "P", (), prior_learning_credits=120), programme, NOW),
        programme,
        NOW,
    )
    page = render_html([row], programme, NOW)
    drawn = re.findall(r"Prior learning(?: \(counted[^)]*\))? (\d+) credits", page)
    assert drawn == [str(row.prior)] and row.prior == 60  # of 120 awarded: the cap is 1/2


def test_deadlines_name_their_zone_and_people_by_id(
    pulled: tuple[Sandbox, sessionmaker[Session], str], tmp_path: Path
) -> None:
    sandbox, _sessions, url = pulled
    now = dt.datetime.fromtimestamp(sandbox.state.clock(), UTC).isoformat(timespec="seconds")
    env = cli_env(tmp_path, url)
    text = run_cli("report", "deadlines", "--now", now, env=env)
    assert text.returncode == 0, text.stderr
    assert re.search(r"\d\d:\d\d (GMT|BST)  ", text.stdout), text.stdout
    listed = run_cli("report", "deadlines", "--now", now, "--json", env=env)
    entries = json.loads(listed.stdout)
    assert entries
    for entry in entries:
        assert dt.datetime.fromisoformat(entry["deadline"]).tzinfo is not None
        assert entry["timezone"] == "Europe/London"
        for person in entry["submitted"] + entry["outstanding"]:
            assert isinstance(person["user_id"], int) and person["name"]
        assert all(dt.datetime.fromisoformat(p["due"]).utcoffset() is not None
                   for p in entry["outstanding"])  # fmt: skip
