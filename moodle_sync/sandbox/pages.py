# ruff: noqa: E501  (the maintenance page is kept byte for byte as Moodle sent it)
"""Bodies a broken or busy Moodle sends instead of JSON: the CLI maintenance page, a login page.

`CLI_MAINTENANCE` is the page of `admin/cli/maintenance.php --enable` as recorded from Moodle 4.4
(recordings/maintenance__cli_enabled_site_info.json), sent with HTTP 503 and `Retry-After: 300`
before Moodle even boots, so no token or function is looked at.
"""

from __future__ import annotations

from moodle_sync.sandbox.dispatch import Reply

HTML_TYPE = "text/html; charset=utf-8"
RETRY_AFTER_SECONDS = 300
_SITENAME = "@@SITENAME@@"

CLI_MAINTENANCE = """<!DOCTYPE html>
<html  lang="en" xml:lang="en">
    <head>
        <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
                <title>@@SITENAME@@ under maintenance</title>
        <style>
body {
    margin: 0;
    font-family: -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif,"Apple Color Emoji","Segoe UI Emoji","Segoe UI Symbol","Noto Color Emoji";
    font-size: .9375rem;
    font-weight: 400;
    line-height: 1.5;
    color: #343a40;
    text-align: left;
    background-color: #f2f2f2;
}
#page {
    margin-top: 15px;
    background: white;
    max-width: 600px;
    margin: 0 auto;
    padding: 15px;
}
#region-main {
    margin: 0 auto;
    border: 1px solid rgba(0,0,0,.125);
    padding: 1rem 1.25rem 1.25rem;
    background-color: #fff;
}
h1 {
    font-size: 2.34rem;
    margin: 0 0 .5rem;
    font-weight: 300;
    line-height: 1.2;
}
.alert-danger {
    color: #6e211e;
    background-color: #f6d9d8;
    border-color: #f3c9c8;
    padding: .75rem 1.25rem;
}
    </style>
    </head>
    <body>
        <div id="page">
            <div id="region-main">
                <h1>@@SITENAME@@ under maintenance</h1>
                <div class='alert-danger'>The site is undergoing maintenance and is currently not available</div>                            </div>
        </div>
    </body>
</html>

"""

LOGIN_PAGE = """<!DOCTYPE html>
<html  dir="ltr" lang="en" xml:lang="en">
<head>
    <title>@@SITENAME@@: Log in to the site</title>
    <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
</head>
<body id="page-login-index" class="format-site path-login dir-ltr lang-en pagelayout-login">
<div id="page-wrapper"><div id="page" class="container-fluid pt-5 mt-0">
    <h1 class="login-heading mb-4">Log in to @@SITENAME@@</h1>
    <form class="login-form" action="/login/index.php" method="post" id="login">
        <input type="hidden" name="logintoken" value="sandboxlogintoken0000">
        <input type="text" name="username" id="username" placeholder="Username">
        <input type="password" name="password" id="password" placeholder="Password">
        <button type="submit" class="btn btn-primary btn-lg" id="loginbtn">Log in</button>
    </form>
</div></div>
</body>
</html>
"""


def cli_maintenance(sitename: str, function: str = "") -> Reply:
    """HTTP 503 with the HTML page and `Retry-After`, exactly as the recorded site sent it."""
    body = CLI_MAINTENANCE.replace(_SITENAME, sitename).encode()
    headers = (("Retry-After", str(RETRY_AFTER_SECONDS)),)
    return Reply(503, HTML_TYPE, body, function, headers)


def login_page(sitename: str, function: str = "") -> Reply:
    """What a single-sign-on proxy or a misrouted URL answers: HTTP 200, HTML, no JSON at all."""
    return Reply(200, HTML_TYPE, LOGIN_PAGE.replace(_SITENAME, sitename).encode(), function)
