from decimal import Decimal

import pytest

from connectors import pipedrive
from connectors.errors import EnrichmentError
from tests.integration.connectors.conftest import FIXTURES

TOKEN = "pipedrive-api-token-northwind"


def won_deal_746():
    [event] = pipedrive.events((FIXTURES / "pipedrive" / "webhook-v2-deal-won.json").read_bytes(), {})
    return event


def record_deal_746(api):
    api.answer("GET", "/api/v2/deals/746/products", fixture="pipedrive/api/deal-746-products.json")
    api.answer("GET", "/api/v2/organizations/2", fixture="pipedrive/api/organization-2.json")
    api.answer("GET", "/api/v2/persons/3", fixture="pipedrive/api/person-3.json")


def test_a_won_deal_is_completed_with_its_enabled_products_and_organisation(vendor_api):
    record_deal_746(vendor_api)
    [event] = pipedrive.enrich([won_deal_746()], credentials=TOKEN, base_url=vendor_api.base_url)

    assert (event.amount, event.currency) == (Decimal("12400.5"), "EUR")  # value stays the payload's
    install, monitoring = event.lines
    assert (install.description, install.amount, install.recurring) == (
        "Network switch installation", Decimal("4400.5"), None)
    assert (monitoring.quantity, monitoring.unit_price, monitoring.amount) == (Decimal("2"), Decimal("250"), Decimal("500"))
    assert (monitoring.recurring, monitoring.term_months, monitoring.product_id) == ("quarterly", 12, "6")
    customer = event.source_customer
    assert (customer.id, customer.name, customer.email) == ("2", "Northwind IT", "ap@northwind.example")
    assert vendor_api.seen("GET", "/api/v2/deals/746/products")[0]["headers"]["x-api-token"] == TOKEN


def test_a_deal_products_page_cursor_is_followed(vendor_api):
    record_deal_746(vendor_api)
    first = (FIXTURES / "pipedrive/api/deal-746-products.json").read_text().replace(
        '"next_cursor": null', '"next_cursor": "eyJpZCI6NTQ5fQ"')
    vendor_api.answer("GET", "/api/v2/deals/746/products", body=first.encode())
    with pytest.raises(EnrichmentError, match="too many product pages"):
        pipedrive.enrich([won_deal_746()], credentials=TOKEN, base_url=vendor_api.base_url)
    assert vendor_api.seen("GET", "/api/v2/deals/746/products")[1]["query"]["cursor"] == ["eyJpZCI6NTQ5fQ"]


def test_an_unknown_organisation_is_an_enrichment_error(vendor_api):
    record_deal_746(vendor_api)
    vendor_api.answer("GET", "/api/v2/organizations/2", status=404, body={"success": False, "error": "not found"})
    with pytest.raises(EnrichmentError, match="HTTP 404"):
        pipedrive.enrich([won_deal_746()], credentials={"api_token": TOKEN}, base_url=vendor_api.base_url)
