"""Usage: billable quantities that accumulate until an invoice consumes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class UsageKind(StrEnum):
    """What a usage record measures."""

    TIME = "time"
    EXPENSE = "expense"
    SLA_BREACH = "sla_breach"


@dataclass(frozen=True)
class UsageRecord:
    """One time entry, expense or SLA breach; an edit is a new ``version`` of the same ``source_id``."""

    kind: UsageKind
    source: str
    source_id: str
    version: int
    date: date
    agreement_id: str | None = None
    person: str | None = None
    role: str | None = None
    task: str | None = None
    project: str | None = None
    hours: Decimal | None = None
    quantity: Decimal | None = None
    billable: bool = True
    amount: Decimal | None = None  # where the source prices it (an expense's cost)
    rate: Decimal | None = None  # an entry-level rate, first in the rate fallback chain
    currency: str | None = None
    description: str = ""
    deleted: bool = False  # a deletion is the last version of a record
    taxable: bool | None = None  # an expense's own taxable flag (pass-throughs use it last)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, UsageKind):
            object.__setattr__(self, "kind", UsageKind(self.kind))
        for name in ("hours", "quantity", "amount", "rate"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"UsageRecord.{name} must be a Decimal")


# What connectors put in ``Event.attributes`` for usage events (time logged, expense logged,
# SLA breached), so the usage ledger can turn them into ``UsageRecord``s. ``mapping_keys`` are
# the candidates a person can map to an agreement, most specific first, e.g.
# ["project:toggl:123", "client:toggl:9", "tag:toggl:retainer"].
USAGE_ATTRIBUTES = (
    "date", "hours", "quantity", "person", "role", "task", "project", "billable", "rate", "amount",
    "currency", "description", "deleted", "mapping_keys", "taxable",
)

_KIND_FOR_EVENT = {"time_logged": UsageKind.TIME, "expense_logged": UsageKind.EXPENSE,
                   "sla_breached": UsageKind.SLA_BREACH}


def _decimal_or_none(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def usage_from_event(event, *, version: int, agreement_id: str | None = None) -> UsageRecord:
    """The ``UsageRecord`` a usage event describes, as version ``version`` of its source record."""
    kind = _KIND_FOR_EVENT.get(str(event.kind))
    if kind is None:
        raise ValueError(f"{event.kind} events carry no usage")
    attrs = event.attributes
    raw_date = attrs.get("date")
    on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else (raw_date or event.occurred_at.date())
    return UsageRecord(
        kind=kind,
        source=event.source,
        source_id=event.source_object_id,
        version=version,
        date=on,
        agreement_id=agreement_id or event.agreement_id,
        person=attrs.get("person"),
        role=attrs.get("role"),
        task=attrs.get("task"),
        project=attrs.get("project"),
        hours=_decimal_or_none(attrs.get("hours")),
        quantity=_decimal_or_none(attrs.get("quantity")),
        billable=bool(attrs.get("billable", True)),
        amount=_decimal_or_none(attrs.get("amount", event.amount)),
        rate=_decimal_or_none(attrs.get("rate")),
        currency=attrs.get("currency") or event.currency,
        description=attrs.get("description") or "",
        deleted=bool(attrs.get("deleted", False)),
        taxable=None if attrs.get("taxable") is None else bool(attrs.get("taxable")),
    )
