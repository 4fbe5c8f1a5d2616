"""Recording usage raises a threshold crossing once per (agreement, rule, period, n-th crossing)."""

from __future__ import annotations

from datetime import date, timedelta

from addon import usage
from rules import EventKind, History, draft_for_event
from tests.integration.usage.agreements import NORTHWIND, northwind
from tests.integration.usage.conftest import NOW, record, time_entry


def setup(neighbours, company, **kw):
    neighbours.projects["project:toggl:42"] = NORTHWIND
    neighbours.agreements[NORTHWIND] = northwind(company, **kw)


def test_the_entry_that_takes_unbilled_time_over_the_threshold_raises_the_first_crossing_once(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company)
    assert record(database, company, time_entry("te-1", "4.0")).raised == ()
    assert record(database, company, time_entry("te-2", "4.0")).raised == ()
    [event] = record(database, company, time_entry("te-3", "2.0")).raised
    assert event.kind is EventKind.THRESHOLD_CROSSED and event.agreement_id == NORTHWIND
    assert event.source_object_id == f"{NORTHWIND}/ten-hours@2026-03-01#1"
    assert event.attributes["crossing"] == 1 and event.attributes["rule_id"] == "ten-hours"
    assert event.attributes["hours"] == "10.00" and event.company_id == company
    for n in range(4, 8):
        assert record(database, company, time_entry(f"te-{n}", "3.0")).raised == ()
    assert neighbours.raised == [event]
    with database.unit_of_work() as session:
        [crossing] = usage.crossings(session, company, NORTHWIND)
    assert (crossing.rule_id, crossing.period_start, crossing.crossing) == ("ten-hours", date(2026, 3, 1), 1)


def test_after_the_crossing_is_billed_the_next_ten_hours_raise_the_second(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company)
    for n in range(1, 4):
        record(database, company, time_entry(f"te-{n}", "4.0"))
    [first] = neighbours.raised
    agreement = neighbours.agreements[NORTHWIND]
    with database.unit_of_work() as session:
        draft = draft_for_event(first, agreement, agreement.rule_in_effect("ten-hours", NOW.date()),
                                usage=usage.unbilled(session, company, NORTHWIND), history=History(),
                                today=NOW.date())
        usage.consume(session, company, draft.consumption, draft.key)
    assert draft.total == 12 * 160
    neighbours.histories[NORTHWIND] = History().after(draft)
    assert record(database, company, time_entry("te-4", "6.0"), at=NOW + timedelta(hours=1)).raised == ()
    [second] = record(database, company, time_entry("te-5", "4.0"), at=NOW + timedelta(hours=2)).raised
    assert second.attributes["crossing"] == 2 and second.source_object_id.endswith("#2")


def test_an_edit_of_billed_time_counts_only_its_difference_towards_the_next_crossing(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company)
    record(database, company, time_entry("te-1", "10.0"))
    [first] = neighbours.raised
    agreement = neighbours.agreements[NORTHWIND]
    with database.unit_of_work() as session:
        draft = draft_for_event(first, agreement, agreement.rule_in_effect("ten-hours", NOW.date()),
                                usage=usage.unbilled(session, company, NORTHWIND), history=History(),
                                today=NOW.date())
        usage.consume(session, company, draft.consumption, draft.key)
    neighbours.histories[NORTHWIND] = History().after(draft)
    later = NOW + timedelta(hours=1)
    assert record(database, company, time_entry("te-1", "19.0", changed=later), at=later).raised == ()
    [second] = record(database, company, time_entry("te-2", "1.0", changed=later), at=later).raised
    assert second.attributes["crossing"] == 2 and second.attributes["hours"] == "10.00"


def test_setting_the_project_mapping_maps_waiting_time_and_checks_the_threshold(ledger, neighbours):
    database, company = ledger
    neighbours.agreements[NORTHWIND] = northwind(company)
    for n in range(1, 4):
        record(database, company, time_entry(f"te-{n}", "4.0"))
    assert neighbours.raised == []
    neighbours.projects["project:toggl:42"] = NORTHWIND
    with database.unit_of_work() as session:
        usage.map_waiting_usage(session, company, "project:toggl:42", now=NOW)
    [event] = neighbours.raised
    assert event.attributes["crossing"] == 1


def test_an_agreement_without_a_threshold_rule_raises_nothing(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company, rules=[{"id": "month-end", "when": {"kind": "period_closed"}}])
    assert record(database, company, time_entry("te-1", "40.0")).raised == ()
    assert neighbours.raised == []
