"""Push: what the rules decided, delivered to Moodle from the outbox exactly once.

``outbox`` holds the state changes of an outbox row, ``dispatch.deliver`` drains due rows in
batches (settling rows left in doubt by an earlier run first), ``indoubt`` asks Moodle what
was really sent. The planner (which fills the outbox) lives beside them.
"""

from moodle_sync.push.dispatch import DeliveryReport, WouldSend, deliver
from moodle_sync.push.indoubt import InDoubtReport, resolve_in_doubt

__all__ = [
    "DeliveryReport",
    "InDoubtReport",
    "WouldSend",
    "deliver",
    "resolve_in_doubt",
]
