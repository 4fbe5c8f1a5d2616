import hashlib
import hmac
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors import generic
from connectors.errors import PayloadError, VerificationError
from rules.events import EventKind
from rules.usage import usage_from_event

ROOT = Path(__file__).parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "generic"
SECRET = "abs_northwind_generic_secret"
NOW = datetime(2026, 1, 5, 15, 30, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes, *, secret=SECRET, at=NOW) -> dict:
    t = int(at.timestamp())
    return {"Autobill-Signature": f"t={t},v1={hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"}


BODY = fixture("delivery-deal-won.json")


def test_the_registry_finds_generic_by_name():
    assert connectors.get("generic") is generic


def test_the_worked_example_in_the_customer_documentation_verifies():
    doc = (ROOT / "docs" / "connectors" / "generic.md").read_text()
    secret = re.search(r"secret `(abs_[a-z_]+)`", doc).group(1)
    t = int(re.search(r"`t` = `(\d+)`", doc).group(1))
    body = re.search(r"no\ntrailing newline\):\n```\n(.+?)\n```", doc, re.S).group(1).encode()
    header = re.search(r"Autobill-Signature: (t=\d+,v1=[0-9a-f]{64})", doc).group(1)
    generic.verify(body, {"autobill-signature": header}, secret, now=datetime.fromtimestamp(t, UTC))
    assert generic.signature_header(body, secret, now=datetime.fromtimestamp(t, UTC)) == header


def test_a_signed_delivery_is_accepted_and_signature_header_makes_the_same_signature():
    generic.verify(BODY, signed(BODY), SECRET, now=NOW + timedelta(seconds=30))
    assert generic.signature_header(BODY, SECRET, now=NOW) == signed(BODY)["Autobill-Signature"]


@pytest.mark.parametrize("case, message", [
    ("tampered", "matches the body"), ("wrong secret", "matches the body"), ("missing", "missing Autobill-Signature"),
    ("stale", "window is 300 s"), ("future", "in the future"), ("no v1", "no v1 signature"),
])
def test_forged_stale_or_unsigned_deliveries_are_refused(case, message):
    body, headers, now = BODY, signed(BODY), NOW
    if case == "tampered":
        body = BODY.replace(b"18500.00", b"185000.00")
    elif case == "wrong secret":
        headers = signed(BODY, secret="abs_other")
    elif case == "missing":
        headers = {}
    elif case == "stale":
        now = NOW + timedelta(seconds=301)
    elif case == "future":
        now = NOW - timedelta(minutes=10)
    else:
        headers = {"Autobill-Signature": headers["Autobill-Signature"].replace("v1=", "v2=")}
    with pytest.raises(VerificationError, match=message):
        generic.verify(body, headers, SECRET, now=now)


def test_a_deal_won_event_keeps_its_money_exact_and_its_lines():
    [event] = generic.events(BODY, {})
    assert (event.kind, event.source, event.source_object_id) == (EventKind.DEAL_WON, "generic", "crm-deal-4471")
    assert (event.amount, event.currency) == (Decimal("18500.00"), "USD")
    assert event.occurred_at == datetime(2026, 1, 5, 15, 20, 11, tzinfo=UTC)
    seat, onboarding = event.lines
    assert (seat.quantity, seat.unit_price, seat.recurring, seat.term_months, seat.taxable) == (
        Decimal("10"), Decimal("145.8333"), "monthly", 12, True)
    assert (onboarding.quantity, onboarding.amount) == (Decimal("1"), Decimal("1000.00"))
    assert (event.source_customer.id, event.source_customer.email) == ("acct-northwind", "ap@northwind.example")
    assert event.company_id is None and generic.delivery_key(BODY, {}) == "zap-20260105-000123"


def test_every_event_kind_can_be_sent():
    found = generic.events(fixture("delivery-every-kind.json"), {})
    assert {e.kind for e in found} == set(EventKind)
    by_kind = {e.kind: e for e in found}
    assert by_kind[EventKind.PERIOD_CLOSED].agreement_id == "agr-12"
    assert by_kind[EventKind.SUBSCRIPTION_RENEWED].period_end == date(2026, 2, 28)
    record = usage_from_event(by_kind[EventKind.TIME_LOGGED], version=1)
    assert (record.hours, record.date, record.person) == (Decimal("37.5"), date(2026, 2, 1), "Andrew")
    assert usage_from_event(by_kind[EventKind.EXPENSE_LOGGED], version=1).amount == Decimal("64.90")


def event_body(**changes) -> bytes:
    event = {"kind": "deal_won", "source_object_id": "d-1", "occurred_at": "2026-01-01T00:00:00Z"}
    event.update(changes)
    return json.dumps({"id": "x", "events": [event]}).encode()


