"""Push: what the rules decided, delivered to Moodle from the outbox exactly once.

``planner`` turns the run's evaluation into outbox changes (``drafts`` for students,
``digests`` for tutors); ``outbox`` is the only writer of outbox rows and decides, at claim
time, whether a row may go; ``dispatch.deliver`` drains due rows in batches (settling rows
left in doubt by an earlier run first); ``profile`` writes status fields; ``writer`` is the
seam to Moodle: ``core_writer`` or ``plugin_writer``, whichever the path selection chose, or
a dry run's recorder.
"""

from moodle_sync.push.dispatch import DeliveryReport, WouldSend, deliver
from moodle_sync.push.writer import InDoubtReport

__all__ = [
    "DeliveryReport",
    "InDoubtReport",
    "WouldSend",
    "deliver",
]
