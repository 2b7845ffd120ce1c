"""The plugin's pages inside Moodle (issue 14) in a real browser, per the issue's contract (the
page URLs, capabilities and DOM markers of its section 2).

Every user logs in through Moodle's own login form. The data (tests/live/php/pages_fixture.php)
is a course in separate groups mode: an editing teacher in no group (sees everyone, her time
zone Pacific/Auckland), a non-editing teacher in group A (sees A only), students a1, a2, a3 in
A and b1, b2 in B, a user with no role. Names are unique to the run, so a page that shows
anyone else's name, username, email or id is caught. One page of each kind is saved to
var/screenshots/ (MOODLE_SYNC_TEST_SCREENSHOTS=reports/screenshots retakes the README's).
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.live.browser import Browser

pytestmark = pytest.mark.live

FIXTURE = Path(__file__).resolve().parent / "php/pages_fixture.php"
PASSWORD = "Pages-test-1!"  # the throwaway users' password on the throwaway site
STUDENTS = ("a1", "a2", "a3", "b1", "b2")
GROUP_A = ("a1", "a2", "a3")
TABLE = "table#local-cetadsync-students"
WORDS = {"at_risk": "at risk", "on_track": "on track", "referred": "referred",
         "eligible_pg_diploma": "eligible"}  # fmt: skip
REFUSED = "you do not currently have permissions"


@pytest.fixture(scope="session")
def people(plugin_site: Any) -> dict[str, Any]:
    """The fixture's data, made once per session with a tag of its own (no reset needed)."""
    done = plugin_site.php_cli(str(FIXTURE), str(plugin_site.dirroot), "data",
                               uuid.uuid4().hex[:8], PASSWORD)  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    made: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return made


@pytest.fixture(scope="session")
def pages(people: dict[str, Any]) -> dict[str, Any]:
    """The same data, for tests of the pages themselves."""
    return people


def as_user(browser: Browser, pages: dict[str, Any], key: str) -> dict[str, Any]:
    user: dict[str, Any] = pages["users"][key]
    if browser.username != user["username"]:
        browser.login(user["username"], PASSWORD)
    return user


def rows(browser: Browser) -> dict[int, Any]:
    """The students' table rows by user id: one row per student, as the contract says."""
    found = [(int(row.get_attribute("data-userid")), row)
             for row in browser.all(f"{TABLE} tr[data-userid]")]  # fmt: skip
    twice = sorted(uid for uid, n in Counter(uid for uid, _ in found).items() if n > 1)
    classes = Counter(row.get_attribute("class") for uid, row in found if uid in twice)
    assert not twice, f"{browser.path}: several tr[data-userid] for users {twice}: {classes}"
    return dict(found)


def ids(pages: dict[str, Any], keys: tuple[str, ...]) -> set[int]:
    return {pages["users"][key]["id"] for key in keys}


