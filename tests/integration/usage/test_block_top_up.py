"""Recording usage that takes a prepaid hour block below top_up_below raises a top-up crossing once per
(agreement, rule, period, n-th crossing); its draft is the top-up invoice."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from addon import usage
from rules import EventKind, History, LineKind, draft_for_event, load_agreement
from tests.integration.usage.conftest import NOW, record, time_entry

LITWARE = "agr-litware-block"


def litware(company_id: str, *, rules: list | None = None):
    """Litware's prepaid support: blocks of 40 h for 5,600.00, topped up below 5 h, as its own invoice."""
    return load_agreement(json.dumps({
        "id": LITWARE, "company_id": company_id, "customer_id": "64", "customer_name": "Litware Inc.",
        "currency": "USD", "timezone": "America/New_York", "start": "2026-01-01", "cycle": "monthly",
        "components": [{"type": "hour_block", "id": "prepaid", "item": "Prepaid support hours",
                        "block_hours": "40", "block_price": "5600.00", "top_up_below": "5"}],
        "rules": rules if rules is not None else [
            {"id": "monthly-statement", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}},
            {"id": "top-up", "when": {"kind": "threshold_crossed"}, "what": {"components": ["prepaid"]},
             "how": {"send_mode": "auto_send"}},
        ],
    }))


def setup(neighbours, company, **kw):
    neighbours.projects["project:toggl:42"] = LITWARE
    neighbours.agreements[LITWARE] = litware(company, **kw)
    neighbours.histories[LITWARE] = History(blocks={"prepaid": Decimal(40)})


def test_the_entry_that_takes_the_block_below_the_threshold_raises_one_top_up_crossing(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company)
    assert record(database, company, time_entry("te-1", "20.0")).raised == ()
    assert record(database, company, time_entry("te-2", "15.0")).raised == ()  # exactly 5 h left
    [event] = record(database, company, time_entry("te-3", "0.5")).raised
    assert event.kind is EventKind.THRESHOLD_CROSSED and event.agreement_id == LITWARE
    assert event.source_object_id == f"{LITWARE}/top-up/prepaid@2026-03-01#1"
    assert event.attributes["crossing"] == 1 and event.attributes["rule_id"] == "top-up"
    assert event.attributes["blocks"] == {"prepaid": "4.5"} and event.company_id == company
    for n in range(4, 7):  # further time before the top-up is billed is the same crossing
        assert record(database, company, time_entry(f"te-{n}", "1.0")).raised == ()
    assert neighbours.raised == [event]
    with database.unit_of_work() as session:
        [crossing] = usage.crossings(session, company, LITWARE)
    assert (crossing.rule_id, crossing.period_start, crossing.crossing) == ("top-up", date(2026, 3, 1), 1)
    assert crossing.hours == Decimal("35.5") and crossing.source_object_id == event.source_object_id


def test_the_crossing_drafts_a_top_up_invoice_and_the_next_shortfall_raises_the_second(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company)
    for n, hours in enumerate(("20.0", "15.0", "0.5"), 1):
        record(database, company, time_entry(f"te-{n}", hours))
    [first] = neighbours.raised
    agreement, history = neighbours.agreements[LITWARE], neighbours.histories[LITWARE]
    with database.unit_of_work() as session:
        draft = draft_for_event(first, agreement, agreement.rule_in_effect("top-up", NOW.date()),
                                usage=usage.unbilled(session, company, LITWARE), history=history,
                                today=NOW.date())
        consumed = usage.consume(session, company, draft.consumption, draft.key)
    assert [(ln.kind, ln.amount) for ln in draft.lines] == [(LineKind.BLOCK_PURCHASE, Decimal("5600.00"))]
    assert consumed.recorded == 0  # the hours stay unbilled: the monthly statement draws them
    neighbours.histories[LITWARE] = history.after(draft)  # 80 h bought, 35.5 h not yet drawn
    later = NOW + timedelta(hours=1)
    assert record(database, company, time_entry("te-4", "39.0", changed=later), at=later).raised == ()
    [second] = record(database, company, time_entry("te-5", "1.0", changed=later), at=later).raised
    assert second.attributes["crossing"] == 2 and second.source_object_id.endswith("/prepaid@2026-03-01#2")
    with database.unit_of_work() as session:
        assert [c.crossing for c in usage.crossings(session, company, LITWARE)] == [1, 2]


def test_a_block_without_a_threshold_rule_raises_nothing_and_tops_up_at_the_close(ledger, neighbours):
    database, company = ledger
    setup(neighbours, company, rules=[{"id": "monthly-statement", "when": {"kind": "period_closed"}}])
    assert record(database, company, time_entry("te-1", "39.0")).raised == ()
    assert neighbours.raised == []
