"""Expenses and SLA breaches carried in a work tool's custom fields, as endpoint settings name them.

Jira, Asana and ClickUp let a team add its own fields to issues and tasks ("Hardware cost",
"SLA breached"). Two endpoint settings say which of them bill (docs/usage.md, "Expenses and SLA
breaches from custom fields"):

- ``expense_fields``: a list of ``{"field": <id>, "name": <the vendor's field name>, "price": "cost" |
  "list", "currency": "USD", "quantity_field": <id>, "description_field": <id>, "taxable": bool,
  "task": "hardware"}``; only ``field`` is required;
- ``sla_breach_fields``: a list of ``{"field": <id>, "name": ..., "values": ["Breached", ...],
  "task": ...}``: the field marks a breach when it shows one of ``values`` (an option's name or id,
  a text, a checkbox's ``true``); without ``values`` the field is a number counting breaches.

Each (issue or task, field) is one usage record whose versions follow the vendor's time of change:
an edit changes the usage, a cleared field (or a value that no longer marks a breach) deletes it,
and the usage ledger turns changes after billing into adjustments. This module is vendor-neutral:
the connectors read the values and call ``expense_event`` / ``breach_event``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.base import decimal_or_none
from connectors.errors import ConnectorError, PayloadError
from rules.events import Event, EventKind

EXPENSE_SETTING = "expense_fields"
BREACH_SETTING = "sla_breach_fields"
PRICES = ("cost", "list")
EXPENSE_KEYS = {"field", "name", "price", "currency", "quantity_field", "description_field", "taxable", "task"}
BREACH_KEYS = {"field", "name", "values", "task"}
# ClickUp's webhook names one changed field per history item and carries no task object, so a
# quantity or description kept in another field cannot be read with it.
SINGLE_FIELD_SOURCES = frozenset({"clickup"})
MAX_FIELDS = 20
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class CustomFieldSettingsError(ConnectorError):
    """``expense_fields`` or ``sla_breach_fields`` is not of the documented form."""

    code = "invalid_setting"


@dataclass(frozen=True)
class ExpenseField:
    """A custom field whose value is an expense: its total cost, or the list price of one unit."""

    field: str
    name: str | None = None
    price: str = "cost"
    currency: str | None = None
    quantity_field: str | None = None
    description_field: str | None = None
    taxable: bool | None = None
    task: str | None = None

    @property
    def watched(self) -> tuple[str, ...]:
        """The fields whose change changes this expense."""
        return tuple(f for f in (self.field, self.quantity_field, self.description_field) if f)


@dataclass(frozen=True)
class BreachField:
    """A custom field that marks an SLA breach (one of ``values``), or counts breaches (no values)."""

    field: str
    name: str | None = None
    values: tuple[str, ...] = ()
    task: str | None = None

    def count(self, shown: Iterable[str], number: Decimal | None) -> Decimal:
        """How many breaches a value marks: 1 when it shows a marker value, else its number (or 0)."""
        if self.values:
            wanted = {v.casefold() for v in self.values}
            return Decimal(1) if any(str(s).strip().casefold() in wanted for s in shown) else Decimal(0)
        return number if number is not None and number > 0 else Decimal(0)


@dataclass(frozen=True)
class FieldMap:
    """The custom fields an endpoint bills."""

    expenses: tuple[ExpenseField, ...] = ()
    breaches: tuple[BreachField, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.expenses or self.breaches)

    def by_id(self) -> dict[str, ExpenseField | BreachField]:
        """Each configured field by its id (the field that holds the amount or the marker)."""
        return {m.field: m for m in (*self.expenses, *self.breaches)}


def _text(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise CustomFieldSettingsError(f"{where} must be a non-empty text")
    text = str(value).strip()
    if len(text) > 200:
        raise CustomFieldSettingsError(f"{where} is longer than 200 characters")
    return text


def _entries(settings: Mapping[str, Any], name: str, allowed: set[str]) -> list[dict]:
    raw = settings.get(name)
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise CustomFieldSettingsError(f"{name} must be a list of at most {MAX_FIELDS} field objects")
    out = []
    for n, entry in enumerate(raw):
        where = f"{name}[{n}]"
        if not isinstance(entry, dict):
            raise CustomFieldSettingsError(f"{where} must be an object like {{\"field\": \"<field id>\"}}")
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise CustomFieldSettingsError(f"{where} has unknown key(s): {', '.join(unknown)} "
                                           f"(known: {', '.join(sorted(allowed))})")
        out.append(entry)
    return out


def _expense(entry: dict, where: str, source: str) -> ExpenseField:
    price = entry.get("price", "cost")
    if price not in PRICES:
        raise CustomFieldSettingsError(f"{where}.price must be \"cost\" or \"list\", not {price!r}")
    currency = _text(entry.get("currency"), f"{where}.currency")
    if currency is not None and not _CURRENCY.match(currency):
        raise CustomFieldSettingsError(f"{where}.currency must be a three-letter ISO 4217 code")
    taxable = entry.get("taxable")
    if taxable is not None and not isinstance(taxable, bool):
        raise CustomFieldSettingsError(f"{where}.taxable must be true or false")
    if source in SINGLE_FIELD_SOURCES and (entry.get("quantity_field") or entry.get("description_field")):
        raise CustomFieldSettingsError(f"{where}: {source} webhooks carry one field at a time, so quantity_field "
                                       f"and description_field cannot be read with it")
    return ExpenseField(
        field=_text(entry.get("field"), f"{where}.field", required=True), name=_text(entry.get("name"), f"{where}.name"),
        price=price, currency=currency.upper() if currency else None,
        quantity_field=_text(entry.get("quantity_field"), f"{where}.quantity_field"),
        description_field=_text(entry.get("description_field"), f"{where}.description_field"),
        taxable=taxable, task=_text(entry.get("task"), f"{where}.task"))


def _breach(entry: dict, where: str) -> BreachField:
    values = entry.get("values") or []
    if isinstance(values, str | int) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, list):
        raise CustomFieldSettingsError(f"{where}.values must be a list of the values that mark a breach")
    return BreachField(field=_text(entry.get("field"), f"{where}.field", required=True),
                       name=_text(entry.get("name"), f"{where}.name"),
                       values=tuple(_text(v, f"{where}.values[{i}]", required=True) for i, v in enumerate(values)),
                       task=_text(entry.get("task"), f"{where}.task"))


def field_map(settings: Mapping[str, Any] | None, *, source: str) -> FieldMap:
    """The endpoint's ``expense_fields`` and ``sla_breach_fields``; ``CustomFieldSettingsError`` if malformed."""
    settings = settings or {}
    expenses = tuple(_expense(e, f"{EXPENSE_SETTING}[{n}]", source)
                     for n, e in enumerate(_entries(settings, EXPENSE_SETTING, EXPENSE_KEYS)))
    breaches = tuple(_breach(e, f"{BREACH_SETTING}[{n}]")
                     for n, e in enumerate(_entries(settings, BREACH_SETTING, BREACH_KEYS)))
    ids = [m.field for m in (*expenses, *breaches)]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise CustomFieldSettingsError(f"field {twice[0]} is configured twice; each custom field bills one way")
    return FieldMap(expenses, breaches)


