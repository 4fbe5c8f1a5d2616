from decimal import Decimal

import pytest

from connectors import stripe
from connectors.errors import EnrichmentError
from tests.integration.connectors.conftest import FIXTURES

KEY = "rk_test_northwind_restricted_key"
SUB = "sub_1MHYfFD0nOFZ7cKLa6gB3HVq"


def event(name):
    [found] = stripe.events((FIXTURES / "stripe" / name).read_bytes(), {})
    return found


def test_a_renewal_is_built_from_the_fetched_subscription(vendor_api):
    vendor_api.answer("GET", f"/v1/subscriptions/{SUB}", fixture="stripe/api/subscription-expanded-basil.json")
    [renewal] = stripe.enrich([event("evt-invoice-paid-subscription-cycle-basil.json")],
                              credentials=KEY, base_url=vendor_api.base_url)

    [seat] = renewal.lines
    assert (seat.description, seat.quantity, seat.unit_price, seat.amount) == (
        "Managed services seat", Decimal("10"), Decimal("20.00"), Decimal("200.00"))
    assert (seat.recurring, seat.term_months, seat.product_id, seat.sku) == (
        "monthly", None, "prod_N1bs61kegmuiNY", "msp-seat-monthly")
    assert (renewal.amount, renewal.currency) == (Decimal("200.00"), "USD")
    assert (renewal.source_customer.name, renewal.source_customer.email) == ("Contoso Ltd", "ap@contoso.example")
    [request] = vendor_api.seen("GET", f"/v1/subscriptions/{SUB}")
    assert request["query"]["expand[]"] == ["items.data.price.product", "customer"]
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["headers"]["Stripe-Version"] == "2025-03-31.basil"


def test_both_kinds_of_renewal_event_enrich_to_the_same_renewal_whichever_arrives_first(vendor_api):
    vendor_api.answer("GET", f"/v1/subscriptions/{SUB}", fixture="stripe/api/subscription-expanded-basil.json")
    paid, updated = stripe.enrich(
        [event("evt-invoice-paid-subscription-cycle-2020-08-27.json"), event("evt-subscription-updated-renewal-basil.json")],
        credentials={"api_key": KEY}, base_url=vendor_api.base_url)
    def billed(e):
        return (e.source_object_id, e.occurred_at, e.period_start, e.period_end, e.amount, e.currency, e.lines,
                e.source_customer)
    assert billed(paid) == billed(updated)


def test_a_contract_end_is_completed_with_the_customer(vendor_api):
    vendor_api.answer("GET", "/v1/customers/cus_NffrFeUfNV2Hib", fixture="stripe/api/customer.json")
    [ended] = stripe.enrich([event("evt-subscription-deleted.json")], credentials=KEY, base_url=vendor_api.base_url)
    assert ended.source_customer.name == "Contoso Ltd"


def test_a_zero_decimal_currency_subscription_is_priced_in_whole_units(vendor_api):
    body = (FIXTURES / "stripe/api/subscription-expanded-basil.json").read_text().replace('"usd"', '"jpy"')
    vendor_api.answer("GET", f"/v1/subscriptions/{SUB}", body=body.encode())
    [renewal] = stripe.enrich([event("evt-invoice-paid-subscription-cycle-basil.json")],
                              credentials=KEY, base_url=vendor_api.base_url)
    assert (renewal.currency, renewal.lines[0].unit_price, renewal.amount) == ("JPY", Decimal("2000"), Decimal("20000"))


def test_a_missing_subscription_is_an_enrichment_error(vendor_api):
    vendor_api.answer("GET", f"/v1/subscriptions/{SUB}", status=404, body={"error": {"type": "invalid_request_error"}})
    with pytest.raises(EnrichmentError, match="HTTP 404"):
        stripe.enrich([event("evt-invoice-paid-subscription-cycle-basil.json")], credentials=KEY,
                      base_url=vendor_api.base_url)
