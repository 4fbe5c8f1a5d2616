"""Generic: canonical events in a documented JSON form, signed like Stripe, for Zapier, Make and scripts.

The format and the signature are specified for customers in docs/connectors/generic.md:
``Autobill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`` within
300 s, and a body ``{"id": "<delivery id>", "events": [<event>, ...]}`` (1 to 100 events; an empty
list is a ping). ``parse_backfill`` reads past events as JSON lines, one event object per line.

Per-endpoint settings: ``tolerance_seconds`` (default 300).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.base import body_digest, load_json, setting
from connectors.errors import PayloadError
from connectors.generic_format import MAX_ID_LENGTH, event_from_json
from connectors.signing import stamped_hmac, verify_stamped_hmac
from connectors.timeparse import as_aware
from rules.events import Event

SIGNATURE_HEADER = "Autobill-Signature"
TOLERANCE_SECONDS = 300
MAX_EVENTS = 100

__all__ = ["verify", "delivery_key", "events", "ignored_reason", "signature_header", "parse_backfill",
           "BackfillLine", "SIGNATURE_HEADER"]


def signature_header(raw_body: bytes, secret: str | bytes, *, now: datetime | None = None) -> str:
    """The ``Autobill-Signature`` value a sender puts on ``raw_body`` (for the CLI, tests and examples)."""
    t = int(as_aware(now).timestamp())
    return f"t={t},v1={stamped_hmac(secret, t, raw_body)}"


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Check ``Autobill-Signature`` over the raw body: any ``v1`` may match, within the tolerance."""
    verify_stamped_hmac(raw_body, headers, secret, header=SIGNATURE_HEADER, now=now,
                        tolerance_seconds=float(setting(settings, "tolerance_seconds", TOLERANCE_SECONDS)))


def _delivery(raw_body: bytes) -> tuple[str, list]:
    body = load_json(raw_body)
    if not isinstance(body, dict):
        raise PayloadError("a generic delivery is a JSON object with id and events")
    unknown = sorted(set(body) - {"id", "events"})
    if unknown:
        raise PayloadError(f"the delivery has unknown field(s): {', '.join(unknown[:5])}")
    delivery_id = body.get("id")
    if not isinstance(delivery_id, str) or not delivery_id.strip() or len(delivery_id) > MAX_ID_LENGTH:
        raise PayloadError(f"id must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    listed = body.get("events")
    if not isinstance(listed, list):
        raise PayloadError("events must be a list")
    if len(listed) > MAX_EVENTS:
        raise PayloadError(f"a delivery carries at most {MAX_EVENTS} events, not {len(listed)}")
    return delivery_id.strip(), listed


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """The sender's delivery ``id``; a body hash when the body cannot be read."""
    try:
        return _delivery(raw_body)[0]
    except PayloadError:
        return body_digest(raw_body)


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """Every event of the delivery, all or none: one bad event makes the delivery unparseable."""
    _, listed = _delivery(raw_body)
    return [event_from_json(item, f"events[{i}]") for i, item in enumerate(listed)]


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why the delivery yields no event: only an empty ``events`` list (a ping) does."""
    return None if events(raw_body, headers, settings=settings) else "the delivery carries no events (a ping)"


@dataclass(frozen=True)
class BackfillLine:
    """One line of a backfill file: its number and its event, or why it was refused."""

    number: int
    event: Event | None = None
    error: str | None = None


def parse_backfill(lines: Iterable[str | bytes]) -> Iterator[BackfillLine]:
    """Each non-blank JSON line of a backfill file as an event or an error; nothing stops at a bad line."""
    for number, line in enumerate(lines, start=1):
        raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
        if not raw.strip():
            continue
        try:
            value = load_json(raw)
        except PayloadError as exc:
            # load_json speaks of a body; here it is one line, numbered by the caller ("line 5: not JSON ...")
            yield BackfillLine(number, error=exc.message.removeprefix("body is ").replace(" at line 1 column ",
                                                                                      " at column "))
            continue
        try:
            yield BackfillLine(number, event=event_from_json(value, "event"))
        except PayloadError as exc:
            yield BackfillLine(number, error=exc.message)
