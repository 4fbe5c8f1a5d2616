"""A threshold crossing raised by the usage ledger runs through the real drafting handler: exactly one
posting for the crossing, with the amount a bookkeeper computes, and time recorded after it in the
same period raises nothing.

Northwind IT's support (tests/integration/usage/agreements.py): 145.00 an hour, Ana 160.00, each entry
rounded up to 0.25 h, invoiced whenever unbilled time reaches 10 h. By hand, March 2026:
  Mon Ana 4.00 h, Tue Ben 3.50 h                 -> 7.50 h, under 10 h: nothing raised
  Wed Ana 3.00 h                                 -> 10.50 h: crossing #1 raised
  Wed Ben 1.00 h, before the crossing is drafted -> 11.50 h: no second crossing
  the crossing's invoice bills all unbilled time: Ana 7.00 h x 160.00 = 1,120.00
                                                  Ben 4.50 h x 145.00 =   652.50   total 1,772.50
  Thu Ana 2.00 h, Fri Ben 2.50 h                 -> 4.50 h since the invoice: nothing raised
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from rules import dump_agreement
from tests.integration.usage.agreements import NORTHWIND, northwind
from tests.scenarios.books import at

KEY = "project:generic:northwind-support"


def entry(entry_id: str, person: str, hours: str, day: int) -> dict:
    return {"kind": "time_logged", "source_object_id": entry_id, "occurred_at": f"2026-03-0{day}T17:00:00Z",
            "attributes": {"date": f"2026-03-0{day}", "hours": hours, "person": person, "mapping_keys": [KEY]}}


def log(books, entry_id: str, person: str, hours: str, day: int):
    [row] = books.deliver("generic", {"id": f"d-{entry_id}", "events": [entry(entry_id, person, hours, day)]},
                          at(2026, 3, day, 17, 1))
    assert row.status == "done", row.reason
    return row


def test_a_crossing_drafts_exactly_one_posting_and_time_after_it_raises_nothing(books):
    books.agreement(json_of(northwind(books.company_id)))
    books.endpoint("generic")
    books.map_project("generic", KEY, NORTHWIND)

    log(books, "te-1", "Ana", "4.00", 2)
    log(books, "te-2", "Ben", "3.50", 3)
    assert books.raised("threshold_crossed") == []
    crossing_entry = log(books, "te-3", "Ana", "3.00", 4)
    assert "raised threshold_crossed" in crossing_entry.reason
    [crossing] = books.raised("threshold_crossed")
    assert crossing.source_object_id == f"{NORTHWIND}/ten-hours@2026-03-01#1" and crossing.status == "ready"
    log(books, "te-4", "Ben", "1.00", 4)  # recorded while the crossing waits for the events job
    assert len(books.raised("threshold_crossed")) == 1

    [drafted] = books.run([crossing.id])
    assert (drafted.status, drafted.reason) == ("done", "1 new posting(s)")
    [posting] = books.postings()
    assert posting.total == Decimal("1772.50") and posting.rule_id == "ten-hours"
    [draft] = books.drafts()
    assert [(line.description, line.quantity, line.rate, line.amount) for line in draft.lines] == [
        ("Ana: 7 h at 160.00", Decimal("7.00"), Decimal("160.00"), Decimal("1120.00")),
        ("Ben: 4.5 h at 145.00", Decimal("4.50"), Decimal("145.00"), Decimal("652.50")),
    ]
    assert sorted((u.source_id, u.version) for u in draft.consumption.usage) == [
        ("te-1", 1), ("te-2", 1), ("te-3", 1), ("te-4", 1)]

    log(books, "te-5", "Ana", "2.00", 5)
    log(books, "te-6", "Ben", "2.50", 6)
    assert len(books.raised("threshold_crossed")) == 1
    again = books.run([crossing.id])
    assert again[0].status == "done" and len(books.postings()) == 1
    assert books.history(NORTHWIND).thresholds == {("ten-hours", date(2026, 3, 1)): 1}


def json_of(agreement) -> dict:
    return json.loads(dump_agreement(agreement))
