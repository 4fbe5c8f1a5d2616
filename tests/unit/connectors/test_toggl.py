import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import connectors
from connectors import toggl
from connectors.errors import PayloadError, VerificationError
from rules import EventKind, usage_from_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "toggl"
SECRET = "northwind-toggl-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, *, secret: str = SECRET):
    return {"X-Webhook-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_toggl_is_found_through_the_registry():
    assert connectors.get("toggl") is toggl


@pytest.mark.parametrize("index", [0, 1])
def test_toggls_documented_signature_examples_verify(index):
    examples = json.loads(fixture("signature_examples.json"))
    example = examples["examples"][index]
    toggl.verify(example["payload"].encode(), {"x-webhook-signature-256": example["x_webhook_signature_256"]},
                 examples["secret"])


def test_toggls_documented_signature_example_fails_when_the_body_changes():
    examples = json.loads(fixture("signature_examples.json"))
    example = examples["examples"][0]
    body = example["payload"].replace('"subscription_id":6', '"subscription_id":7').encode()
    with pytest.raises(VerificationError, match="does not match"):
        toggl.verify(body, {"X-Webhook-Signature-256": example["x_webhook_signature_256"]}, examples["secret"])


def test_unsigned_and_wrongly_signed_deliveries_are_refused():
    body = fixture("time_entry_updated_stopped.json")
    with pytest.raises(VerificationError, match="missing X-Webhook-Signature-256"):
        toggl.verify(body, {}, SECRET)
    with pytest.raises(VerificationError, match="does not match"):
        toggl.verify(body, signed(body, secret="other"), SECRET)


def test_the_validation_ping_is_answered_with_its_code():
    status, headers, answer = toggl.reply(fixture("ping_with_validation_code.json"), {})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(answer) == {"validation_code": "89627dd73f2044f2f73815d665bbce33"}


def test_only_a_ping_with_a_plain_validation_code_gets_a_reply():
    assert toggl.reply(fixture("time_entry_updated_stopped.json"), {}) is None
    assert toggl.reply(b"not json", {}) is None
    assert toggl.reply(b'{"payload": "ping"}', {}) is None
    assert toggl.reply(b'{"payload": "ping", "validation_code": "<script>alert(1)</script>"}', {}) is None


def test_a_ping_that_reaches_processing_is_ignored_with_a_reason():
    body = fixture("ping_with_validation_code.json")
    assert "ping" in toggl.ignored_reason(body, signed(body))


def test_a_stopped_entry_is_time_logged_that_becomes_a_usage_record():
    body = fixture("time_entry_updated_stopped.json")
    [event] = toggl.events(body, signed(body))
    assert event.kind is EventKind.TIME_LOGGED
    assert event.source_object_id == "3095646709"
    assert event.occurred_at == datetime(2023, 8, 22, 12, 43, 35, tzinfo=UTC)
    assert event.source_event_id == "8256404788549451"
    assert event.attributes["hours"] == "0.833611"
    assert event.attributes["mapping_keys"] == ["workspace:toggl:7435584"]
    record = usage_from_event(event, version=1)
    assert record.date == date(2023, 8, 22)
    assert record.hours == Decimal("0.833611")
    assert record.billable is False
    assert record.description == "C2C-2 !!"


def test_a_running_timer_is_ignored_with_a_reason():
    body = fixture("time_entry_created_running.json")
    assert toggl.events(body, signed(body)) == []
    assert "3050537739 is a running timer" in toggl.ignored_reason(body, signed(body))


def test_a_deleted_entry_is_a_deletion_of_the_same_entry():
    body = fixture("time_entry_deleted.json")
    [event] = toggl.events(body, signed(body))
    assert event.source_object_id == "3095646709"
    assert event.attributes["deleted"] is True
    assert event.occurred_at == datetime(2023, 8, 22, 13, 5, 2, tzinfo=UTC)


def test_project_and_tags_are_mapping_keys_most_specific_first():
    data = json.loads(fixture("time_entry_updated_stopped.json"))
    data["payload"].update(project_id=193838, tags=["retainer"], billable=True)
    body = json.dumps(data).encode()
    [event] = toggl.events(body, signed(body))
    assert event.attributes["mapping_keys"] == ["project:toggl:193838", "tag:toggl:retainer",
                                                "workspace:toggl:7435584"]


def test_the_entry_date_follows_the_endpoint_time_zone():
    data = json.loads(fixture("time_entry_updated_stopped.json"))
    data["payload"]["start"] = "2023-08-22T23:30:00Z"
    body = json.dumps(data).encode()
    assert toggl.events(body, signed(body))[0].attributes["date"] == "2023-08-22"
    assert toggl.events(body, signed(body), settings={"time_zone": "Europe/Berlin"})[0].attributes["date"] == \
        "2023-08-23"


def test_the_event_id_is_the_dedupe_key():
    assert toggl.delivery_key(fixture("time_entry_updated_stopped.json"), {}) == "8256404788549451"
    assert toggl.delivery_key(fixture("ping_with_validation_code.json"), {}).startswith("ping:10710:")


@pytest.mark.parametrize("body", [b"", b"42", b'{"metadata": {"model": "time_entry", "action": "updated"}}',
                                  b'{"metadata": {"model": "time_entry", "action": "updated"}, "payload":'
                                  b' {"id": 1, "duration": "long", "stop": "x"}}',
                                  b'{"metadata": {"model": "time_entry", "action": "updated"}, "payload":'
                                  b' {"id": 1, "duration": 5, "stop": "x", "start": "later"}}'])
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        toggl.events(body, signed(body))
