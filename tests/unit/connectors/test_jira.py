import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import connectors
from connectors import jira
from connectors.errors import PayloadError, VerificationError
from rules import EventKind, UsageKind, usage_from_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jira"
SECRET = "northwind-jira-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, *, secret: str = SECRET, identifier="d6d3a0a4-4b5f-4c39-9e1b-7f0f3a1c2b11"):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": identifier,
            "X-Atlassian-Webhook-Retry": "0"}


def test_jira_is_found_through_the_registry():
    assert connectors.get("jira") is jira


def test_a_signed_delivery_verifies_and_tampering_is_refused():
    body = fixture("issue_updated_done.json")
    headers = signed(body)
    jira.verify(body, headers, SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        jira.verify(body.replace(b"Done", b"D0ne", 1), headers, SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        jira.verify(body, headers, "wrong secret")
    with pytest.raises(VerificationError, match="missing X-Hub-Signature"):
        jira.verify(body, {"X-Atlassian-Webhook-Identifier": "x"}, SECRET)


def test_an_issue_moved_to_a_done_category_status_is_a_completed_milestone():
    body = fixture("issue_updated_done.json")
    [event] = jira.events(body, signed(body))
    assert event.kind is EventKind.MILESTONE_COMPLETED
    assert event.source_object_id == "multiverseinc.atlassian.net/issue/12296"
    assert event.attributes["issue_key"] == "SD-2139"
    assert event.attributes["status"] == "Done"
    assert event.occurred_at == datetime(2017, 11, 16, 11, 55, 45, 831000, tzinfo=UTC)
    assert event.attributes["mapping_keys"] == ["project:jira:10001", "project:jira:SD",
                                                "site:jira:multiverseinc.atlassian.net"]
    assert event.source_event_id == "d6d3a0a4-4b5f-4c39-9e1b-7f0f3a1c2b11"


def test_an_issue_moving_to_in_progress_is_ignored_with_a_reason():
    body = fixture("issue_updated_in_progress.json")
    assert jira.events(body, signed(body)) == []
    assert "status category indeterminate" in jira.ignored_reason(body, signed(body))


def test_an_edit_of_an_issue_already_done_is_not_completion_again():
    body = fixture("issue_updated_description_of_done_issue.json")
    assert jira.events(body, signed(body)) == []
    reason = jira.ignored_reason(body, signed(body))
    assert "TALK-132 changed (description) without a status change" in reason


def test_a_comment_on_a_done_issue_is_ignored():
    body = fixture("comment_created_on_done_issue.json")
    assert jira.events(body, signed(body)) == []
    assert jira.ignored_reason(body, signed(body)).startswith("comment_created")


def test_an_endpoint_can_name_the_statuses_that_count_as_done():
    body = fixture("issue_updated_done.json")
    assert jira.events(body, signed(body), settings={"done_statuses": ["Shipped"]}) == []
    assert "done_statuses" in jira.ignored_reason(body, signed(body), settings={"done_statuses": ["Shipped"]})
    assert len(jira.events(body, signed(body), settings={"done_statuses": ["done"]})) == 1
    assert len(jira.events(body, signed(body), settings={"done_statuses": ["10001"]})) == 1


def test_a_released_version_is_a_completed_milestone_of_its_project():
    body = fixture("version_released.json")
    [event] = jira.events(body, signed(body))
    assert event.source_object_id == "putit.atlassian.net/version/10000"
    assert event.attributes["title"] == "1.0"
    assert event.attributes["mapping_keys"] == ["project:jira:10002", "site:jira:putit.atlassian.net"]
    assert event.occurred_at == datetime(2020, 9, 8, 22, 32, 50, 956000, tzinfo=UTC)


def test_a_worklog_is_time_logged_that_becomes_a_usage_record():
    body = fixture("worklog_created.json")
    [event] = jira.events(body, signed(body))
    assert event.kind is EventKind.TIME_LOGGED
    assert event.source_object_id == "klienti.atlassian.net/worklog/10146"
    assert event.occurred_at == datetime(2021, 8, 11, 17, 10, 39, 609000, tzinfo=UTC)
    assert event.attributes["hours"] == "0.016667"
    assert event.attributes["mapping_keys"] == ["issue:jira:10531", "site:jira:klienti.atlassian.net"]
    record = usage_from_event(event, version=1)
    assert record.kind is UsageKind.TIME
    assert record.date == date(2021, 8, 11)
    assert record.hours == Decimal("0.016667")
    assert record.person == "Veniamin Smorodinsky"
    assert record.deleted is False


def test_a_worklog_date_is_its_authors_local_day_unless_the_endpoint_names_a_time_zone():
    data = json.loads(fixture("worklog_created.json"))
    data["worklog"]["started"] = "2021-08-11T01:30:00.000+0300"
    body = json.dumps(data).encode()
    assert jira.events(body, signed(body))[0].attributes["date"] == "2021-08-11"
    assert jira.events(body, signed(body), settings={"time_zone": "UTC"})[0].attributes["date"] == "2021-08-10"


def test_a_deleted_worklog_is_a_deletion_of_the_same_entry():
    body = fixture("worklog_deleted.json")
    [event] = jira.events(body, signed(body))
    assert event.source_object_id == "klienti.atlassian.net/worklog/10146"
    assert event.attributes["deleted"] is True
    assert usage_from_event(event, version=2).deleted is True


def test_the_webhook_identifier_is_the_dedupe_key():
    body = fixture("worklog_created.json")
    assert jira.delivery_key(body, signed(body, identifier="abc")) == "abc"
    assert jira.delivery_key(body, {}).startswith("body:")


@pytest.mark.parametrize("body", [b"", b"null", b'{"webhookEvent": "jira:issue_updated"}',
                                  b'{"webhookEvent": "worklog_created", "worklog": {"id": "1"}}',
                                  b'{"webhookEvent": "worklog_created", "worklog": {"id": "1", "issueId": "2",'
                                  b' "started": "yesterday", "timeSpentSeconds": 60}}',
                                  b'{"webhookEvent": "jira:version_released", "version": []}'])
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        jira.events(body, signed(body))
