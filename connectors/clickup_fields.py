"""ClickUp custom fields as expenses and SLA breaches (settings in ``connectors.custom_fields``).

A custom field's change arrives inside ``taskUpdated`` as a history item of its own:
``{"id", "date" (ms), "field": "custom_field", "user", "before", "after", "custom_field": {"id", "name",
"type", "type_config": {"options": [{"id", "name", ...}]}}}``; a drop-down's ``after`` is the chosen
option's id (https://developer.clickup.com/docs/webhooktaskpayloads, "taskUpdated" with a custom field).
The history item has everything a usage event needs (its own id and time of change), so no API call is
made; the task's other fields are not in the delivery, which is why ClickUp expenses cannot take a
quantity or description from another field. ``taskDeleted`` carries no time of change and so cannot
be ordered against the field's versions: it is ignored with a reason (clear the field first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import as_dict, dict_or_empty
from connectors.custom_fields import (
    BreachField,
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

SOURCE = "clickup"


def field_map(settings: Mapping[str, Any] | None) -> FieldMap:
    """The custom fields this endpoint bills (empty when none are configured)."""
    return read_field_map(settings, source=SOURCE)


def _shown(value: Any, definition: dict) -> list[str]:
    """What a value shows; a drop-down option's id also shows the option's name."""
    texts = shown(value)
    for option in dict_or_empty(definition.get("type_config")).get("options") or []:
        option = dict_or_empty(option)
        if option.get("id") is not None and str(option["id"]) in texts:
            texts.extend(shown({"name": option.get("name"), "value": option.get("value")}))
    return texts


def usage_events(payload: dict, items: list[dict], keys: Callable[[dict], list[str]],
                 settings: Mapping[str, Any] | None) -> tuple[list, list]:
    """The expense and SLA breach events of a delivery's custom field items, and the reasons for items
    that bill nothing."""
    configured = field_map(settings)
    if not configured:
        return [], []
    by_id = configured.by_id()
    task_id = payload["task_id"]
    found, reasons = [], []
    for item in items:
        if item.get("field") != "custom_field":
            continue
        definition = as_dict(item.get("custom_field"), "history item custom_field")
        mapping = by_id.get(str(definition.get("id")))
        label = definition.get("name") or definition.get("id")
        if mapping is None:
            reasons.append(f"custom field {label!r} is not one the endpoint bills")
            continue
        moment = parse_timestamp(item["date"], what="history item date")
        where = Where(SOURCE, f"task/{task_id}", moment, local_date(moment, settings), keys(item),
                      title=f"task {task_id}", person=dict_or_empty(item.get("user")).get("username"),
                      source_event_id=str(item.get("id")), extra={"task_id": str(task_id)})
        after, before = item.get("after"), item.get("before")
        if isinstance(mapping, BreachField):
            count = mapping.count(_shown(after, definition), _count(mapping, after))
            if count > 0 or mapping.count(_shown(before, definition), _count(mapping, before)) > 0:
                found.append(breach_event(where, mapping, count))
            else:
                reasons.append(f"task {task_id}: {label} changed to a value that marks no SLA breach")
            continue
        try:
            amount = number(after, str(label))
        except PayloadError as exc:
            reasons.append(f"task {task_id}: {exc.message}, so it is not an expense")
            continue
        if amount is None and not shown(before):
            reasons.append(f"task {task_id}: {label} is empty")
            continue
        found.append(expense_event(where, mapping, amount))
    return found, reasons


def deleted_reason(payload: dict) -> str:
    """Why a deleted task changes no usage."""
    return (f"task {payload.get('task_id')} was deleted: ClickUp's taskDeleted carries no time of change, so "
            f"it cannot delete the usage of its custom fields (clear the field before deleting the task)")


def _count(mapping: BreachField, value: Any):
    if mapping.values:
        return None
    try:
        return number(value, mapping.name or mapping.field)
    except PayloadError:
        return None
