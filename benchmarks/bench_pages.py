"""The plugin's pages (issue 14) on the live Moodle site, against Moodle's own participants page.

On the 4.5.6 site `make live-site` built (var/live/4.5.6/site.json): this checkout's
local_cetadsync (and block_cetadsync) installed by Moodle's upgrade, then 5,000 students with
progression records in one course (tests/live/php/pages_fixture.php bulk: bulk inserts,
seconds). Then, logged in through the login form over HTTP, the median time to render course.php
and mystudents.php (as the course's editing teacher) and myprogress.php (as one of the
students), each set against the baseline measured in the same run: Moodle's participants page
/user/index.php?id=COURSE for the same course, as the same teacher (its default view, and all
rows on one page too). Afterwards the plugins' code is removed and the site reset to its
snapshot, as the live tests leave it. Without a built site it prints a skipped row and says why.
Run: .venv/bin/python benchmarks/bench_pages.py [--students N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.site import STATE_FILE, LiveSite, LiveSiteError  # noqa: E402

FIXTURE = ROOT / "tests/live/php/pages_fixture.php"
PLUGINS = {"local_cetadsync": "local/cetadsync", "block_cetadsync": "blocks/cetadsync"}
PASSWORD = "Bench-pages-1!"  # throwaway users on the throwaway live site
NAME = "pages_course_php_5000_students_live_moodle"


def skipped(reason: str) -> int:
    print(f"bench_pages: skipped: {reason}", file=sys.stderr)
    print(json.dumps({"name": NAME, "skipped": reason}))
    return 0


def login(url: str, username: str) -> requests.Session:
    """A session logged in through /login/index.php, its form's token and all."""
    session = requests.Session()
    form = session.get(f"{url}/login/index.php", timeout=120).text
    token = re.search(r'name="logintoken" value="([^"]+)"', form)
    data = {"username": username, "password": PASSWORD,
            "logintoken": token.group(1) if token else ""}  # fmt: skip
    answer = session.post(f"{url}/login/index.php", data=data, timeout=120)
    if "/login/index.php" in answer.url:
        raise SystemExit(f"bench_pages: {username} could not log in")
    return session


def timed(session: requests.Session, url: str, runs: int, shows: str) -> dict[str, Any]:
    """Median seconds of `runs` renderings after one warm-up; the rows it rendered. The page
    must hold `shows` (so a refusal or an empty page is never timed as the page)."""
    first = session.get(url, timeout=600)
    if first.status_code != 200 or "/login/index.php" in first.url or shows not in first.text:
        raise SystemExit(f"bench_pages: {url} answered {first.status_code} at {first.url} "
                         f"without {shows!r}")  # fmt: skip
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = session.get(url, timeout=600)
        answer.raise_for_status()
        seconds.append(time.perf_counter() - started)
    if "download=csv" in url:  # a line per student
        rows = sum(shows in line for line in answer.text.splitlines())
    else:  # the plugin's rows, else the participants table's
        rows = len(re.findall(r'<tr[^>]*data-userid="\d+"', answer.text)) or len(
            re.findall(r'<tr[^>]*id="user-index-participants[^"]*_r\d+"', answer.text))  # fmt: skip
    return {"median_seconds": round(statistics.median(seconds), 4),
            "min_seconds": round(min(seconds), 4), "runs": runs, "rows_rendered": rows,
            "kilobytes": round(len(answer.content) / 1024)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    path = Path(os.environ.get("MOODLE_SYNC_LIVE_SITE") or STATE_FILE)
    if not path.exists():
        return skipped(f"no live Moodle site ({path} does not exist; run `make live-site`)")
    try:
        site = LiveSite.load(path)
        site.start()
    except (LiveSiteError, OSError) as exc:
        return skipped(f"the live site in {path} could not be started: {exc}")
    targets = [(ROOT / name, site.dirroot / to) for name, to in PLUGINS.items()
               if (ROOT / name).is_dir()]  # fmt: skip
    try:
        for source, target in targets:
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        site.reset()
        site.upgrade()
        return measure(site, args.students, args.runs)
    finally:
        for _, target in targets:
            shutil.rmtree(target, ignore_errors=True)
        site.reset()


def measure(site: LiveSite, students: int, runs: int) -> int:
    started = time.perf_counter()
    tag = uuid.uuid4().hex[:8]
    done = site.php_cli(FIXTURE, site.dirroot, "bulk", tag, students, PASSWORD)
    if done.returncode != 0:
        raise SystemExit(f"bench_pages: the bulk fixture failed:\n{done.stderr[-2000:]}")
    made = json.loads(done.stdout.strip().splitlines()[-1])
    generate = round(time.perf_counter() - started, 2)
    course, url = made["courseid"], site.url
    tutor = login(url, made["tutor"])
    participants, rows = "user-index-participants", 'data-userid="'
    pages = {
        "participants_default": (f"{url}/user/index.php?id={course}", participants),
        "participants_all_rows": (f"{url}/user/index.php?id={course}&perpage=5000", participants),
        "course_php": (f"{url}/local/cetadsync/course.php?id={course}", rows),
        "mystudents_php": (f"{url}/local/cetadsync/mystudents.php", rows),
        # Every student at once: the CSV download, beside the participants page's all rows.
        "mystudents_csv_all": (f"{url}/local/cetadsync/mystudents.php?download=csv", f"Pb{tag}"),
    }
    # All 5,000 rows of the participants page take 10-30 s on the 2-CPU machine: fewer runs.
    slow = ("participants_all_rows", "mystudents_csv_all")
    figures = {name: timed(tutor, page, 2 if name in slow else runs, shows)
               for name, (page, shows) in pages.items()}  # fmt: skip
    student = login(url, made["student"])
    myprogress = f"{url}/local/cetadsync/myprogress.php"
    figures["myprogress_php_student"] = timed(student, myprogress, runs, 'data-region="credits"')
    baseline = figures["participants_default"]["median_seconds"]
    ratios = {name: round(f["median_seconds"] / baseline, 2) for name, f in figures.items()}
    report = {
        "name": NAME.replace("5000", str(students)),
        "seconds": figures["course_php"]["median_seconds"],
        "baseline_name": "moodle_participants_page_same_course_same_teacher",
        "baseline_label": "Moodle's participants page, same course (/user/index.php)",
        "baseline_seconds": baseline,
        "ratio": ratios["course_php"],
        "figures": {name: f["median_seconds"] for name, f in figures.items()},
        "ratios": ratios,
        "pages": figures,
        "students": made["students"],
        "generate_seconds": generate,
        "runs": runs,
        "detail_columns": made["detail"],
        "server": "PHP built-in server, 2 workers, PostgreSQL on loopback",
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
