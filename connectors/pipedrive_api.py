"""Pipedrive enrichment: a won deal's products and its organisation, from the API v2.

Deal products: ``GET /api/v2/deals/{id}/products`` (https://developers.pipedrive.com/docs/api/v2/Deals,
with ``billing_frequency`` and ``billing_frequency_cycles`` on each product line).
Organisations and persons: ``GET /api/v2/organizations/{id}``, ``GET /api/v2/persons/{id}``.
Credentials: an API token (str) or ``{"api_token": ...}``, sent in the ``x-api-token`` header.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.api_client import JsonApi, enrich_each, stored_token, unreadable_as_enrichment
from connectors.base import decimal_or_none, quantity_or_one
from connectors.errors import EnrichmentError
from rules.events import Event, EventKind, EventLine, SourceCustomer

BASE_URL = "https://api.pipedrive.com"
# Pipedrive's billing_frequency values, in the words ``rules.EventLine.recurring`` uses, with months.
FREQUENCIES = {
    "weekly": ("weekly", None), "monthly": ("monthly", 1), "quarterly": ("quarterly", 3),
    "semi-annually": ("semiannually", 6), "annually": ("annually", 12),
}


def enrich(events: list[Event], *, credentials, base_url=None, session=None, settings=None) -> list[Event]:
    """Each won deal completed with its product lines and its organisation (or person)."""
    token = stored_token(credentials, ("api_token",), "no Pipedrive API token is stored for this endpoint")
    api = JsonApi.for_endpoint("Pipedrive", headers={"x-api-token": token}, base_url=base_url,
                               default_base_url=BASE_URL, session=session, settings=settings)
    return enrich_each(api, events, lambda e: _enrich_one(api, e) if e.kind is EventKind.DEAL_WON else e,
                       lambda e: f"deal {e.source_object_id}")


def _data(answer: Any, what: str) -> Any:
    if not isinstance(answer, dict) or answer.get("success") is False:
        raise EnrichmentError(f"Pipedrive did not return the {what}")
    return answer.get("data")


def _enrich_one(api: JsonApi, event: Event) -> Event:
    lines = _products(api, event.source_object_id)
    attrs = event.attributes
    customer = event.source_customer
    person = _person(api, attrs.get("person_id")) if attrs.get("person_id") else None
    if attrs.get("org_id"):
        org = _data(api.get(f"/api/v2/organizations/{attrs['org_id']}"), "organisation") or {}
        address = org.get("address")
        customer = SourceCustomer(
            id=str(attrs["org_id"]), name=org.get("name"), email=(person or {}).get("email"),
            phone=(person or {}).get("phone"),
            attributes={"kind": "organization", "address": address.get("value") if isinstance(address, dict) else address},
        )
    elif person is not None:
        customer = SourceCustomer(id=f"person:{attrs['person_id']}", name=person.get("name"),
                                  email=person.get("email"), phone=person.get("phone"), attributes={"kind": "person"})
    return replace(event, lines=tuple(lines), source_customer=customer,
                   attributes={**attrs, "needs_enrichment": False})


def _primary(values: Any) -> str | None:
    if not isinstance(values, list):
        return None
    entries = [v for v in values if isinstance(v, dict) and v.get("value")]
    chosen = next((v for v in entries if v.get("primary")), entries[0] if entries else None)
    return chosen["value"] if chosen else None


def _person(api: JsonApi, person_id: str) -> dict:
    person = _data(api.get(f"/api/v2/persons/{person_id}"), "person") or {}
    return {"name": person.get("name"), "email": _primary(person.get("emails")),
            "phone": _primary(person.get("phones"))}


def _products(api: JsonApi, deal_id: str) -> list[EventLine]:
    lines: list[EventLine] = []
    cursor = None
    for _ in range(50):  # 50 pages of 500 is far beyond any real deal
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        answer = api.get(f"/api/v2/deals/{deal_id}/products", params=params)
        for item in _data(answer, "deal products") or []:
            if item.get("is_enabled", item.get("enabled_flag", True)) is False:
                continue  # disabled products do not count towards the deal value
            lines.append(_line(deal_id, item))
        cursor = ((answer.get("additional_data") or {}).get("next_cursor"))
        if not cursor:
            return lines
    raise EnrichmentError(f"Pipedrive deal {deal_id} has too many product pages")


def _line(deal_id: str, item: dict) -> EventLine:
    with unreadable_as_enrichment(f"Pipedrive deal {deal_id} product"):
        quantity = quantity_or_one(decimal_or_none(item.get("quantity"), "quantity"))
        price = decimal_or_none(item.get("item_price"), "item_price")
        amount = decimal_or_none(item.get("sum"), "sum")
    cycles = item.get("billing_frequency_cycles")
    recurring, months = FREQUENCIES.get(item.get("billing_frequency") or "one-time", (None, None))
    term = months * int(cycles) if months and isinstance(cycles, int) and not isinstance(cycles, bool) else None
    return EventLine(
        description=item.get("name") or f"product {item.get('product_id')}",
        quantity=quantity, unit_price=price, amount=amount,
        product_id=str(item["product_id"]) if item.get("product_id") is not None else None,
        product_name=item.get("name"), recurring=recurring, term_months=term,
    )