def leaks(source: str, pages: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Every mark of these users (name, username, email, id in a user link) found in source."""
    found = []
    for key in keys:
        user = pages["users"][key]
        marks = (user["fullname"], user["username"], user["email"], user["fullname"].split()[-1])
        for text in marks:
            if text in source:
                found.append(f"{key}: {text!r}")
        uid = user["id"]
        pattern = (rf'data-userid="{uid}"|userid(=|&#61;|":\s*){uid}\b|'
                   rf"user/(view|profile)\.php\?id={uid}\b")  # fmt: skip
        if re.search(pattern, source):
            found.append(f"{key}: id {uid}")
    return found


def refused(browser: Browser) -> bool:
    """Moodle's refusal: the nopermissions page, or (not enrolled) the enrolment page."""
    text = browser.text.lower()
    return (REFUSED in text or "/enrol/index.php" in browser.path
            or "cannot enrol" in text) and not rows(browser)  # fmt: skip


def number(text: str) -> int:
    found = re.search(r"\d+", text)
    assert found, f"no number in {text!r}"
    return int(found.group(0))


# -- the machinery, on Moodle's own pages --


def test_login_form_logs_in_and_logout_logs_out(browser: Browser, people: dict[str, Any]) -> None:
    user = as_user(browser, people, "editingteacher")
    browser.get("/user/profile.php")
    assert user["fullname"] in browser.text
    browser.logout()
    browser.get("/my/")
    assert "/login/index.php" in browser.path
    with pytest.raises(AssertionError, match="could not log in"):
        browser.login(user["username"], "not-the-password")


# -- the editing teacher: every student of the course --


@pytest.mark.smoke
def test_editing_teacher_sees_every_student_with_status_words(
    browser: Browser, pages: dict[str, Any]
) -> None:
    as_user(browser, pages, "editingteacher")
    course = pages["courseid"]
    browser.get(f"/course/view.php?id={course}")
    assert f"/local/cetadsync/course.php?id={course}" in browser.source, "no Progression link"
    browser.get(f"/local/cetadsync/course.php?id={course}")
    table = rows(browser)
    assert set(table) == ids(pages, STUDENTS)
    for key in STUDENTS:
        status = pages["statuses"][key]
        row = table[pages["users"][key]["id"]]
        badge = row.find_element("css selector", f'span[data-status="{status}"]')
        assert WORDS[status] in badge.text.lower(), (status, badge.text)
    a1 = table[pages["users"]["a1"]["id"]].text
    assert re.search(r"\b40(\.0+)? of 120\b", a1), a1
    # Due 2 days 23 hours ago: 3 started days, as the worker counts (rules.started_days).
    assert "not handed in" in a1 and re.search(r"\b3 days overdue\b", a1), a1
    assert browser.one('[data-region="lastsync"]').text.strip()
    browser.screenshot("course-tutor")


def test_rows_link_to_the_grader_and_show_extensions_and_own_dates(
    browser: Browser, pages: dict[str, Any]
) -> None:
    as_user(browser, pages, "editingteacher")
    browser.get(f"/local/cetadsync/course.php?id={pages['courseid']}", again=False)
    a1 = pages["users"]["a1"]["id"]
    links = [urlsplit(a.get_attribute("href")) for a in rows(browser)[a1].find_elements(
        "css selector", 'a[href*="/mod/assign/view.php"]')]  # fmt: skip
    wanted = {"id": [str(pages["assignments"][0]["cmid"])], "action": ["grader"],
              "userid": [str(a1)]}  # fmt: skip
    assert any(parse_qs(link.query) == wanted for link in links), links
    a2 = rows(browser)[pages["users"]["a2"]["id"]].text
    assert "extension" in a2.lower() and "own due date" in a2.lower(), a2
    # Her own date, in the viewer's time zone (Auckland: 00:30 the next day, not 11:30 UTC).
    due = datetime.fromtimestamp(pages["owndate"], UTC).astimezone(ZoneInfo(pages["timezone"]))
    assert due.strftime("%H:%M") == "00:30"
    assert re.search(rf"\b0?{due.day}(/0?{due.month}/| {due:%B})", a2), (due, a2)
    assert re.search(r"\b00:30\b|\b12:30\s*AM\b", a2), a2


def test_status_filter_keeps_only_that_status(browser: Browser, pages: dict[str, Any]) -> None:
    as_user(browser, pages, "editingteacher")
    browser.get(f"/local/cetadsync/course.php?id={pages['courseid']}", again=False)
    options = {o.get_attribute("value") for o in browser.all("select[name=status] option")}
    assert {"at_risk", "on_track"} <= options, options
    # Chosen as a tutor does: the select submits itself (Moodle's single_select).
    browser.choose("select[name=status]", "at_risk")
    assert "status=at_risk" in browser.path
    assert set(rows(browser)) == ids(pages, ("a1", "b2"))


def test_my_students_counts_and_csv(browser: Browser, pages: dict[str, Any]) -> None:
    as_user(browser, pages, "editingteacher")
    browser.get("/local/cetadsync/mystudents.php")
    assert set(rows(browser)) == ids(pages, STUDENTS)
    counts = {e.get_attribute("data-status-count"): number(e.text)
              for e in browser.all("[data-status-count]")}  # fmt: skip
    assert {k: v for k, v in counts.items() if v} == {
        "at_risk": 2, "on_track": 1, "referred": 1, "eligible_pg_diploma": 1}  # fmt: skip
    # Readable apart, not "Referred 15 students in all": each count keeps a margin after it.
    gaps = browser.driver.execute_script(
        "return [...document.querySelectorAll('[data-status-count]')]"
        ".map(e => parseFloat(getComputedStyle(e).marginRight))")  # fmt: skip
    assert all(gap > 0 for gap in gaps), gaps
    assert browser.one('[data-region="lastsync"]').text.strip()
    browser.screenshot("mystudents")
    table = download_csv(browser)
    names = {key for key in STUDENTS if pages["users"][key]["fullname"].split()[-1] in table}
    assert names == set(STUDENTS), table


def download_csv(browser: Browser) -> str:
    answer = browser.session().get(f"{browser.url}/local/cetadsync/mystudents.php?download=csv",
                                   timeout=60)  # fmt: skip
    assert answer.status_code == 200
    assert "csv" in answer.headers.get("content-type", "") + answer.headers.get(
        "content-disposition", ""), answer.headers  # fmt: skip
    text = answer.content.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert len(parsed) >= 2 and all(len(row) == len(parsed[0]) for row in parsed if row), parsed
    return text


def test_editing_teachers_dashboard_block_lists_the_three_most_urgent(
    browser: Browser, pages: dict[str, Any]
) -> None:
    if not pages["block"]:
        pytest.skip("block_cetadsync is not in this checkout")
    as_user(browser, pages, "editingteacher")
    browser.get("/my/")
    urgent = [li.text for li in browser.all('[data-region="urgent"] li')]
    assert len(urgent) == 3, urgent
    named = {key for key in STUDENTS for text in urgent
             if pages["users"][key]["fullname"].split()[-1] in text}  # fmt: skip
    assert named == {"a1", "b2", "a3"}, urgent
    browser.screenshot("dashboard-tutor", max_height=1000)


# -- the non-editing teacher in group A --


def test_non_editing_teacher_sees_only_her_group(browser: Browser, pages: dict[str, Any]) -> None:
    as_user(browser, pages, "teacher")
    course = pages["courseid"]
    for path in (f"/local/cetadsync/course.php?id={course}",
                 f"/local/cetadsync/course.php?id={course}&group={pages['groups']['B']}",
                 "/local/cetadsync/mystudents.php"):  # fmt: skip
        browser.get(path)
        assert set(rows(browser)) <= ids(pages, GROUP_A), path
        assert not leaks(browser.source, pages, ("b1", "b2")), path
    assert set(rows(browser)) == ids(pages, GROUP_A)
    counts = {e.get_attribute("data-status-count"): number(e.text)
              for e in browser.all("[data-status-count]")}  # fmt: skip
    assert {k: v for k, v in counts.items() if v} == {"at_risk": 1, "on_track": 1, "referred": 1}
    assert not leaks(download_csv(browser), pages, ("b1", "b2"))
    if pages["block"]:
        browser.get("/my/")
        assert not leaks(browser.source, pages, ("b1", "b2"))


# -- another course's work: the programme view only (issue 21, item 6) --


def other_courses_marks(pages: dict[str, Any]) -> tuple[str, ...]:
    """What of the other course's work a page could show: its assignment, its module's code
    (the reasons start with it), the mark it gave, and the programme's credits."""
    return (pages["other"]["name"], "MOD703", "mark 46", "of 120 credits")


def assignment_links(source: str) -> set[int]:
    return {int(cmid) for cmid in re.findall(r"/mod/assign/view\.php\?id=(\d+)", source)}


def test_a_teacher_of_one_course_sees_nothing_of_another_courses_work(
    browser: Browser, pages: dict[str, Any]
) -> None:
    as_user(browser, pages, "teacher")
    marks, course = other_courses_marks(pages), pages["courseid"]
    mine = {a["cmid"] for a in pages["assignments"]}
    for path in (f"/local/cetadsync/course.php?id={course}", "/local/cetadsync/mystudents.php"):
        browser.get(path)
        assert set(rows(browser)) == ids(pages, GROUP_A), path
        assert not [m for m in marks if m in browser.source], (path, marks)
        assert assignment_links(browser.source) <= mine, path
    a1 = rows(browser)[pages["users"]["a1"]["id"]].text
    assert "Essay one" in a1 and "programme leaders" in a1, a1  # hers shown, the rest withheld
    csv_text = download_csv(browser)
    assert not [m for m in marks if m in csv_text], csv_text
    assert "not handed in" in csv_text, "her course's reasons are in the CSV"
    if pages["block"]:
        browser.get("/my/")
        assert not [m for m in marks if m in browser.source]
    browser.get(f"/local/cetadsync/course.php?id={pages['other']['courseid']}")
    assert refused(browser), browser.text[:500]


def test_the_programme_leader_sees_every_courses_work_and_reasons(
    browser: Browser, pages: dict[str, Any]
) -> None:
    as_user(browser, pages, "editingteacher")
    browser.get("/local/cetadsync/mystudents.php")
    table = rows(browser)
    a1, a3 = (table[pages["users"][key]["id"]].text for key in ("a1", "a3"))
    assert pages["other"]["name"] in a1 and "2 days overdue" in a1, a1
    assert "MOD703 referred: mark 46.0" in a3 and re.search(r"\b40(\.0+)? of 120\b", a3), a3
    assert "programme leaders" not in browser.text
    assert "MOD703 referred: mark 46.0" in download_csv(browser)


# -- a student: her own record and nothing of anyone else's --


@pytest.mark.smoke
def test_student_sees_her_own_progress_only(browser: Browser, pages: dict[str, Any]) -> None:
    as_user(browser, pages, "a1")
    others = tuple(k for k in pages["users"] if k != "a1")
    course, other = pages["courseid"], pages["users"]["a2"]["id"]
    browser.get("/local/cetadsync/myprogress.php")
    assert re.search(r"\b40(\.0+)? of 120\b", browser.one('[data-region="credits"]').text)
    assert "Research methods" in browser.one('[data-region="modules"]').text
    assert pages["assignments"][1]["name"] in browser.one('[data-region="deadlines"]').text
    assert "pass mark" in browser.one('[data-region="latework"]').text
    assert "not handed in" in browser.text  # her reason, in plain words
    assert not leaks(browser.source, pages, others)
    browser.screenshot("myprogress")
    group = pages["groups"]["A"]
    reachable = (f"/local/cetadsync/myprogress.php?userid={other}&id={other}",
                 "/local/cetadsync/mystudents.php", f"/local/cetadsync/course.php?id={course}",
                 f"/local/cetadsync/course.php?id={course}&group={group}")  # fmt: skip
    for path in reachable:
        browser.get(path)
        assert not leaks(browser.source, pages, others), path
    browser.get(f"/local/cetadsync/course.php?id={course}")
    assert REFUSED in browser.text.lower()
    browser.get("/local/cetadsync/mystudents.php")
    assert refused(browser), browser.text[:500]
    answer = browser.session().get(f"{browser.url}/local/cetadsync/mystudents.php?download=csv",
                                   timeout=60)  # fmt: skip
    assert not leaks(answer.text, pages, others)
    if pages["block"]:
        browser.get("/my/")
        assert browser.one('[data-region="nextdeadline"]').text.strip()
        assert not leaks(browser.source, pages, others)
        browser.screenshot("dashboard-student", max_height=1000)


# -- a user with no role anywhere --


def test_user_without_a_role_is_refused_and_has_no_record(
    browser: Browser, pages: dict[str, Any]
) -> None:
    as_user(browser, pages, "norole")
    for path in (f"/local/cetadsync/course.php?id={pages['courseid']}",
                 "/local/cetadsync/mystudents.php"):  # fmt: skip
        browser.get(path)
        assert refused(browser), (path, browser.text[:500])
        assert not leaks(browser.source, pages, STUDENTS), path
    browser.get("/local/cetadsync/myprogress.php")
    assert re.search(r"no progression (has been )?recorded (for you )?yet", browser.text.lower())
    assert not leaks(browser.source, pages, STUDENTS)
