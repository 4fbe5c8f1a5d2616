"""Stripe: subscription renewals become ``subscription_renewed`` events, cancellations ``contract_ended``.

Events: https://docs.stripe.com/api/events (``id``, ``type``, ``api_version``, ``data.object``,
``data.previous_attributes``). Signatures: https://docs.stripe.com/webhooks#verify-manually
(``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``, several ``v1`` during secret
rotation, a 300 s tolerance as in Stripe's SDKs). Live mode retries for up to three days, in no
order, possibly twice.

A renewal is named by its subscription and the new period's start, whichever event tells of it:
``invoice.paid`` with ``billing_reason`` ``subscription_cycle`` (the period of its subscription
line, not the invoice's own ``period_start``, which is the period just ended) or
``customer.subscription.updated`` whose period start moved forward. Both yield the same event
(same object id, period, time and currency) and enrichment builds its lines from the same fetched
subscription, so one renewal drafts one invoice whichever arrives first.

API 2025-03-31 ("basil") moved ``invoice.subscription`` to
``invoice.parent.subscription_details.subscription``, line ``type``/``subscription`` to
``line.parent``, and ``current_period_start``/``_end`` from the subscription to its items:
https://docs.stripe.com/changelog/basil/2025-03-31/deprecate-subscription-current-period-start-and-end
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import Reading, body_digest, dict_or_empty, load_json, setting
from connectors.errors import PayloadError
from connectors.signing import verify_stamped_hmac
from connectors.stripe_api import enrich
from connectors.timeparse import from_epoch_seconds
from rules.events import Event, EventKind, SourceCustomer

SOURCE = "stripe"
TOLERANCE_SECONDS = 300
BASIL = "2025-03-31"
RENEWING_STATUSES = ("active", "past_due")

__all__ = ["verify", "delivery_key", "events", "ignored_reason", "enrich", "renewal_id"]


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Check ``Stripe-Signature`` over the raw body: any ``v1`` may match, within the tolerance."""
    verify_stamped_hmac(raw_body, headers, secret, header="Stripe-Signature", now=now,
                        tolerance_seconds=float(setting(settings, "tolerance_seconds", TOLERANCE_SECONDS)))


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """The event's ``evt_...`` id, the same on every retry."""
    try:
        body = load_json(raw_body)
    except PayloadError:
        return body_digest(raw_body)
    event_id = body.get("id") if isinstance(body, dict) else None
    return event_id if isinstance(event_id, str) and event_id else body_digest(raw_body)


def renewal_id(subscription_id: str, period_start: datetime) -> str:
    """The source object of a renewal: the subscription and the UTC start of its new period."""
    return f"{subscription_id}:{period_start.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def _is_basil(body: dict) -> bool:
    return str(body.get("api_version") or "") >= BASIL