@pytest.mark.parametrize("changes, message", [
    ({"kind": "invoice_paid"}, "events\\[0\\].kind must be one of"),
    ({"ammount": "100"}, "unknown field\\(s\\): ammount"),
    ({"source_object_id": ""}, "source_object_id must not be empty"),
    ({"occurred_at": "2026-01-01T00:00:00"}, "no time zone offset"),
    ({"amount": "100"}, "currency is required"),
    ({"amount": "a lot", "currency": "USD"}, "amount is not a number"),
    ({"amount": "100", "currency": "DOLLARS"}, "currency"),
    ({"lines": [{"quantity": 2}]}, "lines\\[0\\].description is required"),
    ({"lines": [{"description": "x", "term_months": 0}]}, "term_months must be a positive"),
    ({"kind": "period_closed"}, "agreement_id is required"),
    ({"kind": "time_logged", "attributes": {"date": "2026-01-01"}}, "hours is required"),
    ({"kind": "expense_logged", "attributes": {"date": "2026-01-01"}}, "amount is required"),
    ({"period_start": "2026-02-01", "period_end": "2026-01-01"}, "before period_start"),
    ({"customer": {"name": "no id"}}, "customer.id is required"),
    ({"company_id": "someone-else"}, "unknown field"),
])
def test_invalid_events_are_payload_errors_naming_the_field(changes, message):
    with pytest.raises(PayloadError, match=message):
        generic.events(event_body(**changes), {})


@pytest.mark.parametrize("body, message", [
    (b"", "empty"), (b"\xff", "UTF-8"), (b'{"id": "x", "events": ' + b"[" * 80 + b"]" * 80 + b"}", "nested deeper"),
    (b'{"events": []}', "id must be"), (b'{"id": "x"}', "events must be a list"),
    (b'{"id": "x", "events": [], "extra": 1}', "unknown field"),
    (json.dumps({"id": "x", "events": [{}] * 101}).encode(), "at most 100"),
])
def test_unreadable_deliveries_are_payload_errors_and_still_get_a_delivery_key(body, message):
    with pytest.raises(PayloadError, match=message):
        generic.events(body, {})
    assert generic.delivery_key(body, {}).startswith("sha256:")


def test_an_empty_event_list_is_a_ping_that_is_ignored_with_a_reason():
    body = b'{"id": "ping-1", "events": []}'
    assert generic.events(body, {}) == []
    assert generic.ignored_reason(body, {}) == "the delivery carries no events (a ping)"
    assert generic.ignored_reason(BODY, {}) is None


def test_a_backfill_file_yields_every_good_line_and_names_every_bad_one():
    results = list(generic.parse_backfill(fixture("backfill.jsonl").splitlines()))
    assert [r.number for r in results] == [1, 3, 4, 5, 6]
    good = [r.event.source_object_id for r in results if r.event]
    assert good == ["crm-deal-1001", "ts-1", "contract-9"]
    errors = {r.number: r.error for r in results if r.error}
    assert errors[3] == "event has unknown field(s): ammount"  # the caller names the line
    assert errors[5] == "not JSON: Expecting value at column 1"


def test_a_backfill_reads_text_lines_too():
    [line] = generic.parse_backfill(['{"kind": "contract_ended", "source_object_id": "c", "occurred_at": "2025-01-01T00:00:00Z"}\n'])
    assert line.event.kind is EventKind.CONTRACT_ENDED


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from(
    ["deal_won", "time_logged", "2026-01-01T00:00:00Z", "2026-01-01", "USD", "1.5"]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(sorted(
        ["kind", "source_object_id", "occurred_at", "amount", "currency", "lines", "customer", "attributes", "id",
         "description", "hours", "date", "period_start", "period_end", "agreement_id", "term_months", "quantity"])), c,
        max_size=6), max_leaves=20))
def test_any_json_gives_events_or_a_payload_error_and_never_another_exception(value):
    body = json.dumps({"id": "fuzz", "events": [value]}).encode()
    try:
        generic.events(body, {})
    except PayloadError:
        pass
    [result] = generic.parse_backfill([json.dumps(value)]) or [None]
    assert result is None or (result.event is None) != (result.error is None)


def test_a_stated_zero_quantity_stays_zero_and_a_missing_one_is_one():
    body = event_body(currency="USD", lines=[{"description": "credit", "quantity": "0", "unit_price": "5"},
                                            {"description": "fee", "unit_price": "5"}])
    [event] = generic.events(body, {})
    assert [line.quantity for line in event.lines] == [Decimal("0"), Decimal("1")]
