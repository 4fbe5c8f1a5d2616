"""Usage: billable quantities that accumulate until an invoice consumes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class UsageKind(StrEnum):
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

    def __post_init__(self) -> None:
        if not isinstance(self.kind, UsageKind):
            object.__setattr__(self, "kind", UsageKind(self.kind))
        for name in ("hours", "quantity", "amount", "rate"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"UsageRecord.{name} must be a Decimal")
