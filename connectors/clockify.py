"""Clockify: time entry events (new, updated, timer stopped, deleted) as time logged.

Clockify does not sign the body: each webhook has a token that it sends unchanged in the
``Clockify-Signature`` header, and the event name in ``Clockify-Webhook-Event-Type``
(https://dev-docs.marketplace.cake.com/documentation/build/manifest/webhooks.html). The stored endpoint
secret is that token, compared in constant time. The token is a JWT signed by Clockify; checking it
against Clockify's public key is left for marketplace add-ons, which need it.
Clockify rates are integers in cents (``{"amount": 14500, "currency": "USD"}`` is 145.00 USD).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.base import (
    Headers,
    Reading,
    as_dict,
    dict_or_empty,
    hours_from_seconds,
    load_json,
    mapping_key,
    read_guard,
    stable_key,
)
from connectors.errors import PayloadError, VerificationError
from connectors.signing import same, secret_bytes
from connectors.timeparse import local_date, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "clockify"
CHANGES = {"NEW_TIME_ENTRY", "TIME_ENTRY_UPDATED", "TIMER_STOPPED", "TIME_ENTRY_RESTORED"}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse the request unless ``Clockify-Signature`` equals the webhook's token (constant time)."""
    token = Headers(headers).get("Clockify-Signature")
    expected = secret_bytes(secret)
    if not token:
        raise VerificationError("missing Clockify-Signature header")
    if not same(token.strip().encode("utf-8"), expected):
        raise VerificationError("Clockify-Signature is not this webhook's token")


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """A digest of the event name and body: Clockify sends no delivery id, and retries repeat both."""
    kind = Headers(headers).get("Clockify-Webhook-Event-Type") or ""
    return f"{kind or 'event'}:{stable_key(kind, raw_body)}"


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """A finished, edited or deleted time entry as one ``TIME_LOGGED`` event."""
    return _read(raw_body, headers, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, headers, settings).ignored


def _seconds(interval: dict, start: datetime, end: datetime | None) -> Decimal:
    text = interval.get("duration")
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match and any(match.groups()):
        days, hours, minutes, seconds = (Decimal(part or 0) for part in match.groups())
        return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if end is None:
        raise PayloadError("timeInterval has neither a duration nor an end")
    return Decimal(int((end - start).total_seconds()))


def _rate(entry: dict) -> tuple[str | None, str | None]:
    rate = entry.get("hourlyRate")
    if not isinstance(rate, dict) or rate.get("amount") is None:
        return None, None
    return str(Decimal(str(rate["amount"])) / 100), rate.get("currency")


@read_guard
def _read(raw_body: bytes, headers: Mapping[str, str], settings: Mapping[str, Any] | None) -> Reading:
    entry = as_dict(load_json(raw_body), "the payload")
    settings = settings or {}
    # Without the header the delivery is read as a change to the entry, never as a deletion.
    kind = (Headers(headers).get("Clockify-Webhook-Event-Type") or "TIME_ENTRY_UPDATED").strip().upper()
    deleted = kind == "TIME_ENTRY_DELETED"
    if kind == "NEW_TIMER_STARTED":
        return Reading([], f"timer started for time entry {entry.get('id')}; it counts once stopped")
    if kind not in CHANGES and not deleted:
        return Reading([], f"{kind}: not a time entry change")
    interval = as_dict(entry.get("timeInterval"), "timeInterval")
    start = parse_timestamp(interval["start"], what="timeInterval.start")
    end = parse_timestamp(interval["end"], what="timeInterval.end") if interval.get("end") else None
    if end is None and not deleted:
        return Reading([], f"time entry {entry.get('id')} is a running timer; it counts once stopped")
    seconds = _seconds(interval, start, end)
    rate, currency = _rate(entry)
    project = dict_or_empty(entry.get("project"))
    task = dict_or_empty(entry.get("task"))
    user = dict_or_empty(entry.get("user"))
    keys = []
    if entry.get("projectId"):
        keys.append(mapping_key("project", SOURCE, entry["projectId"]))
    if project.get("clientId"):
        keys.append(mapping_key("client", SOURCE, project["clientId"]))
    keys.extend(mapping_key("tag", SOURCE, tag) for tag in entry.get("tagIds") or [])
    if entry.get("workspaceId"):
        keys.append(mapping_key("workspace", SOURCE, entry["workspaceId"]))
    return Reading([Event(
        kind=EventKind.TIME_LOGGED,
        source=SOURCE,
        source_object_id=str(entry["id"]),
        # Clockify sends no time of change; the entry's end (else start) stands in for it.
        occurred_at=end or start,
        attributes={
            "date": local_date(start, settings),
            "hours": hours_from_seconds(seconds),
            "seconds": str(seconds),
            "person": user.get("name") or entry.get("userId"),
            "person_id": entry.get("userId"),
            "task": task.get("name") or entry.get("taskId"),
            "project": project.get("name") or entry.get("projectId"),
            "billable": bool(entry.get("billable", True)),
            "rate": rate,
            "currency": currency,
            "description": entry.get("description") or "",
            "deleted": deleted,
            "clockify_event": kind,
            "mapping_keys": keys,
        },
    )])
