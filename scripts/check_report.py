"""Look at a progression report as readers will: headless Chromium at phone and desktop widths.

    python scripts/check_report.py REPORT.html --axe node_modules/axe-core/axe.min.js \
        --screenshots reports/screenshots

Saves a full-page screenshot per width and runs axe-core (from the npm registry:
`npm install axe-core`) in the page; prints each violation and exits 1 if there is any.
Needs Debian's chromium and chromium-driver, and selenium (in the project's test extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from selenium import webdriver

WIDTHS = {"phone": (390, 844), "desktop": (1400, 1000)}


def browser(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(
        options=options, service=webdriver.ChromeService("/usr/bin/chromedriver")
    )


def check(page: Path, axe: Path, shots: Path, name: str, size: tuple[int, int]) -> list[dict]:
    driver = browser(*size)
    try:
        driver.get(page.resolve().as_uri())
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(size[0], max(size[1], full + 140))
        shot = shots / f"progression-{name}.png"
        driver.save_screenshot(str(shot))
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth"
        )
        driver.execute_script(axe.read_text(encoding="utf-8"))
        result = driver.execute_async_script(
            "const done = arguments[0]; axe.run(document).then(r => done(r.violations))"
        )
        print(
            f"{name} {size[0]}px: screenshot {shot}; page wider than the screen: {overflow}; "
            f"axe violations: {len(result)}"
        )
        return result
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--axe", type=Path, required=True, help="axe-core's axe.min.js")
    parser.add_argument("--screenshots", type=Path, default=Path("reports/screenshots"))
    args = parser.parse_args()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    violations = []
    for name, size in WIDTHS.items():
        violations += check(args.page, args.axe, args.screenshots, name, size)
    for v in violations:
        print(
            json.dumps(
                {
                    "id": v["id"],
                    "impact": v["impact"],
                    "help": v["help"],
                    "nodes": [n["target"] for n in v["nodes"]][:5],
                }
            )
        )
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
