"""The usage ledger: time entries, expenses and SLA breaches with every version, until invoices
consume them. docs/architecture.md ("Usage ledger") documents this surface.

- ``record_event(session, company_id, event, *, now=None, event_id=None)``: store a usage event as a
  version of its record and raise the threshold crossings it causes (``handle_usage_event`` is the
  events job's handler for it);
- ``unbilled(session, company_id, agreement_id, *, through=None)``: the usage drafting bills;
- ``consume(session, company_id, consumption, posting_key)``: mark what a posting's draft billed;
- ``billed_usage(...)``: the last billed version of each record (``History.billed_usage``);
- ``set_history_provider(fn)``: the posting pipeline's ``History`` for threshold checks;
- ``list_usage(...)``, ``map_waiting_usage(...)``.
"""

from addon.usage.billing import Consumed, billed_usage, consume, lock_agreement, unbilled
from addon.usage.errors import NotUsage, UnknownUsage, UsageAlreadyBilled, UsageError
from addon.usage.providers import (
    set_agreement_provider,
    set_event_raiser,
    set_history_provider,
    set_project_resolver,
)
from addon.usage.records import Outcome, Recorded, record_usage
from addon.usage.service import (
    RecordResult,
    UsageLine,
    handle_usage_event,
    list_usage,
    map_waiting_usage,
    record_event,
)
from addon.usage.thresholds import check_thresholds, crossings

__all__ = [
    "Consumed", "NotUsage", "Outcome", "RecordResult", "Recorded", "UnknownUsage", "UsageAlreadyBilled",
    "UsageError", "UsageLine", "billed_usage", "check_thresholds", "consume", "crossings", "handle_usage_event",
    "list_usage", "lock_agreement", "map_waiting_usage", "record_event", "record_usage", "set_agreement_provider",
    "set_event_raiser", "set_history_provider", "set_project_resolver", "unbilled",
]
