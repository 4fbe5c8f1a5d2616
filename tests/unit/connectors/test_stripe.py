import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors import stripe
from connectors.errors import PayloadError, VerificationError
from connectors.stripe_money import from_minor
from rules.events import EventKind

FIXTURES = Path(__file__).parents[2] / "fixtures" / "stripe"
SECRET = "whsec_test_northwind_endpoint_secret"
SENT = datetime(2026, 2, 1, 1, 2, 3, tzinfo=UTC)
RENEWAL = "sub_1MHYfFD0nOFZ7cKLa6gB3HVq:2026-02-01T00:00:00Z"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, *, secret=SECRET, at=SENT, scheme="v1", signature=None) -> dict:
    t = int(at.timestamp())
    signature = signature or hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},{scheme}={signature}"}


BODY = fixture("evt-invoice-paid-subscription-cycle-basil.json")


def test_the_registry_finds_stripe_by_name():
    assert connectors.get("stripe") is stripe


def test_a_valid_signature_is_accepted():
    stripe.verify(BODY, sign(BODY), SECRET, now=SENT + timedelta(seconds=10))


def test_a_header_with_a_valid_v1_next_to_a_bad_one_is_accepted():
    headers = sign(BODY)
    headers["Stripe-Signature"] += ",v1=bad_signature,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    stripe.verify(BODY, headers, SECRET, now=SENT)


def test_a_signature_made_with_the_previous_secret_during_rotation_is_accepted_when_listed():
    old = sign(BODY, secret="whsec_old")["Stripe-Signature"].split(",")[1]
    headers = {"Stripe-Signature": sign(BODY)["Stripe-Signature"].replace("v1=", "v1=0000,v1=", 1) + "," + old}
    stripe.verify(BODY, headers, SECRET, now=SENT)


@pytest.mark.parametrize("headers, message", [
    ({}, "missing Stripe-Signature header"),
    ({"Stripe-Signature": "i'm not even a real signature header"}, "no timestamp"),
    ({"Stripe-Signature": "t=abc,v1=00"}, "not a number"),
    (sign(BODY, scheme="v0"), "no v1 signature"),
    (sign(BODY, signature="bad_signature"), "matches the body"),
    (sign(BODY, secret="whsec_someone_else"), "matches the body"),
])
def test_a_malformed_missing_or_wrong_signature_is_refused(headers, message):
    with pytest.raises(VerificationError, match=message):
        stripe.verify(BODY, headers, SECRET, now=SENT)


def test_a_tampered_body_is_refused():
    tampered = BODY.replace(b'"amount_paid": 20000', b'"amount_paid": 2')
    with pytest.raises(VerificationError, match="matches the body"):
        stripe.verify(tampered, sign(BODY), SECRET, now=SENT)


@pytest.mark.parametrize("late", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=3)])
def test_a_timestamp_outside_the_300_second_tolerance_is_refused(late):
    with pytest.raises(VerificationError, match="window is 300 s"):
        stripe.verify(BODY, sign(BODY), SECRET, now=SENT + late)


def test_the_tolerance_is_an_endpoint_setting():
    stripe.verify(BODY, sign(BODY), SECRET, now=SENT + timedelta(seconds=500), settings={"tolerance_seconds": 600})


@pytest.mark.parametrize("name", ["evt-invoice-paid-subscription-cycle-2020-08-27.json",
                                  "evt-invoice-paid-subscription-cycle-basil.json"])
def test_a_paid_subscription_cycle_invoice_is_a_renewal_of_the_new_period_in_both_api_versions(name):
    [event] = stripe.events(fixture(name), {})
    assert event.kind is EventKind.SUBSCRIPTION_RENEWED
    assert event.source_object_id == RENEWAL
    assert (event.period_start, event.period_end) == (date(2026, 2, 1), date(2026, 3, 1))
    assert event.occurred_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert (event.source_customer.id, event.currency) == ("cus_NffrFeUfNV2Hib", "USD")


@pytest.mark.parametrize("name", ["evt-subscription-updated-renewal-2020-08-27.json",
                                  "evt-subscription-updated-renewal-basil.json"])
def test_a_subscription_update_that_starts_a_new_period_is_a_renewal_in_both_api_versions(name):
    [event] = stripe.events(fixture(name), {})
    assert event.kind is EventKind.SUBSCRIPTION_RENEWED and event.source_object_id == RENEWAL


def test_both_kinds_of_renewal_event_describe_the_same_renewal_identically_but_for_their_own_ids():
    [paid] = stripe.events(fixture("evt-invoice-paid-subscription-cycle-basil.json"), {})
    [updated] = stripe.events(fixture("evt-subscription-updated-renewal-2020-08-27.json"), {})
    def same_fields(e):
        return (e.kind, e.source_object_id, e.occurred_at, e.period_start, e.period_end, e.currency,
                e.source_customer, e.amount, e.lines, e.attributes["subscription_id"])
    assert same_fields(paid) == same_fields(updated)
    assert paid.source_event_id != updated.source_event_id


