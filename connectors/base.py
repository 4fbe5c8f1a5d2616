"""Helpers every connector shares: case-insensitive headers, constant-time HMAC checks, JSON,
timestamps, hours and the shapes ``events``/``enrich`` return."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.errors import ConnectorError, PayloadError, VerificationError

# Nesting deeper than this is refused as unparseable: no real webhook is this deep, and it keeps
# a hostile body from exhausting the parser.
MAX_JSON_DEPTH = 64


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


def secret_bytes(secret: str | bytes | None) -> bytes:
    """The secret as bytes; a missing secret fails verification rather than matching anything."""
    if secret is None or secret == "" or secret == b"":
        raise VerificationError("no secret is configured for this endpoint")
    return secret if isinstance(secret, bytes) else secret.encode("utf-8")


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    """Raw HMAC-SHA256 digest of ``message`` under ``secret``."""
    return hmac.new(secret_bytes(secret), message, hashlib.sha256).digest()


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time equality of two strings or byte strings."""
    a_bytes = a.encode("utf-8") if isinstance(a, str) else a
    b_bytes = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)


def as_aware(now: datetime | None) -> datetime:
    """``now`` if given (it must be aware), else the current UTC instant."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


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


def body_digest(raw_body: bytes) -> str:
    """A stable key for a body that names no delivery id of its own (or cannot be read)."""
    return "sha256:" + hashlib.sha256(raw_body or b"").hexdigest()


def parse_signature_header(value: str, header: str) -> tuple[int, list[str]]:
    """The timestamp and every ``v1`` signature of a ``t=...,v1=...[,v1=...]`` header.

    Other schemes (``v0``, future ones) are ignored, as Stripe advises; a header without a
    numeric ``t`` or without any ``v1`` is a ``VerificationError`` naming the header.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(item)
            except ValueError:
                raise VerificationError(f"{header} header has a timestamp that is not a number") from None
        elif key == "v1" and item:
            signatures.append(item.strip())
    if timestamp is None:
        raise VerificationError(f"{header} header has no timestamp (t=)")
    if not signatures:
        raise VerificationError(f"{header} header has no v1 signature")
    return timestamp, signatures


def check_fresh(sent_at: datetime, now: datetime | None, tolerance_seconds: float, what: str) -> None:
    """Refuse a request whose signed timestamp is further than ``tolerance_seconds`` from now."""
    skew = (as_aware(now) - sent_at).total_seconds()
    if abs(skew) > tolerance_seconds:
        direction = "old" if skew > 0 else "in the future"
        raise VerificationError(
            f"{what} is {abs(int(skew))} s {direction}; the window is {int(tolerance_seconds)} s"
        )


def from_epoch_seconds(value: Any) -> datetime:
    """An aware UTC datetime from Unix seconds (int, Decimal or numeric string)."""
    try:
        return datetime.fromtimestamp(int(Decimal(str(value))), UTC)
    except (InvalidOperation, ValueError, OverflowError, OSError):
        raise PayloadError(f"{value!r} is not a Unix timestamp") from None


