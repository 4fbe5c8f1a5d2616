import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import connectors
from connectors import asana, asana_fields
from connectors.base import Enriched, dropped_reasons
from connectors.errors import EnrichmentError, PayloadError, VerificationError
from rules import Event, EventKind, UsageKind, usage_from_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "asana"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def handshake() -> tuple[dict, str]:
    request = json.loads(fixture("handshake.json"))
    return request["headers"], request["headers"]["X-Hook-Secret"]


def signed(body: bytes, secret: str):
    return {"X-Hook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_asana_is_found_through_the_registry():
    assert connectors.get("asana") is asana


def test_the_handshake_secret_is_read_and_echoed_with_a_200():
    headers, secret = handshake()
    assert asana.handshake_secret(b"", headers) == secret
    assert asana.reply(b"", {k.lower(): v for k, v in headers.items()}) == (200, {"X-Hook-Secret": secret}, b"")


def test_an_ordinary_delivery_has_no_handshake_and_no_reply():
    body = fixture("task_completed.json")
    assert asana.handshake_secret(body, {"X-Hook-Signature": "ab"}) is None
    assert asana.reply(body, {"X-Hook-Signature": "ab"}) is None


def test_deliveries_signed_with_the_handshake_secret_verify():
    _, secret = handshake()
    body = fixture("task_completed.json")
    asana.verify(body, signed(body, secret), secret)


def test_tampered_wrongly_signed_and_unsigned_deliveries_are_refused():
    _, secret = handshake()
    body = fixture("task_completed.json")
    with pytest.raises(VerificationError, match="does not match"):
        asana.verify(body.replace(b"milestone", b"default_task"), signed(body, secret), secret)
    with pytest.raises(VerificationError, match="does not match"):
        asana.verify(body, signed(body, "a guessed secret"), secret)
    with pytest.raises(VerificationError, match="missing X-Hook-Signature"):
        asana.verify(body, {}, secret)


def test_a_second_handshake_reaching_verification_is_refused():
    headers, secret = handshake()
    with pytest.raises(VerificationError, match="unexpected handshake"):
        asana.verify(b"", {"X-Hook-Secret": "attacker-chosen-secret"}, secret)


def test_a_heartbeat_is_acknowledged_and_ignored_with_a_reason():
    body = fixture("heartbeat.json")
    assert asana.events(body, {}) == []
    assert asana.ignored_reason(body, {}).startswith("heartbeat")
    assert asana.delivery_key(body, {}).startswith("heartbeat:")


def test_a_completion_change_is_an_event_that_still_needs_the_api():
    body = fixture("task_completed.json")
    [event] = asana.events(body, {})
    assert event.kind is EventKind.MILESTONE_COMPLETED
    assert event.source_object_id == "1206845912347101"
    assert event.occurred_at == datetime(2024, 3, 18, 14, 22, 5, 123000, tzinfo=UTC)
    assert event.attributes["needs_enrichment"] is True
    assert event.attributes["resource_subtype"] == "milestone"


def test_a_task_that_flips_twice_in_one_delivery_is_one_event():
    data = json.loads(fixture("task_completed.json"))
    data["events"].append({**data["events"][0], "created_at": "2024-03-18T14:22:09.000Z"})
    assert len(asana.events(json.dumps(data).encode(), {})) == 1


def test_a_title_change_is_ignored_with_a_reason():
    body = fixture("task_name_changed.json")
    assert asana.events(body, {}) == []
    assert asana.ignored_reason(body, {}) == "no task completion among the events (task changed (name))"


def test_a_task_created_in_a_project_is_ignored_with_a_reason():
    body = fixture("task_added_to_project.json")
    assert asana.events(body, {}) == []
    assert "task added" in asana.ignored_reason(body, {})


def test_the_dedupe_key_is_derived_from_the_events_and_ignores_formatting():
    body = fixture("task_completed.json")
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert asana.delivery_key(body, {}) == asana.delivery_key(compact, {})
    assert asana.delivery_key(body, {}) != asana.delivery_key(fixture("task_name_changed.json"), {})


def test_enrich_passes_other_events_through_without_calling_asana():
    other = Event(kind=EventKind.MILESTONE_COMPLETED, source="github", source_object_id="a/b#milestone-1",
                  occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
    result = asana.enrich([other], credentials=None)
    assert isinstance(result, Enriched) and list(result) == [other] and dropped_reasons(result) == []


def test_enrich_without_a_token_is_an_enrichment_error_that_says_what_to_store():
    [event] = asana.events(fixture("task_completed.json"), {})
    with pytest.raises(EnrichmentError, match="api-token-stdin"):
        asana.enrich([event], credentials={"token": ""})


@pytest.mark.parametrize("body", [b"", b"{}", b'{"events": {}}', b'{"events": [7]}',
                                  b'{"events": [{"action": "changed", "resource": {"resource_type": "task"},'
                                  b' "change": {"field": "completed"}, "created_at": "now"}]}'])
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        asana.events(body, {})


# --- Custom fields as expenses and SLA breaches

HARDWARE, UNITS, SLA = "1206845912349101", "1206845912349102", "1206845912349103"
TASK = "1206845912347222"
FIELDS = {"expense_fields": [{"field": HARDWARE, "name": "Hardware cost", "quantity_field": UNITS, "task": "hardware"}],
          "sla_breach_fields": [{"field": SLA, "name": "SLA", "values": ["Breached"]}]}


def api_task(**changes) -> dict:
    task = json.loads(fixture("api_task_with_custom_fields.json"))["data"]
    for gid, value in changes.items():
        field = next(f for f in task["custom_fields"] if f["gid"] == {"hardware": HARDWARE, "sla": SLA}[gid])
        field.update(value)
    return task


def test_a_change_of_a_billed_custom_field_is_a_pending_expense_of_that_task_and_field():
    body = fixture("task_custom_field_changed.json")
    [event] = asana.events(body, {}, settings=FIELDS)
    assert event.kind is EventKind.EXPENSE_LOGGED
    assert event.source_object_id == f"{TASK}/{HARDWARE}"
    assert event.attributes["needs_enrichment"] is True and event.attributes["task_gid"] == TASK
    assert asana.events(body, {}) == []  # nothing configured
    assert asana.ignored_reason(body, {}) == "no task completion among the events (task changed (custom_fields))"


def test_a_change_naming_another_custom_field_is_ignored_and_one_naming_none_reads_every_billed_field():
    data = json.loads(fixture("task_custom_field_changed.json"))
    data["events"][0]["change"]["new_value"]["gid"] = "1206845912349999"
    body = json.dumps(data).encode()
    assert asana.events(body, {}, settings=FIELDS) == []
    assert "custom field 1206845912349999 is not one the endpoint bills" in asana.ignored_reason(body, {}, settings=FIELDS)
    data["events"][0]["change"]["new_value"] = {"gid": TASK, "resource_type": "task"}
    kinds = {e.source_object_id: e.kind for e in asana.events(json.dumps(data).encode(), {}, settings=FIELDS)}
    assert kinds == {f"{TASK}/{HARDWARE}": EventKind.EXPENSE_LOGGED, f"{TASK}/{SLA}": EventKind.SLA_BREACHED}


def test_the_task_read_back_gives_the_expense_its_amount_quantity_keys_and_change_time():
    [pending] = asana.events(fixture("task_custom_field_changed.json"), {}, settings=FIELDS)
    event = asana_fields.completed(pending, api_task(), FIELDS)
    assert event.attributes["needs_enrichment"] is False
    assert event.occurred_at == datetime(2024, 3, 20, 9, 15, 31, 402000, tzinfo=UTC)  # the task's modified_at
    assert event.attributes["mapping_keys"] == ["project:asana:1206845912340001", "workspace:asana:1202178852626500"]
    record = usage_from_event(event, version=1)
    assert (record.kind, record.amount, record.quantity, record.task) == (
        UsageKind.EXPENSE, Decimal("2480.0"), Decimal("1.0"), "hardware")
    assert record.description == "Replace the Northwind IT core switch (Hardware cost)"
    emptied = asana_fields.completed(pending, api_task(hardware={"number_value": None, "display_value": None}), FIELDS)
    assert emptied.source_object_id == f"{TASK}/{HARDWARE}" and emptied.attributes["deleted"] is True


def test_an_enum_option_marks_a_breach_and_another_option_withdraws_it():
    data = json.loads(fixture("task_custom_field_changed.json"))
    data["events"][0]["change"]["new_value"]["gid"] = SLA
    [pending] = asana.events(json.dumps(data).encode(), {}, settings=FIELDS)
    breach = asana_fields.completed(pending, api_task(), FIELDS)
    assert (breach.kind, breach.attributes["quantity"], breach.attributes["deleted"]) == (
        EventKind.SLA_BREACHED, Decimal(1), False)
    met = {"gid": "1206845912349202", "name": "Met", "resource_type": "enum_option"}
    assert asana_fields.completed(pending, api_task(sla={"enum_value": met, "display_value": "Met"}),
                                  FIELDS).attributes["deleted"] is True


def test_a_deleted_task_deletes_the_usage_of_every_billed_field_without_reading_the_task():
    [expense, breach] = asana.events(fixture("task_deleted.json"), {}, settings=FIELDS)
    assert (expense.source_object_id, breach.source_object_id) == (f"{TASK}/{HARDWARE}", f"{TASK}/{SLA}")
    assert expense.attributes["deleted"] is breach.attributes["deleted"] is True
    assert "needs_enrichment" not in expense.attributes
    assert expense.occurred_at == datetime(2024, 4, 2, 16, 40, tzinfo=UTC)
    assert asana.events(fixture("task_deleted.json"), {}) == []


def test_a_signed_custom_field_delivery_verifies_and_a_changed_field_is_refused():
    _, secret = handshake()
    body = fixture("task_custom_field_changed.json")
    asana.verify(body, signed(body, secret), secret)
    with pytest.raises(VerificationError, match="does not match"):
        asana.verify(body.replace(HARDWARE.encode(), SLA.encode()), signed(body, secret), secret)
