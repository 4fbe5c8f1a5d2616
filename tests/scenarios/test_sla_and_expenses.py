"""SLA breaches and expenses sent through the generic connector end on Northwind IT's invoices as a
bookkeeper computes them: the monthly fee, hardware passed through at cost plus 15 %, a credit of 5 %
of the fee per breach, and a correction on the next invoice for an expense edited after billing.

Every step is the real one: signed generic deliveries to the front door, the delivery job, the events
job's usage handler into the usage ledger, tick's billing task raising the period close, the events
job's drafting handler making the posting, history folded from stored postings.

By hand (agreement: 2,000.00 a month in arrears; hardware at cost + 15 %; 5 % of 2,000.00 = 100.00
per breach, at most 20 % = 400.00 a month):
  January:  firewall at cost 1,000.00 -> 1,000.00 x 1.15 = 1,150.00
            switch at cost 480.00     ->   480.00 x 1.15 =   552.00
            rack shelf 300.00, withdrawn before billing -> not billed
            breaches P1-4411 and P1-4480 -> 2 x 100.00 = 200.00 credit (under the 400.00 cap)
  invoice 1 (Feb 1): 2,000.00 + 1,150.00 + 552.00 - 200.00 = 3,502.00
  February: the switch's cost corrected 480.00 -> 520.00: 520.00 x 1.15 = 598.00, billed 552.00 -> +46.00
            breach P1-4511 -> 100.00 credit; the firewall redelivered unchanged -> nothing
  invoice 2 (Mar 1): 2,000.00 + 46.00 - 100.00 = 1,946.00
  Together: 4,000.00 fees + 1,150.00 + 598.00 hardware - 300.00 credits = 5,448.00 = 3,502.00 + 1,946.00
"""

from __future__ import annotations

from decimal import Decimal

from tests.scenarios.books import at, lines

AGREEMENT = "agr-northwind-managed"
KEY = "project:generic:northwind-managed"


def managed(company_id: str) -> dict:
    return {
        "id": AGREEMENT, "company_id": company_id, "customer_id": "58", "customer_name": "Northwind IT",
        "currency": "USD", "timezone": "America/New_York", "start": "2026-01-01", "cycle": "monthly",
        "components": [
            {"type": "fixed_fee", "id": "managed", "item": "Managed services", "amount": "2000.00",
             "timing": "arrears"},
            {"type": "pass_through", "id": "hardware", "item": "Hardware", "markup_percent": "15"},
            {"type": "sla_credit", "id": "uptime", "item": "SLA credit", "percent_of_fee": "5", "cap_percent": "20",
             "fee_components": ["managed"]},
        ],
        "rules": [{"id": "monthly", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}}],
    }


def expense(object_id: str, cost: str, description: str, day: str, changed: str, *, deleted: bool = False) -> dict:
    """An expense as a PSA script sends it (docs/connectors/generic.md, usage kinds)."""
    return {"kind": "expense_logged", "source_object_id": object_id, "occurred_at": changed,
            "attributes": {"amount": cost, "currency": "USD", "description": description, "date": day,
                           "deleted": deleted, "mapping_keys": [KEY]}}


def breach(object_id: str, day: str, changed: str) -> dict:
    return {"kind": "sla_breached", "source_object_id": object_id, "occurred_at": changed,
            "attributes": {"date": day, "description": f"{object_id}: P1 response over 1 h", "mapping_keys": [KEY]}}


def send(books, delivery_id: str, when, *events) -> list:
    rows = books.deliver("generic", {"id": delivery_id, "events": list(events)}, when)
    return [(row.status, row.reason) for row in rows]


