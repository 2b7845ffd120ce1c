"""Which way the worker talks to this site: through local_cetadsync or core Moodle alone.

Decided once per run from site info's `functions`: the plugin path needs every one of the
plugin's functions (registry.PLUGIN_FUNCTIONS), so a plugin older than the worker, which lacks
one (e.g. local_cetadsync_save_profile_values), leaves the worker on the core path. Read only
by the path selection (`moodle_sync.paths`), which gives the run its source and writer.
"""

from __future__ import annotations

from dataclasses import dataclass

from moodle_sync.client.models import SiteInfo
from moodle_sync.client.registry import PLUGIN_FUNCTIONS, PathName

__all__ = ["CORE", "SitePath"]

PLUGIN_ADDS = (
    "local_cetadsync would add: mapped courses and enrolments of every course in one call each, "
    "students' own dates in bulk and incrementally, notifications sent exactly once by key, "
    "progression records"
)


@dataclass(frozen=True)
class SitePath:
    """`plugin`: every function of local_cetadsync is on the token's service."""

    plugin: bool
    userid: int = 0

    @classmethod
    def from_site_info(cls, info: SiteInfo) -> SitePath:
        have = set(info.functions)
        return cls(all(spec.name in have for spec in PLUGIN_FUNCTIONS), info.userid)

    @property
    def name(self) -> PathName:
        return "plugin" if self.plugin else "core"

    def describe(self) -> str:
        """One line for `check`."""
        if self.plugin:
            return "path: plugin (local_cetadsync's functions are on the token's service)"
        return f"path: core (local_cetadsync not on the token's service); {PLUGIN_ADDS}"


CORE = SitePath(plugin=False)
