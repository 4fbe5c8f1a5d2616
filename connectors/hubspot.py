"""HubSpot: a deal that moves to a won stage becomes a ``deal_won`` event.

Webhooks: https://developers.hubspot.com/docs/api/webhooks (a JSON array of up to 100
notifications per request; retried up to 10 times over 24 hours; no ordering, duplicates possible).
Signatures: https://developers.hubspot.com/docs/api/webhooks/validating-requests
(v3: ``X-HubSpot-Signature-v3`` = base64 HMAC-SHA256 of method + URI + body + timestamp, 5 minutes;
v1/v2: ``X-HubSpot-Signature`` = hex SHA-256 of secret + [method + URI +] body).

Per-endpoint settings: ``won_stage_ids`` (list of stage ids that count as won besides the default
pipeline's ``closedwon``: custom pipelines use numeric stage ids), ``portal_id`` (refuse
deliveries from any other HubSpot account).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from connectors.base import Headers, Reading, batch_key, body_digest, load_json, setting
from connectors.errors import PayloadError, VerificationError
from connectors.hubspot_api import enrich
from connectors.signing import hmac_sha256, same, secret_bytes, signed_instant
from connectors.timeparse import check_fresh, from_epoch_millis
from rules.events import Event, EventKind

SOURCE = "hubspot"
DEFAULT_WON_STAGES = ("closedwon",)
# HubSpot's Python SDK refuses v3 signatures older than 300 s (Signature.MAX_ALLOWED_TIMESTAMP).
TOLERANCE_SECONDS = 300
# The validation guide asks to decode these percent-escapes in the URI before signing v3.
_DECODED_IN_URI = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B")
# objectTypeId of deals in the generic "object.*" subscriptions.
_DEAL_TYPE_IDS = {"0-3", "deal", "DEAL"}

__all__ = ["verify", "delivery_key", "events", "ignored_reason", "enrich"]


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Check HubSpot's v3 signature (or v1/v2 when v3 is absent) over the raw request."""
    head = Headers(headers)
    key = secret_bytes(secret)
    if head.get("X-HubSpot-Signature-v3"):
        _verify_v3(raw_body, head, key, url=url, method=method, now=now)
    else:
        _verify_legacy(raw_body, head, key, url=url, method=method)
    portal = setting(settings, "portal_id")
    if portal is not None:
        try:
            seen = {str(entry.get("portalId")) for entry in _entries(raw_body) if isinstance(entry, dict)}
        except PayloadError:
            return  # authentic but unreadable: kept in the inbox and reported by events()
        if seen - {str(portal)}:
            raise VerificationError("the delivery comes from another HubSpot account (portalId)")


def _verify_v3(raw_body: bytes, head: Headers, key: bytes, *, url, method, now) -> None:
    signature = head.require("X-HubSpot-Signature-v3")
    stamp = head.require("X-HubSpot-Request-Timestamp")
    if not stamp.isdigit():
        raise VerificationError("X-HubSpot-Request-Timestamp is not a number of milliseconds")
    if not url:
        raise VerificationError("the request URL is needed to check a v3 signature")
    check_fresh(signed_instant(stamp, "X-HubSpot-Request-Timestamp", millis=True), now, TOLERANCE_SECONDS,
                "X-HubSpot-Request-Timestamp")
    for uri in _uri_forms(url):
        message = method.upper().encode() + uri.encode("utf-8") + raw_body + stamp.encode()
        if same(base64.b64encode(hmac_sha256(key, message)), signature.strip()):
            return
    raise VerificationError("X-HubSpot-Signature-v3 does not match the request")


