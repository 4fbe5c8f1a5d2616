"""The contract every work and time connector keeps, checked on mutated vendor fixtures.

Whatever an authentic sender (or an attacker holding a secret) puts in a body, reading it ends in
events, a reason, or a ``PayloadError``: never another exception. Events serialise to JSON and time
events become usage records.
"""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import asana, clickup, clockify, github, jira, linear, toggl
from connectors.errors import PayloadError, VerificationError
from rules import EventKind, event_to_dict, usage_from_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# Custom fields are configured, so their readers face the mutations too (the fixtures hold these ids).
JIRA_FIELDS = {"expense_fields": [{"field": "customfield_10050", "name": "Hardware cost",
                                   "quantity_field": "customfield_10051", "description_field": "customfield_10052"}],
               "sla_breach_fields": [{"field": "customfield_10060", "values": ["Breached"]}]}
CLICKUP_FIELDS = {"expense_fields": [{"field": "b3c1d2e4-7a6f-4e0b-9c1d-2f3e4a5b6c7d"}],
                  "sla_breach_fields": [{"field": "862a38bb-eaba-4b9b-a4b5-c09d2a8c082f", "values": ["Monthly"]}]}
ASANA_FIELDS = {"expense_fields": [{"field": "1206845912349101", "quantity_field": "1206845912349102"}],
                "sla_breach_fields": [{"field": "1206845912349103", "values": ["Breached"]}]}

CASES = {
    "github": (github, [{"X-GitHub-Event": "milestone"}, {"X-GitHub-Event": "issues"}], {"billing_label": "billable"}),
    "jira": (jira, [{}], JIRA_FIELDS),
    "linear": (linear, [{}], {}),
    "clickup": (clickup, [{}], CLICKUP_FIELDS),
    "toggl": (toggl, [{}], {"time_zone": "Europe/Berlin"}),
    "clockify": (clockify, [{"Clockify-Webhook-Event-Type": "NEW_TIME_ENTRY"},
                            {"Clockify-Webhook-Event-Type": "TIME_ENTRY_DELETED"}], {}),
    "asana": (asana, [{}], ASANA_FIELDS),
}

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12)
    | st.sampled_from(["", "closed", "done", "completed", "2024-01-15T09:00:00Z", "1642736320112", "PT1H",
                       "-1", "ping", "status", "time_spent", "update", "task"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def payload_fixtures(vendor: str) -> list[dict]:
    found = []
    for path in sorted((FIXTURES / vendor).glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and not {"secret", "examples", "payload_headers"} & set(data) \
                and not path.name.startswith(("api_", "handshake", "signature")):
            found.append(data)
    return found


def paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, (*prefix, index))


def replaced(doc, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(doc))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def check(module, body: bytes, headers: dict, settings: dict) -> None:
    assert isinstance(module.delivery_key(body, headers), str) and module.delivery_key(body, headers)
    try:
        found = module.events(body, headers, settings=settings)
        reason = module.ignored_reason(body, headers, settings=settings)
    except PayloadError as exc:
        assert exc.message
        return
    assert isinstance(found, list)
    assert bool(found) != (reason is not None), "exactly one of events and a reason"
    for event in found:
        json.dumps(event_to_dict(event))
        assert isinstance(event.attributes.get("mapping_keys"), list)
        if event.kind in (EventKind.TIME_LOGGED, EventKind.EXPENSE_LOGGED, EventKind.SLA_BREACHED):
            usage_from_event(event, version=1)


@pytest.mark.parametrize("vendor", sorted(CASES))
def test_every_payload_fixture_reads_as_events_or_a_reason(vendor):
    module, header_sets, settings = CASES[vendor]
    fixtures = payload_fixtures(vendor)
    assert fixtures, f"no payload fixtures for {vendor}"
    for doc in fixtures:
        for headers in header_sets:
            check(module, json.dumps(doc).encode(), headers, settings)


@pytest.mark.parametrize("vendor", sorted(CASES))
@given(data=st.data())
def test_mutated_vendor_payloads_never_raise_anything_but_a_payload_error(vendor, data):
    module, header_sets, settings = CASES[vendor]
    doc = data.draw(st.sampled_from(payload_fixtures(vendor)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(paths(doc))))
        doc = replaced(doc, path, data.draw(JSON_VALUES))
    headers = data.draw(st.sampled_from(header_sets))
    check(module, json.dumps(doc).encode(), headers, settings)


@pytest.mark.parametrize("vendor", sorted(CASES))
@given(body=st.binary(max_size=64), value=st.text(max_size=80))
def test_arbitrary_bytes_and_header_values_fail_verification_cleanly(vendor, body, value):
    module, _, _ = CASES[vendor]
    headers = {name: value for name in ("X-Hub-Signature-256", "X-Hub-Signature", "Linear-Signature",
                                         "X-Signature", "X-Webhook-Signature-256", "Clockify-Signature",
                                         "X-Hook-Signature")}
    with pytest.raises(VerificationError):
        module.verify(body, headers, "a-secret-nobody-guessed", now=None)
    check_reading = module.delivery_key(body, headers)
    assert isinstance(check_reading, str)
