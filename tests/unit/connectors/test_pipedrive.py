import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors import pipedrive
from connectors.errors import PayloadError, VerificationError
from rules.events import EventKind

FIXTURES = Path(__file__).parents[2] / "fixtures" / "pipedrive"
PAIR = "autobill-hook:s3cret-pass:word"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def basic(pair: str = PAIR) -> dict:
    return {"authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def test_the_registry_finds_pipedrive_by_name():
    assert connectors.get("pipedrive") is pipedrive


def test_the_webhooks_basic_auth_pair_is_accepted_as_a_string_or_a_mapping():
    body = fixture("webhook-v2-deal-won.json")
    pipedrive.verify(body, basic(), PAIR)
    pipedrive.verify(body, basic(), {"user": "autobill-hook", "password": "s3cret-pass:word"})


@pytest.mark.parametrize("headers, message", [
    ({}, "missing Authorization header"),
    (basic("autobill-hook:wrong"), "does not match"),
    (basic("someone:s3cret-pass:word"), "does not match"),
    ({"Authorization": "Bearer abc"}, "not HTTP Basic"),
    ({"Authorization": "Basic !!!not-base64"}, "not valid Basic"),
])
def test_missing_or_wrong_basic_credentials_are_refused(headers, message):
    with pytest.raises(VerificationError, match=message):
        pipedrive.verify(fixture("webhook-v2-deal-won.json"), headers, PAIR)


def test_a_secret_that_is_not_a_user_password_pair_never_verifies():
    with pytest.raises(VerificationError, match="user:password"):
        pipedrive.verify(fixture("webhook-v2-deal-won.json"), basic("justapassword"), "justapassword")
    with pytest.raises(VerificationError, match="no secret"):
        pipedrive.verify(fixture("webhook-v2-deal-won.json"), basic(), None)


def test_a_delivery_from_another_pipedrive_company_is_refused_when_the_endpoint_names_its_company():
    body = fixture("webhook-v2-deal-won.json")
    pipedrive.verify(body, basic(), PAIR, settings={"company_id": 12882925})
    with pytest.raises(VerificationError, match="another Pipedrive company"):
        pipedrive.verify(body, basic(), PAIR, settings={"company_id": "1"})


def test_a_deal_whose_status_changed_to_won_is_a_deal_won_event_with_its_value():
    body = fixture("webhook-v2-deal-won.json")
    [event] = pipedrive.events(body, basic())
    assert event.kind is EventKind.DEAL_WON
    assert (event.source, event.source_object_id) == ("pipedrive", "746")
    assert (event.amount, event.currency) == (Decimal("12400.5"), "EUR")
    assert event.occurred_at == datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
    assert event.source_customer.id == "2" and event.attributes["person_id"] == "3"
    assert event.source_event_id == "9d6a1f0e-8c3b-4e7a-b2d5-41f0c9e3a7b2"
    assert pipedrive.ignored_reason(body, {}) is None


def test_a_v1_updated_deal_delivery_is_read_too():
    [event] = pipedrive.events(fixture("webhook-v1-deal-won.json"), {})
    assert (event.source_object_id, event.amount, event.currency) == ("123", Decimal("2786.08"), "USD")
    assert event.source_customer.id == "41"
    assert event.occurred_at == datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("name, reason", [
    ("webhook-v2-deal-stage-change.json", "deal 747 is open, not won"),
    ("webhook-v2-deal-created-won.json", "a deal create, not a change of status"),
])
def test_deal_updates_that_are_not_a_win_are_ignored_with_a_reason(name, reason):
    assert pipedrive.events(fixture(name), {}) == []
    assert pipedrive.ignored_reason(fixture(name), {}) == reason


def test_a_won_deal_edited_again_without_a_status_change_is_not_a_second_win():
    body = json.loads(fixture("webhook-v2-deal-won.json"))
    body["previous"] = {"value": 12000}
    assert pipedrive.events(json.dumps(body).encode(), {}) == []
    assert "status did not change" in pipedrive.ignored_reason(json.dumps(body).encode(), {})
    body["previous"] = {"status": "won"}
    assert "already won" in pipedrive.ignored_reason(json.dumps(body).encode(), {})


def test_a_notification_about_another_object_is_ignored():
    body = json.loads(fixture("webhook-v2-deal-won.json"))
    body["meta"]["entity"] = "person"
    assert pipedrive.ignored_reason(json.dumps(body).encode(), {}) == "a person notification, not a deal"


def test_the_delivery_key_is_the_event_id_and_the_same_on_every_attempt():
    body = json.loads(fixture("webhook-v2-deal-won.json"))
    first = pipedrive.delivery_key(json.dumps(body).encode(), {})
    body["meta"]["attempt"] = 3
    assert first == pipedrive.delivery_key(json.dumps(body).encode(), {})
    assert first == "12882925:9d6a1f0e-8c3b-4e7a-b2d5-41f0c9e3a7b2"


BAD_BODIES = [b"", b"\xc3\x28", b'{"a":' * 200 + b"1" + b"}" * 200, b"[]", b'{"meta": 5}', b"null",
              b'{"meta": {"entity": "deal", "action": "change"}, "data": "x"}',
              b'{"meta": {"entity": "deal", "action": "change"}, "data": {"status": "won"}, "previous": {"status": "open"}}',
              b'{"meta": {"entity": "deal", "action": "change"}, "data": {"id": 1, "status": "won", "value": "lots",'
              b' "won_time": "2026-01-01T00:00:00Z"}, "previous": {"status": "open"}}']


@pytest.mark.parametrize("body", BAD_BODIES)
def test_unreadable_bodies_are_payload_errors_and_still_get_a_delivery_key(body):
    with pytest.raises(PayloadError):
        pipedrive.events(body, {})
    assert pipedrive.delivery_key(body, {})


@given(st.fixed_dictionaries({
    "meta": st.fixed_dictionaries({"entity": st.sampled_from(["deal", "person"]),
                                   "action": st.sampled_from(["change", "updated", "create"]),
                                   "id": st.none() | st.text(max_size=5) | st.integers(),
                                   "timestamp": st.none() | st.integers() | st.text(max_size=25)}),
    "data": st.none() | st.dictionaries(st.sampled_from(["id", "status", "value", "currency", "org_id", "won_time"]),
                                        st.none() | st.integers() | st.text(max_size=10) | st.sampled_from(["won", "open"])),
    "previous": st.none() | st.dictionaries(st.sampled_from(["status", "value"]), st.sampled_from(["won", "open", 3])),
}))
def test_any_deal_shaped_body_gives_events_or_a_payload_error_and_never_another_exception(value):
    body = json.dumps(value).encode()
    try:
        pipedrive.events(body, {})
        pipedrive.ignored_reason(body, {})
    except PayloadError:
        pass
    pipedrive.delivery_key(body, {})


@pytest.mark.parametrize("name, key, reason", [
    ("pipedream-v1-updated-deal.json", "1234567890:9", "deal 9 is open, not won"),
    ("prismatic-v2-deal-change.json", "12882925:1", "deal 1 is open, not won"),
    ("pipedream-v2-deal-stage-change.json", "123123:123456789-1234-1234-1234-123456789012",
     "a deal create, not a change of status"),
])
def test_published_sample_deliveries_that_are_not_wins_are_accepted_and_ignored_with_their_reason(name, key, reason):
    body = fixture(name)  # samples as integrators publish them (tests/fixtures/pipedrive/SOURCES.md)
    pipedrive.verify(body, basic(), PAIR)
    assert pipedrive.delivery_key(body, basic()) == key
    assert pipedrive.events(body, basic()) == []
    assert pipedrive.ignored_reason(body, basic()) == reason
