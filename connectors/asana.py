"""Asana: a task (or milestone) marked complete is work done; the API confirms it before billing.

Handshake: creating a webhook makes Asana POST an ``X-Hook-Secret`` header that must be echoed with a
200; every later delivery carries ``X-Hook-Signature``, the hex HMAC-SHA256 of the raw body under that
secret: https://developers.asana.com/docs/webhooks-guide and https://developers.asana.com/reference/createwebhook
Events carry ids only (``{"events": [{"action", "resource", "parent", "change", "user", "created_at"}]}``)
and no event id; delivery is at most once, and an empty ``events`` list is a heartbeat.
Completion is read from the task itself by ``enrich`` (``connectors.asana_api``), and so are the
custom fields an endpoint bills as expenses and SLA breaches (``connectors.asana_fields``).
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors import asana_fields
from connectors.asana_api import API_BASE, enrich
from connectors.base import (
    Headers,
    Reading,
    as_dict,
    body_key,
    dict_or_empty,
    load_json,
    read_guard,
    stable_key,
)
from connectors.custom_fields import check_settings as _check_fields
from connectors.errors import PayloadError, VerificationError
from connectors.signing import verify_hex_hmac
from connectors.timeparse import parse_timestamp
from rules.events import Event, EventKind

SOURCE = "asana"
__all__ = ["API_BASE", "check_settings", "delivery_key", "enrich", "events", "handshake_secret", "ignored_reason",
           "reply", "verify"]


def check_settings(settings) -> None:
    """Refuse ``expense_fields`` / ``sla_breach_fields`` settings that are not of the documented form."""
    _check_fields(settings, source=SOURCE)


def handshake_secret(raw_body: bytes, headers: Mapping[str, str]) -> str | None:
    """The ``X-Hook-Secret`` of a handshake request (to store in the vault), else ``None``."""
    value = Headers(headers).get("X-Hook-Secret")
    return value.strip() if value and value.strip() else None


def reply(raw_body: bytes, headers: Mapping[str, str]) -> tuple[int, dict, bytes] | None:
    """Echo the handshake's ``X-Hook-Secret`` with a 200; ``None`` for ordinary deliveries.

    The front door calls this only while the endpoint awaits a handshake, after storing the secret
    that ``handshake_secret`` returns; a second handshake is refused there.
    """
    secret = handshake_secret(raw_body, headers)
    return (200, {"X-Hook-Secret": secret}, b"") if secret else None


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse the request unless ``X-Hook-Signature`` is the body's hex HMAC under the stored secret."""
    found = Headers(headers)
    if found.get("X-Hook-Secret") and not found.get("X-Hook-Signature"):
        raise VerificationError("an unexpected handshake (X-Hook-Secret) is not a signed delivery")
    verify_hex_hmac(raw_body, found.get("X-Hook-Signature"), secret, header="X-Hook-Signature")


def _fingerprint(item: dict) -> tuple:
    def gid(key):
        value = item.get(key)
        return value.get("gid") if isinstance(value, dict) else value
    change = dict_or_empty(item.get("change"))
    return (gid("resource"), item.get("action"), change.get("field"), change.get("action"),
            item.get("created_at"), gid("user"), gid("parent"))


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """A digest of the events' identifying fields: Asana events carry no id of their own."""
    try:
        payload = load_json(raw_body)
        items = payload.get("events") if isinstance(payload, dict) else None
    except PayloadError:
        items = None
    if not isinstance(items, list):
        return body_key(raw_body)
    if not items:
        return f"heartbeat:{stable_key(raw_body)}"
    prints = sorted(repr(_fingerprint(item)) for item in items if isinstance(item, dict))
    return "events:" + stable_key(*prints)


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """Tasks whose ``completed`` field changed, and changes of the custom fields the endpoint bills, as
    events that ``enrich`` must complete; deleted tasks as deletions of their fields' usage."""
    return _read(raw_body, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, settings).ignored


@read_guard
def _read(raw_body: bytes, settings=None) -> Reading:
    payload = as_dict(load_json(raw_body), "the payload")
    items = payload.get("events")
    if not isinstance(items, list):
        raise PayloadError("the payload has no events list")
    if not items:
        return Reading([], "heartbeat: Asana's periodic delivery with no events")
    found: dict[str, Event] = {}
    seen, skipped = [], []
    for raw in items:
        item = as_dict(raw, "event")
        resource = as_dict(item.get("resource"), "event resource")
        change = dict_or_empty(item.get("change"))
        what = f"{resource.get('resource_type')} {item.get('action')}"
        seen.append(f"{what} ({change['field']})" if change.get("field") else what)
        if resource.get("resource_type") != "task":
            continue
        usage, why = asana_fields.pending_events(item, resource, settings)
        found.update((e.source_object_id, e) for e in usage)
        skipped.extend([why] if why else [])
        if item.get("action") != "changed":
            continue
        if change.get("field") != "completed":
            continue
        gid = str(resource["gid"])
        user = dict_or_empty(item.get("user"))
        # One task may flip back and forth in one delivery; the API says where it ended up.
        found[gid] = Event(
            kind=EventKind.MILESTONE_COMPLETED,
            source=SOURCE,
            source_object_id=gid,
            occurred_at=parse_timestamp(item["created_at"], what="event created_at"),
            attributes={"task_gid": gid, "resource_subtype": resource.get("resource_subtype"),
                        "changed_by": user.get("gid"), "needs_enrichment": True, "mapping_keys": []},
        )
    if found:
        return Reading(list(found.values()))
    billed = " or change of a custom field the endpoint bills" if asana_fields.field_map(settings) else ""
    return Reading([], f"no task completion{billed} among the events ({'; '.join(sorted(set(seen)))})"
                       + "".join(f"; {why}" for why in skipped))
