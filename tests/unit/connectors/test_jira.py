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


def test_an_edited_worklog_is_a_new_version_of_the_same_time_entry_at_its_change_time():
    body = fixture("worklog_updated.json")
    [event] = jira.events(body, signed(body))
    assert event.kind is EventKind.TIME_LOGGED
    assert event.source_object_id == "klienti.atlassian.net/worklog/10146"
    assert event.occurred_at == datetime(2021, 8, 11, 18, 10, 39, 609000, tzinfo=UTC)  # worklog.updated, not started
    assert (event.attributes["hours"], event.attributes["seconds"]) == ("0.500000", 1800)
    assert event.attributes["deleted"] is False
    created = jira.events(fixture("worklog_created.json"), {})[0]
    assert created.occurred_at < event.occurred_at  # so the usage ledger takes the edit as the newer version


# --- Custom fields as expenses and SLA breaches

FIELDS = {
    "expense_fields": [{"field": "customfield_10050", "name": "Hardware cost", "currency": "usd",
                        "quantity_field": "customfield_10051", "description_field": "customfield_10052",
                        "task": "hardware"}],
    "sla_breach_fields": [{"field": "customfield_10060", "name": "SLA", "values": ["Breached"]}],
}
ISSUE = "klienti.atlassian.net/issue/10509"
KEYS = ["project:jira:10031", "project:jira:TALK", "site:jira:klienti.atlassian.net"]


def edited(name: str, change=None, **fields) -> bytes:
    data = json.loads(fixture(name))
    data["issue"]["fields"].update(fields)
    if change is not None:
        data["changelog"]["items"] = change
    return json.dumps(data).encode()


def test_a_hardware_cost_entered_on_an_issue_is_an_expense_at_cost_with_its_quantity_and_description():
    body = fixture("issue_updated_hardware_cost.json")
    [event] = jira.events(body, signed(body), settings=FIELDS)
    assert event.kind is EventKind.EXPENSE_LOGGED
    assert event.source_object_id == f"{ISSUE}/customfield_10050"
    assert event.occurred_at == datetime(2021, 8, 12, 11, 5, 9, 112000, tzinfo=UTC)  # issue.fields.updated
    assert event.attributes["mapping_keys"] == KEYS
    assert event.source_event_id == "d6d3a0a4-4b5f-4c39-9e1b-7f0f3a1c2b11"
    record = usage_from_event(event, version=1)
    assert record.kind is UsageKind.EXPENSE
    assert (record.amount, record.rate, record.quantity) == (Decimal("1250.0"), None, Decimal("2.0"))
    assert (record.currency, record.task, record.date) == ("USD", "hardware", date(2021, 8, 12))
    assert record.description == "Cisco Meraki MX68 firewall"
    assert record.person == "Veniamin Smorodinsky" and record.project == "MyTalking"
    assert record.deleted is False


def test_a_list_price_field_is_the_price_of_one_unit_and_a_missing_description_names_the_issue():
    body = fixture("issue_updated_hardware_cost.json")
    settings = {"expense_fields": [{"field": "customfield_10050", "name": "Licence price", "price": "list",
                                    "quantity_field": "customfield_10051"}]}
    record = usage_from_event(jira.events(body, signed(body), settings=settings)[0], version=1)
    assert (record.amount, record.rate, record.quantity) == (None, Decimal("1250.0"), Decimal("2.0"))
    assert record.description == "TALK-132 Разлогин на странице чатов (Licence price)"


def test_an_emptied_amount_field_deletes_the_expense_but_an_issue_that_never_had_one_raises_nothing():
    cleared = [{"field": "Hardware cost", "fieldtype": "custom", "fieldId": "customfield_10050", "from": None,
                "fromString": "1250", "to": None, "toString": None}]
    body = edited("issue_updated_hardware_cost.json", cleared, customfield_10050=None)
    [event] = jira.events(body, signed(body), settings=FIELDS)
    assert event.source_object_id == f"{ISSUE}/customfield_10050"
    assert event.attributes["deleted"] is True and usage_from_event(event, version=2).deleted is True
    units_only = [{"field": "Units", "fieldtype": "custom", "fieldId": "customfield_10051", "from": None,
                   "fromString": None, "to": None, "toString": "3"}]
    body = edited("issue_updated_hardware_cost.json", units_only, customfield_10050=None, customfield_10051=3)
    assert jira.events(body, signed(body), settings=FIELDS) == []


def test_a_change_of_the_quantity_alone_is_a_new_version_of_the_same_expense():
    units = [{"field": "Units", "fieldtype": "custom", "fieldId": "customfield_10051", "from": None,
              "fromString": "2", "to": None, "toString": "3"}]
    body = edited("issue_updated_hardware_cost.json", units, customfield_10051=3)
    [event] = jira.events(body, signed(body), settings=FIELDS)
    assert event.source_object_id == f"{ISSUE}/customfield_10050"
    assert usage_from_event(event, version=2).quantity == Decimal(3)


def test_a_changelog_item_without_a_field_id_is_matched_by_the_fields_name():
    by_name = [{"field": "hardware cost", "fieldtype": "custom", "from": None, "fromString": None, "to": None,
                "toString": "1250"}]
    body = edited("issue_updated_hardware_cost.json", by_name)
    assert [e.kind for e in jira.events(body, signed(body), settings=FIELDS)] == [EventKind.EXPENSE_LOGGED]


def test_an_edit_of_other_fields_is_ignored_with_the_fields_it_watched():
    body = fixture("issue_updated_description_of_done_issue.json")
    assert jira.events(body, signed(body), settings=FIELDS) == []
    reason = jira.ignored_reason(body, signed(body), settings=FIELDS)
    assert "TALK-132 changed (description) without a status change" in reason
    assert "none of the configured custom fields (Hardware cost, SLA) changed" in reason


