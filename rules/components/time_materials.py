"""Time and materials: billable hours at rates found through a fallback chain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from rules.components.base import Component, UsageFilter, positive


class HourRounding(StrEnum):
    """How an entry's hours are brought to the increment."""

    UP = "up"
    NEAREST = "nearest"
    DOWN = "down"


class LineGrouping(StrEnum):
    """One line per entry, or entries summed per task/person/role at the same rate."""

    ENTRY = "entry"
    TASK = "task"
    PERSON = "person"
    ROLE = "role"


class OverCap(StrEnum):
    """What happens to the amount above a not-to-exceed cap."""

    HOLD = "hold"  # bill it all, and hold the invoice for review
    CARRY_OVER = "carry_over"  # bill up to the cap, carry the excess to the next period


@dataclass(frozen=True)
class Rates:
    """Rates by task, person, role and project; the entry's own rate comes first and the
    component's ``default_rate`` last."""

    task: Mapping[str, Decimal] = field(default_factory=dict)
    person: Mapping[str, Decimal] = field(default_factory=dict)
    role: Mapping[str, Decimal] = field(default_factory=dict)
    project: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryRounding:
    """Per-entry rounding of hours: to ``increment`` (e.g. 0.25) and at least ``minimum``."""

    increment: Decimal | None = None
    mode: HourRounding = HourRounding.UP
    minimum: Decimal | None = None

    def __post_init__(self) -> None:
        positive("increment", self.increment)
        positive("minimum", self.minimum)
        if not isinstance(self.mode, HourRounding):
            object.__setattr__(self, "mode", HourRounding(self.mode))


@dataclass(frozen=True, kw_only=True)
class TimeAndMaterials(Component):
    """Billable hours (and priced materials) at rates; optional threshold and not-to-exceed cap."""

    TYPE = "time_and_materials"
    USAGE_KINDS = ("time",)

    default_rate: Decimal | None = None
    rates: Rates = Rates()
    rounding: EntryRounding = EntryRounding()
    group_by: LineGrouping = LineGrouping.TASK
    threshold_hours: Decimal | None = None
    threshold_amount: Decimal | None = None
    cap_amount: Decimal | None = None
    over_cap: OverCap = OverCap.HOLD
    usage: UsageFilter = UsageFilter()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("default_rate", "threshold_hours", "threshold_amount", "cap_amount"):
            positive(name, getattr(self, name), zero_ok=name == "default_rate")
        if not isinstance(self.group_by, LineGrouping):
            object.__setattr__(self, "group_by", LineGrouping(self.group_by))
        if not isinstance(self.over_cap, OverCap):
            object.__setattr__(self, "over_cap", OverCap(self.over_cap))

