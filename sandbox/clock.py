"""The emulator's clock: real time plus an offset that the control API can set or advance.

Token expiry, rate-limit windows, requestid memory, CDC look-back and webhook retries all read
this clock, so a test can jump an hour ahead instead of waiting for one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

try:  # QuickBooks stamps times in the company's zone; sandbox companies are in US Pacific.
    from zoneinfo import ZoneInfo

    PACIFIC: tzinfo = ZoneInfo("America/Los_Angeles")
except Exception:  # noqa: BLE001 - no tz database: a fixed offset keeps the shape right
    PACIFIC = timezone(timedelta(hours=-8))


class Clock:
    """Wall-clock time shifted by a settable offset."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def timestamp(self) -> float:
        """Seconds since the epoch on the emulator's clock."""
        return time.time() + self._offset

    def now(self) -> datetime:
        """The emulator's current instant, timezone-aware in UTC."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def set(self, when: datetime) -> None:
        """Make ``when`` the current instant (the clock keeps running from there)."""
        if when.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware instant")
        with self._lock:
            self._offset = when.timestamp() - time.time()
        self._changed()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number) by ``seconds``."""
        with self._lock:
            self._offset += float(seconds)
        self._changed()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the clock jumps (the webhook sender re-plans its waits)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()


def qbo_time(moment: datetime, zone: tzinfo = PACIFIC, millis: bool = False) -> str:
    """``moment`` as QuickBooks writes it: local time with a ``-07:00`` style offset."""
    local = moment.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if millis:
        text += f".{local.microsecond // 1000:03d}"
    offset = local.strftime("%z")
    return f"{text}{offset[:3]}:{offset[3:]}"


def parse_instant(text: str, zone: tzinfo = PACIFIC) -> datetime:
    """Parse an ISO date or date-time; a value without an offset is read in ``zone``."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed
