"""A real browser on the live site: headless Chromium driven by Selenium, for the plugin's pages.

Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver; `.ci/run`
installs them). Without them the `browser` fixture skips with the reason, or fails when
MOODLE_SYNC_REQUIRE_LIVE=1, as every live test does.

    def test_x(browser: Browser) -> None:
        browser.login("student1", "Pass-1234!")   # Moodle's own login form
        browser.get("/local/cetadsync/myprogress.php")
        browser.screenshot("myprogress")           # var/screenshots/myprogress.png
        browser.session().get(browser.url + "/...")  # requests with the browser's cookie

One Chromium serves the whole session; `login` logs whoever is in out first.

Screenshots go to var/screenshots/ (not tracked), so a test run leaves the checkout clean;
MOODLE_SYNC_TEST_SCREENSHOTS=reports/screenshots retakes the ones the README shows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / os.environ.get("MOODLE_SYNC_TEST_SCREENSHOTS", "var/screenshots")
CHROMIUM = os.environ.get("MOODLE_SYNC_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MOODLE_SYNC_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WIDTH = 1280
HEIGHT = 900
REQUIRE_ENV = "MOODLE_SYNC_REQUIRE_LIVE"
MAX_SCREENSHOT_HEIGHT = 1600  # a whole page up to this, so the PNGs stay small


def missing() -> str | None:
    """Why no browser can run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the live tier is required (as tests/live/conftest.py does)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"a browser is required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(f"no browser: {reason}")


class LoginFailed(AssertionError):
    pass


