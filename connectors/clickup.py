"""ClickUp: a task whose status changes to a closed-type status is work done; tracked time is time;
custom fields an endpoint names are expenses and SLA breaches (``connectors.clickup_fields``).

``X-Signature`` is the hex HMAC-SHA256 of the raw body under the ``webhook.secret`` returned when the
webhook was created: https://developer.clickup.com/docs/webhooksignature
Payloads (``history_items``, ``before``/``after``): https://developer.clickup.com/docs/webhooktaskpayloads
Each history item has an id, so the items' ids are the dedupe key. ClickUp drops an event after five
failed attempts (https://developer.clickup.com/docs/webhookhealth), so a 2xx matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors import clickup_fields
from connectors.base import (
    Headers,
    Reading,
    as_dict,
    body_key,
    dict_or_empty,
    hours_from_seconds,
    load_json,
    mapping_key,
    read_guard,
    stable_key,
)
from connectors.custom_fields import check_settings as _check_fields
from connectors.errors import PayloadError
from connectors.signing import verify_hex_hmac
from connectors.timeparse import local_date, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "clickup"
STATUS_EVENTS = ("taskStatusUpdated", "taskUpdated")


def check_settings(settings) -> None:
    """Refuse ``expense_fields`` / ``sla_breach_fields`` settings that are not of the documented form."""
    _check_fields(settings, source=SOURCE)


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse the request unless ``X-Signature`` is the body's hex HMAC under the webhook secret."""
    verify_hex_hmac(raw_body, Headers(headers).get("X-Signature"), secret, header="X-Signature")


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """The webhook id and its history item ids (ClickUp's own ids for each change)."""
    try:
        payload = load_json(raw_body)
    except PayloadError:
        return body_key(raw_body)
    items = payload.get("history_items") if isinstance(payload, dict) else None
    items = items if isinstance(items, list) else []
    ids = sorted(str(item.get("id")) for item in items if isinstance(item, dict) and item.get("id"))
    if not ids:
        return body_key(raw_body)
    webhook = payload.get("webhook_id")
    return f"{webhook}/{ids[0]}" if len(ids) == 1 else f"{webhook}/{stable_key(*ids)}"


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """Tasks moved to a closed-type status as milestones; tracked time intervals as time logged; changes
    of the custom fields the endpoint bills as expenses and SLA breaches."""
    return _read(raw_body, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, settings).ignored


@read_guard
def _read(raw_body: bytes, settings: Mapping[str, Any] | None) -> Reading:
    payload = as_dict(load_json(raw_body), "the payload")
    settings = settings or {}
    kind = payload.get("event")
    items = [as_dict(item, "history item") for item in payload.get("history_items") or []]
    if kind in STATUS_EVENTS:
        done = _closed(payload, items, settings)
        usage, reasons = clickup_fields.usage_events(
            payload, items, lambda item: _keys(payload["task_id"], item.get("parent_id")), settings)
        if done.events or usage:
            return Reading([*done.events, *usage])
        return Reading([], "; ".join([done.reason, *reasons]))
    if kind == "taskTimeTrackedUpdated":
        return _time(payload, items, settings)
    if kind == "taskDeleted" and clickup_fields.field_map(settings):
        return Reading([], clickup_fields.deleted_reason(payload))
    return Reading([], f"{kind or 'an unnamed event'}: only status changes, tracked time and the custom fields "
                       f"an endpoint bills concern billing")


def _keys(task_id: Any, list_id: Any) -> list[str]:
    keys = [mapping_key("task", SOURCE, task_id)]
    if list_id:
        keys.append(mapping_key("list", SOURCE, list_id))
    return keys


def _closed(payload: dict, items: list[dict], settings: Mapping[str, Any]) -> Reading:
    closing = {str(kind).casefold() for kind in settings.get("completed_status_types") or ["closed"]}
    task_id = payload["task_id"]
    moves = [item for item in items if item.get("field") == "status"]
    if not moves:
        fields = sorted({str(item.get("field")) for item in items})
        return Reading([], f"task {task_id} changed ({', '.join(fields) or 'nothing listed'}) without a "
                           f"status change")
    found, last = [], None
    for item in moves:
        after = as_dict(item.get("after") or {}, "history item after")
        before = dict_or_empty(item.get("before"))
        last = after
        if str(after.get("type")).casefold() in closing and str(before.get("type")).casefold() not in closing:
            found.append(Event(
                kind=EventKind.MILESTONE_COMPLETED,
                source=SOURCE,
                source_object_id=f"task/{task_id}",
                occurred_at=parse_timestamp(item["date"], what="history item date"),
                source_event_id=str(item.get("id")),
                attributes={"status": after.get("status"),
                            "closed_by": dict_or_empty(item.get("user")).get("username"),
                            "mapping_keys": _keys(task_id, item.get("parent_id"))},
            ))
    if found:
        return Reading(found[:1])
    return Reading([], f"task {task_id} moved to {last.get('status')!r} (type {last.get('type')}), not to a "
                       f"closed status")


def _time(payload: dict, items: list[dict], settings: Mapping[str, Any]) -> Reading:
    task_id = payload["task_id"]
    found, reasons = [], []
    for item in items:
        if item.get("field") != "time_spent":
            continue
        after, before = item.get("after"), item.get("before")
        interval = as_dict(after if after else before, "time interval")
        deleted = not after
        if not deleted and not interval.get("end"):
            reasons.append(f"time interval {interval.get('id')} is a running timer; it counts once stopped")
            continue
        start = parse_timestamp(interval["start"], what="interval start")
        milliseconds = int(str(interval["time"]))
        if milliseconds < 0:
            reasons.append(f"time interval {interval.get('id')} is a running timer; it counts once stopped")
            continue
        user = dict_or_empty(item.get("user"))
        found.append(Event(
            kind=EventKind.TIME_LOGGED,
            source=SOURCE,
            source_object_id=f"time/{interval['id']}",
            occurred_at=parse_timestamp(item["date"], what="history item date"),
            source_event_id=str(item.get("id")),
            attributes={
                "date": local_date(start, settings),
                "hours": hours_from_seconds(Decimal(milliseconds) / 1000),
                "milliseconds": milliseconds,
                "person": user.get("username") or user.get("email"),
                "person_id": user.get("id"),
                "task": str(task_id),
                "project": None,
                "billable": bool(interval.get("billable", settings.get("billable_default", True))),
                "rate": None,
                "description": interval.get("description") or "",
                "deleted": deleted,
                "mapping_keys": _keys(task_id, item.get("parent_id")),
            },
        ))
    if found:
        return Reading(found)
    return Reading([], "; ".join(reasons) or f"task {task_id}: no tracked time interval in the delivery")
