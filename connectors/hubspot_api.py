"""HubSpot enrichment: a won deal's amount, currency, line items and company, from the CRM API.

Deals: https://developers.hubspot.com/docs/api/crm/deals (``GET /crm/v3/objects/deals/{id}`` with
``properties`` and ``associations``). Line items: https://developers.hubspot.com/docs/api/crm/line-items
(``POST /crm/v3/objects/line_items/batch/read``; ``recurringbillingfrequency`` and the term
``hs_recurring_billing_period`` as an ISO 8601 period). Companies and contacts: ``/crm/v3/objects/...``.
Credentials: a private app access token (str) or ``{"access_token": ...}``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from connectors.api_client import JsonApi, enrich_each, stored_token, unreadable_as_enrichment
from connectors.base import decimal_or_none, quantity_or_one, setting
from rules.events import Event, EventKind, EventLine, SourceCustomer

BASE_URL = "https://api.hubapi.com"
DEAL_PROPERTIES = "amount,deal_currency_code,dealname,closedate,dealstage,pipeline,hs_is_closed_won"
LINE_ITEM_PROPERTIES = [
    "name", "description", "quantity", "price", "amount", "hs_sku", "hs_product_id",
    "recurringbillingfrequency", "hs_recurring_billing_period", "hs_line_item_currency_code",
]
# HubSpot's frequency values, in the words ``rules.EventLine.recurring`` uses.
FREQUENCIES = {
    "weekly": "weekly", "biweekly": "biweekly", "monthly": "monthly", "quarterly": "quarterly",
    "per_six_months": "semiannually", "annually": "annually", "per_two_years": "biennially",
    "per_three_years": "triennially", "per_four_years": "every 48 months", "per_five_years": "every 60 months",
}
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?$")


def enrich(events: list[Event], *, credentials, base_url=None, session=None, settings=None) -> list[Event]:
    """Each won deal completed with its amount, currency, line items and company."""
    token = stored_token(credentials, ("access_token",), "no HubSpot access token is stored for this endpoint")
    api = JsonApi.for_endpoint("HubSpot", headers={"Authorization": f"Bearer {token}"}, base_url=base_url,
                               default_base_url=BASE_URL, session=session, settings=settings)
    won = set(setting(settings, "won_stage_ids", ())) | {"closedwon"}
    return enrich_each(api, events, lambda e: _enrich_one(api, e, won) if e.kind is EventKind.DEAL_WON else e,
                       lambda e: f"deal {e.source_object_id}")


def _associated_ids(deal: dict, *names: str) -> list[str]:
    associations = deal.get("associations") or {}
    for name in names:
        block = associations.get(name)
        if block:
            return [str(item["id"]) for item in block.get("results", []) if item.get("id") is not None]
    return []


def _enrich_one(api: JsonApi, event: Event, won_stages: set[str]) -> Event:
    deal = api.get(
        f"/crm/v3/objects/deals/{event.source_object_id}",
        params={"properties": DEAL_PROPERTIES, "associations": "companies,contacts,line_items"},
    )
    props = deal.get("properties") or {}
    with unreadable_as_enrichment(f"HubSpot deal {event.source_object_id}"):
        amount = decimal_or_none(props.get("amount"), "deal amount")
    lines = _line_items(api, _associated_ids(deal, "line items", "line_items"))
    currency = props.get("deal_currency_code") or next((c for _, c in lines if c), None)
    customer = _customer(api, _associated_ids(deal, "companies"), _associated_ids(deal, "contacts"))
    stage = props.get("dealstage")
    attributes = {
        **event.attributes,
        "deal_name": props.get("dealname"),
        "close_date": props.get("closedate"),
        "pipeline": props.get("pipeline"),
        "stage_at_enrichment": stage,
        "won_at_enrichment": stage in won_stages or props.get("hs_is_closed_won") == "true",
        "needs_enrichment": False,
    }
    return replace(
        event, amount=amount, currency=currency.upper() if currency else None,
        lines=tuple(line for line, _ in lines), source_customer=customer, attributes=attributes,
    )


def _line_items(api: JsonApi, ids: list[str]) -> list[tuple[EventLine, str | None]]:
    if not ids:
        return []
    answer = api.post(
        "/crm/v3/objects/line_items/batch/read",
        {"properties": LINE_ITEM_PROPERTIES, "inputs": [{"id": i} for i in ids]},
    )
    by_id = {str(item.get("id")): item.get("properties") or {} for item in answer.get("results", [])}
    lines = []
    for line_id in ids:  # keep the deal's order
        if line_id in by_id:
            lines.append(_line(line_id, by_id[line_id]))
    return lines


def _line(line_id: str, props: dict) -> tuple[EventLine, str | None]:
    with unreadable_as_enrichment(f"HubSpot line item {line_id}"):
        quantity = quantity_or_one(decimal_or_none(props.get("quantity"), "quantity"))
        price = decimal_or_none(props.get("price"), "price")
        amount = decimal_or_none(props.get("amount"), "amount")
    frequency = props.get("recurringbillingfrequency")
    line = EventLine(
        description=props.get("name") or props.get("description") or f"line item {line_id}",
        quantity=quantity, unit_price=price, amount=amount,
        product_id=props.get("hs_product_id") or None, sku=props.get("hs_sku") or None,
        product_name=props.get("name") or None,
        recurring=FREQUENCIES.get(frequency, frequency) if frequency else None,
        term_months=term_months(props.get("hs_recurring_billing_period")),
    )
    return line, props.get("hs_line_item_currency_code")


def term_months(period: str | None) -> int | None:
    """Months in an ISO 8601 period of years and months (``P12M``, ``P1Y6M``); None otherwise."""
    match = _PERIOD.match(period or "")
    if not match or not any(match.groups()):
        return None
    years, months = (int(g or 0) for g in match.groups())
    return years * 12 + months or None


def _customer(api: JsonApi, company_ids: list[str], contact_ids: list[str]) -> SourceCustomer | None:
    contact = None
    if contact_ids:
        contact = (api.get(f"/crm/v3/objects/contacts/{contact_ids[0]}",
                           params={"properties": "email,firstname,lastname,phone"}).get("properties") or {})
    if company_ids:
        company = api.get(f"/crm/v3/objects/companies/{company_ids[0]}",
                          params={"properties": "name,domain,phone"}).get("properties") or {}
        return SourceCustomer(
            id=company_ids[0], name=company.get("name"), email=(contact or {}).get("email"),
            phone=company.get("phone"), attributes={"domain": company.get("domain"), "kind": "company"},
        )
    if contact is not None:
        name = " ".join(p for p in (contact.get("firstname"), contact.get("lastname")) if p) or None
        return SourceCustomer(id=f"contact:{contact_ids[0]}", name=name, email=contact.get("email"),
                              phone=contact.get("phone"), attributes={"kind": "contact"})
    return None
