"""Drafting routes events through mappings: milestone events from the work tools reach their agreement by
project mapping (most specific key first) or milestone mapping (whose detail names the milestone), an
agreement's own match lists pick the milestone, and a milestone event no agreement bills waits for a
mapping and is woken when one is set. On both databases, with real Redis."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import connectors
from addon.errors import InvalidInput
from addon.models.events import EventRecord
from rules import Event, EventKind, SourceCustomer
from tests.integration.connection.test_cli import run as cli
from tests.integration.intake.conftest import queued
from tests.integration.intake.helpers import store_events
from tests.integration.postings.conftest import from_delivery, import_agreement, postings, run

D = Decimal
FIXTURES = Path(__file__).parents[2] / "fixtures"
VERSION = "putit.atlassian.net/version/10000"  # tests/fixtures/jira/version_released.json


def jira_version_released() -> Event:
    """Jira's own "version released" payload, read by the Jira connector (project 10002 on putit)."""
    raw = (FIXTURES / "jira" / "version_released.json").read_bytes()
    [event] = connectors.get("jira").events(raw, {"X-Atlassian-Webhook-Identifier": "wh-1"})
    assert event.attributes["mapping_keys"] == ["project:jira:10002", "site:jira:putit.atlassian.net"]
    return event


def site_build(company_id, agreement_id="agr-putit-site", customer_id="58", match_design=()):
    return {"id": agreement_id, "company_id": company_id, "customer_id": customer_id, "customer_name": "Putit Ltd",
            "start": "2017-01-01", "timezone": "UTC",
            "components": [{"type": "milestones", "id": "site", "item": "Projects", "milestones": [
                {"id": "design", "name": "Design sign-off", "amount": "2000.00", "match": list(match_design)},
                {"id": "launch", "name": "Launch", "amount": "5000.00"}]}],
            "rules": [{"id": "on-milestone", "when": {"kind": "milestone_completed"},
                       "how": {"send_mode": "auto_send"}}]}


def _row(container, event_id) -> EventRecord:
    with container.unit_of_work() as session:
        return session.get(EventRecord, event_id)


def _map(container, company_id, kind, key, target, detail=None, source="jira"):
    container.mappings.set(company_id, kind, source, key, target, detail=detail, actor="user:us_ann")


def test_a_jira_milestone_reaches_its_agreement_through_the_project_mapping_and_its_match_list(container, company_id):
    import_agreement(container, company_id, site_build(company_id, match_design=[f"jira:{VERSION}"]))
    _map(container, company_id, "project", "project:jira:10002", "agr-putit-site")
    [event_id] = store_events(container, company_id, [jira_version_released()])
    row = run(container, event_id)
    assert row.status == "done", row.reason
    [posting] = postings(container, company_id)
    assert (posting.agreement_id, posting.customer_id, posting.total) == ("agr-putit-site", "58", D("2000.00"))
    assert "milestone:site:design" in posting.key_text
    assert "by its match list" in posting.draft


def test_the_most_specific_mapped_key_decides_the_agreement(container, company_id):
    import_agreement(container, company_id, site_build(company_id, match_design=[VERSION]))
    import_agreement(container, company_id, site_build(company_id, "agr-putit-retainer", customer_id="61",
                                                       match_design=[VERSION]))
    _map(container, company_id, "project", "site:jira:putit.atlassian.net", "agr-putit-retainer")
    _map(container, company_id, "project", "project:jira:10002", "agr-putit-site")
    [event_id] = store_events(container, company_id, [jira_version_released()])
    assert run(container, event_id).status == "done"
    assert [p.agreement_id for p in postings(container, company_id)] == ["agr-putit-site"]


def test_a_milestone_mapping_bills_the_milestone_its_detail_names_keyed_by_that_milestone(container, company_id):
    # The agreement's match list says the version completes "design"; the person's mapping says "launch".
    import_agreement(container, company_id, site_build(company_id, match_design=[VERSION]))
    _map(container, company_id, "milestone", VERSION, "agr-putit-site", detail="launch")
    [first] = store_events(container, company_id, [jira_version_released()])
    assert run(container, first).status == "done"
    [posting] = postings(container, company_id)
    assert posting.total == D("5000.00") and "milestone:site:launch" in posting.key_text
    assert "by a milestone mapping" in posting.draft
    # Another object mapped to the same milestone bills nothing more: the key is the milestone's.
    other = Event(EventKind.MILESTONE_COMPLETED, "github", "putit/site#milestone-3", jira_version_released().occurred_at)
    _map(container, company_id, "milestone", "putit/site#milestone-3", "agr-putit-site", detail="launch",
         source="github")
    [second] = store_events(container, company_id, [other])
    row = run(container, second)
    assert row.status == "done" and "1 already there" in row.reason
    assert len(postings(container, company_id)) == 1


def test_a_milestone_mapping_must_name_a_milestone_of_its_agreement(container, company_id):
    import_agreement(container, company_id, site_build(company_id))
    with pytest.raises(InvalidInput, match="agreement 'agr-putit-site' has no milestone 'go-live' "
                                           r"\(its milestones: design, launch\)"):
        _map(container, company_id, "milestone", VERSION, "agr-putit-site", detail="go-live")
    with pytest.raises(InvalidInput, match="needs the agreement's milestone id"):
        _map(container, company_id, "milestone", VERSION, "agr-putit-site")