class Browser:
    """One headless Chromium on one Moodle site."""

    def __init__(self, url: str, screenshots: Path = SCREENSHOTS) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
                         "--lang=en-GB", "--force-device-scale-factor=1"):  # fmt: skip
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(120)
        self.url = url.rstrip("/")
        self.screenshots = screenshots
        self.username: str | None = None
        self.timings: dict[str, float] = {}

    # -- navigation --

    def get(self, path: str, again: bool = True) -> None:
        """Open a page of the site (a path such as "/my/"), waiting for its load event; with
        again=False, not when the browser shows that page already (saves a rendering)."""
        if not again and self.path == path:
            return
        started = time.monotonic()
        self.driver.get(self.url + path if path.startswith("/") else path)
        self.timings[path] = round(time.monotonic() - started, 3)

    @property
    def path(self) -> str:
        current: str = self.driver.current_url
        return current.removeprefix(self.url)

    @property
    def source(self) -> str:
        return str(self.driver.page_source)

    @property
    def text(self) -> str:
        """The visible text of the page."""
        return str(self.one("body").text)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def one(self, css: str) -> Any:
        found = self.all(css)
        assert found, f"no {css!r} on {self.path}"
        return found[0]

    def choose(self, css: str, value: str, seconds: float = 30) -> None:
        """Pick an option of a select as a person does, then wait for the page it submits to
        (Moodle's single_select submits on change)."""
        from selenium.webdriver.support.ui import Select

        before = self.driver.current_url
        Select(self.one(css)).select_by_value(value)
        deadline = time.monotonic() + seconds
        loaded = "return document.readyState === 'complete'"
        while time.monotonic() < deadline and not (
            self.driver.current_url != before and self.driver.execute_script(loaded)
        ):
            time.sleep(0.1)

    def sesskey(self) -> str:
        return str(self.driver.execute_script("return M.cfg.sesskey"))

    # -- who is logged in --

    def login(self, username: str, password: str) -> None:
        """Log in through Moodle's own form, /login/index.php, as a person does: once the page's
        own JavaScript is done, with what was typed checked, and a second try when refused.
        (From 4.5 the page replaces its password box after loading, with a template fetched
        over AJAX: on a busy machine that came after the keys were typed, and took them.)"""
        if self.username is not None:
            self.logout()
        started = time.monotonic()
        refused = self._submit(username, password) and self._submit(username, password)
        if refused:
            raise LoginFailed(f"{username} could not log in: {refused}")
        self.timings["login"] = round(time.monotonic() - started, 3)
        self.username = username

    def _submit(self, username: str, password: str) -> str:
        """Fill the login form in and send it: "" once logged in, else what the page says."""
        self.get("/login/index.php")
        self.settle(60)
        self._type({"username": username, "password": password})
        self.one("#loginbtn").click()
        deadline = time.monotonic() + 120
        while "/login/index.php" in self.driver.current_url and time.monotonic() < deadline:
            if self.texts(".loginerrors, #loginerrormessage, .alert-danger") is not None:
                break
            time.sleep(0.1)
        if "/login/index.php" not in self.driver.current_url:
            return ""
        return " ".join(self.texts(".loginerrors, .alert-danger") or []) or "still on the form"

    def _type(self, values: dict[str, str], attempts: int = 3) -> None:
        """Type into the inputs with these ids until each holds its value."""
        from selenium.common.exceptions import StaleElementReferenceException

        read = "return arguments[0].map(id => (document.getElementById(id) || {}).value)"
        for _ in range(attempts):
            with contextlib.suppress(StaleElementReferenceException):
                for name, value in values.items():
                    box = self.one(f"#{name}")
                    box.clear()
                    box.send_keys(value)
            if self.driver.execute_script(read, list(values)) == list(values.values()):
                return
            self.settle(10)
        raise LoginFailed(f"{self.path}: the form did not keep what was typed in {list(values)}")

    def texts(self, css: str) -> list[str] | None:
        """The texts of the elements css finds, None when there are none; a page that changes
        while they are read is read again."""
        from selenium.common.exceptions import StaleElementReferenceException

        for _ in range(5):
            try:
                found = [e.text for e in self.all(css)]
                return found or None
            except StaleElementReferenceException:
                time.sleep(0.2)
        return None

    def logout(self) -> None:
        """Log out as the user menu does (logout.php with the session key)."""
        if "/login/logout.php" not in self.driver.current_url and self.path.startswith("/"):
            try:
                key = self.sesskey()
            except Exception:  # a page without Moodle's JavaScript (a download, an error)
                self.get("/my/")
                key = self.sesskey()
            self.get(f"/login/logout.php?sesskey={key}")
        self.driver.delete_all_cookies()
        self.username = None

    def session(self) -> requests.Session:
        """A requests session carrying the browser's cookies: downloads the browser would save."""
        session = requests.Session()
        for cookie in self.driver.get_cookies():
            session.cookies.set(cookie["name"], cookie["value"], path=cookie.get("path", "/"))
        return session

    # -- evidence --

    def screenshot(self, name: str, max_height: int = MAX_SCREENSHOT_HEIGHT) -> Path:
        """The page as a PNG in SCREENSHOTS/NAME.png, 1280 wide, the whole page up to
        max_height pixels tall."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.settle()
        height, inner = self.driver.execute_script(
            "return [document.documentElement.scrollHeight, window.innerHeight]")  # fmt: skip
        frame = HEIGHT - int(inner)  # the window's own bars, outside the page
        self.driver.set_window_size(WIDTH, min(int(height), max_height) + frame)
        try:
            path = self.screenshots / f"{name}.png"
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(WIDTH, HEIGHT)
        return path

    def settle(self, seconds: float = 5) -> None:
        """Wait (a while at most) for the page's own JavaScript to finish loading what it
        loads after the load event (the timeline, the course index): M.util.pending_js, the
        list Moodle's Behat steps wait on."""
        deadline = time.monotonic() + seconds
        script = "return !(window.M && M.util && M.util.pending_js && M.util.pending_js.length)"
        while not self.driver.execute_script(script) and time.monotonic() < deadline:
            time.sleep(0.1)

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="session")
def browser(live_site: Any) -> Iterator[Browser]:
    """A logged-out headless Chromium on the live site, shared by the session."""
    reason = missing()
    if reason:
        unavailable(reason)
    try:
        started = Browser(live_site.url)
    except Exception as exc:  # chromedriver refusing to start is an environment problem
        unavailable(f"Chromium did not start: {exc}")
    try:
        yield started
    finally:
        started.quit()