def test_an_amount_that_is_not_a_number_bills_nothing_and_says_so():
    body = edited("issue_updated_hardware_cost.json", customfield_10050="about a thousand")
    assert jira.events(body, signed(body), settings=FIELDS) == []
    assert "Hardware cost is not a number: 'about a thousand'" in jira.ignored_reason(body, signed(body), settings=FIELDS)


def test_an_sla_field_set_to_breached_is_one_breach_and_set_back_it_is_withdrawn():
    body = fixture("issue_updated_sla_breached.json")
    [event] = jira.events(body, signed(body), settings=FIELDS)
    assert event.kind is EventKind.SLA_BREACHED
    assert event.source_object_id == f"{ISSUE}/customfield_10060"
    assert event.occurred_at == datetime(2021, 8, 12, 12, 40, 0, 250000, tzinfo=UTC)
    record = usage_from_event(event, version=1)
    assert (record.kind, record.quantity, record.deleted) == (UsageKind.SLA_BREACH, Decimal(1), False)
    met = {"self": "https://klienti.atlassian.net/rest/api/2/customFieldOption/10022", "value": "Met", "id": "10022"}
    back = [{"field": "SLA", "fieldtype": "custom", "fieldId": "customfield_10060", "from": "10021",
             "fromString": "Breached", "to": "10022", "toString": "Met"}]
    [withdrawn] = jira.events(edited("issue_updated_sla_breached.json", back, customfield_10060=met), {},
                              settings=FIELDS)
    assert withdrawn.source_object_id == event.source_object_id and withdrawn.attributes["deleted"] is True
    other = [{**back[0], "from": "10022", "fromString": "Met", "to": "10023", "toString": "Pending"}]
    pending = {**met, "value": "Pending", "id": "10023"}
    assert jira.events(edited("issue_updated_sla_breached.json", other, customfield_10060=pending), {},
                       settings=FIELDS) == []


def test_a_breach_counter_field_counts_its_number_of_breaches():
    counter = {"sla_breach_fields": [{"field": "customfield_10061", "name": "Breaches"}]}
    change = [{"field": "Breaches", "fieldtype": "custom", "fieldId": "customfield_10061", "from": None,
               "fromString": None, "to": None, "toString": "3"}]
    [event] = jira.events(edited("issue_updated_sla_breached.json", change, customfield_10061=3.0), {},
                          settings=counter)
    assert usage_from_event(event, version=1).quantity == Decimal("3.0")


def test_an_issue_created_with_a_cost_is_an_expense_and_one_created_without_is_ignored():
    body = fixture("issue_created_with_hardware_cost.json")
    [event] = jira.events(body, signed(body), settings=FIELDS)
    assert event.kind is EventKind.EXPENSE_LOGGED and event.source_object_id == f"{ISSUE}/customfield_10050"
    assert jira.events(body, signed(body)) == []  # nothing configured: creation is not work done
    empty = edited("issue_created_with_hardware_cost.json", customfield_10050=None)
    assert jira.events(empty, {}, settings=FIELDS) == []
    assert "none of the configured custom fields (Hardware cost, SLA) holds a value" in \
        jira.ignored_reason(empty, {}, settings=FIELDS)


def test_a_deleted_issue_deletes_the_expense_its_field_held_at_the_time_of_deletion():
    body = fixture("issue_deleted_with_hardware_cost.json")
    [event] = jira.events(body, signed(body), settings=FIELDS)
    assert event.source_object_id == f"{ISSUE}/customfield_10050" and event.attributes["deleted"] is True
    assert event.occurred_at == datetime(2021, 8, 13, 11, 5, 9, 112000, tzinfo=UTC)  # the delivery's timestamp


def test_a_move_to_done_that_also_sets_a_cost_is_a_milestone_and_an_expense():
    data = json.loads(fixture("issue_updated_done.json"))
    data["issue"]["fields"]["customfield_10050"] = 300
    data["changelog"]["items"].append({"field": "Hardware cost", "fieldtype": "custom", "fieldId": "customfield_10050",
                                       "from": None, "fromString": None, "to": None, "toString": "300"})
    body = json.dumps(data).encode()
    kinds = [e.kind for e in jira.events(body, signed(body), settings=FIELDS)]
    assert kinds == [EventKind.MILESTONE_COMPLETED, EventKind.EXPENSE_LOGGED]


def test_custom_field_settings_are_checked_when_configured_and_a_bad_stored_one_keeps_the_delivery():
    from connectors.custom_fields import CustomFieldSettingsError

    jira.check_settings(FIELDS)
    with pytest.raises(CustomFieldSettingsError, match=r"expense_fields\[0\].price must be \"cost\" or \"list\""):
        jira.check_settings({"expense_fields": [{"field": "customfield_10050", "price": "retail"}]})
    with pytest.raises(CustomFieldSettingsError, match="unknown key"):
        jira.check_settings({"sla_breach_fields": [{"field": "customfield_10060", "value": "Breached"}]})
    body = fixture("issue_updated_hardware_cost.json")
    with pytest.raises(PayloadError, match="endpoint setting: expense_fields"):
        jira.events(body, signed(body), settings={"expense_fields": "customfield_10050"})


def test_a_signed_custom_field_delivery_verifies_and_a_changed_amount_is_refused():
    body = fixture("issue_updated_hardware_cost.json")
    jira.verify(body, signed(body), SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        jira.verify(body.replace(b"1250.0", b"12500.0"), signed(body), SECRET)
