import json
from decimal import Decimal

import pytest
import requests

from connectors import hubspot
from connectors.errors import EnrichmentError
from tests.integration.connectors.conftest import FIXTURES

TOKEN = "pat-na1-northwind-test-token"


def won_deal_512():
    [event] = hubspot.events((FIXTURES / "hubspot" / "deal-won-batch.json").read_bytes(), {})
    return event


def record_deal_512(api):
    api.answer("GET", "/crm/v3/objects/deals/512", fixture="hubspot/api/deal-512.json")
    api.answer("POST", "/crm/v3/objects/line_items/batch/read", fixture="hubspot/api/line-items-batch-read.json")
    api.answer("GET", "/crm/v3/objects/companies/7001", fixture="hubspot/api/company-7001.json")
    api.answer("GET", "/crm/v3/objects/contacts/901", fixture="hubspot/api/contact-901.json")


def test_a_won_deal_is_completed_with_amount_currency_line_items_and_company(vendor_api):
    record_deal_512(vendor_api)
    [event] = hubspot.enrich([won_deal_512()], credentials=TOKEN, base_url=vendor_api.base_url)

    assert (event.amount, event.currency) == (Decimal("18500.00"), "USD")
    seat, onboarding = event.lines
    assert (seat.description, seat.quantity, seat.unit_price, seat.amount) == (
        "Managed services seat", Decimal("10"), Decimal("145.8333"), Decimal("17500.00"))
    assert (seat.recurring, seat.term_months, seat.sku, seat.product_id) == ("monthly", 12, "MSP-SEAT", "88001")
    assert (onboarding.recurring, onboarding.term_months, onboarding.amount) == (None, None, Decimal("1000.00"))
    customer = event.source_customer
    assert (customer.id, customer.name, customer.email) == ("7001", "Northwind IT", "ap@northwind.example")
    assert customer.attributes["domain"] == "northwind.example"
    assert event.attributes["won_at_enrichment"] is True
    assert event.attributes["deal_name"] == "Northwind IT - managed services 2026"


def test_enrichment_asks_for_the_deal_with_its_associations_and_sends_the_token(vendor_api):
    record_deal_512(vendor_api)
    hubspot.enrich([won_deal_512()], credentials={"access_token": TOKEN}, base_url=vendor_api.base_url)

    [deal_request] = vendor_api.seen("GET", "/crm/v3/objects/deals/512")
    assert deal_request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert deal_request["query"]["associations"] == ["companies,contacts,line_items"]
    assert "amount" in deal_request["query"]["properties"][0]
    [batch] = vendor_api.seen("POST", "/crm/v3/objects/line_items/batch/read")
    assert json.loads(batch["body"])["inputs"] == [{"id": "3301"}, {"id": "3302"}]


@pytest.mark.parametrize("status", [401, 404, 429, 500])
def test_a_failing_api_is_an_enrichment_error_that_names_the_status_but_not_the_token(vendor_api, status):
    vendor_api.answer("GET", "/crm/v3/objects/deals/512", status=status, body={"status": "error"})
    with pytest.raises(EnrichmentError, match=f"HTTP {status}") as caught:
        hubspot.enrich([won_deal_512()], credentials=TOKEN, base_url=vendor_api.base_url)
    assert caught.value.retryable and TOKEN not in str(caught.value)


def test_an_api_that_answers_garbage_is_an_enrichment_error(vendor_api):
    vendor_api.answer("GET", "/crm/v3/objects/deals/512", body=b"<html>gateway</html>")
    with pytest.raises(EnrichmentError, match="not JSON"):
        hubspot.enrich([won_deal_512()], credentials=TOKEN, base_url=vendor_api.base_url)


def test_an_api_that_does_not_answer_in_time_is_an_enrichment_error():
    class SlowSession(requests.Session):
        def request(self, *args, **kwargs):
            raise requests.ConnectTimeout("simulated")

    with pytest.raises(EnrichmentError, match="timed out"):
        hubspot.enrich([won_deal_512()], credentials=TOKEN, base_url="http://127.0.0.1:9", session=SlowSession())


def test_no_stored_token_is_an_enrichment_error_before_any_request(vendor_api):
    with pytest.raises(EnrichmentError, match="no HubSpot access token"):
        hubspot.enrich([won_deal_512()], credentials=None, base_url=vendor_api.base_url)
    assert vendor_api.requests == []


def test_an_answer_of_an_unexpected_shape_is_an_enrichment_error(vendor_api):
    vendor_api.answer("GET", "/crm/v3/objects/deals/512", body=["not", "a", "deal"])
    with pytest.raises(EnrichmentError, match="unexpected shape"):
        hubspot.enrich([won_deal_512()], credentials=TOKEN, base_url=vendor_api.base_url)
