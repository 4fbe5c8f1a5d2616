"""Asana custom fields as expenses and SLA breaches (settings in ``connectors.custom_fields``).

A webhook event names only what changed: ``{"action": "changed", "resource": {task}, "change":
{"field": "custom_fields", "action": "changed", "new_value": {"gid", "resource_type"}}}``, where a
webhook's ``new_value`` is "only the gid and resource_type of the resource"
(https://developers.asana.com/reference/events, ``EventResponse.change``). The value itself is read
from the task (``GET /tasks/{gid}``, ``custom_fields[]`` with ``gid``, ``name``, ``resource_subtype``
and ``number_value`` / ``text_value`` / ``enum_value`` / ``multi_enum_values`` / ``display_value``:
https://developers.asana.com/reference/gettask), so a change becomes a pending usage event that
enrichment completes with the task's value as of its ``modified_at``. A task ``deleted`` event deletes
the usage its fields held, without reading the task (it is gone).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from connectors.base import dict_or_empty, mapping_key
from connectors.custom_fields import (
    BreachField,
    ExpenseField,
    FieldMap,
    Where,
    breach_event,
    expense_event,
    number,
    read_field_map,
    shown,
)
from connectors.errors import PayloadError
from connectors.timeparse import local_date, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "asana"
TASK_FIELDS = ("created_at", "modified_at", "custom_fields.gid", "custom_fields.resource_subtype",
               "custom_fields.number_value", "custom_fields.text_value", "custom_fields.enum_value.name",
               "custom_fields.multi_enum_values.name")


def field_map(settings: Mapping[str, Any] | None) -> FieldMap:
    """The custom fields this endpoint bills (empty when none are configured)."""
    return read_field_map(settings, source=SOURCE)


def _kind(mapping) -> EventKind:
    return EventKind.EXPENSE_LOGGED if isinstance(mapping, ExpenseField) else EventKind.SLA_BREACHED


def _named(change: dict, configured: FieldMap) -> list:
    """The configured fields a ``custom_fields`` change is about: the one its ``new_value`` names, or
    every one when it names none (Asana does not promise the gid for every kind of field)."""
    value = dict_or_empty(change.get("new_value"))
    by_id = configured.by_id()
    watched = {w: m for m in configured.expenses for w in m.watched}
    if value.get("resource_type") == "custom_field" and value.get("gid"):
        gid = str(value["gid"])
        found = by_id.get(gid) or watched.get(gid)
        return [found] if found else []
    return list(by_id.values())


def pending_events(item: dict, resource: dict, settings: Mapping[str, Any] | None) -> tuple[list[Event], str | None]:
    """The usage events one webhook event about a task starts: pending ones for a custom field change
    (enrichment reads the value), deletions for a deleted task; or why it starts none."""
    configured = field_map(settings)
    action, change = item.get("action"), dict_or_empty(item.get("change"))
    if not configured or (action != "deleted" and change.get("field") != "custom_fields"):
        return [], None
    task_gid = str(resource["gid"])
    at = parse_timestamp(item["created_at"], what="event created_at")
    if action == "deleted":
        where = Where(SOURCE, task_gid, at, local_date(at, settings), [], source_event_id=None,
                      extra={"task_gid": task_gid})
        return [expense_event(where, m, None) for m in configured.expenses] + \
               [breach_event(where, m, 0) for m in configured.breaches], None
    if action != "changed":
        return [], None
    mappings = _named(change, configured)
    if not mappings:
        return [], f"task {task_gid}: custom field {dict_or_empty(change.get('new_value')).get('gid')} is not one " \
                   f"the endpoint bills"
    return [Event(kind=_kind(m), source=SOURCE, source_object_id=f"{task_gid}/{m.field}", occurred_at=at,
                  attributes={"task_gid": task_gid, "custom_field": m.field, "needs_enrichment": True,
                              "mapping_keys": []})
            for m in mappings], None


def _field(task: dict, gid: str | None) -> dict | None:
    if not gid:
        return None
    return next((f for f in task.get("custom_fields") or [] if isinstance(f, dict) and str(f.get("gid")) == gid), None)


def _value(field: dict | None) -> Any:
    if field is None:
        return None
    for key in ("number_value", "text_value", "enum_value", "multi_enum_values"):
        if field.get(key) not in (None, [], ""):
            return field[key]
    return field.get("display_value")


def completed(event: Event, task: dict, settings: Mapping[str, Any] | None) -> Event | str:
    """The expense or SLA breach a pending event's task now holds (a deletion when the field is
    empty), or why it bills nothing."""
    gid = str(event.attributes.get("custom_field"))
    mapping = field_map(settings).by_id().get(gid)
    if mapping is None:
        return f"custom field {gid} of Asana task {event.attributes.get('task_gid')} is no longer one the endpoint bills"
    changed = parse_timestamp(task["modified_at"], what="modified_at") if task.get("modified_at") else event.occurred_at
    projects = [p for p in task.get("projects") or [] if isinstance(p, dict) and p.get("gid")]
    keys = [mapping_key("project", SOURCE, p["gid"]) for p in projects]
    workspace = dict_or_empty(task.get("workspace"))
    if workspace.get("gid"):
        keys.append(mapping_key("workspace", SOURCE, workspace["gid"]))
    where = Where(SOURCE, str(event.attributes.get("task_gid")), changed, local_date(changed, settings), keys,
                  title=task.get("name"), project=projects[0].get("name") if projects else None,
                  extra={"task_gid": event.attributes.get("task_gid"), "url": task.get("permalink_url")})
    value = _value(_field(task, mapping.field))
    if isinstance(mapping, BreachField):
        try:
            counted = None if mapping.values else number(value, mapping.name or mapping.field)
        except PayloadError:
            counted = None
        done = breach_event(where, mapping, mapping.count(shown(value), counted))
    else:
        try:
            amount = number(value, mapping.name or mapping.field)
            quantity = number(_value(_field(task, mapping.quantity_field)), "quantity")
        except PayloadError as exc:
            return f"Asana task {where.object_id}: {exc.message}, so it is not an expense"
        texts = shown(_value(_field(task, mapping.description_field)))
        done = expense_event(where, mapping, amount, quantity=quantity, description=", ".join(texts) or None)
    return dataclasses.replace(done, attributes={**done.attributes, "needs_enrichment": False})
