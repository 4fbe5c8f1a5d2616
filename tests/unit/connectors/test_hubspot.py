import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors import hubspot
from connectors.errors import PayloadError, VerificationError
from rules.events import EventKind

FIXTURES = Path(__file__).parents[2] / "fixtures" / "hubspot"
SDK_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
SDK_BODY = b"{'example_field':'example_value'}"
SDK_URL = "https://www.example.com/webhook_uri"
SECRET = "hubspot-client-secret-for-northwind"
URL = "https://autobill.example/hooks/hubspot/tok_9f2c"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def v3_headers(body: bytes, *, secret=SECRET, url=URL, at: datetime, method="POST") -> dict:
    stamp = str(int(at.timestamp() * 1000))
    digest = hmac.new(secret.encode(), method.encode() + url.encode() + body + stamp.encode(), hashlib.sha256)
    return {"X-HubSpot-Signature-v3": base64.b64encode(digest.digest()).decode(),
            "X-HubSpot-Request-Timestamp": stamp, "X-HubSpot-Signature-Version": "v1"}


NOW = datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)


def test_the_registry_finds_hubspot_by_name():
    assert connectors.get("hubspot") is hubspot


def test_hubspots_own_v3_sdk_vector_is_accepted():
    headers = {"x-hubspot-signature-v3": "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
               "x-hubspot-request-timestamp": "15000000"}
    hubspot.verify(SDK_BODY, headers, SDK_SECRET, url=SDK_URL, now=datetime.fromtimestamp(15000, UTC))


@pytest.mark.parametrize("version, signature, body, method", [
    ("v1", "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", SDK_BODY, "POST"),
    ("v2", "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", SDK_BODY, "POST"),
    ("v2", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", b"", "GET"),
])
def test_hubspots_own_v1_and_v2_vectors_are_accepted(version, signature, body, method):
    headers = {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": version}
    hubspot.verify(body, headers, SDK_SECRET, url=SDK_URL, method=method)


def test_the_v1_example_of_hubspots_validation_guide_is_accepted():
    signature = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    hubspot.verify(fixture("v1-docs-example.json"), {"X-HubSpot-Signature": signature}, SDK_SECRET)


def test_a_v3_signature_made_over_the_decoded_uri_is_accepted_for_a_percent_encoded_url():
    body = fixture("deal-won-batch.json")
    headers = v3_headers(body, url="https://autobill.example/hooks/hubspot/tok?ref=a:b", at=NOW)
    hubspot.verify(body, headers, SECRET, url="https://autobill.example/hooks/hubspot/tok?ref=a%3Ab", now=NOW)


@pytest.mark.parametrize("case", ["tampered body", "wrong secret", "other url", "other method"])
def test_a_v3_signature_that_does_not_match_the_request_is_refused(case):
    body = fixture("deal-won-batch.json")
    headers = v3_headers(body, at=NOW)
    kwargs = {"url": URL, "now": NOW, "method": "POST"}
    secret = SECRET
    if case == "tampered body":
        body = body.replace(b'"closedwon"', b'"closedlost"')
    elif case == "wrong secret":
        secret = "someone-elses-secret"
    elif case == "other url":
        kwargs["url"] = URL + "x"
    else:
        kwargs["method"] = "PUT"
    with pytest.raises(VerificationError, match="does not match"):
        hubspot.verify(body, headers, secret, **kwargs)


@pytest.mark.parametrize("offset", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=2)])
def test_a_v3_signature_outside_the_five_minute_window_is_refused(offset):
    body = fixture("deal-won-batch.json")
    headers = v3_headers(body, at=NOW)
    with pytest.raises(VerificationError, match="window is 300 s"):
        hubspot.verify(body, headers, SECRET, url=URL, now=NOW + offset)


def test_a_v3_signature_four_minutes_old_is_accepted():
    body = fixture("deal-won-batch.json")
    hubspot.verify(body, v3_headers(body, at=NOW), SECRET, url=URL, now=NOW + timedelta(minutes=4))


@pytest.mark.parametrize("missing, message", [
    ("X-HubSpot-Signature-v3", "missing X-HubSpot-Signature header"),
    ("X-HubSpot-Request-Timestamp", "missing X-HubSpot-Request-Timestamp"),
])
def test_a_request_missing_a_signature_header_is_refused(missing, message):
    body = fixture("deal-won-batch.json")
    headers = v3_headers(body, at=NOW)
    del headers[missing]
    with pytest.raises(VerificationError, match=message):
        hubspot.verify(body, headers, SECRET, url=URL, now=NOW)


def test_a_bad_v3_signature_is_not_rescued_by_a_valid_v1_signature():
    body = fixture("deal-won-batch.json")
    headers = v3_headers(body, secret="wrong", at=NOW)
    headers["X-HubSpot-Signature"] = hashlib.sha256(SECRET.encode() + body).hexdigest()
    with pytest.raises(VerificationError):
        hubspot.verify(body, headers, SECRET, url=URL, now=NOW)


def test_no_configured_secret_never_verifies():
    body = fixture("deal-won-batch.json")
    with pytest.raises(VerificationError, match="no secret"):
        hubspot.verify(body, v3_headers(body, at=NOW), "", url=URL, now=NOW)


def test_a_delivery_from_another_portal_is_refused_when_the_endpoint_names_its_portal():
    body = fixture("deal-won-batch.json")
    headers = v3_headers(body, at=NOW)
    hubspot.verify(body, headers, SECRET, url=URL, now=NOW, settings={"portal_id": 62515})
    with pytest.raises(VerificationError, match="another HubSpot account"):
        hubspot.verify(body, headers, SECRET, url=URL, now=NOW, settings={"portal_id": "99"})