def test_generic_sla_breaches_and_expenses_end_as_fee_pass_through_credit_and_a_correction(books):
    books.agreement(managed(books.company_id))
    books.endpoint("generic")
    books.map_project("generic", KEY, AGREEMENT)
    assert [row.status for row in books.tick(at(2026, 1, 2, 9))] == ["ignored"]  # Jan 1: nothing is due yet

    send(books, "psa-0108", at(2026, 1, 8, 15, 1),
         expense("psa-exp-1001", "1000.00", "Firewall appliance", "2026-01-08", "2026-01-08T15:00:00Z"))
    send(books, "psa-0114", at(2026, 1, 14, 18, 1), breach("P1-4411", "2026-01-14", "2026-01-14T18:00:00Z"))
    send(books, "psa-0115", at(2026, 1, 15, 10, 1),
         expense("psa-exp-1002", "480.00", "Core switch", "2026-01-15", "2026-01-15T10:00:00Z"),
         expense("psa-exp-1003", "300.00", "Rack shelf", "2026-01-15", "2026-01-15T10:00:00Z"))
    withdrawn = send(books, "psa-0120", at(2026, 1, 20, 9, 1),
                     expense("psa-exp-1003", "300.00", "Rack shelf", "2026-01-15", "2026-01-20T09:00:00Z",
                             deleted=True))
    assert withdrawn == [("done", "usage generic:psa-exp-1003 version 2 deleted: agreement agr-northwind-managed")]
    send(books, "psa-0122", at(2026, 1, 22, 7, 1), breach("P1-4480", "2026-01-22", "2026-01-22T07:00:00Z"))

    # February 1, 01:00 in New York: tick raises January's close and drafting bills it.
    [close] = books.tick(at(2026, 2, 1, 6))
    assert (close.source_object_id, close.status, close.reason) == (f"{AGREEMENT}@2026-02-01", "done",
                                                                     "1 new posting(s)")
    [first] = books.drafts()
    assert lines(first) == [
        ("fee", "Managed services, 2026-01-01 to 2026-01-31", Decimal("2000.00")),
        ("pass_through", "Firewall appliance (2026-01-08)", Decimal("1150.00")),
        ("pass_through", "Core switch (2026-01-15)", Decimal("552.00")),
        ("sla_credit", "SLA credit: 2 breaches (2026-01-01 to 2026-01-31)", Decimal("-200.00")),
    ]
    assert first.total == Decimal("3502.00")
    assert [line.quantity for line in first.lines] == [Decimal(1)] * 4

    # February: the switch's cost is corrected after it was billed, a new breach, a harmless redelivery.
    corrected = send(books, "psa-0210", at(2026, 2, 10, 16, 1),
                     expense("psa-exp-1002", "520.00", "Core switch", "2026-01-15", "2026-02-10T16:00:00Z"))
    assert corrected == [("done", "usage generic:psa-exp-1002 version 2 changed: agreement agr-northwind-managed")]
    again = send(books, "psa-0212", at(2026, 2, 12, 8, 1),
                 expense("psa-exp-1001", "1000.00", "Firewall appliance", "2026-01-08", "2026-01-08T15:00:00Z"))
    assert again == [("ignored", "generic:psa-exp-1001 is unchanged since version 1")]
    send(books, "psa-0220", at(2026, 2, 20, 11, 1), breach("P1-4511", "2026-02-20", "2026-02-20T11:00:00Z"))

    [close] = books.tick(at(2026, 3, 1, 6))
    assert close.status == "done"
    _, second = books.drafts()
    assert lines(second) == [
        ("fee", "Managed services, 2026-02-01 to 2026-02-28", Decimal("2000.00")),
        ("pass_through", "Core switch (2026-01-15): correction", Decimal("46.00")),
        ("sla_credit", "SLA credit: 1 breach (2026-02-01 to 2026-02-28)", Decimal("-100.00")),
    ]
    assert second.total == Decimal("1946.00")
    correction = second.lines[1].explanation.text()
    assert "598.00 now - 552.00 billed before" in correction
    assert first.total + second.total == Decimal("5448.00")
    assert [p.state for p in books.postings()] == ["planned", "planned"]
