from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rules import Event, EventKind, EventLine, SourceCustomer, event_from_dict, event_to_dict


def _deal() -> Event:
    return Event(
        kind=EventKind.DEAL_WON,
        source="hubspot",
        source_object_id="deal-1001",
        occurred_at=datetime(2026, 11, 2, 15, 30, tzinfo=UTC),
        source_customer=SourceCustomer("company-77", name="Northwind IT", email="ap@northwind.example"),
        amount=Decimal("12500.00"),
        currency="USD",
        lines=(EventLine("Managed services", Decimal("1"), Decimal("4000.00"), Decimal("4000.00"),
                         recurring="monthly", term_months=12),),
        attributes={"pipeline": "default", "dealstage": "closedwon"},
        source_event_id="evt-1",
        period_start=date(2026, 12, 1),
    )


def test_an_event_round_trips_through_its_json_form():
    event = _deal()
    assert event_from_dict(event_to_dict(event)) == event


def test_an_event_needs_an_aware_time_and_a_source_object():
    with pytest.raises(ValueError, match="timezone-aware"):
        Event(EventKind.DEAL_WON, "hubspot", "deal-1", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="source_object_id"):
        Event(EventKind.DEAL_WON, "hubspot", "", datetime(2026, 1, 1, tzinfo=UTC))


def test_event_amounts_must_be_decimal():
    with pytest.raises(TypeError, match="Decimal"):
        Event(EventKind.DEAL_WON, "hubspot", "deal-1", datetime(2026, 1, 1, tzinfo=UTC), amount=12.5)


def test_a_time_logged_event_becomes_a_usage_record_of_the_given_version():
    from rules import UsageKind, usage_from_event

    event = Event(
        EventKind.TIME_LOGGED, "toggl", "te-881", datetime(2026, 11, 3, 17, 0, tzinfo=UTC),
        attributes={"date": "2026-11-03", "hours": "7.5", "person": "Ana", "task": "Firewall upgrade",
                    "project": "project:toggl:42", "billable": True, "description": "FW cutover"},
    )
    record = usage_from_event(event, version=2, agreement_id="agr-northwind")
    assert record.kind is UsageKind.TIME and record.version == 2
    assert record.hours == Decimal("7.5") and record.date == date(2026, 11, 3)
    assert record.agreement_id == "agr-northwind" and record.billable


def test_a_deal_won_event_carries_no_usage():
    from rules import usage_from_event

    with pytest.raises(ValueError, match="no usage"):
        usage_from_event(_deal(), version=1)
