"""Events: canonical facts a connector read from a delivery, or that tick or the usage ledger raised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rules.quick import quick_init


class EventKind(StrEnum):
    """What happened at the source."""

    DEAL_WON = "deal_won"
    MILESTONE_COMPLETED = "milestone_completed"
    TIME_LOGGED = "time_logged"
    SUBSCRIPTION_RENEWED = "subscription_renewed"
    PERIOD_CLOSED = "period_closed"
    THRESHOLD_CROSSED = "threshold_crossed"
    CONTRACT_ENDED = "contract_ended"
    SLA_BREACHED = "sla_breached"
    EXPENSE_LOGGED = "expense_logged"


@dataclass(frozen=True)
class SourceCustomer:
    """The client as the source knows it: enough to map or create a QuickBooks customer."""

    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True)
class EventLine:
    """A line the source carries (a deal's line item, a renewal's subscription item)."""

    description: str
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    product_id: str | None = None
    sku: str | None = None
    product_name: str | None = None
    # A recurring line (HubSpot's recurringbillingfrequency, a Stripe price's interval):
    # "monthly", "quarterly", "semiannually", "annually", "weekly", ... and the term in months.
    recurring: str | None = None
    term_months: int | None = None
    taxable: bool | None = None


@quick_init
@dataclass(frozen=True)
class Event:
    """A canonical billing signal (``rules.Event``)."""

    kind: EventKind
    source: str
    source_object_id: str
    occurred_at: datetime
    source_customer: SourceCustomer | None = None
    amount: Decimal | None = None
    currency: str | None = None
    lines: tuple[EventLine, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)
    # The vendor's own id for this notification: kept for explanations, never part of a business key.
    source_event_id: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    # Set by tick and the usage ledger, whose events already know their company and agreement.
    company_id: str | None = None
    agreement_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EventKind):
            object.__setattr__(self, "kind", EventKind(self.kind))
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("Event.occurred_at must be timezone-aware")
        if not self.source_object_id:
            raise ValueError("Event.source_object_id must not be empty")
        if self.amount is not None and not isinstance(self.amount, Decimal):
            raise TypeError("Event.amount must be a Decimal")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of ``event`` (Decimals and dates as strings); ``event_from_dict`` reverses it."""
    out: dict[str, Any] = {
        "kind": event.kind.value,
        "source": event.source,
        "source_object_id": event.source_object_id,
        "occurred_at": event.occurred_at.isoformat(),
        "source_customer": None,
        "amount": _plain(event.amount),
        "currency": event.currency,
        "lines": [_plain(vars(line)) for line in event.lines],
        "attributes": _plain(event.attributes),
        "source_event_id": event.source_event_id,
        "period_start": _plain(event.period_start),
        "period_end": _plain(event.period_end),
        "company_id": event.company_id,
        "agreement_id": event.agreement_id,
    }
    if event.source_customer is not None:
        out["source_customer"] = _plain(vars(event.source_customer))
    return out


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """The ``Event`` that ``event_to_dict`` wrote."""
    customer = data.get("source_customer")
    lines = tuple(
        EventLine(**{**line, "quantity": _dec(line.get("quantity", "1")), "unit_price": _dec(line.get("unit_price")),
                     "amount": _dec(line.get("amount"))})
        for line in data.get("lines") or ()
    )
    return Event(
        kind=EventKind(data["kind"]),
        source=data["source"],
        source_object_id=data["source_object_id"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        source_customer=SourceCustomer(**customer) if customer else None,
        amount=_dec(data.get("amount")),
        currency=data.get("currency"),
        lines=lines,
        attributes=dict(data.get("attributes") or {}),
        source_event_id=data.get("source_event_id"),
        period_start=date.fromisoformat(data["period_start"]) if data.get("period_start") else None,
        period_end=date.fromisoformat(data["period_end"]) if data.get("period_end") else None,
        company_id=data.get("company_id"),
        agreement_id=data.get("agreement_id"),
    )