def _verify_legacy(raw_body: bytes, head: Headers, key: bytes, *, url, method) -> None:
    signature = head.require("X-HubSpot-Signature")
    version = (head.get("X-HubSpot-Signature-Version") or "v1").lower()
    if version == "v1":
        candidates = [key + raw_body]
    elif version == "v2":
        if not url:
            raise VerificationError("the request URL is needed to check a v2 signature")
        candidates = [key + method.upper().encode() + uri.encode("utf-8") + raw_body for uri in _uri_forms(url)]
    else:
        raise VerificationError(f"unknown X-HubSpot-Signature-Version {version[:10]!r}")
    for source in candidates:
        if same(hashlib.sha256(source).hexdigest(), signature.strip().lower()):
            return
    raise VerificationError("X-HubSpot-Signature does not match the request")


def _uri_forms(url: str) -> list[str]:
    decoded = url
    for escape in _DECODED_IN_URI:
        decoded = decoded.replace(escape, unquote(escape)).replace(escape.lower(), unquote(escape))
    return [url] if decoded == url else [url, decoded]


def _entries(raw_body: bytes) -> list[Any]:
    data = load_json(raw_body)
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise PayloadError("a HubSpot delivery is a JSON array of notifications")
    return data


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """The portal and event ids of the notifications; a retried batch repeats its event ids."""
    try:
        entries = [e for e in _entries(raw_body) if isinstance(e, dict) and e.get("eventId") is not None]
    except PayloadError:
        return body_digest(raw_body)
    if not entries:
        return body_digest(raw_body)
    ids = (f"{e.get('subscriptionId', '?')}:{e['eventId']}" for e in entries)
    return batch_key(entries[0].get("portalId", "?"), ids)


def _won_stages(settings) -> set[str]:
    extra = setting(settings, "won_stage_ids", ())
    if isinstance(extra, str):
        extra = [extra]
    return set(DEFAULT_WON_STAGES) | {str(s) for s in extra}


def _is_deal_stage_change(entry: dict) -> bool:
    kind = str(entry.get("subscriptionType") or entry.get("eventType") or "")
    if entry.get("propertyName") != "dealstage":
        return False
    if kind == "deal.propertyChange":
        return True
    return kind == "object.propertyChange" and str(entry.get("objectTypeId") or entry.get("objectType")) in _DEAL_TYPE_IDS


def _classify(raw_body: bytes, settings) -> Reading:
    won = _won_stages(settings)
    found: dict[str, Event] = {}
    skipped: list[str] = []
    for index, entry in enumerate(_entries(raw_body)):
        if not isinstance(entry, dict):
            raise PayloadError(f"notification {index} is not a JSON object")
        kind = entry.get("subscriptionType") or entry.get("eventType") or "unknown"
        if not _is_deal_stage_change(entry):
            skipped.append(f"{kind} (not a deal stage change)")
            continue
        deal_id, stage = entry.get("objectId"), str(entry.get("propertyValue") or "")
        if deal_id is None:
            raise PayloadError(f"notification {index} has no objectId")
        if stage not in won:
            skipped.append(f"deal {deal_id} moved to stage {stage!r}, which is not a won stage")
            continue
        if str(deal_id) in found:
            continue
        if entry.get("occurredAt") is None:
            raise PayloadError(f"notification {index} has no occurredAt")
        found[str(deal_id)] = Event(
            kind=EventKind.DEAL_WON,
            source=SOURCE,
            source_object_id=str(deal_id),
            occurred_at=from_epoch_millis(entry["occurredAt"]),
            source_event_id=str(entry.get("eventId")) if entry.get("eventId") is not None else None,
            attributes={
                "portal_id": entry.get("portalId"),
                "subscription_id": entry.get("subscriptionId"),
                "stage": stage,
                "change_source": entry.get("changeSource"),
                "needs_enrichment": True,
            },
        )
    return Reading.from_skipped(list(found.values()), skipped, empty="the delivery carries no notifications",
                                heading="no deal moved to a won stage")


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """One ``deal_won`` event per deal that moved to a won stage in this delivery."""
    return _classify(raw_body, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why the delivery yields no event (``None`` when it yields some)."""
    return _classify(raw_body, settings).ignored
