"""Jira custom fields as expenses and SLA breaches (settings in ``connectors.custom_fields``).

Issue webhooks carry the issue with every field, custom ones as ``fields.customfield_<n>``: a number
field as a JSON number, a select list as ``{"value", "id"}``, checkboxes as a list of those, text as a
string. ``jira:issue_updated`` adds a ``changelog`` whose items name what changed: ``fieldId``
(``customfield_10050``; Jira Cloud, and not on every custom item), ``field`` (the field's *name*),
``fieldtype: "custom"``, and the old value in ``from`` / ``fromString`` (a number field's in
``fromString`` only). https://developer.atlassian.com/cloud/jira/platform/webhooks/ ("Example callback
for an issue-related event") and https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/
(``ChangeDetails``).

Which deliveries count: an issue *created* with a value; an *update* whose changelog touches a
configured field (its amount, quantity or description field, or its marker field): the value the
issue now holds is the new version, and an emptied field deletes the usage; an issue *deleted*
deletes the usage its fields held. Moving to done, renaming and other edits are not changes of what
is billed, so they raise nothing here (the usage is billed by the next period close anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Reading, as_dict, dict_or_empty
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

SOURCE = "jira"
CREATED, UPDATED, DELETED = "created", "updated", "deleted"


def field_map(settings: Mapping[str, Any] | None) -> FieldMap:
    """The custom fields this endpoint bills (empty when none are configured)."""
    return read_field_map(settings, source=SOURCE)


def _changes(payload: dict) -> dict[str, dict]:
    """Changelog items by field id and by field name (casefolded), for items without ``fieldId``."""
    found: dict[str, dict] = {}
    for raw in dict_or_empty(payload.get("changelog")).get("items") or []:
        item = as_dict(raw, "changelog item")
        for key in (item.get("fieldId"), str(item.get("field") or "").casefold()):
            if key:
                found.setdefault(str(key), item)
    return found


def _change(changes: dict[str, dict], field: str | None, name: str | None = None) -> dict | None:
    if not field:
        return None
    return changes.get(field) or (changes.get(name.casefold()) if name else None)


def _text(value: Any) -> str | None:
    texts = shown(value)
    return ", ".join(texts) if texts else None


def usage_events(payload: dict, issue: dict, fields: dict, *, transition: str, object_id: str, keys: list[str],
                 delivery: str | None, settings: Mapping[str, Any] | None) -> Reading:
    """The expense and SLA breach events one issue delivery carries, or why it carries none."""
    configured = field_map(settings)
    if not configured:
        return Reading([], None)
    changes = _changes(payload) if transition == UPDATED else {}
    if transition == DELETED:
        moment = parse_timestamp(payload.get("timestamp") or fields.get("updated"), what="timestamp")
    else:
        moment = parse_timestamp(fields.get("updated") or fields.get("created") or payload.get("timestamp"),
                                 what="issue.fields.updated")
    where = Where(source=SOURCE, object_id=object_id, occurred_at=moment, date=local_date(moment, settings),
                  mapping_keys=keys, title=f"{issue.get('key') or issue.get('id')} {fields.get('summary') or ''}".strip(),
                  person=dict_or_empty(payload.get("user")).get("displayName"),
                  project=dict_or_empty(fields.get("project")).get("name"), source_event_id=delivery,
                  extra={"issue_key": issue.get("key")})
    found, skipped = [], []
    for mapping in configured.expenses:
        _expense(mapping, fields, changes, transition, where, found, skipped)
    for mapping in configured.breaches:
        _breach(mapping, fields, changes, transition, where, found)
    if found:
        return Reading(found)
    if skipped:
        return Reading([], "; ".join(skipped))
    listed = ", ".join(m.name or m.field for m in (*configured.expenses, *configured.breaches))
    return Reading([], f"none of the configured custom fields ({listed}) {'changed' if transition == UPDATED else 'holds a value'}")


def _expense(mapping: ExpenseField, fields: dict, changes: dict, transition: str, where: Where, found: list,
             skipped: list) -> None:
    touched = [c for f in mapping.watched if (c := _change(changes, f, mapping.name if f == mapping.field else None))]
    if transition == UPDATED and not touched:
        return
    label = mapping.name or mapping.field
    try:
        amount = number(fields.get(mapping.field), f"{label}")
        quantity = number(fields.get(mapping.quantity_field), "quantity") if mapping.quantity_field else None
    except PayloadError as exc:
        skipped.append(f"{where.title}: {exc.message}, so it is not an expense")
        return
    if amount is None:
        before = _change(changes, mapping.field, mapping.name)
        # Only a field that held an amount before deletes one: an issue without it has none to delete.
        had = transition == UPDATED and before is not None and (before.get("fromString") or before.get("from"))
        if not had:
            return
    elif transition == DELETED:
        amount = None
    description = _text(fields.get(mapping.description_field)) if mapping.description_field else None
    found.append(expense_event(where, mapping, amount, quantity=quantity, description=description))


def _breach(mapping: BreachField, fields: dict, changes: dict, transition: str, where: Where, found: list) -> None:
    item = _change(changes, mapping.field, mapping.name)
    if transition == UPDATED and item is None:
        return
    value = fields.get(mapping.field)
    try:
        count = mapping.count(shown(value), None if mapping.values else number(value, mapping.name or mapping.field))
    except PayloadError:
        count = 0
    if transition == DELETED:
        if count > 0:
            found.append(breach_event(where, mapping, 0))
        return
    if count > 0:
        found.append(breach_event(where, mapping, count))
        return
    if transition == UPDATED and _counted_before(mapping, item):
        found.append(breach_event(where, mapping, 0))


def _counted_before(mapping: BreachField, item: dict) -> bool:
    """Whether the changelog's old value marked a breach (a select's option in ``from``/``fromString``;
    checkboxes list them comma-separated)."""
    before = [str(v) for v in (item.get("fromString"), item.get("from")) if v not in (None, "")]
    parts = [p.strip().strip("[]") for text in before for p in text.split(",")]
    try:
        old = number(item.get("fromString"), "old value") if not mapping.values else None
    except PayloadError:
        old = None
    return mapping.count([*before, *parts], old) > 0
