from decimal import Decimal

import pytest

from connectors import salesforce
from connectors.errors import EnrichmentError
from tests.integration.connectors.conftest import FIXTURES

ROOT = "/services/data/v62.0"


def won_without_account():
    [event] = salesforce.events((FIXTURES / "salesforce" / "outbound-two-notifications.xml").read_bytes(), {})
    return event


def credentials(api):
    return {"access_token": "00D5e!salesforce-session-token", "instance_url": api.base_url}


def test_an_opportunity_missing_account_and_amount_is_completed_from_the_rest_api(vendor_api):
    vendor_api.answer("GET", f"{ROOT}/sobjects/Opportunity/0065e00000BvQ3oAAF",
                      fixture="salesforce/api/opportunity-0065e00000BvQ3oAAF.json")
    vendor_api.answer("GET", f"{ROOT}/sobjects/Account/0015e00000ZkN4iAAF",
                      fixture="salesforce/api/account-0015e00000ZkN4iAAF.json")
    vendor_api.answer("GET", f"{ROOT}/query", fixture="salesforce/api/query-line-items-0065e00000BvQ3oAAF.json")

    [event] = salesforce.enrich([won_without_account()], credentials=credentials(vendor_api))

    assert event.amount == Decimal("7250.5")
    assert (event.source_customer.id, event.source_customer.name) == ("0015e00000ZkN4iAAF", "Contoso Ltd")
    install, hours = event.lines
    assert (install.description, install.sku, install.amount) == ("Firewall installation", "FW-INSTALL", Decimal("5000.0"))
    assert (hours.quantity, hours.unit_price, hours.amount) == (Decimal("15.0"), Decimal("150.0333"), Decimal("2250.5"))
    [query] = vendor_api.seen("GET", f"{ROOT}/query")
    assert "WHERE OpportunityId = '0065e00000BvQ3oAAF'" in query["query"]["q"][0]
    assert query["headers"]["Authorization"] == "Bearer 00D5e!salesforce-session-token"


def test_an_opportunity_that_names_its_account_is_not_fetched_again(vendor_api):
    vendor_api.answer("GET", f"{ROOT}/sobjects/Account/0015e00000ZkM3hAAF",
                      fixture="salesforce/api/account-0015e00000ZkN4iAAF.json")
    vendor_api.answer("GET", f"{ROOT}/query", body={"totalSize": 0, "done": True, "records": []})
    [event] = salesforce.events((FIXTURES / "salesforce" / "outbound-opportunity-won.xml").read_bytes(), {})
    [event] = salesforce.enrich([event], credentials=credentials(vendor_api))
    assert event.amount == Decimal("36000.0") and event.lines == ()
    assert vendor_api.seen("GET", f"{ROOT}/sobjects/Opportunity/0065e00000BvQ1mAAF") == []


def test_the_token_goes_only_to_the_stored_instance_never_to_a_host_named_in_the_message(vendor_api):
    with pytest.raises(EnrichmentError, match="no Salesforce instance URL"):
        salesforce.enrich([won_without_account()], credentials={"access_token": "t"})


def test_an_expired_session_is_an_enrichment_error(vendor_api):
    vendor_api.answer("GET", f"{ROOT}/sobjects/Opportunity/0065e00000BvQ3oAAF", status=401,
                      body=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    with pytest.raises(EnrichmentError, match="HTTP 401"):
        salesforce.enrich([won_without_account()], credentials=credentials(vendor_api))
