import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import connectors
from connectors import clockify
from connectors.errors import PayloadError, VerificationError
from rules import EventKind, usage_from_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "clockify"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjbG9ja2lmeSJ9.northwind"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def headers(kind: str, token: str = TOKEN):
    return {"clockify-signature": token, "clockify-webhook-event-type": kind}


def test_clockify_is_found_through_the_registry():
    assert connectors.get("clockify") is clockify


def test_the_webhook_token_verifies_and_any_other_token_is_refused():
    body = fixture("time_entry.json")
    clockify.verify(body, headers("NEW_TIME_ENTRY"), TOKEN)
    with pytest.raises(VerificationError, match="not this webhook's token"):
        clockify.verify(body, headers("NEW_TIME_ENTRY", token=TOKEN + "x"), TOKEN)
    with pytest.raises(VerificationError, match="missing Clockify-Signature"):
        clockify.verify(body, {"Clockify-Webhook-Event-Type": "NEW_TIME_ENTRY"}, TOKEN)
    with pytest.raises(VerificationError, match="no secret"):
        clockify.verify(body, headers("NEW_TIME_ENTRY"), None)


def test_a_new_time_entry_is_time_logged_with_its_rate_in_currency_units():
    body = fixture("time_entry.json")
    [event] = clockify.events(body, headers("NEW_TIME_ENTRY"))
    assert event.kind is EventKind.TIME_LOGGED
    assert event.source_object_id == "65a5b2c9d3fcab07cfbb2f31"
    assert event.occurred_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert event.attributes["mapping_keys"] == [
        "project:clockify:64c777ddd3fcab07cfbb210c", "client:clockify:64c777ddd3fcab07cfbb2001",
        "tag:clockify:64c777ddd3fcab07cfbb2101", "workspace:clockify:64a687e29ae1f428e7ebe303"]
    record = usage_from_event(event, version=1)
    assert record.hours == Decimal("1.5")
    assert record.rate == Decimal("145")
    assert record.currency == "USD"
    assert record.date == date(2024, 1, 15)
    assert record.person == "John Doe"
    assert record.project == "Managed services"
    assert record.task == "Network"


@pytest.mark.parametrize("kind", ["TIME_ENTRY_UPDATED", "TIMER_STOPPED"])
def test_an_edit_or_a_stopped_timer_is_a_new_version_of_the_entry(kind):
    body = fixture("time_entry.json")
    [event] = clockify.events(body, headers(kind))
    assert event.source_object_id == "65a5b2c9d3fcab07cfbb2f31"
    assert event.attributes["deleted"] is False


def test_a_deleted_entry_is_a_deletion():
    body = fixture("time_entry.json")
    [event] = clockify.events(body, headers("TIME_ENTRY_DELETED"))
    assert event.attributes["deleted"] is True


def test_a_started_timer_is_ignored_with_a_reason():
    body = fixture("timer_started.json")
    assert clockify.events(body, headers("NEW_TIMER_STARTED")) == []
    assert "timer started" in clockify.ignored_reason(body, headers("NEW_TIMER_STARTED"))


def test_a_running_entry_under_another_event_name_is_still_not_time_yet():
    body = fixture("timer_started.json")
    assert "running timer" in clockify.ignored_reason(body, headers("TIME_ENTRY_UPDATED"))


def test_other_clockify_events_are_ignored_with_a_reason():
    assert clockify.ignored_reason(b'{"id": "p1", "name": "New project"}', headers("NEW_PROJECT")).startswith(
        "NEW_PROJECT")


def test_hours_come_from_the_interval_when_the_duration_is_missing():
    data = json.loads(fixture("time_entry.json"))
    data["timeInterval"]["duration"] = None
    data["timeInterval"]["end"] = "2024-01-15T09:45:00Z"
    body = json.dumps(data).encode()
    assert clockify.events(body, headers("NEW_TIME_ENTRY"))[0].attributes["hours"] == "0.750000"


def test_the_dedupe_key_is_stable_for_a_retry_and_differs_between_event_types():
    body = fixture("time_entry.json")
    assert clockify.delivery_key(body, headers("NEW_TIME_ENTRY")) == clockify.delivery_key(
        body, headers("NEW_TIME_ENTRY"))
    assert clockify.delivery_key(body, headers("NEW_TIME_ENTRY")) != clockify.delivery_key(
        body, headers("TIME_ENTRY_DELETED"))


@pytest.mark.parametrize("body", [b"", b"[]", b'{"id": "1", "timeInterval": "today"}',
                                  b'{"id": "1", "timeInterval": {"start": "x", "end": "y"}}',
                                  b'{"id": "1", "timeInterval": {"start": "2024-01-15T09:00:00Z",'
                                  b' "end": "2024-01-15T10:00:00Z"}, "hourlyRate": {"amount": "lots"}}'])
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        clockify.events(body, headers("NEW_TIME_ENTRY"))


def test_a_delivery_clockify_really_sent_is_time_logged_on_its_project():
    body = fixture("time_entry_captured.json")
    [event] = clockify.events(body, headers("NEW_TIME_ENTRY"))
    assert event.source_object_id == "6386ba8ebf21f2037287906e"
    assert event.occurred_at == datetime(2022, 11, 30, 2, 6, 20, tzinfo=UTC)
    assert event.attributes["mapping_keys"] == ["project:clockify:63247a7eb5edfe7856eae093",
                                                "workspace:clockify:5f6c023f6bf23143e1a9782e"]  # no client, no tags
    record = usage_from_event(event, version=1)
    assert (record.hours, record.rate, record.currency) == (Decimal("0.004444"), None, None)  # 16 s, no rate set
    assert (record.person, record.project, record.task, record.description) == (
        "Pureworldnew", "languageT", None, "test hook")
