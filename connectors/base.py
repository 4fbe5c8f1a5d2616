"""Helpers every connector shares: case-insensitive headers, constant-time HMAC checks, JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.errors import PayloadError, VerificationError

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
