"""The bundled Moodle stand-in: a loopback HTTP server answering like Moodle 4.4.

Used by the tests and the demo; `start_sandbox()` runs one in a background thread.
"""

from moodle_sync.sandbox.server import (
    ADMIN_TOKEN,
    INTEGRATION_TOKEN,
    NO_CAPABILITY_TOKEN,
    NO_MESSAGING_TOKEN,
    PARTIAL_SERVICE_TOKEN,
    PLUGIN_NO_CAPABILITY_TOKEN,
    PLUGIN_TOKEN,
    RECORDED_ROLE_TOKEN,
    Sandbox,
    serve_forever,
    start_sandbox,
)
from moodle_sync.sandbox.state import SiteState

__all__ = [
    "ADMIN_TOKEN",
    "INTEGRATION_TOKEN",
    "NO_CAPABILITY_TOKEN",
    "NO_MESSAGING_TOKEN",
    "PARTIAL_SERVICE_TOKEN",
    "PLUGIN_NO_CAPABILITY_TOKEN",
    "PLUGIN_TOKEN",
    "RECORDED_ROLE_TOKEN",
    "Sandbox",
    "SiteState",
    "serve_forever",
    "start_sandbox",
]
