"""core_webservice_get_site_info: the handshake, listing the token's service functions."""

from __future__ import annotations

import hashlib
from typing import Any

from moodle_sync.sandbox.functions.base import Call, WsFunction, profile_url
from moodle_sync.sandbox.params import ListOf, Scalar, Struct

_ADVANCED = (
    ("usecomments", 1),
    ("usetags", 1),
    ("enablenotes", 1),
    ("messaging", 1),
    ("enableblogs", 1),
    ("enablecompletion", 1),
    ("enablebadges", 1),
    ("messagingallusers", 0),
    ("enablecustomreports", 1),
    ("enableglobalsearch", 0),
    ("mnet_dispatcher_mode", 0),
)


def _function_version(state_version: str, name: str) -> str:
    """Plugin functions carry their plugin's version, core ones the core version."""
    if name.startswith("local_cetadsync_"):
        return "2026120202"  # local_cetadsync/version.php
    return "2023100900" if name.startswith(("mod_", "gradereport_")) else state_version


def get_site_info(call: Call) -> dict[str, Any]:
    site, user = call.state.site, call.caller
    # A credential in its own right (trap 14); derived, never the token itself.
    private_key = hashlib.md5(f"private:{call.token.token}".encode()).hexdigest()
    return {
        "sitename": site.sitename,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "lang": "en",
        "userid": user.id,
        "siteurl": site.url,
        "userpictureurl": profile_url(call.state, "f1"),
        "functions": [
            {"name": fn, "version": _function_version(site.version, fn)}
            for fn in call.token.functions
        ],
        "downloadfiles": 1,
        "uploadfiles": 0,
        "release": site.release,
        "version": site.version,
        "mobilecssurl": "",
        "advancedfeatures": [{"name": n, "value": v} for n, v in _ADVANCED],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 67108864,
        "userhomepage": 1,
        "userprivateaccesskey": private_key,
        "siteid": 1,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": call.token.siteadmin,
        "theme": "boost",
        "limitconcurrentlogins": 0,
    }


FUNCTIONS = [
    WsFunction(
        "core_webservice_get_site_info",
        Struct({"serviceshortnames": ListOf(Scalar("alphanumext"), "default")}),
        get_site_info,
    ),
]
