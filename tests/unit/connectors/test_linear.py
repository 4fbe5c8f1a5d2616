import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import connectors
from connectors import linear
from connectors.errors import PayloadError, VerificationError
from rules import EventKind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "linear"
SECRET = "lin_wh_northwind"
NOW = datetime(2021, 1, 31, 9, 2, 42, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def stamped(name: str, at: datetime = NOW) -> bytes:
    data = json.loads(fixture(name))
    data["webhookTimestamp"] = int(at.timestamp() * 1000)
    return json.dumps(data, separators=(",", ":")).encode()


def signed(body: bytes, *, secret: str = SECRET, delivery="234d1a4e-b617-4388-90fe-adc3633d6b72"):
    return {"Linear-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Linear-Delivery": delivery, "Linear-Event": "Issue"}


def test_linear_is_found_through_the_registry():
    assert connectors.get("linear") is linear


def test_a_fresh_signed_delivery_verifies():
    body = stamped("issue_update_completed.json")
    linear.verify(body, signed(body), SECRET, now=NOW + timedelta(seconds=59))
    linear.verify(body, signed(body), SECRET, now=NOW - timedelta(seconds=59))


def test_a_delivery_older_than_a_minute_is_refused_as_stale():
    body = stamped("issue_update_completed.json")
    with pytest.raises(VerificationError, match="61 s away from now"):
        linear.verify(body, signed(body), SECRET, now=NOW + timedelta(seconds=61))


def test_a_delivery_without_a_timestamp_is_refused():
    body = fixture("issue_update_estimate.json")
    with pytest.raises(VerificationError, match="webhookTimestamp is missing"):
        linear.verify(body, signed(body), SECRET, now=NOW)


def test_tampered_wrongly_signed_and_unsigned_deliveries_are_refused():
    body = stamped("issue_update_completed.json")
    headers = signed(body)
    with pytest.raises(VerificationError, match="does not match"):
        linear.verify(body.replace(b'"Done"', b'"Todo"'), headers, SECRET, now=NOW)
    with pytest.raises(VerificationError, match="does not match"):
        linear.verify(body, headers, "another secret", now=NOW)
    with pytest.raises(VerificationError, match="missing Linear-Signature"):
        linear.verify(body, {"Linear-Delivery": "x"}, SECRET, now=NOW)


def test_an_authentic_but_unreadable_body_passes_verification_and_is_a_payload_error():
    body = b"not json"
    linear.verify(body, signed(body), SECRET, now=NOW)
    with pytest.raises(PayloadError):
        linear.events(body, signed(body))


def test_an_issue_moved_to_a_completed_state_is_a_completed_milestone():
    body = fixture("issue_update_completed.json")
    [event] = linear.events(body, signed(body))
    assert event.kind is EventKind.MILESTONE_COMPLETED
    assert event.source_object_id == "issue/236e0fe8-xxxx-xxxx-xxxx-b2df06e33810"
    assert event.occurred_at == datetime(2021, 1, 31, 9, 2, 41, 118000, tzinfo=UTC)
    assert event.attributes["mapping_keys"] == [
        "project:linear:5ad6280f-xxxx-xxxx-xxxx-b869cfa62b33",
        "team:linear:eeaa0cbd-xxxx-xxxx-xxxx-1c701c3485f1",
        "team:linear:KOR",
        "organization:linear:b2f1c0de-xxxx-xxxx-xxxx-3c4d5e6f7a8b",
    ]
    assert event.attributes["labels"] == ["FUTA"]


def test_a_project_moved_to_a_completed_status_is_a_completed_milestone():
    body = fixture("project_update_completed.json")
    [event] = linear.events(body, signed(body))
    assert event.source_object_id == "project/5ad6280f-xxxx-xxxx-xxxx-b869cfa62b33"
    assert event.attributes["title"] == "rename project"
    assert event.attributes["mapping_keys"][0] == "project:linear:5ad6280f-xxxx-xxxx-xxxx-b869cfa62b33"


def test_an_older_project_delivery_with_a_state_string_is_understood():
    data = json.loads(fixture("project_update_rename.json"))
    data["data"]["state"] = "completed"
    data["updatedFrom"]["state"] = "started"
    body = json.dumps(data).encode()
    assert len(linear.events(body, signed(body))) == 1


def test_an_estimate_change_is_ignored_with_a_reason():
    body = fixture("issue_update_estimate.json")
    assert linear.events(body, signed(body)) == []
    assert "without moving to another state" in linear.ignored_reason(body, signed(body))


def test_a_created_issue_is_ignored_with_a_reason():
    body = fixture("issue_created.json")
    assert "issue create" in linear.ignored_reason(body, signed(body))


def test_a_project_rename_is_ignored_with_a_reason():
    body = fixture("project_update_rename.json")
    assert "'rename project' changed" in linear.ignored_reason(body, signed(body))


def test_a_move_to_a_started_state_is_ignored_with_a_reason():
    data = json.loads(fixture("issue_update_completed.json"))
    data["data"]["state"] = {"id": "s1", "name": "In Progress", "color": "#f2c94c", "type": "started"}
    body = json.dumps(data).encode()
    assert "moved to 'In Progress', which is not a completed state" in linear.ignored_reason(body, signed(body))


def test_the_delivery_header_is_the_dedupe_key_with_a_change_digest_as_fallback():
    body = fixture("issue_update_completed.json")
    assert linear.delivery_key(body, signed(body, delivery="d-1")) == "d-1"
    restamped = stamped("issue_update_completed.json", NOW + timedelta(minutes=5))
    assert linear.delivery_key(body, {}) == linear.delivery_key(restamped, {})
    assert linear.delivery_key(body, {}).startswith("change:")


@pytest.mark.parametrize("body", [b"", b"[1]", b'{"type": "Issue", "action": "update", "data": 5}',
                                  b'{"type": "Issue", "action": "update", "data": {"id": "x", "state": '
                                  b'{"type": "completed"}}, "updatedFrom": {"stateId": "a"}}'])
def test_unreadable_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        linear.events(body, signed(body))
