"""Salesforce enrichment: a won Opportunity's account, amount and line items from the REST API.

Records: ``GET /services/data/vXX.X/sobjects/{Object}/{id}``
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm);
line items by SOQL ``GET /services/data/vXX.X/query?q=...`` (``records``, ``done``, ``nextRecordsUrl``).
Credentials: ``{"access_token": ..., "instance_url": "https://<my-domain>.my.salesforce.com"}``.
The token is only ever sent to the stored instance URL (or the configured base URL), never to a
host named in a message, so a forged message cannot collect it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from connectors.api_client import JsonApi, enrich_each, unreadable_as_enrichment
from connectors.base import decimal_or_none, quantity_or_one, setting
from connectors.errors import EnrichmentError
from rules.events import Event, EventKind, EventLine, SourceCustomer

API_VERSION = "v62.0"
_SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
LINE_ITEM_QUERY = (
    "SELECT Id, Quantity, UnitPrice, TotalPrice, ProductCode, Product2Id, Product2.Name, Description "
    "FROM OpportunityLineItem WHERE OpportunityId = '{id}' ORDER BY SortOrder"
)


def _api(credentials: Any, base_url, session, settings) -> JsonApi:
    if not isinstance(credentials, dict) or not credentials.get("access_token"):
        raise EnrichmentError("no Salesforce access token is stored for this endpoint")
    base = base_url or credentials.get("instance_url") or setting(settings, "api_base_url")
    if not base:
        raise EnrichmentError("no Salesforce instance URL is stored for this endpoint")
    return JsonApi(base, headers={"Authorization": f"Bearer {credentials['access_token']}"},
                   vendor="Salesforce", session=session, timeout=setting(settings, "http_timeout"))


def _checked(record_id: str) -> str:
    if not _SALESFORCE_ID.match(record_id or ""):
        raise EnrichmentError(f"{record_id[:30]!r} is not a Salesforce record id")
    return record_id


def enrich(events: list[Event], *, credentials, base_url=None, session=None, settings=None) -> list[Event]:
    """Each won Opportunity completed with its account, amount, currency and line items."""
    api = _api(credentials, base_url, session, settings)
    version = setting(settings, "api_version", API_VERSION)
    root = f"/services/data/{version}"
    return enrich_each(api, events, lambda e: _enrich_one(api, root, e) if e.kind is EventKind.DEAL_WON else e,
                       lambda e: f"opportunity {e.source_object_id}")


def _enrich_one(api: JsonApi, root: str, event: Event) -> Event:
    opportunity_id = _checked(event.source_object_id)
    amount, currency = event.amount, event.currency
    account_id = event.source_customer.id if event.source_customer else None
    if account_id is None or amount is None:
        record = api.get(f"{root}/sobjects/Opportunity/{opportunity_id}")
        account_id = account_id or record.get("AccountId")
        amount = amount if amount is not None else _decimal(record.get("Amount"), opportunity_id)
        currency = currency or record.get("CurrencyIsoCode")
    customer = event.source_customer
    if account_id:
        account = api.get(f"{root}/sobjects/Account/{_checked(account_id)}")
        customer = SourceCustomer(
            id=account_id, name=account.get("Name"), phone=account.get("Phone"),
            attributes={"kind": "account", "website": account.get("Website"),
                        "billing_city": account.get("BillingCity"), "billing_country": account.get("BillingCountry")},
        )
    lines = _line_items(api, root, opportunity_id)
    return replace(event, amount=amount, currency=currency, source_customer=customer, lines=tuple(lines),
                   attributes={**event.attributes, "account_id": account_id, "needs_enrichment": False})


def _decimal(value: Any, where: str) -> Decimal | None:
    with unreadable_as_enrichment(f"Salesforce {where}"):
        return decimal_or_none(value, "Amount")


def _line_items(api: JsonApi, root: str, opportunity_id: str) -> list[EventLine]:
    answer = api.get(f"{root}/query", params={"q": LINE_ITEM_QUERY.format(id=opportunity_id)})
    lines: list[EventLine] = []
    for _ in range(100):
        for record in answer.get("records") or []:
            product = record.get("Product2") or {}
            name = product.get("Name") or record.get("Description") or f"line item {record.get('Id')}"
            lines.append(EventLine(
                description=name,
                quantity=quantity_or_one(_decimal(record.get("Quantity"), opportunity_id)),
                unit_price=_decimal(record.get("UnitPrice"), opportunity_id),
                amount=_decimal(record.get("TotalPrice"), opportunity_id),
                product_id=record.get("Product2Id"), sku=record.get("ProductCode") or None, product_name=product.get("Name"),
            ))
        next_url = answer.get("nextRecordsUrl")
        if answer.get("done", True) or not next_url:
            return lines
        if not str(next_url).startswith("/services/data/"):
            raise EnrichmentError("Salesforce answered an unexpected nextRecordsUrl")
        answer = api.get(next_url)
    raise EnrichmentError(f"Salesforce opportunity {opportunity_id} has too many line item pages")
