"""QuickBooks' per-company throttles, on the emulator's clock.

Defaults are Intuit's published limits (developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles):
500 requests a minute, 10 a second, 10 at once, 40 batch calls a minute per company. A request over
any of them gets the XML 429. Sliding windows; a refused request does not use up the window.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass, fields

DEFAULT_LIMITS = {"per_minute": 500, "per_second": 10, "concurrent": 10, "batch_per_minute": 40,
                  "batch_items_count": True}


@dataclass
class Limits:
    """One company's limits; ``None`` or 0 switches a limit off."""

    per_minute: int | None = 500
    per_second: int | None = 10
    concurrent: int | None = 10
    batch_per_minute: int | None = 40
    batch_items_count: bool = True  # each batch item counts against per_minute, as QBO meters them

    @classmethod
    def from_dict(cls, values: dict, base: Limits | None = None) -> Limits:
        """Limits from a control-API body, keeping ``base`` for keys not given; rejects unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        merged = asdict(base) if base else dict(DEFAULT_LIMITS)
        for key, value in values.items():
            if key == "batch_items_count":
                if not isinstance(value, bool):
                    raise ValueError("batch_items_count must be true or false")
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{key} must be a non-negative integer or null")
            merged[key] = value
        return cls(**merged)

    def to_dict(self) -> dict:
        """The limits as JSON."""
        return asdict(self)


class Throttle:
    """Sliding-window and concurrency accounting for one company."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._lock = threading.Lock()
        self._minute: deque[tuple[float, int]] = deque()
        self._minute_sum = 0
        self._second: deque[float] = deque()
        self._batches: deque[float] = deque()
        self.in_flight = 0
        self.peak = 0

    def admit(self, now: float, cost: int = 1, batch: bool = False) -> bool:
        """Take a slot for a request costing ``cost`` units of the per-minute budget, or refuse."""
        lim = self.limits
        with self._lock:
            self._prune(now)
            if lim.concurrent and self.in_flight >= lim.concurrent:
                return False
            if lim.per_second and len(self._second) >= lim.per_second:
                return False
            if lim.per_minute and self._minute_sum + cost > lim.per_minute:
                return False
            if batch and lim.batch_per_minute and len(self._batches) >= lim.batch_per_minute:
                return False
            if lim.per_second:
                self._second.append(now)
            if lim.per_minute:
                self._minute.append((now, cost))
                self._minute_sum += cost
            if batch and lim.batch_per_minute:
                self._batches.append(now)
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
            return True

    def release(self) -> None:
        """Give back the concurrency slot of a finished request."""
        with self._lock:
            self.in_flight -= 1

    def _prune(self, now: float) -> None:
        while self._minute and self._minute[0][0] <= now - 60:
            self._minute_sum -= self._minute.popleft()[1]
        while self._second and self._second[0] <= now - 1:
            self._second.popleft()
        while self._batches and self._batches[0] <= now - 60:
            self._batches.popleft()
        # A clock moved backwards must not leave entries "in the future" forever.
        if self._minute and self._minute[-1][0] > now + 1:
            self._minute.clear()
            self._minute_sum = 0
            self._second.clear()
            self._batches.clear()
