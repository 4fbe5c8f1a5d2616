"""The usage ledger wired into intake: the events job hands usage events to its handler, and setting a
project mapping maps the usage that waited for it and checks the thresholds, in that same transaction."""

from __future__ import annotations

from addon import eventflow, usage
from addon.usage.records import USAGE_KINDS
from addon.usage.service import handle_usage_event
from tests.integration.usage.agreements import NORTHWIND
from tests.scenarios.time_payloads import toggl
from tests.scenarios.usage_harness import at


def test_usage_events_have_the_usage_ledger_as_their_handler(week):
    assert all(eventflow.handler_for(kind) is handle_usage_event for kind in USAGE_KINDS)


def test_time_on_an_unmapped_project_waits_then_a_project_mapping_bills_it_and_checks_the_threshold(week):
    for n, day in enumerate((2, 3, 4)):
        row = week.deliver("toggl", toggl(300 + n, at(day, 14), 4 * 3600, changed=at(day, 18), project=555),
                           at(day, 18, 1))
        assert row.status == "done" and "needs mapping" in row.reason and row.agreement_id is None
    with week.container.unit_of_work() as session:
        assert [line.status for line in usage.list_usage(session, week.company_id, needs_mapping=True)] == \
            ["needs mapping"] * 3
    assert week.raised() == []
    week.container.mappings.set(week.company_id, "project", "toggl", "project:toggl:555", NORTHWIND, actor="cli")
    with week.container.unit_of_work() as session:
        assert usage.list_usage(session, week.company_id, needs_mapping=True) == []
        assert len(usage.unbilled(session, week.company_id, NORTHWIND)) == 3
    [crossing] = week.raised()
    assert crossing.agreement_id == NORTHWIND and crossing.attributes["hours"] == "12.00"
