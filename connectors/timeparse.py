"""Times as vendors send them, read into timezone-aware datetimes; every unreadable one is a ``PayloadError``.

Every helper takes the value and ``what`` it is (a field or header name), which its errors name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.errors import PayloadError, VerificationError


def as_aware(now: datetime | None) -> datetime:
    """``now`` if given (it must be aware), else the current UTC instant."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def from_epoch_seconds(value: Any, what: str = "timestamp") -> datetime:
    """An aware UTC datetime from Unix seconds (int, Decimal or numeric string)."""
    try:
        return datetime.fromtimestamp(int(Decimal(str(value))), UTC)
    except (InvalidOperation, ValueError, OverflowError, OSError):
        raise PayloadError(f"{what} {value!r} is not a Unix time in seconds") from None


def from_epoch_millis(value: Any, what: str = "timestamp") -> datetime:
    """An aware UTC datetime from Unix milliseconds, exactly (no float on the way)."""
    try:
        millis = int(Decimal(str(value)))
        return datetime.fromtimestamp(millis // 1000, UTC) + timedelta(milliseconds=millis % 1000)
    except (InvalidOperation, ValueError, OverflowError, OSError):
        raise PayloadError(f"{what} {value!r} is not a Unix time in milliseconds") from None


def _from_iso(text: str, what: str) -> datetime:
    """ISO 8601 text as a datetime (naive when the text has no offset)."""
    normal = text.strip()
    if normal.endswith(("Z", "z")):
        normal = normal[:-1] + "+00:00"
    # Jira writes offsets without a colon (+0300) and Toggl nanoseconds; fromisoformat wants neither.
    normal = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", normal)
    normal = re.sub(r"(\.\d{6})\d+", r"\1", normal)
    try:
        return datetime.fromisoformat(normal)
    except ValueError:
        raise PayloadError(f"{what} is not an ISO 8601 date and time: {text[:40]!r}") from None


def parse_timestamp(value: Any, what: str = "timestamp", *, keep_offset: bool = False) -> datetime:
    """An aware UTC datetime from ISO 8601 text (``Z``, ``+0300`` or ``+03:00``) or epoch milliseconds.

    Text without an offset is read as UTC. With ``keep_offset`` the text's own UTC offset is kept
    (the writer's local day and hour).
    """
    if isinstance(value, bool) or value is None or value == "":
        raise PayloadError(f"{what} is missing")
    if isinstance(value, int | Decimal) or (isinstance(value, str) and value.strip().isdigit()):
        return from_epoch_millis(value, what)
    if not isinstance(value, str):
        raise PayloadError(f"{what} {value!r} is not a date and time")
    moment = _from_iso(value, what)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if keep_offset else moment.astimezone(UTC)


def parse_instant(value: Any, what: str) -> datetime:
    """An aware datetime from ISO 8601 text that states its offset (``Z`` allowed); the offset is kept.

    Stricter than ``parse_timestamp``: for formats that promise an offset (the generic connector's,
    Salesforce's), a number or a time without an offset is an error, not a guess.
    """
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} must be an ISO 8601 date-time with a time zone")
    parsed = _from_iso(value, what)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PayloadError(f"{what} has no time zone offset: {value[:40]!r}")
    return parsed


def parse_day(value: Any, what: str) -> date:
    """A date from ``YYYY-MM-DD``."""
    if not isinstance(value, str):
        raise PayloadError(f"{what} must be a date like 2026-03-31")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"{what} is not a date like 2026-03-31: {value[:40]!r}") from None


def check_fresh(sent_at: datetime, now: datetime | None, tolerance_seconds: float, what: str) -> None:
    """Refuse a request whose signed timestamp is further than ``tolerance_seconds`` from now."""
    skew = (as_aware(now) - sent_at).total_seconds()
    if abs(skew) > tolerance_seconds:
        direction = "old" if skew > 0 else "in the future"
        raise VerificationError(
            f"{what} is {abs(int(skew))} s {direction}; the window is {int(tolerance_seconds)} s"
        )


def local_date(moment: datetime, settings: Mapping[str, Any] | None) -> str:
    """The calendar date of ``moment`` in the endpoint's ``time_zone`` setting (UTC when unset)."""
    name = (settings or {}).get("time_zone")
    if name:
        try:
            moment = moment.astimezone(ZoneInfo(str(name)))
        except (ZoneInfoNotFoundError, ValueError):
            raise PayloadError(f"time_zone setting {name!r} is not a known time zone") from None
    return moment.date().isoformat()
