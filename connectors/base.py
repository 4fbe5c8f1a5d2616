"""Helpers every connector shares: case-insensitive headers, constant-time HMAC checks, JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
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
