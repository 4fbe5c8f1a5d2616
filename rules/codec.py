"""A small typed codec between rules' frozen dataclasses and plain JSON values.

Decoding follows the type hints of each dataclass, refuses unknown fields and wrong types, and
names the path of the bad field (``agreements[0].components[2].rate``). Amounts are strings (or
exact JSON numbers), never floats; dates are ISO 8601.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any, Union

from rules.calendar import CADENCE_NAMES, Cadence
from rules.components import COMPONENT_TYPES, Component
from rules.errors import InvalidAgreement
from rules.rule import Condition, Conditions


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.init)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, int | Decimal | float):
        return f"the number {value}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def decode(tp: Any, value: Any, path: str = "") -> Any:
    """``value`` (plain JSON data) as an instance of ``tp``; ``InvalidAgreement`` names what is wrong."""
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        options = [a for a in args if a is not type(None)]
        if value is None:
            if len(options) < len(args):
                return None
            raise InvalidAgreement(path, "is required")
        if set(options) == {Condition, Conditions}:
            return decode(Conditions if isinstance(value, dict) and ({"all", "any"} & set(value)) else Condition,
                          value, path)
        return decode(options[0], value, path)
    if tp is Any:
        return value
    if value is None:
        raise InvalidAgreement(path, "is required")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise InvalidAgreement(path, f"expected a list, got {_kind(value)}")
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise InvalidAgreement(path, f"expected a list of {len(args)} values")
        return tuple(decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is Mapping or origin is dict:
        if not isinstance(value, dict):
            raise InvalidAgreement(path, f"expected an object, got {_kind(value)}")
        _, value_type = typing.get_args(tp)
        return {str(k): decode(value_type, v, f"{path}.{k}") for k, v in value.items()}
    return _decode_scalar_or_object(tp, value, path)


def _decode_scalar_or_object(tp: Any, value: Any, path: str) -> Any:
    if tp is str:
        if not isinstance(value, str):
            raise InvalidAgreement(path, f"expected text, got {_kind(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise InvalidAgreement(path, f"expected true or false, got {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAgreement(path, f"expected a whole number, got {_kind(value)}")
        return value
    if tp is Decimal:
        return _decimal(value, path)
    if tp is date:
        if not isinstance(value, str):
            raise InvalidAgreement(path, f"expected a date like \"2026-11-01\", got {_kind(value)}")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidAgreement(path, f"{value!r} is not a date like \"2026-11-01\"") from None
    if tp is datetime:
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise InvalidAgreement(path, "expected a date and time with its offset, like \"2026-11-01T09:00:00+00:00\"")
        return parsed
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            known = ", ".join(str(m.value) for m in tp)
            raise InvalidAgreement(path, f"{value!r} is not one of: {known}") from None
    if tp is Cadence and isinstance(value, str):
        try:
            return Cadence.named(value)
        except InvalidAgreement as exc:
            raise InvalidAgreement(path, exc.reason) from None
    if tp is Component:
        if not isinstance(value, dict):
            raise InvalidAgreement(path, f"expected an object, got {_kind(value)}")
        kind = value.get("type")
        cls = COMPONENT_TYPES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise InvalidAgreement(_join(path, "type"),
                                   f"{kind!r} is not a component type; known: {', '.join(COMPONENT_TYPES)}")
        return _decode_dataclass(cls, {k: v for k, v in value.items() if k != "type"}, path)
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value, path)
    raise InvalidAgreement(path, f"cannot read a value of type {tp!r}")  # a programming error


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAgreement(path, f"write amounts as exact numbers like \"150.00\", got {_kind(value)}")
    if isinstance(value, Decimal | int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise InvalidAgreement(path, f"{value!r} is not a number like \"150.00\"") from None
    else:
        raise InvalidAgreement(path, f"expected a number like \"150.00\", got {_kind(value)}")
    if not result.is_finite():
        raise InvalidAgreement(path, f"{value!r} is not a finite number")
    return result


def _decode_dataclass(cls: type, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise InvalidAgreement(path, f"expected an object, got {_kind(value)}")
    fields = _fields(cls)
    names = {f.name for f in fields}
    unknown = sorted(set(value) - names)
    if unknown:
        raise InvalidAgreement(_join(path, str(unknown[0])),
                               f"is not a field of {_label(cls)} (known: {', '.join(sorted(names))})")
    hints = _hints(cls)
    kwargs = {}
    for f in fields:
        if f.name in value:
            kwargs[f.name] = decode(hints[f.name], value[f.name], _join(path, f.name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InvalidAgreement(_join(path, f.name), "is required")
    try:
        return cls(**kwargs)
    except InvalidAgreement as exc:
        raise exc.under(path) from None
    except (ValueError, TypeError) as exc:
        raise InvalidAgreement(path, str(exc)) from None


def _label(cls: type) -> str:
    return getattr(cls, "TYPE", "") or cls.__name__


def encode(value: Any, *, omit_defaults: bool = True) -> Any:
    """Plain JSON data for ``value`` (the inverse of ``decode``); defaults are left out unless asked."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Cadence) and value.day_of_month is None:
        for name, (unit, every) in CADENCE_NAMES.items():
            if unit is value.unit and every == value.every:
                return name
    if isinstance(value, list | tuple):
        return [encode(v, omit_defaults=omit_defaults) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(value[k], omit_defaults=omit_defaults) for k in sorted(value, key=str)}
    if dataclasses.is_dataclass(value):
        out: dict[str, Any] = {}
        if isinstance(value, Component):
            out["type"] = value.TYPE
        for f in _fields(type(value)):
            item = getattr(value, f.name)
            if omit_defaults and _is_default(f, item):
                continue
            out[f.name] = encode(item, omit_defaults=omit_defaults)
        return out
    raise TypeError(f"cannot encode {type(value).__name__}")


def _is_default(f: dataclasses.Field, item: Any) -> bool:
    if f.default is not dataclasses.MISSING:
        return item == f.default
    if f.default_factory is not dataclasses.MISSING:
        return item == f.default_factory()
    return False
