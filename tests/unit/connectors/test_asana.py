import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import connectors
from connectors import asana
from connectors.base import Enriched, dropped_reasons
from connectors.errors import EnrichmentError, PayloadError, VerificationError
from rules import Event, EventKind

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
