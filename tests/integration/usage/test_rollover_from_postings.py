"""A retainer with rollover over three months, each month's balance read back from the postings stored
for the months before (``addon.postings.history``), as drafting does, not from a history the test keeps.

Northwind IT's retainer (docs/agreements/retainer.json, auto-sent here): 4,000.00 a month in arrears
with 20 h included, overage 150.00/h, unused hours roll over (at most 10 h) for the next two months,
rollover used before the month's own hours, oldest first. By hand:
  January  12 h: inside 20 h; 20 - 12 = 8 h roll over (granted for January, usable Feb and Mar)
           invoice Feb 1: 4,000.00
  February 24 h: 8 h from January's rollover, then 16 h of February's 20; 4 h roll over (until Apr 30)
           invoice Mar 1: 4,000.00
  March    26 h: 4 h from February's rollover, 20 h included, 2 h over x 150.00 = 300.00; nothing rolls over
           invoice Apr 1: 4,000.00 + 300.00 = 4,300.00
  The quarter: 12,300.00 for 62 h, of which 2 h overage.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.scenarios.books import at

AGREEMENT = "agr-northwind-support"
KEY = "project:generic:northwind-retainer"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "agreements"


def retainer(company_id: str) -> dict:
    document = json.loads((DOCS / "retainer.json").read_text())
    document["company_id"] = company_id
    document["rules"][0]["how"] = {"send_mode": "auto_send"}
    return document


def month_of_time(books, month: int, hours: list[str]) -> None:
    for n, amount in enumerate(hours, start=1):
        entry = {"kind": "time_logged", "source_object_id": f"te-{month}-{n}",
                 "occurred_at": f"2026-{month:02d}-{n + 1:02d}T18:00:00Z",
                 "attributes": {"date": f"2026-{month:02d}-{n + 1:02d}", "hours": amount, "person": "Ana",
                                "mapping_keys": [KEY]}}
        [row] = books.deliver("generic", {"id": f"d-{month}-{n}", "events": [entry]}, at(2026, month, n + 1, 18, 1))
        assert row.status == "done", row.reason


def rollover_left(books) -> dict[date, Decimal]:
    return {grant.granted_for: grant.hours for grant in books.history(AGREEMENT).rollover if grant.hours}


def amounts(draft) -> list[tuple[str, Decimal, Decimal]]:
    return [(line.kind.value, line.quantity, line.amount) for line in draft.lines]


def test_rollover_hours_follow_from_the_stored_postings_month_after_month(books):
    books.agreement(retainer(books.company_id))
    books.endpoint("generic")
    books.map_project("generic", KEY, AGREEMENT)
    books.tick(at(2026, 1, 2, 9))  # the schedule starts: nothing is due on Jan 1

    month_of_time(books, 1, ["5", "4", "3"])  # 12 h
    [close] = books.tick(at(2026, 2, 1, 6))
    assert close.status == "done", close.reason
    assert books.drafts()[-1].total == Decimal("4000.00")
    assert rollover_left(books) == {date(2026, 1, 1): Decimal("8.00")}

    month_of_time(books, 2, ["8", "8", "8"])  # 24 h
    [close] = books.tick(at(2026, 3, 1, 6))
    assert close.status == "done", close.reason
    february = books.drafts()[-1]
    assert february.total == Decimal("4000.00")
    assert [(d.granted_for, d.hours) for d in february.consumption.rollover_draws] == [
        (date(2026, 1, 1), Decimal("8"))]
    assert rollover_left(books) == {date(2026, 2, 1): Decimal("4.00")}

    month_of_time(books, 3, ["9", "9", "8"])  # 26 h
    [close] = books.tick(at(2026, 4, 1, 6))
    assert close.status == "done", close.reason
    march = books.drafts()[-1]
    assert march.total == Decimal("4300.00")
    assert ("overage", Decimal("2.00"), Decimal("300.00")) in amounts(march)
    assert [(d.granted_for, d.hours) for d in march.consumption.rollover_draws] == [(date(2026, 2, 1), Decimal("4"))]
    assert rollover_left(books) == {}
    assert sum(d.total for d in books.drafts()) == Decimal("12300.00")
    assert [p.invoice_date for p in books.postings()] == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
