"""Declarative conditions: a field path into the event, an operator and a value; all/any groups."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from rules.events import Event
from rules.rule import Condition, Conditions

_MISSING = object()


def resolve(event: Event, path: str) -> Any:
    """The value at ``path`` (``attributes.pipeline``, ``lines.0.sku``), or a marker when absent."""
    value: Any = event
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, tuple | list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else _MISSING
        elif dataclasses.is_dataclass(value) and not part.startswith("_") and part in value.__dataclass_fields__:
            value = getattr(value, part)
        else:
            value = _MISSING
        if value is _MISSING or value is None:
            return _MISSING
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _compare(left: Any, right: Any) -> int | None:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    left, right = _plain(left), _plain(right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    if type(left) is type(right) and left == right:
        return 0
    return None


def _equal(left: Any, right: Any) -> bool:
    return _compare(left, right) == 0


def condition_holds(condition: Condition, event: Event) -> bool:
    """True when ``event`` meets ``condition``; a missing field meets only ``missing``."""
    found = resolve(event, condition.path)
    op, value = condition.op, condition.value
    if op == "missing":
        return found is _MISSING
    if found is _MISSING:
        return False
    if op == "exists":
        return True
    if op == "eq":
        return _equal(found, value)
    if op == "ne":
        return not _equal(found, value)
    if op in ("in", "not_in"):
        inside = any(_equal(found, v) for v in value)
        return inside if op == "in" else not inside
    if op in ("gt", "gte", "lt", "lte"):
        order = _compare(found, value)
        if order is None:
            return False
        return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[op]
    if op == "contains":
        if isinstance(found, str):
            return isinstance(value, str) and value in found
        if isinstance(found, tuple | list):
            return any(_equal(item, value) for item in found)
        return False
    found, value = _plain(found), _plain(value)
    if not isinstance(found, str) or not isinstance(value, str):
        return False
    return found.startswith(value) if op == "starts_with" else found.endswith(value)


def conditions_hold(conditions: Conditions, event: Event) -> bool:
    """All of ``all`` hold and, when ``any`` is given, at least one of it."""
    if not conditions.all and not conditions.any:
        return True

    def one(item: Condition | Conditions) -> bool:
        """One condition or nested group."""
        return conditions_hold(item, event) if isinstance(item, Conditions) else condition_holds(item, event)

    return all(one(c) for c in conditions.all) and (not conditions.any or any(one(c) for c in conditions.any))
