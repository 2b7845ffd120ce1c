"""The path selection: which way this run talks to Moodle, chosen once, from site info.

A site whose token's service has every function of local_cetadsync is on the plugin path, any
other on the core path (`client.sitepath.SitePath.from_site_info` decides). The choice gives
the run one source for the pull (`pull.source.Source`: `core_source` or `plugin_source`) and
one writer for the push (`push.writer.MoodleWrites`: `core_writer` or `plugin_writer`);
`RunContext` carries them. No other module asks which path it is on (tests/test_paths.py
holds every module to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from moodle_sync.client.models import SiteInfo
from moodle_sync.client.requester import Requester
from moodle_sync.client.site import get_site_info
from moodle_sync.client.sitepath import CORE, SitePath
from moodle_sync.pull.core_source import CoreSource
from moodle_sync.pull.plugin_source import PluginSource
from moodle_sync.pull.source import Source

if TYPE_CHECKING:
    from moodle_sync.push.writer import SiteWrites

__all__ = ["MoodlePath", "detect", "from_site_info", "unasked"]


@dataclass(frozen=True)
class MoodlePath:
    """The site's path (its name, for `check` and reports), how the pull reads it and how the
    push writes to it."""

    site: SitePath
    requester: Requester

    @cached_property
    def source(self) -> Source:
        if self.site.plugin:
            return PluginSource(self.requester)
        return CoreSource(self.requester)

    @cached_property
    def writer(self) -> SiteWrites:
        """Built when first asked, so `sync` never loads the push."""
        if self.site.plugin:
            from moodle_sync.push.plugin_writer import PluginWrites

            return PluginWrites(self.requester)
        from moodle_sync.push.core_writer import CoreWrites

        return CoreWrites(self.requester)


def from_site_info(requester: Requester, info: SiteInfo) -> MoodlePath:
    """The path the site offers: every local_cetadsync function on the service, or core."""
    return MoodlePath(SitePath.from_site_info(info), requester)


def detect(requester: Requester) -> MoodlePath:
    """Calls: core_webservice_get_site_info."""
    return from_site_info(requester, get_site_info(requester))


def unasked(requester: Requester) -> MoodlePath:
    """The core path, for a site whose info was not read: a run that failed before it asked
    (its alerts), a pull given no source."""
    return MoodlePath(CORE, requester)