def test_a_batch_yields_one_won_deal_and_ignores_other_stages_and_objects():
    [event] = hubspot.events(fixture("deal-won-batch.json"), {})
    assert event.kind is EventKind.DEAL_WON
    assert (event.source, event.source_object_id, event.source_event_id) == ("hubspot", "512", "4120000101")
    assert event.occurred_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert event.attributes["portal_id"] == 62515 and event.amount is None
    assert hubspot.ignored_reason(fixture("deal-won-batch.json"), {}) is None


def test_a_deal_moving_to_another_stage_is_ignored_with_its_stage_named():
    body = fixture("deal-stage-not-won.json")
    assert hubspot.events(body, {}) == []
    assert "deal 514 moved to stage 'contractsent'" in hubspot.ignored_reason(body, {})


def test_the_documented_contact_notifications_are_ignored_as_not_deal_stage_changes():
    body = fixture("webhook-docs-example.json")
    assert hubspot.events(body, {}) == []
    reason = hubspot.ignored_reason(body, {})
    assert "contact.propertyChange (not a deal stage change)" in reason and "contact.creation" in reason


def test_a_custom_pipelines_won_stage_counts_only_when_the_endpoint_names_it():
    body = fixture("deal-won-custom-pipeline.json")
    assert hubspot.events(body, {}) == []
    [event] = hubspot.events(body, {}, settings={"won_stage_ids": ["1029384756"]})
    assert event.source_object_id == "777" and event.attributes["stage"] == "1029384756"


def test_the_same_deal_won_twice_in_one_batch_is_one_event():
    entry = json.loads(fixture("deal-won-batch.json"))[0]
    again = {**entry, "eventId": entry["eventId"] + 50}
    assert len(hubspot.events(json.dumps([entry, again]).encode(), {})) == 1


def test_a_retried_batch_has_the_same_delivery_key_whatever_its_order_or_attempt_number():
    entries = json.loads(fixture("deal-won-batch.json"))
    retried = [{**e, "attemptNumber": 3} for e in reversed(entries)]
    first = hubspot.delivery_key(json.dumps(entries).encode(), {})
    assert first == hubspot.delivery_key(json.dumps(retried).encode(), {})
    assert first.startswith("62515:batch:")
    assert first != hubspot.delivery_key(json.dumps(entries[:2]).encode(), {})


def test_a_single_notification_is_keyed_by_portal_subscription_and_event_id():
    assert hubspot.delivery_key(fixture("deal-stage-not-won.json"), {}) == "62515:2400311:4120000201"


BAD_BODIES = [b"", b"   ", b"\xff\xfe[]", b"[" * 5000 + b"]" * 5000, b"{not json", b"42",
              b'[{"subscriptionType": "deal.propertyChange", "propertyName": "dealstage", "propertyValue": "closedwon"}]',
              b'["a string"]']


@pytest.mark.parametrize("body", BAD_BODIES)
def test_unreadable_bodies_are_payload_errors_and_still_get_a_delivery_key(body):
    with pytest.raises(PayloadError):
        hubspot.events(body, {})
    with pytest.raises(PayloadError):
        hubspot.ignored_reason(body, {})
    assert hubspot.delivery_key(body, {}).startswith("sha256:")


@given(st.binary(max_size=300) | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4))
       .map(lambda v: json.dumps(v).encode()))
def test_any_body_gives_events_or_a_payload_error_and_never_another_exception(body):
    try:
        hubspot.events(body, {})
        hubspot.ignored_reason(body, {})
    except PayloadError:
        pass
    hubspot.delivery_key(body, {})


def test_a_captured_stage_change_to_a_custom_pipeline_stage_bills_only_when_that_stage_is_a_won_stage():
    body = fixture("captured-deal-stage-custom-pipeline.json")  # a single notification, as captured
    stage = "1f4f1ec1-8174-49f3-a112-4eaa4748e38e"
    assert hubspot.events(body, {}) == []
    assert hubspot.ignored_reason(body, {}) == (
        f"no deal moved to a won stage: deal 697680835 moved to stage '{stage}', which is not a won stage")
    [event] = hubspot.events(body, {}, settings={"won_stage_ids": [stage]})
    assert (event.kind, event.source_object_id, event.source_event_id) == (EventKind.DEAL_WON, "697680835", "802835955")
    assert event.occurred_at == datetime(2019, 4, 24, 8, 30, 37, 139000, tzinfo=UTC)
    assert event.attributes["portal_id"] == 5799819 and event.attributes["needs_enrichment"] is True
    assert hubspot.delivery_key(body, {}) == "5799819:92894:802835955"


@pytest.mark.parametrize("name, reason", [
    ("captured-deal-stage-qualifiedtobuy.json",
     "deal 332507367156 moved to stage 'qualifiedtobuy', which is not a won stage"),
    ("captured-deal-amount-change.json", "deal.propertyChange (not a deal stage change)"),
])
def test_captured_deal_changes_that_are_not_wins_are_ignored_with_their_reason(name, reason):
    body = fixture(name)
    hubspot.verify(body, v3_headers(body, at=NOW), SECRET, url=URL, now=NOW)
    assert hubspot.events(body, {}) == []
    assert hubspot.ignored_reason(body, {}) == f"no deal moved to a won stage: {reason}"