def from_epoch_millis(value: Any) -> datetime:
    """An aware UTC datetime from Unix milliseconds."""
    try:
        millis = int(Decimal(str(value)))
        return datetime.fromtimestamp(millis // 1000, UTC) + timedelta(milliseconds=millis % 1000)
    except (InvalidOperation, ValueError, OverflowError, OSError):
        raise PayloadError(f"{value!r} is not a timestamp in milliseconds") from None


def parse_instant(value: Any, field: str) -> datetime:
    """An aware datetime from an ISO 8601 string with an offset (``Z`` allowed)."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{field} must be an ISO 8601 date-time with a time zone")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{field} is not an ISO 8601 date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PayloadError(f"{field} has no time zone offset: {value[:40]!r}")
    return parsed


def parse_day(value: Any, field: str) -> date:
    """A date from ``YYYY-MM-DD``."""
    if not isinstance(value, str):
        raise PayloadError(f"{field} must be a date like 2026-03-31")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"{field} is not a date like 2026-03-31: {value[:40]!r}") from None


def decimal_or_none(value: Any, field: str) -> Decimal | None:
    """``value`` as an exact Decimal (from a JSON number or numeric string); empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise PayloadError(f"{field} must be a number or a numeric string")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f"{field} is not a number: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise PayloadError(f"{field} is not a finite number")
    return number


def quantity_or_one(value: Decimal | None) -> Decimal:
    """A line's quantity: 1 when the source leaves it out, but a stated 0 stays 0."""
    return Decimal("1") if value is None else value


def setting(settings: Mapping[str, Any] | None, name: str, default: Any = None) -> Any:
    """One per-endpoint setting, or ``default`` when the endpoint has no settings or no such key."""
    if not settings:
        return default
    value = settings.get(name)
    return default if value is None else value

# --- Helpers for reading deliveries: added with the work and time connectors ---------------------

class Reading(NamedTuple):
    """What a delivery says: the events it carries, or why it carries none."""

    events: list
    reason: str | None = None


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


def verify_hex_hmac(raw_body: bytes, provided: str | None, secret: str | bytes | None, *,
                    header: str, prefix: str = "") -> None:
    """Check a hex HMAC-SHA256 of the raw body (optionally prefixed, ``sha256=``) in constant time."""
    key = secret_bytes(secret)
    if not provided:
        raise VerificationError(f"missing {header} header")
    value = provided.strip()
    if prefix:
        if not value.lower().startswith(prefix.lower()):
            raise VerificationError(f"{header} header does not start with {prefix!r}")
        value = value[len(prefix):]
    expected = hmac.new(key, raw_body, hashlib.sha256).hexdigest()
    if not same(expected, value.lower()):
        raise VerificationError(f"{header} signature does not match the body")


def stable_key(*parts: Any) -> str:
    """A short, stable digest of ``parts``, for deliveries that carry no id of their own."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def parse_timestamp(value: Any, *, what: str = "timestamp", keep_offset: bool = False) -> datetime:
    """An aware UTC datetime from ISO 8601 text (``Z``, ``+0300`` or ``+03:00``) or epoch milliseconds.

    With ``keep_offset`` the text's own UTC offset is kept (the writer's local day and hour).
    """
    if isinstance(value, bool) or value is None or value == "":
        raise PayloadError(f"{what} is missing")
    if isinstance(value, int | Decimal) or (isinstance(value, str) and value.strip().isdigit()):
        millis = Decimal(str(value))
        try:
            return datetime.fromtimestamp(float(millis / 1000), UTC)
        except (OverflowError, OSError, ValueError):
            raise PayloadError(f"{what} {value!r} is out of range") from None
    if not isinstance(value, str):
        raise PayloadError(f"{what} {value!r} is not a date and time")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Jira writes offsets without a colon (+0300) and Toggl nanoseconds; fromisoformat wants neither.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{what} {value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if keep_offset else moment.astimezone(UTC)


# Hours are kept to six places (about 4 ms), so converting seconds loses nothing a bill could show.
HOURS_PLACES = Decimal("0.000001")


def hours_from_seconds(seconds: Any) -> str:
    """Seconds as decimal hours text (``5400`` -> ``"1.500000"``)."""
    value = Decimal(str(seconds)) / Decimal(3600)
    return str(value.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP))


def local_date(moment: datetime, settings: Mapping[str, Any] | None) -> str:
    """The calendar date of ``moment`` in the endpoint's ``time_zone`` setting (UTC when unset)."""
    name = (settings or {}).get("time_zone")
    if name:
        try:
            moment = moment.astimezone(ZoneInfo(str(name)))
        except (ZoneInfoNotFoundError, ValueError):
            raise PayloadError(f"time_zone setting {name!r} is not a known time zone") from None
    return moment.date().isoformat()


def mapping_key(kind: str, source: str, value: Any) -> str:
    """A key a person can map to an agreement, e.g. ``repository:github:octo/site``."""
    return f"{kind}:{source}:{value}"


def as_dict(value: Any, what: str) -> dict:
    """``value`` if it is a JSON object, else a ``PayloadError`` naming ``what``."""
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not a JSON object")
    return value


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
