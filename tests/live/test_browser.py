"""The browser's login against a login page that behaves as Moodle 4.5's does on a busy
machine: it replaces its password box while the keys are typed (Moodle renders the box's
show/hide toggle from a template fetched over AJAX, then swaps the box's outerHTML)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.live.browser import Browser, LoginFailed, missing, unavailable

PASSWORD = "Right-1!"
FORM = """<!DOCTYPE html><html><body>%s
<form method="post" action="/login/index.php">
<input id="username" name="username"><input id="password" name="password" type="password">
<button id="loginbtn" type="submit">Log in</button></form>
<script>
// The first key typed into the password box swaps the box for a copy of its HTML, which
// holds no value: what was typed so far, and the keys still coming, are lost.
let swapped = false;
document.getElementById('password').addEventListener('input', () => {
  if (swapped) { return; }
  swapped = true;
  setTimeout(() => {
    const box = document.getElementById('password');
    box.outerHTML = box.outerHTML;
  }, 20);
});
</script></body></html>"""


class LoginPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        error = (
            '<div class="loginerrors">Invalid login</div>' if "loginredirect" in self.path else ""
        )
        body = (FORM % error) if self.path.startswith("/login/") else "<p>Dashboard</p>"
        self.answer(200, body.encode())

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        right = form.get("password") == [PASSWORD] and form.get("username") == ["tutor"]
        self.send_response(303)
        self.send_header("Location", "/my/" if right else "/login/index.php?loginredirect=1")
        self.end_headers()

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page_browser() -> Iterator[Browser]:
    if reason := missing():
        unavailable(reason)
    server = ThreadingHTTPServer(("127.0.0.1", 0), LoginPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = Browser(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield started
    finally:
        started.quit()
        server.shutdown()


def test_login_survives_a_password_box_swapped_while_typing(page_browser: Browser) -> None:
    page_browser.login("tutor", PASSWORD)
    assert page_browser.path == "/my/" and page_browser.username == "tutor"


def test_a_wrong_password_still_fails_with_the_pages_words(page_browser: Browser) -> None:
    page_browser.username = None  # this page has no Moodle logout to go through
    with pytest.raises(LoginFailed, match="tutor could not log in: Invalid login"):
        page_browser.login("tutor", "wrong")
