import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import connectors
from connectors import github
from connectors.errors import PayloadError, VerificationError
from rules import EventKind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github"
SECRET = "northwind-github-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, event: str, *, secret: str = SECRET, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958"):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "Content-Type": "application/json"}


def test_github_is_found_through_the_registry():
    assert connectors.get("github") is github
    assert "github" in connectors.names()


def test_githubs_documented_signature_example_verifies():
    example = json.loads(fixture("signature_example.json"))
    headers = {"x-hub-signature-256": example["x_hub_signature_256"]}
    github.verify(example["payload"].encode(), headers, example["secret"])


def test_githubs_documented_signature_example_fails_for_a_changed_body_or_secret():
    example = json.loads(fixture("signature_example.json"))
    headers = {"X-Hub-Signature-256": example["x_hub_signature_256"]}
    with pytest.raises(VerificationError, match="does not match"):
        github.verify(b"Hello, World?", headers, example["secret"])
    with pytest.raises(VerificationError, match="does not match"):
        github.verify(example["payload"].encode(), headers, "another secret")


def test_unsigned_and_malformed_signatures_are_refused():
    body = fixture("milestone_closed.json")
    with pytest.raises(VerificationError, match="missing X-Hub-Signature-256"):
        github.verify(body, {"X-GitHub-Event": "milestone"}, SECRET)
    legacy_sha1 = {"X-Hub-Signature": "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()}
    with pytest.raises(VerificationError, match="missing X-Hub-Signature-256"):
        github.verify(body, legacy_sha1, SECRET)
    bare_hex = {"X-Hub-Signature-256": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    with pytest.raises(VerificationError, match="does not start with"):
        github.verify(body, bare_hex, SECRET)


def test_a_missing_secret_never_verifies():
    body = fixture("milestone_closed.json")
    with pytest.raises(VerificationError, match="no secret"):
        github.verify(body, signed(body, "milestone", secret=""), "")


def test_a_closed_milestone_is_a_completed_milestone_of_its_repository():
    body = fixture("milestone_closed.json")
    headers = signed(body, "milestone")
    github.verify(body, headers, SECRET)
    [event] = github.events(body, headers)
    assert event.kind is EventKind.MILESTONE_COMPLETED
    assert event.source == "github"
    assert event.source_object_id == "Codertocat/Hello-World#milestone-1"
    assert event.occurred_at == datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)
    assert event.attributes["title"] == "v1.0"
    assert event.attributes["mapping_keys"] == ["repository:github:Codertocat/Hello-World",
                                                "owner:github:Codertocat"]
    assert event.source_event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert github.ignored_reason(body, headers) is None


def test_the_delivery_header_is_the_dedupe_key_and_survives_redelivery():
    body = fixture("milestone_closed.json")
    first = github.delivery_key(body, signed(body, "milestone", delivery="abc-1"))
    again = github.delivery_key(body, signed(body, "milestone", delivery="abc-1"))
    assert first == again == "abc-1"


def test_a_created_milestone_is_ignored_with_a_reason():
    data = json.loads(fixture("milestone_closed.json"))
    data["action"] = "created"
    body = json.dumps(data).encode()
    assert github.events(body, signed(body, "milestone")) == []
    assert "only a closed milestone" in github.ignored_reason(body, signed(body, "milestone"))


def test_a_reopened_issue_is_ignored_with_a_reason():
    body = fixture("issues_reopened.json")
    headers = signed(body, "issues")
    assert github.events(body, headers, settings={"billing_label": "billable"}) == []
    assert "issue reopened" in github.ignored_reason(body, headers, settings={"billing_label": "billable"})


def test_a_closed_issue_bills_only_when_it_carries_the_configured_label():
    body = fixture("issues_closed_billable.json")
    headers = signed(body, "issues")
    [event] = github.events(body, headers, settings={"billing_label": "billable"})
    assert event.source_object_id == "Codertocat/Hello-World#issue-1"
    assert event.attributes["labels"] == ["bug", "Billable"]
    assert github.events(body, headers) == []
    assert "billing_label" in github.ignored_reason(body, headers)
    assert github.events(body, headers, settings={"billing_label": "retainer"}) == []
    assert "without the billing label 'retainer'" in github.ignored_reason(
        body, headers, settings={"billing_label": "retainer"})


def test_an_issue_closed_as_not_planned_does_not_bill():
    data = json.loads(fixture("issues_closed_billable.json"))
    data["issue"]["state_reason"] = "not_planned"
    body = json.dumps(data).encode()
    assert "not planned" in github.ignored_reason(body, signed(body, "issues"), settings={"billing_label": "billable"})


def test_ping_and_other_event_kinds_are_ignored_with_a_reason():
    body = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    assert "ping" in github.ignored_reason(body, signed(body, "ping"))
    assert "push events do not concern billing" in github.ignored_reason(body, signed(body, "push"))


@pytest.mark.parametrize("body", [b"", b"[]", b"{not json", b'{"action": "closed", "milestone": "v1"}',
                                  b'{"action": "closed", "milestone": {"number": 1}}',
                                  b'{"action": "closed", "milestone": {"number": 1, "closed_at": "soon"},'
                                  b' "repository": {"full_name": "a/b"}}'])
def test_unreadable_milestone_bodies_are_payload_errors(body):
    with pytest.raises(PayloadError):
        github.events(body, signed(body, "milestone"))
