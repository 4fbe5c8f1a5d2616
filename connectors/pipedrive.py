"""Pipedrive: a deal whose status changes to ``won`` becomes a ``deal_won`` event.

Webhooks v2: https://pipedrive.readme.io/docs/guide-for-webhooks-v2 (``meta``, ``data`` and
``previous``; ``previous`` holds only the fields that changed; retried 3 times after 3, 30 and
150 s). v1 deliveries (``current``/``previous``, ``event: updated.deal``) are read too:
https://pipedrive.readme.io/docs/webhooks-v2-migration-guide.
Pipedrive signs nothing: the webhook is created with ``http_auth_user``/``http_auth_password``
(https://developers.pipedrive.com/docs/api/v1/Webhooks#addWebhook) and autobill checks that
HTTP Basic pair on top of the unguessable endpoint token.

Per-endpoint settings: ``company_id`` (refuse deliveries from any other Pipedrive company).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.base import Headers, Reading, body_digest, decimal_or_none, load_json, setting
from connectors.errors import PayloadError, VerificationError
from connectors.pipedrive_api import enrich
from connectors.signing import same, secret_bytes
from connectors.timeparse import from_epoch_millis, from_epoch_seconds, parse_instant
from rules.events import Event, EventKind, SourceCustomer

SOURCE = "pipedrive"

__all__ = ["verify", "delivery_key", "events", "ignored_reason", "enrich"]


def _expected_pair(secret) -> bytes:
    if isinstance(secret, Mapping):
        secret = f"{secret.get('user', '')}:{secret.get('password', '')}"
        if secret == ":":
            secret = None
    pair = secret_bytes(secret)
    if b":" not in pair:
        raise VerificationError("the stored Pipedrive secret must be the user:password pair of the webhook")
    return pair


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Check the webhook's HTTP Basic user and password (Pipedrive has no signature)."""
    expected = _expected_pair(secret)
    scheme, _, token = Headers(headers).require("Authorization").strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        raise VerificationError("Authorization header is not HTTP Basic")
    try:
        given = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("Authorization header is not valid Basic credentials") from None
    if not same(given, expected):
        raise VerificationError("HTTP Basic user or password does not match the webhook's")
    company = setting(settings, "company_id")
    if company is not None:
        try:
            sent = str(_meta(load_json(raw_body)).get("company_id"))
        except PayloadError:
            return  # authentic but unreadable: kept in the inbox and reported by events()
        if sent != str(company):
            raise VerificationError("the delivery comes from another Pipedrive company (meta.company_id)")


def _meta(body: Any) -> dict:
    if not isinstance(body, dict):
        raise PayloadError("a Pipedrive delivery is a JSON object")
    meta = body.get("meta")
    if not isinstance(meta, dict):
        raise PayloadError("the delivery has no meta object")
    return meta


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """``meta.id`` (the event id, the same on every attempt); a body hash when there is none."""
    try:
        meta = _meta(load_json(raw_body))
    except PayloadError:
        return body_digest(raw_body)
    event_id = meta.get("id")
    if event_id is None or isinstance(event_id, dict | list):
        return body_digest(raw_body)
    return f"{meta.get('company_id', '?')}:{event_id}"


def _instant(value: Any, field: str) -> datetime:
    if (isinstance(value, int | Decimal) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit()):
        return from_epoch_millis(value) if int(value) > 10**11 else from_epoch_seconds(value)
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        value = value.replace(" ", "T") + "+00:00"  # v1 times are UTC without an offset
    return parse_instant(value, field)


def _id(value: Any) -> str | None:
    if isinstance(value, dict):  # v1 expands related objects as {"value": id, "name": ...}
        value = value.get("value") if value.get("value") is not None else value.get("id")
    return None if value in (None, "", 0) else str(value)


def _classify(raw_body: bytes) -> Reading:
    body = load_json(raw_body)
    meta = _meta(body)
    entity = meta.get("entity") or meta.get("object")
    action = meta.get("action")
    if entity != "deal":
        return Reading([], f"a {entity or 'unknown'} notification, not a deal")
    if action not in ("change", "updated"):
        return Reading([], f"a deal {action or 'notification'}, not a change of status")
    data = body.get("data") if "data" in body else body.get("current")
    previous = body.get("previous")
    if not isinstance(data, dict):
        raise PayloadError("the deal change has no data object")
    if data.get("status") != "won":
        return Reading([], f"deal {data.get('id')} is {data.get('status') or 'without status'}, not won")
    if not isinstance(previous, dict) or "status" not in previous:
        return Reading([], f"deal {data.get('id')} is won but its status did not change in this update")
    if previous.get("status") == "won":
        return Reading([], f"deal {data.get('id')} was already won")
    if data.get("id") is None:
        raise PayloadError("the won deal has no id")
    when = data.get("won_time") or data.get("close_time") or meta.get("timestamp") or data.get("update_time")
    if when is None:
        raise PayloadError("the won deal carries no time (won_time, meta.timestamp or update_time)")
    org, person = _id(data.get("org_id")), _id(data.get("person_id"))
    customer = SourceCustomer(id=org) if org else SourceCustomer(id=f"person:{person}") if person else None
    event = Event(
        kind=EventKind.DEAL_WON,
        source=SOURCE,
        source_object_id=str(data["id"]),
        occurred_at=_instant(when, "won_time"),
        source_customer=customer,
        amount=decimal_or_none(data.get("value"), "data.value"),
        currency=str(data["currency"]).upper() if data.get("currency") else None,
        source_event_id=str(meta["id"]) if meta.get("id") is not None else None,
        attributes={
            "title": data.get("title"), "pipeline_id": data.get("pipeline_id"), "stage_id": data.get("stage_id"),
            "org_id": org, "person_id": person, "company_id": meta.get("company_id"), "host": meta.get("host"),
            "needs_enrichment": True,
        },
    )
    return Reading([event])


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """A ``deal_won`` event when the deal's status changed to won in this update."""
    return _classify(raw_body).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why the delivery yields no event (``None`` when it yields one)."""
    return _classify(raw_body).ignored

