"""Stripe enrichment: a renewal's lines built from the subscription, and the customer's details.

``GET /v1/subscriptions/{id}`` with ``expand[]=items.data.price.product`` and ``expand[]=customer``
(https://docs.stripe.com/api/subscriptions/retrieve, https://docs.stripe.com/expand). Both kinds of
renewal event are completed from this one fetch, so they draft the same invoice.
Credentials: a secret or restricted key (str) or ``{"api_key": ...}``; the ``Stripe-Version`` sent is
the endpoint setting ``api_version`` (default below), and both API shapes are read.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from connectors.api_client import JsonApi, enrich_each, stored_token
from connectors.base import dict_or_empty, setting
from connectors.errors import EnrichmentError
from connectors.stripe_money import from_minor
from rules.events import Event, EventKind, EventLine, SourceCustomer

BASE_URL = "https://api.stripe.com"
API_VERSION = "2025-03-31.basil"
# A price's recurring interval and count, in the words ``rules.EventLine.recurring`` uses.
INTERVALS = {("week", 1): "weekly", ("week", 2): "biweekly", ("month", 1): "monthly", ("month", 3): "quarterly",
             ("month", 6): "semiannually", ("year", 1): "annually", ("year", 2): "biennially"}


def enrich(events: list[Event], *, credentials, base_url=None, session=None, settings=None) -> list[Event]:
    """Renewals completed with lines, amount and customer; contract ends with the customer."""
    key = stored_token(credentials, ("api_key",), "no Stripe API key is stored for this endpoint")
    headers = {"Authorization": f"Bearer {key}", "Stripe-Version": setting(settings, "api_version", API_VERSION)}
    api = JsonApi.for_endpoint("Stripe", headers=headers, base_url=base_url, default_base_url=BASE_URL,
                               session=session, settings=settings)
    return enrich_each(api, events, lambda e: _enrich_one(api, e), lambda e: f"the data of {e.source_object_id}")


def _enrich_one(api: JsonApi, event: Event) -> Event:
    if event.kind is EventKind.SUBSCRIPTION_RENEWED:
        return _renewal(api, event)
    if event.kind is EventKind.CONTRACT_ENDED and event.source_customer is not None:
        customer = api.get(f"/v1/customers/{event.source_customer.id}")
        return replace(event, source_customer=_customer(customer, event.source_customer.id),
                       attributes={**event.attributes, "needs_enrichment": False})
    return event


def _renewal(api: JsonApi, event: Event) -> Event:
    subscription_id = event.attributes["subscription_id"]
    sub = api.get(f"/v1/subscriptions/{subscription_id}",
                  params=[("expand[]", "items.data.price.product"), ("expand[]", "customer")])
    currency = str(sub.get("currency") or event.currency or "").upper()
    if not currency:
        raise EnrichmentError(f"Stripe subscription {subscription_id} has no currency")
    items = ((sub.get("items") or {}).get("data")) or []
    lines = tuple(_line(item, currency) for item in items if isinstance(item, dict))
    known = [line.amount for line in lines]
    amount = sum(known, Decimal("0")) if known and None not in known else None
    customer_id = event.source_customer.id if event.source_customer else None
    customer = _customer(sub["customer"], customer_id) if isinstance(sub.get("customer"), dict) else event.source_customer
    return replace(event, lines=lines, amount=amount, currency=currency, source_customer=customer,
                   attributes={**event.attributes, "subscription_status": sub.get("status"), "needs_enrichment": False})


def _line(item: dict, currency: str) -> EventLine:
    price = dict_or_empty(item.get("price"))
    product = price.get("product")
    name = product.get("name") if isinstance(product, dict) else None
    quantity = Decimal(str(item.get("quantity") if item.get("quantity") is not None else 1))
    try:
        unit = from_minor(price.get("unit_amount_decimal") or price.get("unit_amount"), currency)
    except ValueError as exc:
        raise EnrichmentError(f"Stripe price {price.get('id')}: {exc}") from None
    recurring = dict_or_empty(price.get("recurring"))
    interval, count = recurring.get("interval"), int(recurring.get("interval_count") or 1)
    return EventLine(
        description=name or price.get("nickname") or price.get("id") or "subscription item",
        quantity=quantity, unit_price=unit,
        amount=unit * quantity if unit is not None else None,  # tiered prices have no unit amount
        product_id=product.get("id") if isinstance(product, dict) else product,
        product_name=name, sku=price.get("lookup_key") or None,
        recurring=INTERVALS.get((interval, count)) or (f"every {count} {interval}s" if interval else None),
    )  # a Stripe subscription has a billing interval but no fixed term, so term_months stays None


def _customer(customer: dict, fallback_id: str | None) -> SourceCustomer | None:
    customer_id = customer.get("id") or fallback_id
    if not customer_id:
        return None
    if customer.get("deleted"):
        return SourceCustomer(id=customer_id, attributes={"deleted": True})
    return SourceCustomer(id=customer_id, name=customer.get("name"), email=customer.get("email"),
                          phone=customer.get("phone"), attributes={"kind": "customer"})