@pytest.mark.parametrize("name, reason", [
    ("evt-invoice-paid-subscription-create.json",
     "invoice in_1QwAbCLgUG5tbmjcFirstInv was paid for subscription_create, not a subscription renewal"),
    ("evt-subscription-updated-quantity.json",
     "subscription sub_1MHYfFD0nOFZ7cKLa6gB3HVq was updated without starting a new period (changed: items)"),
])
def test_first_invoices_and_updates_without_a_new_period_are_ignored_with_a_reason(name, reason):
    assert stripe.events(fixture(name), {}) == []
    assert stripe.ignored_reason(fixture(name), {}) == reason


def test_a_new_period_of_a_trialing_subscription_is_not_billed():
    body = json.loads(fixture("evt-subscription-updated-renewal-basil.json"))
    body["data"]["object"]["status"] = "trialing"
    assert "while trialing; not billed" in stripe.ignored_reason(json.dumps(body).encode(), {})


def test_a_deleted_subscription_is_a_contract_end():
    [event] = stripe.events(fixture("evt-subscription-deleted.json"), {})
    assert event.kind is EventKind.CONTRACT_ENDED
    assert event.source_object_id == "sub_1MHYfFD0nOFZ7cKLa6gB3HVq"
    assert event.occurred_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert event.attributes["cancellation_reason"] == "cancellation_requested"


def test_other_event_types_are_ignored():
    body = json.loads(BODY)
    body["type"] = "invoice.finalized"
    assert stripe.ignored_reason(json.dumps(body).encode(), {}) == "Stripe event type invoice.finalized is not used for billing"


def test_the_delivery_key_is_the_event_id():
    assert stripe.delivery_key(BODY, {}) == "evt_1QyXcSLgUG5tbmjcBa511Pd0"
    assert stripe.delivery_key(b"garbage", {}).startswith("sha256:")


@pytest.mark.parametrize("minor, currency, major", [
    (2000, "usd", Decimal("20.00")), (500, "JPY", Decimal("500")), (1999, "krw", Decimal("1999")),
    (1000, "kwd", Decimal("1.000")), ("2000.5", "eur", Decimal("20.005")), (0, "usd", Decimal("0.00")),
    (None, "usd", None),
])
def test_amounts_come_from_minor_units_with_zero_and_three_decimal_currencies(minor, currency, major):
    assert from_minor(minor, currency) == major
    if major is not None:
        assert str(from_minor(minor, currency)) == str(major)


BAD_BODIES = [b"", b"\x80", b"[" * 70 + b"]" * 70, b"[]", b'{"type": "invoice.paid"}', b'{"data": {"object": 3}}',
              b'{"type": "invoice.paid", "data": {"object": {"billing_reason": "subscription_cycle"}}}',
              b'{"type": "customer.subscription.updated", "data": {"object": {"current_period_start": "x"},'
              b' "previous_attributes": {"current_period_start": 1}}}']


@pytest.mark.parametrize("body", BAD_BODIES)
def test_unreadable_events_are_payload_errors(body):
    with pytest.raises(PayloadError):
        stripe.events(body, {})


@given(st.sampled_from(["invoice.paid", "customer.subscription.updated", "customer.subscription.deleted"]),
       st.dictionaries(st.sampled_from(["billing_reason", "subscription", "current_period_start", "status", "id",
                                        "lines", "parent", "items", "customer", "ended_at"]),
                       st.none() | st.integers() | st.text(max_size=8) | st.just("subscription_cycle")
                       | st.just({"data": [{"type": "subscription", "period": {"start": 5}}]})),
       st.none() | st.dictionaries(st.sampled_from(["current_period_start", "items"]), st.integers() | st.text(max_size=3)))
def test_any_event_shaped_body_gives_events_or_a_payload_error_and_never_another_exception(kind, obj, previous):
    body = json.dumps({"id": "evt_x", "type": kind, "api_version": "2025-03-31.basil",
                       "data": {"object": obj, "previous_attributes": previous}}).encode()
    try:
        stripe.events(body, {})
        stripe.ignored_reason(body, {})
    except PayloadError:
        pass


def test_the_event_in_stripes_own_api_fixtures_verifies_and_is_ignored_as_not_a_billing_event():
    body = fixture("openapi-fixture-event.json")  # stripe/openapi fixtures3.json, what stripe-mock serves
    stripe.verify(body, sign(body), SECRET, now=SENT)
    with pytest.raises(VerificationError):
        stripe.verify(body.replace(b"1099", b"1098", 1), sign(body), SECRET, now=SENT)
    assert stripe.delivery_key(body, {}) == "evt_1MoS6tLgUG5tbmjchDsX6fiT"
    assert stripe.events(body, {}) == []
    assert stripe.ignored_reason(body, {}) == "Stripe event type payment_intent.created is not used for billing"
