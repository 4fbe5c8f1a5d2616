"""A week of time entries from Toggl and Clockify for Northwind IT's support agreement, with edits and
deletions before and after an invoice consumed them, ends in the hours and adjustments a bookkeeper
computes by hand.

Each delivery takes the real path: signed and POSTed to the company's endpoint in the web app, stored
in the inbox, read by its connector into events by the delivery job, then run by the event job to the
usage ledger's handler.
Agreements, endpoints and project mappings are set through their services, as the CLI does. Drafting
(the posting pipeline's part) is the rules engine called the way posting calls it, with ``unbilled``
and ``consume`` in one transaction.

By hand (Toggl work at the agreement's 160.00, Clockify entries at their own 145.00, each entry
rounded up to 0.25 h, threshold 10 h):
  Mon  Toggl 101 2.00 h;  Clockify 201 3 h 06 min -> 3.25 h
  Tue  Toggl 102 1.50 h, edited to 1.75 h before billing;  Clockify 202 2.50 h, deleted before billing
  Wed  Toggl 103 3.00 h (unbilled time reaches 10.00 h: threshold invoice #1);  Clockify 203 2.00 h
       invoice #1 (Wed evening): 2.00 + 1.75 + 3.00 h x 160 = 1,080.00; 3.25 + 2.00 h x 145 = 761.25;
       total 1,841.25
  Thu  Toggl 104 2.50 h; Clockify 204 1.00 h; Toggl 101 edited 2.00 -> 2.50 h; Clockify 203 deleted
  Fri  Toggl 105 1 h 12 min -> 1.25 h; Clockify 205 1.50 h; Toggl 103 edited 3.00 -> 2.75 h
       month-end invoice: +0.50 h x 160 = 80.00; -0.25 h x 160 = -40.00; -2.00 h x 145 = -290.00;
       new 2.50 + 1.25 h x 160 = 600.00; new 1.00 + 1.50 h x 145 = 362.50; total 712.50
  Week: Toggl 10.75 h = 1,720.00, Clockify 5.75 h = 833.75, together 2,553.75 = 1,841.25 + 712.50.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from addon import usage
from rules import draft_for_event, due_drafts
from tests.integration.usage.agreements import NORTHWIND
from tests.scenarios.time_payloads import clockify, toggl
from tests.scenarios.usage_harness import at


def only(drafts):
    [draft] = drafts
    return draft


def lines(draft) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(line.explanation.source_ids[0].split("@")[0], line.quantity, line.rate, line.amount)
            for line in draft.lines]


def test_a_week_of_time_from_two_tools_bills_what_a_bookkeeper_computes_by_hand(week):
    # Monday and Tuesday, with an edit and a deletion before anything is billed.
    week.deliver("toggl", toggl(101, at(2, 14), 7200, changed=at(2, 16, 5)), at(2, 16, 6))
    week.deliver("clockify", clockify("201", at(2, 13), "PT3H6M", at(2, 16, 6)), at(2, 16, 7))
    week.deliver("toggl", toggl(102, at(3, 14), 5400, changed=at(3, 15, 31)), at(3, 15, 32))
    week.deliver("clockify", clockify("202", at(3, 14), "PT2H30M", at(3, 16, 30)), at(3, 16, 31))
    week.deliver("toggl", toggl(102, at(3, 14), 6300, changed=at(3, 17)), at(3, 17, 1))
    week.deliver("clockify", clockify("202", at(3, 14), "PT2H30M", at(3, 16, 30), deleted=True), at(3, 18))
    assert week.raised() == []
    # Wednesday: the entry that takes unbilled time to 10 hours raises the first crossing, once.
    crossing = week.deliver("toggl", toggl(103, at(4, 13), 10800, changed=at(4, 16, 2)), at(4, 16, 3))
    assert crossing.status == "done" and "raised threshold_crossed" in crossing.reason
    [threshold] = week.raised()
    assert threshold.attributes["crossing"] == 1 and threshold.attributes["hours"] == "10.00"
    week.deliver("clockify", clockify("203", at(4, 17), "PT2H", at(4, 19)), at(4, 19, 1))
    # A redelivery, a late and older Toggl change, and work on a project nobody mapped yet.
    again = week.deliver("toggl", toggl(101, at(2, 14), 7200, changed=at(2, 16, 5), event_id=77), at(4, 19, 2))
    late = week.deliver("toggl", toggl(102, at(3, 14), 5400, changed=at(3, 16)), at(4, 19, 3))
    stray = week.deliver("toggl", toggl(109, at(4, 14), 3600, changed=at(4, 15), project=9999), at(4, 19, 4))
    assert (again.status, again.reason) == ("ignored", "toggl:101 is unchanged since version 1")
    assert late.status == "ignored" and "stale" in late.reason
    assert stray.status == "done" and stray.reason.endswith("needs mapping (no project mapping for its keys)")
    assert len(week.raised()) == 1

    rule = week.agreement.rule_in_effect("ten-hours", date(2026, 3, 4))
    first = week.bill(lambda unbilled: draft_for_event(threshold, week.agreement, rule, usage=unbilled,
                                                      history=week.history, today=date(2026, 3, 4)))
    assert lines(first) == [
        ("clockify:201", Decimal("3.25"), Decimal("145"), Decimal("471.25")),
        ("toggl:101", Decimal("2.00"), Decimal("160.00"), Decimal("320.00")),
        ("toggl:102", Decimal("1.75"), Decimal("160.00"), Decimal("280.00")),
        ("clockify:203", Decimal("2.00"), Decimal("145"), Decimal("290.00")),
        ("toggl:103", Decimal("3.00"), Decimal("160.00"), Decimal("480.00")),
    ]
    assert first.total == Decimal("1841.25")

    # Thursday and Friday: new time, and edits and a deletion of what invoice #1 billed.
    week.deliver("toggl", toggl(104, at(5, 13), 9000, changed=at(5, 15, 31)), at(5, 15, 32))
    week.deliver("clockify", clockify("204", at(5, 14), "PT1H", at(5, 15)), at(5, 15, 1))
    week.deliver("toggl", toggl(101, at(2, 14), 9000, changed=at(5, 17)), at(5, 17, 1))
    week.deliver("clockify", clockify("203", at(4, 17), "PT2H", at(4, 19), deleted=True), at(5, 18))
    week.deliver("toggl", toggl(105, at(6, 13), 4320, changed=at(6, 14, 13)), at(6, 14, 14))
    week.deliver("clockify", clockify("205", at(6, 15), "PT1H30M", at(6, 16, 30)), at(6, 16, 31))
    week.deliver("toggl", toggl(103, at(4, 13), 9900, changed=at(6, 18)), at(6, 18, 1))
    assert len(week.raised()) == 1  # 4.50 h since invoice #1: no second crossing

    with week.container.unit_of_work() as session:
        statuses = {line.source_id: line.status for line in usage.list_usage(session, week.company_id)}
    assert statuses == {"101": "changed after billing", "102": "billed", "103": "changed after billing",
                        "104": "unbilled", "105": "unbilled", "109": "needs mapping", "201": "billed",
                        "202": "deleted", "203": "deleted after billing", "204": "unbilled", "205": "unbilled"}

    week.now = at(31, 23) + timedelta(hours=6)  # 2026-04-01 01:00 in New York: March has closed
    month_end = week.bill(lambda unbilled: only(due_drafts(week.agreement, week.now, since=at(31, 12),
                                                           usage=unbilled, history=week.history)))
    assert lines(month_end) == [
        ("toggl:101", Decimal("0.50"), Decimal("160.00"), Decimal("80.00")),
        ("clockify:203", Decimal("-2.00"), Decimal("145"), Decimal("-290.00")),
        ("toggl:103", Decimal("-0.25"), Decimal("160.00"), Decimal("-40.00")),
        ("clockify:204", Decimal("1.00"), Decimal("145"), Decimal("145.00")),
        ("toggl:104", Decimal("2.50"), Decimal("160.00"), Decimal("400.00")),
        ("clockify:205", Decimal("1.50"), Decimal("145"), Decimal("217.50")),
        ("toggl:105", Decimal("1.25"), Decimal("160.00"), Decimal("200.00")),
    ]
    assert month_end.total == Decimal("712.50")
    adjustments = {line.explanation.source_ids[0]: line.explanation.text() for line in month_end.lines
                   if line.amount < 0 or "changed since billed" in line.explanation.text()}
    assert "toggl:101 changed since billed: 2 h -> 2.5 h" in adjustments["toggl:101@v2"]
    assert "clockify:203 changed since billed: 2 h -> 0 h" in adjustments["clockify:203@v2"]

    # What the week billed, by tool, as the bookkeeper adds it up.
    billed = {"toggl": Decimal(0), "clockify": Decimal(0)}
    hours = {"toggl": Decimal(0), "clockify": Decimal(0)}
    for line in first.lines + month_end.lines:
        tool = line.explanation.source_ids[0].split(":")[0]
        billed[tool] += line.amount
        hours[tool] += line.quantity
    assert hours == {"toggl": Decimal("10.75"), "clockify": Decimal("5.75")}
    assert billed == {"toggl": Decimal("1720.00"), "clockify": Decimal("833.75")}
    assert first.total + month_end.total == Decimal("2553.75")
    with week.container.unit_of_work() as session:
        assert usage.unbilled(session, week.company_id, NORTHWIND) == []
        [waiting] = usage.list_usage(session, week.company_id, needs_mapping=True)
    assert (waiting.source, waiting.source_id, waiting.hours) == ("toggl", "109", Decimal("1.000000"))
