"""The billing brain: pure code from "what happened" to "what to bill".

Imports nothing of autobill's and does no I/O: it takes an event, an agreement, usage so far and
``today``, and returns drafts with the explanation of every line.
"""

from rules.events import Event, EventKind, EventLine, SourceCustomer, event_from_dict, event_to_dict
from rules.usage import UsageKind, UsageRecord, usage_from_event

__all__ = [
    "Event", "EventKind", "EventLine", "SourceCustomer", "UsageKind", "UsageRecord",
    "event_from_dict", "event_to_dict", "usage_from_event",
]