def _unix(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{field} is not a Unix timestamp")
    return value


def _id(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _invoice_subscription(invoice: dict, basil: bool) -> str | None:
    details = dict_or_empty(dict_or_empty(invoice.get("parent")).get("subscription_details"))
    new, old = _id(details.get("subscription")), _id(invoice.get("subscription"))
    # Each version has one place; the other is read only when an account mixes them.
    return (new or old) if basil else (old or new)


def _subscription_line_period(invoice: dict) -> tuple[Any, Any]:
    lines = dict_or_empty(invoice.get("lines")).get("data")
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, dict):
            continue
        parent = dict_or_empty(line.get("parent"))
        item = dict_or_empty(parent.get("subscription_item_details"))
        is_subscription = line.get("type") == "subscription" or parent.get("type") == "subscription_item_details"
        if is_subscription and not (line.get("proration") or item.get("proration")):
            period = dict_or_empty(line.get("period"))
            return _unix(period.get("start"), "line period start"), _unix(period.get("end"), "line period end")
    return None, None


def _item_periods(holder: dict, field: str) -> list[int]:
    data = dict_or_empty(holder.get("items")).get("data")
    data = data if isinstance(data, list) else []
    return [_unix(i[field], f"item {field}") for i in data if isinstance(i, dict) and i.get(field) is not None]


def _subscription_period(subscription: dict, basil: bool) -> tuple[int | None, int | None]:
    if not basil and subscription.get("current_period_start") is not None:
        return (_unix(subscription.get("current_period_start"), "current_period_start"),
                _unix(subscription.get("current_period_end"), "current_period_end"))
    starts, ends = _item_periods(subscription, "current_period_start"), _item_periods(subscription, "current_period_end")
    if not starts and subscription.get("current_period_start") is not None:
        return _subscription_period(subscription, False)
    return (min(starts) if starts else None), (min(ends) if ends else None)


def _previous_period_start(previous: dict, basil: bool) -> int | None:
    if not basil and previous.get("current_period_start") is not None:
        return _unix(previous["current_period_start"], "previous current_period_start")
    starts = _item_periods(previous, "current_period_start")
    if not starts and previous.get("current_period_start") is not None:
        return _unix(previous["current_period_start"], "previous current_period_start")
    return min(starts) if starts else None


def _renewal(body: dict, subscription_id: str | None, customer: Any, currency: Any, start: Any, end: Any) -> Event:
    if not subscription_id:
        raise PayloadError("the renewal names no subscription")
    if start is None:
        raise PayloadError(f"the renewal of {subscription_id} carries no period start")
    began = from_epoch_seconds(start)
    ended = from_epoch_seconds(end) if end is not None else None
    customer_id = _id(customer)
    return Event(
        kind=EventKind.SUBSCRIPTION_RENEWED, source=SOURCE,
        source_object_id=renewal_id(subscription_id, began),
        occurred_at=began,  # the renewal happens at the period start, whichever event reports it
        source_customer=SourceCustomer(id=customer_id) if customer_id else None,
        currency=str(currency).upper() if currency else None,
        source_event_id=_id(body.get("id")),
        period_start=began.date(), period_end=ended.date() if ended else None,
        attributes={"subscription_id": subscription_id, "period_start_unix": int(began.timestamp()),
                    "livemode": body.get("livemode"), "stripe_event_type": body.get("type"),
                    "needs_enrichment": True},
    )


def _classify(raw_body: bytes) -> Reading:
    body = load_json(raw_body)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise PayloadError("a Stripe event is a JSON object with a data object")
    kind, obj = body.get("type"), body["data"].get("object")
    if not isinstance(obj, dict):
        raise PayloadError("the Stripe event has no data.object")
    if kind == "invoice.paid":
        reason = obj.get("billing_reason")
        if reason != "subscription_cycle":
            return Reading([], f"invoice {obj.get('id')} was paid for {reason or 'no billing reason'}, "
                               f"not a subscription renewal")
        start, end = _subscription_line_period(obj)
        subscription = _invoice_subscription(obj, _is_basil(body))
        return Reading([_renewal(body, subscription, obj.get("customer"), obj.get("currency"), start, end)])
    if kind == "customer.subscription.updated":
        previous = body["data"].get("previous_attributes") or {}
        start, end = _subscription_period(obj, _is_basil(body))
        before = _previous_period_start(previous, _is_basil(body)) if isinstance(previous, dict) else None
        if before is None or start is None or start <= before:
            changed = ", ".join(sorted(previous)) if isinstance(previous, dict) and previous else "nothing named"
            return Reading([], f"subscription {obj.get('id')} was updated without starting a new period "
                               f"(changed: {changed})")
        if obj.get("status") not in RENEWING_STATUSES:
            return Reading([], f"subscription {obj.get('id')} started a new period while {obj.get('status')}; "
                               f"not billed")
        subscription = _id(obj.get("id"))
        return Reading([_renewal(body, subscription, obj.get("customer"), obj.get("currency"), start, end)])
    if kind == "customer.subscription.deleted":
        return Reading([_ended(body, obj)])
    return Reading([], f"Stripe event type {kind} is not used for billing")


def _ended(body: dict, subscription: dict) -> Event:
    subscription_id = _id(subscription.get("id"))
    if not subscription_id:
        raise PayloadError("the deleted subscription has no id")
    when = subscription.get("ended_at") or subscription.get("canceled_at") or body.get("created")
    _unix(when, "ended_at")
    if when is None:
        raise PayloadError(f"the end of {subscription_id} carries no time")
    ended = from_epoch_seconds(when)
    customer_id = _id(subscription.get("customer"))
    return Event(
        kind=EventKind.CONTRACT_ENDED, source=SOURCE, source_object_id=subscription_id, occurred_at=ended,
        source_customer=SourceCustomer(id=customer_id) if customer_id else None,
        currency=str(subscription["currency"]).upper() if subscription.get("currency") else None,
        source_event_id=_id(body.get("id")), period_end=ended.date(),
        attributes={"subscription_id": subscription_id, "livemode": body.get("livemode"),
                    "cancellation_reason": dict_or_empty(subscription.get("cancellation_details")).get("reason"),
                    "stripe_event_type": body.get("type"), "needs_enrichment": True},
    )


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """The renewal or contract end the Stripe event tells of (empty for anything else)."""
    return _classify(raw_body).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why the Stripe event yields nothing (``None`` when it yields an event)."""
    return _classify(raw_body).ignored
