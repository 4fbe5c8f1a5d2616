"""Calendars: cadences, the period grid of an agreement anchored to its start, local instants.

Periods are half-open ``[start, end)`` in dates of the agreement's time zone; people see the last
day (``end - 1``). Month arithmetic always counts from the grid's origin, so a start on the 31st
bills on Feb 28 and then on Mar 31 again: it clamps to the month's last day and never drifts.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rules.errors import InvalidAgreement, InvalidInput
from rules.quick import quick_init

ONE_DAY = timedelta(days=1)


class CadenceUnit(StrEnum):
    """Periods count in months or in weeks."""

    MONTH = "month"
    WEEK = "week"


CADENCE_NAMES = {
    "monthly": (CadenceUnit.MONTH, 1), "quarterly": (CadenceUnit.MONTH, 3),
    "semiannually": (CadenceUnit.MONTH, 6), "yearly": (CadenceUnit.MONTH, 12),
    "annually": (CadenceUnit.MONTH, 12), "weekly": (CadenceUnit.WEEK, 1), "biweekly": (CadenceUnit.WEEK, 2),
}


@dataclass(frozen=True)
class Cadence:
    """How often periods recur: every ``every`` months or weeks; a month cadence may start
    its periods on a fixed ``day_of_month`` (1-31, clamped to short months)."""

    unit: CadenceUnit = CadenceUnit.MONTH
    every: int = 1
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.unit, CadenceUnit):
            object.__setattr__(self, "unit", CadenceUnit(self.unit))
        if not isinstance(self.every, int) or isinstance(self.every, bool) or not 1 <= self.every <= 120:
            raise InvalidAgreement("every", "must be a whole number from 1 to 120")
        if self.day_of_month is not None:
            if self.unit is not CadenceUnit.MONTH:
                raise InvalidAgreement("day_of_month", "only applies to a month cadence")
            if not 1 <= self.day_of_month <= 31:
                raise InvalidAgreement("day_of_month", "must be from 1 to 31")

    @classmethod
    def named(cls, name: str) -> Cadence:
        """The cadence called ``name`` (monthly, quarterly, semiannually, yearly, weekly, biweekly)."""
        try:
            unit, every = CADENCE_NAMES[name.strip().lower()]
        except KeyError:
            raise InvalidAgreement("cadence", f"unknown cadence {name!r}; known: {', '.join(CADENCE_NAMES)}") from None
        return cls(unit, every)

    @property
    def label(self) -> str:
        """``monthly``, ``quarterly``, ``every 2 weeks``, ``monthly on day 15``."""
        slot = (self.unit, self.every, self.day_of_month)
        found = _LABELS.get(slot)
        if found is None:
            for name, (unit, every) in CADENCE_NAMES.items():
                if unit is self.unit and every == self.every and name not in ("annually", "biweekly"):
                    base = name
                    break
            else:
                base = f"every {self.every} {self.unit.value}s"
            found = _LABELS[slot] = base if self.day_of_month is None else f"{base} on day {self.day_of_month}"
        return found


_LABELS: dict[tuple[CadenceUnit, int, int | None], str] = {}  # few distinct cadences exist
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` of ``year``."""
    if month == 2 and _cal.isleap(year):
        return 29
    return _DAYS[month - 1]