def read_field_map(settings: Mapping[str, Any] | None, *, source: str) -> FieldMap:
    """``field_map`` while reading a delivery: a malformed stored setting makes it unparseable (kept,
    replayable once the setting is fixed) rather than silently billing nothing."""
    try:
        return field_map(settings, source=source)
    except CustomFieldSettingsError as exc:
        raise PayloadError(f"endpoint setting: {exc.message}") from None


def check_settings(settings: Mapping[str, Any] | None, *, source: str) -> None:
    """Refuse custom-field settings that are not of the documented form (``endpoints configure``)."""
    field_map(settings, source=source)


# --- Values

def number(value: Any, what: str) -> Decimal | None:
    """A custom field's value as an exact number (JSON number or numeric text); None when empty.
    Raises ``PayloadError`` for a value that is not a number (a text in an amount field)."""
    if isinstance(value, str):
        value = value.strip().replace(",", "") if re.fullmatch(r"\s*-?[\d,]+(\.\d+)?\s*", value) else value.strip()
    if isinstance(value, float):
        value = Decimal(repr(value))
    return decimal_or_none(value, what)


def shown(value: Any) -> list[str]:
    """The texts a value shows: itself, an option's value, name and id, each item of a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return [text for item in value for text in shown(item)]
    if isinstance(value, dict):
        return [str(value[k]) for k in ("value", "name", "id", "gid") if value.get(k) not in (None, "")]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    text = str(value).strip()
    return [text] if text else []


# --- Events

@dataclass(frozen=True)
class Where:
    """What every usage event from one issue or task shares."""

    source: str
    object_id: str  # the issue or task; each field adds its own id to it
    occurred_at: datetime
    date: str
    mapping_keys: list[str]
    title: str | None = None
    person: str | None = None
    project: str | None = None
    source_event_id: str | None = None
    extra: Mapping[str, Any] | None = None


def _base(where: Where, mapping: ExpenseField | BreachField, kind: EventKind, deleted: bool,
          attributes: dict) -> Event:
    return Event(
        kind=kind, source=where.source, source_object_id=f"{where.object_id}/{mapping.field}",
        occurred_at=where.occurred_at, source_event_id=where.source_event_id,
        attributes={"date": where.date, "person": where.person, "project": where.project, "task": mapping.task,
                    "billable": True, "deleted": deleted, "mapping_keys": list(where.mapping_keys),
                    "custom_field": mapping.field, "custom_field_name": mapping.name, "title": where.title,
                    **(where.extra or {}), **attributes})


def _label(where: Where, mapping, description: str | None) -> str:
    if description:
        return description
    name = f" ({mapping.name})" if mapping.name else ""
    return f"{where.title or where.object_id}{name}"


def expense_event(where: Where, mapping: ExpenseField, amount: Decimal | None, *, quantity: Decimal | None = None,
                  description: str | None = None) -> Event:
    """An expense logged (or, with ``amount`` None, the deletion of the one this field held)."""
    deleted = amount is None
    priced = {} if deleted else ({"amount": amount} if mapping.price == "cost" else {"rate": amount})
    return _base(where, mapping, EventKind.EXPENSE_LOGGED, deleted, {
        "quantity": quantity, "currency": mapping.currency, "taxable": mapping.taxable, "price": mapping.price,
        "description": _label(where, mapping, description), **priced})


def breach_event(where: Where, mapping: BreachField, count: Decimal) -> Event:
    """An SLA breach (``count`` of them), or its deletion when the field no longer marks one."""
    deleted = count <= 0
    return _base(where, mapping, EventKind.SLA_BREACHED, deleted, {
        "quantity": None if deleted else count,
        "description": _label(where, mapping, None)})
