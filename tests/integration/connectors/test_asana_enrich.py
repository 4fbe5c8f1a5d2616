"""Asana end to end over real HTTP: handshake, a signed delivery, and enrichment against a local API."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors import asana
from connectors.api_client import RateLimited
from connectors.base import dropped_reasons
from connectors.errors import EnrichmentError, VerificationError
from tests.conftest import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "asana"
TOKEN = "2/1202178852626547/1206845912340999:northwind-pat"
TASK = "/api/1.0/tasks/1206845912347101"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str):
    return json.loads(fixture(name))


def completion_event():
    [event] = asana.events(fixture("task_completed.json"), {})
    return event


def test_a_handshake_then_a_signed_completion_is_confirmed_by_the_api(vendor):
    handshake = load("handshake.json")
    secret = asana.handshake_secret(b"", handshake["headers"])
    status, headers, _ = asana.reply(b"", handshake["headers"])
    assert status == 200 and headers["X-Hook-Secret"] == secret

    body = fixture("task_completed.json")
    asana.verify(body, {"X-Hook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}, secret)
    vendor.answer(TASK, body=load("api_task_completed.json"))

    result = asana.enrich(asana.events(body, {}), credentials={"token": TOKEN},
                          base_url=f"{vendor.base_url}/api/1.0")

    [event] = result
    assert dropped_reasons(result) == []
    assert event.occurred_at == datetime(2024, 3, 18, 14, 22, 4, 871000, tzinfo=UTC)
    assert event.attributes["title"] == "Phase 1: network cut-over for Northwind IT"
    assert event.attributes["is_milestone"] is True
    assert event.attributes["custom_fields"] == {"Fixed fee": "4500.00", "Billing": "Milestone"}
    assert event.attributes["mapping_keys"] == ["project:asana:1206845912340001", "workspace:asana:1202178852626500"]
    assert event.attributes["needs_enrichment"] is False
    [request] = vendor.seen
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "completed_at" in request.args["opt_fields"] and "projects.name" in request.args["opt_fields"]


def test_a_second_unexpected_handshake_never_verifies_as_a_delivery():
    secret = asana.handshake_secret(b"", load("handshake.json")["headers"])
    with pytest.raises(VerificationError):
        asana.verify(b"", {"X-Hook-Secret": "a-new-secret-from-someone-else"}, secret)


def test_a_task_marked_incomplete_again_is_dropped_with_the_reason(vendor):
    vendor.answer(TASK, body=load("api_task_not_completed.json"))
    result = asana.enrich([completion_event()], credentials=TOKEN, base_url=f"{vendor.base_url}/api/1.0")
    assert list(result) == []
    [(event, reason)] = dropped_reasons(result)
    assert event.source_object_id == "1206845912347101"
    assert "not completed" in reason


def test_a_deleted_task_is_dropped_with_the_reason(vendor):
    vendor.answer(TASK, status=404, body=load("api_error_not_found.json"))
    result = asana.enrich([completion_event()], credentials=TOKEN, base_url=f"{vendor.base_url}/api/1.0")
    assert list(result) == []
    assert "no longer exists" in dropped_reasons(result)[0].reason


def test_an_endpoint_that_bills_milestones_only_drops_ordinary_tasks(vendor):
    task = load("api_task_completed.json")
    task["data"]["resource_subtype"] = "default_task"
    vendor.answer(TASK, body=task)
    result = asana.enrich([completion_event()], credentials=TOKEN, base_url=f"{vendor.base_url}/api/1.0",
                          settings={"milestones_only": True})
    assert "bills milestones only" in dropped_reasons(result)[0].reason


def test_one_task_named_twice_is_fetched_once(vendor):
    vendor.answer(TASK, body=load("api_task_completed.json"))
    event = completion_event()
    result = asana.enrich([event, event], credentials=TOKEN, base_url=f"{vendor.base_url}/api/1.0")
    assert len(result) == 2 and len(vendor.seen) == 1


def test_a_rate_limit_is_a_retryable_enrichment_error_with_the_wait(vendor):
    vendor.answer(TASK, status=429, body={"errors": [{"message": "Rate limit enforced"}]},
                  headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as caught:
        asana.enrich([completion_event()], credentials=TOKEN, base_url=f"{vendor.base_url}/api/1.0")
    assert caught.value.retryable and caught.value.retry_after == 30


@pytest.mark.parametrize("status, raw, message", [
    (401, b'{"errors": [{"message": "Not Authorized"}]}', "refused the stored credentials"),
    (500, b'{"errors": [{"message": "Server Error"}]}', "answered 500"),
    (200, b"<html>maintenance</html>", "not JSON"),
    (200, b'{"data": "nope"}', "without a task object"),
])
def test_api_failures_are_enrichment_errors_that_never_show_the_token(vendor, status, raw, message):
    vendor.answer(TASK, status=status, raw=raw)
    with pytest.raises(EnrichmentError, match=message) as caught:
        asana.enrich([completion_event()], credentials=TOKEN, base_url=f"{vendor.base_url}/api/1.0")
    assert TOKEN not in str(caught.value) and "northwind-pat" not in caught.value.message


def test_an_unreachable_api_is_an_enrichment_error():
    with pytest.raises(EnrichmentError, match="could not reach Asana"):
        asana.enrich([completion_event()], credentials=TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/1.0")
