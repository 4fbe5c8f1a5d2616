import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import connectors
from connectors import clickup
from connectors.errors import PayloadError, VerificationError
from rules import EventKind, usage_from_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "clickup"
SECRET = "8GBQEY9BXZ0TK3C5Z2KRWVPN0FE3J6Y4"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, *, secret: str = SECRET):
    return {"X-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def test_clickup_is_found_through_the_registry():
    assert connectors.get("clickup") is clickup


def test_a_signed_delivery_verifies_and_tampered_or_unsigned_ones_are_refused():
    body = fixture("task_status_updated_closed.json")
    clickup.verify(body, signed(body), SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        clickup.verify(body.replace(b"closed", b"open"), signed(body), SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        clickup.verify(body, signed(body, secret="other"), SECRET)
    with pytest.raises(VerificationError, match="missing X-Signature"):
        clickup.verify(body, {}, SECRET)


def test_a_status_change_to_a_closed_type_status_is_a_completed_milestone():
    body = fixture("task_status_updated_closed.json")
    [event] = clickup.events(body, signed(body))
    assert event.kind is EventKind.MILESTONE_COMPLETED
    assert event.source_object_id == "task/1vj38vv"
    assert event.occurred_at == datetime(2022, 1, 21, 3, 38, 40, 112000, tzinfo=UTC)
    assert event.attributes["status"] == "complete"
    assert event.attributes["mapping_keys"] == ["task:clickup:1vj38vv", "list:clickup:162641062"]


def test_a_status_change_inside_task_updated_is_understood_too():
    body = fixture("task_updated_with_closing_status.json")
    [event] = clickup.events(body, signed(body))
    assert event.source_object_id == "task/1vj38vv"


def test_a_move_to_in_progress_is_ignored_with_a_reason():
    body = fixture("task_status_updated_in_progress.json")
    assert clickup.events(body, signed(body)) == []
    assert "moved to 'in progress' (type custom)" in clickup.ignored_reason(body, signed(body))


def test_a_created_task_is_ignored_with_a_reason():
    body = fixture("task_created.json")
    assert clickup.events(body, signed(body)) == []
    assert clickup.ignored_reason(body, signed(body)).startswith("taskCreated")


def test_a_description_change_is_ignored_with_a_reason():
    body = fixture("task_updated_content.json")
    assert "changed (content) without a status change" in clickup.ignored_reason(body, signed(body))


def test_done_type_statuses_count_only_when_the_endpoint_says_so():
    data = json.loads(fixture("task_status_updated_closed.json"))
    data["history_items"][0]["after"]["type"] = "done"
    body = json.dumps(data).encode()
    assert clickup.events(body, signed(body)) == []
    assert len(clickup.events(body, signed(body), settings={"completed_status_types": ["done", "closed"]})) == 1


def test_tracked_time_is_time_logged_that_becomes_a_usage_record():
    body = fixture("task_time_tracked_updated.json")
    [event] = clickup.events(body, signed(body))
    assert event.kind is EventKind.TIME_LOGGED
    assert event.source_object_id == "time/2800809188061119507"
    assert event.attributes["hours"] == "0.250000"
    assert event.attributes["mapping_keys"] == ["task:clickup:1vj38vv", "list:clickup:162641285"]
    record = usage_from_event(event, version=1)
    assert record.hours == Decimal("0.25")
    assert record.date == date(2022, 1, 21)
    assert record.person == "John"


def test_deleted_tracked_time_is_a_deletion_of_the_same_interval():
    body = fixture("task_time_tracked_deleted.json")
    [event] = clickup.events(body, signed(body))
    assert event.source_object_id == "time/2800809188061119507"
    assert event.attributes["deleted"] is True


def test_a_running_timer_is_ignored_with_a_reason():
    data = json.loads(fixture("task_time_tracked_updated.json"))
    del data["history_items"][0]["after"]["end"]
    body = json.dumps(data).encode()
    assert clickup.events(body, signed(body)) == []
    assert "running timer" in clickup.ignored_reason(body, signed(body))


def test_history_item_ids_are_the_dedupe_key():
    body = fixture("task_status_updated_closed.json")
    assert clickup.delivery_key(body, {}) == "7fa3ec74-69a8-4530-a251-8a13730bd204/2800791474613520399"
    both = fixture("task_updated_with_closing_status.json")
    assert clickup.delivery_key(both, {}).startswith("7fa3ec74-69a8-4530-a251-8a13730bd204/")
    assert clickup.delivery_key(both, {}) != clickup.delivery_key(body, {})
    assert clickup.delivery_key(b'{"event": "taskDeleted", "task_id": "x"}', {}).startswith("body:")


@pytest.mark.parametrize("body", [b"", b'"x"', b'{"event": "taskStatusUpdated", "history_items": [1]}',
                                  b'{"event": "taskStatusUpdated", "history_items": [{"field": "status",'
                                  b' "after": {"type": "closed"}}], "task_id": "t"}',
                                  b'{"event": "taskTimeTrackedUpdated", "task_id": "t", "history_items":'
                                  b' [{"field": "time_spent", "after": {"id": "1", "end": "5", "start": "x",'
                                  b' "time": "10"}}]}'])
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        clickup.events(body, signed(body))


@pytest.mark.parametrize("body", [b'{"history_items": true, "webhook_id": "w"}', b'{"history_items": [1, null]}',
                                  b"\xff", b"[]"])
def test_the_dedupe_key_of_any_body_is_a_string_never_an_error(body):
    assert clickup_key_of(body).startswith("body:")


def clickup_key_of(body: bytes) -> str:
    return clickup.delivery_key(body, {})


# --- Custom fields as expenses and SLA breaches

HARDWARE = "b3c1d2e4-7a6f-4e0b-9c1d-2f3e4a5b6c7d"
DROPDOWN = "862a38bb-eaba-4b9b-a4b5-c09d2a8c082f"
FIELDS = {"expense_fields": [{"field": HARDWARE, "name": "Hardware cost", "currency": "USD", "task": "hardware"}],
          "sla_breach_fields": [{"field": DROPDOWN, "name": "SLA", "values": ["Monthly"]}]}


def test_a_number_custom_field_set_on_a_task_is_an_expense_at_cost():
    body = fixture("task_updated_custom_field_hardware_cost.json")
    [event] = clickup.events(body, signed(body), settings=FIELDS)
    assert event.kind is EventKind.EXPENSE_LOGGED
    assert event.source_object_id == f"task/1vj37mc/{HARDWARE}"
    assert event.occurred_at == datetime(2022, 1, 21, 3, 20, 15, tzinfo=UTC)  # the history item's date
    assert event.source_event_id == "2800771175285297001"
    assert event.attributes["mapping_keys"] == ["task:clickup:1vj37mc", "list:clickup:162641062"]
    record = usage_from_event(event, version=1)
    assert (record.amount, record.currency, record.task, record.person) == (Decimal(1250), "USD", "hardware", "John")
    assert record.date == date(2022, 1, 21) and record.description == "task 1vj37mc (Hardware cost)"


def test_an_emptied_cost_field_deletes_the_expense_and_an_empty_one_that_was_empty_says_so():
    data = json.loads(fixture("task_updated_custom_field_hardware_cost.json"))
    data["history_items"][0].update({"before": "1250", "after": None})
    [event] = clickup.events(json.dumps(data).encode(), {}, settings=FIELDS)
    assert event.attributes["deleted"] is True and event.source_object_id == f"task/1vj37mc/{HARDWARE}"
    data["history_items"][0]["before"] = None
    body = json.dumps(data).encode()
    assert clickup.events(body, {}, settings=FIELDS) == []
    assert "Hardware cost is empty" in clickup.ignored_reason(body, {}, settings=FIELDS)


def test_a_drop_down_option_marks_a_breach_by_its_name_though_the_webhook_sends_its_id():
    body = fixture("task_updated_custom_field_dropdown.json")
    [event] = clickup.events(body, signed(body), settings=FIELDS)
    assert event.kind is EventKind.SLA_BREACHED
    assert event.source_object_id == f"task/1vj37mc/{DROPDOWN}"
    assert usage_from_event(event, version=1).quantity == Decimal(1)
    data = json.loads(body)
    data["history_items"][0].update({"before": "5048f827-f16a-47b0-afec-5fd0e51b5f50",
                                     "after": "5c69d237-f440-4498-ae46-3b3948db931b"})  # Monthly -> Quarterly
    [withdrawn] = clickup.events(json.dumps(data).encode(), {}, settings=FIELDS)
    assert withdrawn.attributes["deleted"] is True
    data["history_items"][0]["before"] = "fc4b63d1-d4d5-45fc-bee5-3adef2b15dff"  # Yearly -> Quarterly: never a breach
    assert clickup.events(json.dumps(data).encode(), {}, settings=FIELDS) == []


def test_a_custom_field_the_endpoint_does_not_bill_is_ignored_with_a_reason():
    body = fixture("task_updated_custom_field_dropdown.json")
    assert clickup.events(body, signed(body)) == []
    assert clickup.events(body, signed(body), settings={"expense_fields": [{"field": HARDWARE}]}) == []
    reason = clickup.ignored_reason(body, signed(body), settings={"expense_fields": [{"field": HARDWARE}]})
    assert "changed (custom_field) without a status change" in reason
    assert "custom field 'Selection Dropdown' is not one the endpoint bills" in reason


def test_a_deleted_task_is_ignored_because_it_carries_no_time_of_change():
    body = fixture("task_deleted.json")
    assert clickup.events(body, signed(body), settings=FIELDS) == []
    assert "carries no time of change" in clickup.ignored_reason(body, signed(body), settings=FIELDS)
    assert clickup.ignored_reason(body, signed(body)).startswith("taskDeleted")


def test_clickup_custom_field_settings_are_checked():
    from connectors.custom_fields import CustomFieldSettingsError

    clickup.check_settings(FIELDS)
    with pytest.raises(CustomFieldSettingsError, match="one field at a time"):
        clickup.check_settings({"expense_fields": [{"field": HARDWARE, "description_field": DROPDOWN}]})


def test_a_signed_custom_field_delivery_verifies_and_a_changed_amount_is_refused():
    body = fixture("task_updated_custom_field_hardware_cost.json")
    clickup.verify(body, signed(body), SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        clickup.verify(body.replace(b'"1250"', b'"12500"'), signed(body), SECRET)
