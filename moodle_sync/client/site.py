"""The handshake: who the token is and which functions its service exposes."""

from __future__ import annotations

from moodle_sync.client.envelope import reading_answer
from moodle_sync.client.models import SiteInfo
from moodle_sync.client.requester import Requester

__all__ = ["get_site_info"]


def get_site_info(req: Requester) -> SiteInfo:
    """Calls: core_webservice_get_site_info.

    The answer carries ``userprivateaccesskey``, a credential: it is registered for redaction
    and dropped, never kept in the model.
    """
    raw = req.call("core_webservice_get_site_info")
    with reading_answer("core_webservice_get_site_info"):
        req.add_secret(str(raw.pop("userprivateaccesskey", "") or ""))
        return SiteInfo.model_validate(raw)