def add_months(year: int, month: int, months: int, day: int) -> date:
    """The date ``months`` after ``year-month`` on ``day``, clamped to that month's last day."""
    total = year * 12 + (month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    return date(y, m, min(day, days_in_month(y, m)))


@quick_init
@dataclass(frozen=True)
class BillingPeriod:
    """One period of a schedule: actual ``[start, end)`` and the full grid period it is part of."""

    index: int
    start: date
    end: date  # exclusive
    full_start: date
    full_end: date  # exclusive

    @cached_property
    def last_day(self) -> date:
        """The last day people see (``end`` is exclusive)."""
        return self.end - ONE_DAY

    @property
    def days(self) -> int:
        """Days in this (possibly partial) period."""
        return (self.end - self.start).days

    @property
    def full_days(self) -> int:
        """Days in the full grid period."""
        return (self.full_end - self.full_start).days

    @cached_property
    def is_partial(self) -> bool:
        """True when the start or the end cut the grid period."""
        return self.start != self.full_start or self.end != self.full_end

    @property
    def fraction(self) -> Decimal:
        """Share of the full period this one covers, exact where it can be (days / full days)."""
        return Decimal(self.days) / Decimal(self.full_days)

    @cached_property
    def source_id(self) -> str:
        """``period:2026-11-01/2026-11-30``, as explanations name a fee period."""
        return f"period:{self.start.isoformat()}/{self.last_day.isoformat()}"

    @cached_property
    def label(self) -> str:
        """``2026-11-01 to 2026-11-30``."""
        return f"{self.start.isoformat()} to {self.last_day.isoformat()}"


class Schedule:
    """The grid of periods from ``start`` (through ``end``, the last day, if any) at ``cadence``.

    Schedules are shared (``schedule_for``) and immutable, so the periods, boundaries and indexes
    they compute are kept; ``memo`` holds what the engine derives from them (windows)."""

    __slots__ = ("start", "cadence", "end", "_stop", "_origin_months", "_anchor", "_grid", "_periods",
                 "_boundaries", "_indexes", "memo")

    def __init__(self, start: date, cadence: Cadence, end: date | None = None):
        if end is not None and end < start:
            raise InvalidInput(f"the end {end} is before the start {start}")
        self.start = start
        self.cadence = cadence
        self.end = end
        self._stop = None if end is None else end + ONE_DAY
        self._grid: dict[int, date] = {}
        self._periods: dict[int, BillingPeriod | None] = {}
        self._boundaries: dict[int, date | None] = {}
        self._indexes: dict[date, int] = {}
        self.memo: dict = {}
        self._anchor = start.day
        self._origin_months = start.year * 12 + start.month - 1
        dom = cadence.day_of_month
        if cadence.unit is CadenceUnit.MONTH and dom is not None:
            self._anchor = dom
            here = date(start.year, start.month, min(dom, days_in_month(start.year, start.month)))
            if here != start:
                first = here if here > start else add_months(start.year, start.month, 1, dom)
                # The grid's first point lies before the start, so period 0 is a stub of it.
                self._origin_months = first.year * 12 + first.month - 1 - cadence.every

    def grid(self, k: int) -> date:
        """The k-th point of the unclipped grid (period k's full start)."""
        point = self._grid.get(k)
        if point is None:
            if self.cadence.unit is CadenceUnit.WEEK:
                point = self.start + timedelta(days=7 * self.cadence.every * k)
            else:
                y, m = divmod(self._origin_months + self.cadence.every * k, 12)
                point = date(y, m + 1, min(self._anchor, days_in_month(y, m + 1)))
            self._grid[k] = point
        return point

    def period(self, k: int) -> BillingPeriod | None:
        """Period ``k`` clipped to the start and end, or None when it lies past the end."""
        try:
            return self._periods[k]
        except KeyError:
            pass
        found = None
        if k >= 0:
            full_start, full_end = self.grid(k), self.grid(k + 1)
            start = max(full_start, self.start)
            end = full_end if self._stop is None else min(full_end, self._stop)
            if start < end:
                found = BillingPeriod(k, start, end, full_start, full_end)
        self._periods[k] = found
        return found

    def index_at(self, day: date) -> int:
        """The index of the period containing ``day`` (``day`` before the start gives 0)."""
        k = self._indexes.get(day)
        if k is not None:
            return k
        if day <= self.start:
            k = 0
        elif self.cadence.unit is CadenceUnit.WEEK:
            k = (day - self.start).days // (7 * self.cadence.every)
        else:
            months = day.year * 12 + day.month - 1 - self._origin_months
            k = max(0, months // self.cadence.every - 1)
            while self.grid(k + 1) <= day:
                k += 1
        self._indexes[day] = k
        return k

    def period_at(self, day: date) -> BillingPeriod | None:
        """The period containing ``day``, or None outside the schedule."""
        if day < self.start or (self._stop is not None and day >= self._stop):
            return None
        return self.period(self.index_at(day))

    def boundary(self, k: int) -> date | None:
        """The k-th boundary: period k's start, or the day after the end for the final one."""
        try:
            return self._boundaries[k]
        except KeyError:
            pass
        if k == 0:
            found = self.start
        else:
            point = self.grid(k)
            if self._stop is None or point < self._stop:
                found = point
            elif self.grid(k - 1) < self._stop:
                found = self._stop
            else:
                found = None
        self._boundaries[k] = found
        return found

    def periods_ending_in(self, after: date, through: date) -> list[BillingPeriod]:
        """Periods whose (exclusive) end is in ``(after, through]``."""
        out = []
        k = self.index_at(after)
        while True:
            period = self.period(k)
            if period is None or period.start >= through:
                return out
            if after < period.end <= through:
                out.append(period)
            k += 1

    def periods_between(self, first: date, stop: date) -> list[BillingPeriod]:
        """Periods whose start is in ``[first, stop)``."""
        out = []
        k = self.index_at(first)
        while True:
            period = self.period(k)
            if period is None or period.start >= stop:
                return out
            if period.start >= first:
                out.append(period)
            k += 1


@lru_cache(maxsize=65536)
def schedule_for(start: date, cadence: Cadence, end: date | None = None) -> Schedule:
    """The (shared, cached) schedule from ``start`` at ``cadence`` through ``end``."""
    return Schedule(start, cadence, end)


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/London``, ``Etc/GMT+12``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}") from None


def require_aware(instant: datetime, what: str = "now") -> datetime:
    """``instant`` itself; a naive datetime is refused."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(f"{what} must be a timezone-aware datetime")
    return instant


@lru_cache(maxsize=65536)
def local_date(instant: datetime, tz: str) -> date:
    """The calendar date at ``instant`` in time zone ``tz``."""
    # Cached: a tick asks the same instants (now, since, boundaries) for thousands of agreements.
    # Equal instants have one local date whatever their own offset, and a naive one never equals
    # an aware one, so the check below runs for every distinct value.
    return require_aware(instant).astimezone(zone(tz)).date()


@lru_cache(maxsize=65536)
def day_starts(day: date, tz: str) -> datetime:
    """The first instant (UTC) of ``day`` in ``tz``; where midnight is skipped, the moment it resumes."""
    # fold=0 on a skipped midnight takes the offset in force before the jump, which lands on the
    # first instant that exists on that day, so the function never decreases from day to day.
    return datetime(day.year, day.month, day.day, tzinfo=zone(tz)).astimezone(UTC)


def clear_caches() -> None:
    """Forget the shared schedules and cached local dates (benchmarks start cold with it)."""
    schedule_for.cache_clear()
    local_date.cache_clear()
    day_starts.cache_clear()
