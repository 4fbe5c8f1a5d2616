"""Checking and cleaning request bodies the way QuickBooks' parser does.

python-quickbooks sends every attribute it has a default for: empty strings for unset dates and
strings, ``0`` for read-only totals, refs with empty ``name``/``type``, an integer SyncToken. Those
are accepted and treated as absent. Unknown properties and values of the wrong type get the 2010
Fault, as QuickBooks' JSON binding does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sandbox import faults
from sandbox.jsonio import to_decimal
from sandbox.schema import EntitySpec


def clean_body(body: Any, spec: EntitySpec) -> dict:
    """The writable fields of ``body`` for ``spec``: unknown names refused, empties and read-only dropped."""
    if not isinstance(body, dict):
        raise faults.invalid_property(f"failed to parse json object; expected a {spec.name} object")
    cleaned: dict = {}
    for key, value in body.items():
        if key not in spec.fields:
            raise faults.invalid_property(
                f'Unrecognized field "{key}" (class com.intuit.schema.finance.v3.{spec.name}), not marked as ignorable')
        if key in spec.readonly or key in ("MetaData", "domain", "status"):
            continue
        if value is None or value == "":
            continue
        limit = spec.max_lengths.get(key)
        if limit is not None:
            if not isinstance(value, str):
                raise faults.invalid_property(f"{key}: expected a string, got {_kind(value)}")
            if len(value) > limit:
                raise faults.string_length(key, limit, len(value))
        cleaned[key] = value
    return cleaned


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", str: "a string"}.get(type(value), "a number")


def decimal(value: Any, name: str) -> Decimal | None:
    """A number field (``None`` when absent); a non-number is the 2010 Fault."""
    try:
        return to_decimal(value)
    except ValueError:
        raise faults.invalid_property(
            f"Can not construct instance of java.math.BigDecimal from String value '{value}' ({name})") from None


def boolean(value: Any, name: str, default: bool | None = None) -> bool | None:
    """A boolean field; ``"true"``/``"false"`` strings are read as Jackson would."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise faults.invalid_property(f"{name}: expected true or false, got {value!r}")


def text(value: Any, name: str) -> str | None:
    """A string field (``None`` when absent)."""
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)) or isinstance(value, bool):
        raise faults.invalid_property(f"{name}: expected a string, got {_kind(value)}")
    return str(value)


def iso_date(value: Any, name: str) -> str | None:
    """A ``YYYY-MM-DD`` date field (``None`` when absent)."""
    raw = text(value, name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10]).isoformat()
    except ValueError:
        raise faults.invalid_property(f"{name}: {raw!r} is not a date (YYYY-MM-DD)") from None


def ref_id(value: Any, name: str) -> str | None:
    """The ``value`` of a reference object, ``None`` when the ref is absent or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise faults.invalid_property(f"{name}: expected a reference object {{\"value\": ...}}")
    raw = value.get("value")
    if raw is None or raw == "":
        return None
    if isinstance(raw, (dict, list, bool)):
        raise faults.invalid_property(f"{name}.value: expected a string")
    return str(raw)


def resolve(realm, entity: str, value: Any, name: str, *, inactive_ok: bool = False) -> dict | None:
    """A reference checked against the realm: ``{"value", "name"}`` or ``None``; dangling is 2500."""
    ident = ref_id(value, name)
    if ident is None:
        return None
    obj = realm.get(entity, ident)
    if obj is None or (not inactive_ok and obj.get("Active") is False):
        raise faults.invalid_reference(entity, ident, name)
    display = obj.get("DisplayName") or obj.get("Name") or obj.get("FullyQualifiedName")
    return {"value": ident, "name": display} if display else {"value": ident}


def sync_token(value: Any) -> str:
    """The SyncToken of an update as a string (python-quickbooks sends an int)."""
    if value is None or value == "":
        raise faults.required("SyncToken")
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise faults.invalid_property("SyncToken: expected a string")
    if isinstance(value, Decimal):
        value = int(value)
    return str(value).strip()


def check_sync_token(stored: dict, body: dict, user: str = "root") -> None:
    """5010 when the request's SyncToken is not the stored object's."""
    if sync_token(body.get("SyncToken")) != str(stored.get("SyncToken")):
        raise faults.stale(user)


def object_id(body: Any, spec: EntitySpec) -> str:
    """The Id of the object an update, delete or void names (2020 when missing)."""
    if not isinstance(body, dict):
        raise faults.invalid_property(f"failed to parse json object; expected a {spec.name} object")
    ident = body.get("Id")
    if ident is None or ident == "":
        raise faults.required("Id")
    if isinstance(ident, (dict, list, bool)):
        raise faults.invalid_property("Id: expected a string")
    return str(ident)
