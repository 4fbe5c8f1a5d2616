"""Small builders shared by the rules tests (memorable values: Northwind IT, 37.5 h at 145.00)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from rules import Agreement, Event, EventKind, How, Rule, SendMode, UsageKind, UsageRecord, When
from rules.calendar import day_starts

D = Decimal
PERIOD_RULE = Rule(id="monthly", when=When(EventKind.PERIOD_CLOSED), how=How(SendMode.AUTO_SEND))


def agreement(*components, rules=(PERIOD_RULE,), **fields) -> Agreement:
    """Northwind IT's agreement from Nov 1, 2026 with ``components``."""
    base = dict(id="agr-northwind", company_id="c1", customer_id="58", customer_name="Northwind IT",
                start=date(2026, 11, 1), timezone="America/New_York", components=components, rules=rules)
    base.update(fields)
    return Agreement(**base)


def boundary(agr: Agreement, day: date) -> Event:
    """The scheduler's period_closed event at ``day``."""
    return Event(EventKind.PERIOD_CLOSED, "autobill", f"{agr.id}@{day}", day_starts(day, agr.timezone),
                 attributes={"boundary": day.isoformat()}, company_id=agr.company_id, agreement_id=agr.id)


def time(source_id: str, on: date, hours: str, *, version: int = 1, **fields) -> UsageRecord:
    """A time entry of ``hours`` on ``on``."""
    return UsageRecord(UsageKind.TIME, "toggl", source_id, version, on, hours=D(hours), **fields)


def at(*args) -> datetime:
    """An aware UTC instant."""
    return datetime(*args, tzinfo=UTC)
