"""An SLA breach withdrawn after it was credited: the next invoice takes the credit back and consumes
the deletion, so the usage ledger no longer shows it as deleted after billing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from addon import usage
from rules import Event, EventKind, History, LineKind, due_drafts, load_agreement
from tests.integration.usage.conftest import NOW

WOODGROVE = "agr-woodgrove-noc"


def woodgrove(company_id: str):
    """24x7 monitoring at 4,000.00 a month in advance; each breach credits 5% of it."""
    return load_agreement(json.dumps({
        "id": WOODGROVE, "company_id": company_id, "customer_id": "66", "customer_name": "Woodgrove Bank",
        "timezone": "UTC", "start": "2026-01-01", "cycle": "monthly",
        "components": [{"type": "fixed_fee", "id": "noc", "amount": "4000.00"},
                       {"type": "sla_credit", "id": "sla", "item": "SLA credit", "percent_of_fee": "5"}],
        "rules": [{"id": "monthly", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}}],
    }))


def breach(breach_id: str, *, deleted: bool = False, changed=NOW) -> Event:
    """An SLA breach as a monitoring connector writes it."""
    return Event(kind=EventKind.SLA_BREACHED, source="pagerduty", source_object_id=breach_id, occurred_at=changed,
                 attributes={"date": "2026-03-02", "deleted": deleted, "mapping_keys": ["service:pagerduty:noc"]})


def status(database, company, breach_id):
    with database.unit_of_work() as session:
        return {u.source_id: u.status for u in usage.list_usage(session, company, agreement_id=WOODGROVE)}[breach_id]


def close(database, company, agreement, history, now):
    """The tick's draft for the boundary before ``now``, consumed as posting it would."""
    with database.unit_of_work() as session:
        [draft] = due_drafts(agreement, now, since=now - timedelta(hours=2),
                             usage=usage.unbilled(session, company, WOODGROVE), history=history)
        usage.consume(session, company, draft.consumption, draft.key)
    return draft


def test_a_breach_deleted_after_its_credit_is_taken_back_and_stops_being_pending(ledger, neighbours):
    database, company = ledger
    neighbours.projects["service:pagerduty:noc"] = WOODGROVE
    neighbours.agreements[WOODGROVE] = agreement = woodgrove(company)
    with database.unit_of_work() as session:
        usage.record_event(session, company, breach("P1-77"), now=NOW)
    april = close(database, company, agreement, History(), NOW.replace(month=4, day=1, hour=1))
    assert [(ln.kind, ln.amount) for ln in april.lines] == [(LineKind.FEE, Decimal("4000.00")),
                                                            (LineKind.SLA_CREDIT, Decimal("-200.00"))]
    assert status(database, company, "P1-77") == "billed"

    later = NOW + timedelta(days=10)
    with database.unit_of_work() as session:
        usage.record_event(session, company, breach("P1-77", deleted=True, changed=later), now=later)
    assert status(database, company, "P1-77") == "deleted after billing"

    history = History().after(april)
    may = close(database, company, agreement, history, NOW.replace(month=5, day=1, hour=1))
    back = may.lines[1]
    assert (back.kind, back.amount, may.total) == (LineKind.SLA_CREDIT_REVERSED, Decimal("200.00"), Decimal("4200.00"))
    assert back.description.endswith(f"withdrawn (credited on invoice autobill:{april.key})")
    assert status(database, company, "P1-77") == "billed"  # the deletion was consumed: nothing pending
    with database.unit_of_work() as session:
        assert usage.unbilled(session, company, WOODGROVE) == []
    assert date(2026, 3, 2) == back.service_date
