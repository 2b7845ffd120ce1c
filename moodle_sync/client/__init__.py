"""The Moodle web-service client: the only code that talks to Moodle.

``Requester`` owns HTTP; one module per Moodle area (``site``, ``courses``, ``enrolments``,
``assignments``, ``users``, ``messages``) turns calls into typed records; ``registry`` lists
every function used.
"""

from moodle_sync.client.models import MoodleWarning, Result
from moodle_sync.client.requester import Requester

__all__ = ["MoodleWarning", "Requester", "Result"]
