"""Toggl Track: time entries created, updated and deleted; only stopped entries count.

``X-Webhook-Signature-256: sha256=<hex HMAC-SHA256(subscription secret, raw body)>``:
https://developers.track.toggl.com/docs/webhooks_start/validating_received_events
A new subscription is validated by answering its PING with ``{"validation_code": ...}`` (toggl/toggl_api_docs
``webhooks.md``, "Validating a URL endpoint", now under https://developers.track.toggl.com/docs/webhooks_start).
Every event carries an ``event_id``, the dedupe key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from connectors.base import (
    Headers,
    Reading,
    as_dict,
    body_key,
    hours_from_seconds,
    load_json,
    mapping_key,
    read_guard,
)
from connectors.errors import PayloadError
from connectors.signing import verify_hex_hmac
from connectors.timeparse import local_date, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "toggl"
# The code is echoed back to the sender, so only a plain token is ever reflected.
_VALIDATION_CODE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse the request unless ``X-Webhook-Signature-256`` is ``sha256=`` + the body's HMAC."""
    verify_hex_hmac(raw_body, Headers(headers).get("X-Webhook-Signature-256"), secret,
                    header="X-Webhook-Signature-256", prefix="sha256=")


def reply(raw_body: bytes, headers: Mapping[str, str]) -> tuple[int, dict, bytes] | None:
    """Answer a validation PING by echoing its ``validation_code``; ``None`` for everything else."""
    try:
        payload = load_json(raw_body)
    except PayloadError:
        return None
    if not isinstance(payload, dict) or payload.get("payload") != "ping":
        return None
    code = payload.get("validation_code")
    if not isinstance(code, str) or not _VALIDATION_CODE.match(code):
        return None
    return 200, {"Content-Type": "application/json"}, json.dumps({"validation_code": code}).encode()


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """The event's ``event_id`` (a ping, whose id is 0, is keyed by subscription and time)."""
    try:
        payload = load_json(raw_body)
    except PayloadError:
        return body_key(raw_body)
    if isinstance(payload, dict) and payload.get("event_id") not in (None, 0, "0", ""):
        return str(payload["event_id"])
    if isinstance(payload, dict) and payload.get("payload") == "ping":
        return f"ping:{payload.get('subscription_id')}:{payload.get('created_at')}"
    return body_key(raw_body)


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """A stopped, edited or deleted time entry as one ``TIME_LOGGED`` event."""
    return _read(raw_body, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, settings).ignored


@read_guard
def _read(raw_body: bytes, settings: Mapping[str, Any] | None) -> Reading:
    envelope = as_dict(load_json(raw_body), "the payload")
    settings = settings or {}
    if envelope.get("payload") == "ping":
        return Reading([], "ping: Toggl's test event (validation codes are answered before this point)")
    metadata = as_dict(envelope.get("metadata") or {}, "metadata")
    model, action = metadata.get("model"), metadata.get("action")
    if model != "time_entry":
        return Reading([], f"{model or 'unnamed'} events do not concern billing (only time entries)")
    entry = as_dict(envelope.get("payload"), "payload")
    if action not in ("created", "updated", "deleted"):
        return Reading([], f"time entry {action}: not a change to logged time")
    deleted = action == "deleted"
    duration = int(entry["duration"])
    if not deleted and (entry.get("stop") in (None, "") or duration < 0):
        return Reading([], f"time entry {entry.get('id')} is a running timer; it counts once stopped")
    start = parse_timestamp(entry["start"], what="start")
    keys = []
    if entry.get("project_id"):
        keys.append(mapping_key("project", SOURCE, entry["project_id"]))
    keys.extend(mapping_key("tag", SOURCE, tag) for tag in entry.get("tags") or [])
    workspace = entry.get("workspace_id") or entry.get("wid") or metadata.get("workspace_id")
    if workspace:
        keys.append(mapping_key("workspace", SOURCE, workspace))
    changed = entry.get("server_deleted_at") if deleted else None
    changed = changed or entry.get("at") or envelope.get("created_at")
    return Reading([Event(
        kind=EventKind.TIME_LOGGED,
        source=SOURCE,
        source_object_id=str(entry["id"]),
        occurred_at=parse_timestamp(changed, what="at"),
        source_event_id=str(envelope.get("event_id")) if envelope.get("event_id") else None,
        attributes={
            "date": local_date(start, settings),
            "hours": hours_from_seconds(max(duration, 0)),
            "seconds": max(duration, 0),
            "person": str(entry.get("user_id") or entry.get("uid") or ""),
            "person_id": entry.get("user_id") or entry.get("uid"),
            "task": str(entry["task_id"]) if entry.get("task_id") else None,
            "project": str(entry["project_id"]) if entry.get("project_id") else None,
            "billable": bool(entry.get("billable", False)),
            "rate": None,
            "description": entry.get("description") or "",
            "deleted": deleted,
            "tags": list(entry.get("tags") or []),
            "started_at": start.isoformat(),
            "mapping_keys": keys,
        },
    )])
