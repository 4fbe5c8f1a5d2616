"""What every connector shares for reading a delivery: headers, the JSON body, dedupe keys,
settings, exact numbers, and the shapes ``events`` and ``enrich`` return.

Times are read by ``connectors.timeparse``, signatures checked by ``connectors.signing`` and vendor
APIs called through ``connectors.api_client``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from connectors.errors import ConnectorError, PayloadError, VerificationError

# Nesting deeper than this is refused as unparseable: no real webhook is this deep, and it keeps
# a hostile body from exhausting the parser.
MAX_JSON_DEPTH = 64
# Hours are kept to six places (about 4 ms), so converting seconds loses nothing a bill could show.
HOURS_PLACES = Decimal("0.000001")


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of request headers."""

    def __init__(self, headers: Mapping[str, str] | None):
        self._items = {str(k).lower(): str(v) for k, v in (headers or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._items.get(key.lower(), default)

    def require(self, key: str) -> str:
        """The header's value, or ``VerificationError`` naming the missing header."""
        value = self._items.get(key.lower())
        if not value:
            raise VerificationError(f"missing {key} header")
        return value


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def load_json(raw_body: bytes) -> Any:
    """Parse a JSON body; anything unreadable (bad UTF-8, bad JSON, too deep) is a ``PayloadError``."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise PayloadError("body is empty")
    try:
        data = json.loads(text, parse_float=Decimal)
    except RecursionError:
        raise PayloadError(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise PayloadError(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    return data


def setting(settings: Mapping[str, Any] | None, name: str, default: Any = None) -> Any:
    """One per-endpoint setting, or ``default`` when the endpoint has no settings or no such key."""
    if not settings:
        return default
    value = settings.get(name)
    return default if value is None else value


# --- Dedupe keys and mapping keys

def body_digest(raw_body: bytes) -> str:
    """A stable key for a body that names no delivery id of its own (or cannot be read)."""
    return "sha256:" + hashlib.sha256(raw_body or b"").hexdigest()


def stable_key(*parts: Any) -> str:
    """A short, stable digest of ``parts``, for deliveries that carry no id of their own."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def body_key(raw_body: bytes) -> str:
    """``body:`` and a short digest of the body: the work and time connectors' key for a body without an id."""
    return f"body:{stable_key(raw_body)}"


def header_key(headers: Mapping[str, str], name: str, raw_body: bytes) -> str:
    """The delivery id the sender puts in header ``name`` (kept across retries), else ``body_key``."""
    value = Headers(headers).get(name)
    return value.strip() if value else body_key(raw_body)


def batch_key(scope: Any, ids: Iterable[str]) -> str:
    """``scope:id`` for one notification id, ``scope:batch:<digest>`` for several (in any order)."""
    ordered = sorted(set(ids))
    if len(ordered) == 1:
        return f"{scope}:{ordered[0]}"
    return f"{scope}:batch:{hashlib.sha256(','.join(ordered).encode()).hexdigest()[:40]}"


def mapping_key(kind: str, source: str, value: Any) -> str:
    """A key a person can map to an agreement, e.g. ``repository:github:octo/site``."""
    return f"{kind}:{source}:{value}"


# --- Exact numbers

def decimal_or_none(value: Any, what: str) -> Decimal | None:
    """``value`` as an exact Decimal (from a JSON number or numeric string); empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise PayloadError(f"{what} must be a number or a numeric string")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f"{what} is not a number: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise PayloadError(f"{what} is not a finite number")
    return number


def quantity_or_one(value: Decimal | None) -> Decimal:
    """A line's quantity: 1 when the source leaves it out, but a stated 0 stays 0."""
    return Decimal("1") if value is None else value


def hours_from_seconds(seconds: Any) -> str:
    """Seconds as decimal hours text (``5400`` -> ``"1.500000"``)."""
    value = Decimal(str(seconds)) / Decimal(3600)
    return str(value.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP))


# --- Reading a delivery and what enrichment returns

def as_dict(value: Any, what: str) -> dict:
    """``value`` if it is a JSON object, else a ``PayloadError`` naming ``what``."""
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not a JSON object")
    return value


def dict_or_empty(value: Any) -> dict:
    """``value`` if it is a JSON object, else an empty one (for optional parts of a payload)."""
    return value if isinstance(value, dict) else {}


class Reading(NamedTuple):
    """What a delivery says: the events it carries, or why it carries none."""

    events: list
    reason: str | None = None

    @property
    def ignored(self) -> str | None:
        """What ``ignored_reason`` answers: the reason, or ``None`` when there are events."""
        return None if self.events else self.reason

    @classmethod
    def from_skipped(cls, events: list, skipped: list[str], *, empty: str, heading: str) -> Reading:
        """The events; without any, a reason listing what was skipped (``empty`` when nothing was)."""
        if events:
            return cls(events)
        return cls([], f"{heading}: {summarize(skipped)}" if skipped else empty)


def read_guard(interpret: Callable[..., Reading]) -> Callable[..., Reading]:
    """Wrap a payload interpreter so an unexpected shape becomes a ``PayloadError``, never a crash.

    Vendors change payloads and attackers with a valid secret can send anything; a field of the
    wrong type must end as "unparseable, kept in the inbox", not as a 500 or a stack trace.
    """

    @functools.wraps(interpret)
    def guarded(*args, **kwargs) -> Reading:
        try:
            return interpret(*args, **kwargs)
        except ConnectorError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError,
                RecursionError) as exc:
            raise PayloadError(f"payload has an unexpected shape ({type(exc).__name__}: {exc})") from None

    return guarded


def summarize(reasons: list[str], limit: int = 5) -> str:
    """The first ``limit`` reasons joined with ``; ``, and how many more there are."""
    more = f"; and {len(reasons) - limit} more" if len(reasons) > limit else ""
    return "; ".join(reasons[:limit]) + more


class DroppedEvent(NamedTuple):
    """An event that enrichment found should not bill, with the reason a person will read."""

    event: Any
    reason: str


class Enriched(list):
    """What ``enrich`` returns: the completed events (a plain list) plus ``dropped`` with reasons."""

    def __init__(self, events=(), dropped=()):
        super().__init__(events)
        self.dropped: list[DroppedEvent] = list(dropped)


def dropped_reasons(result: Any) -> list[DroppedEvent]:
    """The events an ``enrich`` result dropped, with reasons (none for a plain list)."""
    return list(getattr(result, "dropped", ()))
