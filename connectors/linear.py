"""Linear: an issue or a project moved to a completed state is work done.

``Linear-Signature`` is the hex HMAC-SHA256 of the raw body under the webhook's signing secret, and
the body's ``webhookTimestamp`` (ms) must be within a minute of now, as Linear's SDK checks:
https://linear.app/developers/webhooks#securing-webhooks and linear/linear
``packages/sdk/src/webhooks/client.ts``. Payload: https://linear.app/developers/webhooks
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from connectors.base import (
    Headers,
    Reading,
    as_dict,
    body_key,
    dict_or_empty,
    load_json,
    mapping_key,
    read_guard,
    stable_key,
)
from connectors.errors import PayloadError, VerificationError
from connectors.signing import verify_hex_hmac
from connectors.timeparse import as_aware, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "linear"
REPLAY_WINDOW = timedelta(seconds=60)


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse a bad ``Linear-Signature`` or a ``webhookTimestamp`` more than 60 s from ``now``."""
    verify_hex_hmac(raw_body, Headers(headers).get("Linear-Signature"), secret, header="Linear-Signature")
    try:
        payload = load_json(raw_body)
    except PayloadError:
        # Authentic (Linear signed it) but unreadable: kept as unparseable; replaying it gains nothing.
        return
    stamp = payload.get("webhookTimestamp") if isinstance(payload, dict) else None
    if stamp is None:
        raise VerificationError("webhookTimestamp is missing, so a replay cannot be ruled out")
    try:
        sent = parse_timestamp(stamp if not isinstance(stamp, str) else int(stamp), what="webhookTimestamp")
    except (PayloadError, ValueError):
        raise VerificationError("webhookTimestamp is not a time in milliseconds") from None
    drift = abs(as_aware(now) - sent)
    if drift > REPLAY_WINDOW:
        raise VerificationError(f"webhookTimestamp is {int(drift.total_seconds())} s away from now "
                                f"(at most {int(REPLAY_WINDOW.total_seconds())} s allowed)")


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """``Linear-Delivery``; without it, a digest of the change (entity, action, id, updatedAt)."""
    value = Headers(headers).get("Linear-Delivery")
    if value:
        return value.strip()
    try:
        payload = load_json(raw_body)
        data = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(data, dict):
            return "change:" + stable_key(payload.get("type"), payload.get("action"), data.get("id"),
                                          data.get("updatedAt"))
    except PayloadError:
        pass
    return body_key(raw_body)


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """An issue or project that just moved to a completed state, as a ``MILESTONE_COMPLETED`` event."""
    return _read(raw_body, headers).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, headers).ignored


@read_guard
def _read(raw_body: bytes, headers: Mapping[str, str]) -> Reading:
    payload = as_dict(load_json(raw_body), "the payload")
    kind, action = payload.get("type"), payload.get("action")
    if kind not in ("Issue", "Project"):
        return Reading([], f"{kind or 'unnamed'} events do not concern billing (only issues and projects)")
    if action != "update":
        return Reading([], f"{kind.lower()} {action}: only an update can move it to a completed state")
    data = as_dict(payload.get("data"), "data")
    before = as_dict(payload.get("updatedFrom") or {}, "updatedFrom")
    label = data.get("identifier") or data.get("title") or data.get("name") or data["id"]
    if kind == "Issue":
        state = as_dict(data.get("state") or {}, "data.state")
        done, moved, where = state.get("type") == "completed", "stateId" in before, state.get("name")
    else:
        status = data.get("status")
        if isinstance(status, dict):  # the project-status model Linear uses since 2024
            done, moved, where = status.get("type") == "completed", "statusId" in before, status.get("name")
        else:  # older deliveries: a plain ``state`` string
            done, moved, where = data.get("state") == "completed", "state" in before, data.get("state")
    if not moved:
        changed = sorted(key for key in before if key != "updatedAt")
        return Reading([], f"{kind.lower()} {label!r} changed ({', '.join(changed) or 'nothing listed'}) "
                           f"without moving to another state")
    if not done:
        return Reading([], f"{kind.lower()} {label!r} moved to {where!r}, which is not a completed state")
    return Reading([_event(payload, data, kind, headers)])


def _event(payload: dict, data: dict, kind: str, headers: Mapping[str, str]) -> Event:
    keys = []
    if kind == "Issue":
        if data.get("projectId"):
            keys.append(mapping_key("project", SOURCE, data["projectId"]))
        team = dict_or_empty(data.get("team"))
        if data.get("teamId") or team.get("id"):
            keys.append(mapping_key("team", SOURCE, data.get("teamId") or team["id"]))
        if team.get("key"):
            keys.append(mapping_key("team", SOURCE, team["key"]))
    else:
        keys.append(mapping_key("project", SOURCE, data["id"]))
        keys.extend(mapping_key("team", SOURCE, team_id) for team_id in data.get("teamIds") or [])
    if payload.get("organizationId"):
        keys.append(mapping_key("organization", SOURCE, payload["organizationId"]))
    finished = data.get("completedAt") or data.get("updatedAt") or payload.get("createdAt")
    return Event(
        kind=EventKind.MILESTONE_COMPLETED,
        source=SOURCE,
        source_object_id=f"{kind.lower()}/{data['id']}",
        occurred_at=parse_timestamp(finished, what="data.completedAt"),
        source_event_id=Headers(headers).get("Linear-Delivery") or payload.get("webhookId"),
        attributes={
            "title": data.get("title") or data.get("name"),
            "identifier": data.get("identifier"),
            "number": data.get("number"),
            "estimate": data.get("estimate"),
            "labels": [as_dict(label, "label").get("name") for label in data.get("labels") or []],
            "url": payload.get("url"),
            "mapping_keys": keys,
        },
    )
