"""Usage as components bill it: per-entry hour rounding, and the change since a record was last billed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from rules.components.time_materials import EntryRounding, HourRounding
from rules.draft import UsageConsumed
from rules.history import History
from rules.money import plain
from rules.usage import UsageRecord

ZERO = Decimal(0)
_MODES = {HourRounding.UP: ROUND_CEILING, HourRounding.DOWN: ROUND_FLOOR, HourRounding.NEAREST: ROUND_HALF_UP}


def round_hours(hours: Decimal, rounding: EntryRounding) -> Decimal:
    """``hours`` of one entry brought to the increment, then to the minimum (zero stays zero)."""
    if hours <= 0:
        return ZERO
    if rounding.increment is not None:
        steps = (hours / rounding.increment).to_integral_value(rounding=_MODES[rounding.mode])
        hours = (steps * rounding.increment).quantize(rounding.increment)
    if rounding.minimum is not None and hours < rounding.minimum:
        hours = rounding.minimum
    return hours


@dataclass(frozen=True)
class Entry:
    """A time record as billed now: its rounded hours, and the change since it was last billed."""

    record: UsageRecord
    logged: Decimal  # hours as logged (0 when deleted or not billable)
    hours: Decimal  # rounded hours of this version
    delta: Decimal  # what this invoice bills: hours - hours billed before
    prior: UsageConsumed | None

    @property
    def source_id(self) -> str:
        """``source:id@vN``, as explanations list it."""
        return f"{self.record.source}:{self.record.source_id}@v{self.record.version}"

    def consumed(self, component_id: str) -> UsageConsumed:
        """The consumption record of this entry."""
        return UsageConsumed(self.record.source, self.record.source_id, self.record.version, component_id,
                             hours=self.hours, deleted=self.record.deleted)

    def rounding_note(self) -> str | None:
        """Why the billed hours differ from the logged ones, if they do."""
        if self.logged == self.hours:
            return None
        return f"{plain(self.logged)} h logged, billed as {plain(self.hours)} h"


def hour_entries(records: Iterable[UsageRecord], rounding: EntryRounding, history: History) -> list[Entry]:
    """The entries of ``records`` that change what was billed (new records, edits, deletions)."""
    out = []
    for record in records:
        prior = history.billed(record.source, record.source_id)
        if prior is not None and prior.version >= record.version:
            continue
        counts = record.billable and not record.deleted
        logged = (record.hours if record.hours is not None else record.quantity or ZERO) if counts else ZERO
        hours = round_hours(logged, rounding)
        before = prior.hours or ZERO if prior is not None else ZERO
        if prior is None and hours == 0:
            continue
        out.append(Entry(record, logged, hours, hours - before, prior))
    return out


def total_hours(entries: Iterable[Entry]) -> Decimal:
    """The hours these entries bill (corrections included)."""
    return sum((e.delta for e in entries), ZERO)


def hours_text(value: Decimal) -> str:
    """``27.5 h``."""
    return f"{plain(value.normalize())} h"