def test_a_customer_mapped_milestone_event_is_billed_by_the_customers_agreement_match_list(container, company_id):
    import_agreement(container, company_id, site_build(company_id, match_design=[f"generic:{VERSION}"]))
    done = Event(EventKind.MILESTONE_COMPLETED, "generic", VERSION, jira_version_released().occurred_at,
                 source_customer=SourceCustomer("cust-7", "Putit Ltd"))
    row = run(container, from_delivery(container, company_id, done, customer_id="58"))
    assert row.status == "done", row.reason
    assert [p.total for p in postings(container, company_id)] == [D("2000.00")]


def test_an_unmapped_milestone_event_waits_naming_its_keys_and_a_project_mapping_wakes_it(
        container, company_id, capsys):
    import_agreement(container, company_id, site_build(company_id, match_design=[VERSION]))
    [event_id] = store_events(container, company_id, [jira_version_released()])
    row = run(container, event_id)
    assert (row.status, row.next_attempt_at) == ("waiting_mapping", None)
    for words in ("no agreement bills jira:putit.atlassian.net/version/10000", "project:jira:10002",
                  "site:jira:putit.atlassian.net", f"--kind milestone --key {VERSION}", f"--company {company_id}"):
        assert words in row.reason
    assert postings(container, company_id) == []
    code, out, _ = cli(capsys, "events", "list", "--company", company_id, "--status", "waiting_mapping")
    assert code == 0 and event_id in out and "project:jira:10002" in out
    assert "event.waiting" in [r.action for r in container.audit.records(company_id)]
    container.redis.flushall()
    code, out, err = cli(capsys, "mappings", "set", "--company", company_id, "--kind", "project", "--source", "jira",
                         "--key", "site:jira:putit.atlassian.net", "--target", "agr-putit-site", "--as", "ann")
    assert code == 0, err
    assert queued(container) == [("addon.eventflow.process_event", (event_id,))]
    assert run(container, event_id).status == "done"
    assert [p.total for p in postings(container, company_id)] == [D("2000.00")]


def test_a_milestone_mapping_wakes_the_waiting_event_and_unrelated_mappings_do_not(container, company_id):
    import_agreement(container, company_id, site_build(company_id))
    [event_id] = store_events(container, company_id, [jira_version_released()])
    assert run(container, event_id).status == "waiting_mapping"
    container.redis.flushall()
    _map(container, company_id, "project", "project:jira:99999", "agr-putit-site")
    _map(container, company_id, "milestone", "putit.atlassian.net/version/20000", "agr-putit-site", detail="design")
    assert queued(container) == []
    _map(container, company_id, "milestone", VERSION, "agr-putit-site", detail="design")
    assert queued(container) == [("addon.eventflow.process_event", (event_id,))]
    assert run(container, event_id).status == "done"
    assert [p.total for p in postings(container, company_id)] == [D("2000.00")]


def test_a_milestone_event_of_a_customer_without_agreement_waits_and_a_new_customer_mapping_moves_it(
        container, company_id):
    import_agreement(container, company_id, site_build(company_id, customer_id="61", match_design=[VERSION]))
    done = Event(EventKind.MILESTONE_COMPLETED, "generic", VERSION, jira_version_released().occurred_at,
                 source_customer=SourceCustomer("cust-7", "Putit Ltd"))
    event_id = from_delivery(container, company_id, done, customer_id="58")
    row = run(container, event_id)
    assert row.status == "waiting_mapping" and "give QuickBooks customer 58 an agreement" in row.reason
    _map(container, company_id, "customer", "cust-7", "61", source="generic")
    assert _row(container, event_id).qbo_customer_id == "61"
    assert run(container, event_id).status == "done"
    assert [p.customer_id for p in postings(container, company_id)] == ["61"]


def test_an_issue_of_a_mapped_project_that_completes_no_milestone_is_ignored_with_how_to_map_it(
        container, company_id):
    import_agreement(container, company_id, site_build(company_id, match_design=["jira:elsewhere/version/1"]))
    _map(container, company_id, "project", "project:jira:10002", "agr-putit-site")
    [event_id] = store_events(container, company_id, [jira_version_released()])
    row = run(container, event_id)
    assert row.status == "ignored"
    assert f"no milestone of it is completed by jira:{VERSION}" in row.reason and "--kind milestone" in row.reason


def test_a_sender_cannot_choose_the_milestone_through_its_attributes(container, company_id):
    import_agreement(container, company_id, site_build(company_id, match_design=[VERSION]))
    _map(container, company_id, "project", "project:jira:10002", "agr-putit-site")
    sent = jira_version_released()
    forged = Event(sent.kind, "jira", sent.source_object_id, sent.occurred_at,
                   attributes={**sent.attributes, "mapped_milestone": "launch"})
    [event_id] = store_events(container, company_id, [forged])
    assert run(container, event_id).status == "done"
    assert [p.total for p in postings(container, company_id)] == [D("2000.00")]  # design, by the match list
