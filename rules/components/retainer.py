"""Retainer: a fee that includes hours per period, with overage at a rate; unused hours roll
over (capped, expiring) or lapse."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rules.components.base import Component, Timing, UsageFilter, positive
from rules.components.time_materials import EntryRounding
from rules.errors import InvalidAgreement


@dataclass(frozen=True)
class Rollover:
    """Unused included hours carried to later periods: at most ``cap_hours`` held at once, each
    period's hours usable for ``expire_after`` periods (unset: no cap, never expire)."""

    cap_hours: Decimal | None = None
    expire_after: int | None = None

    def __post_init__(self) -> None:
        positive("cap_hours", self.cap_hours, zero_ok=True)
        if self.expire_after is not None and (not isinstance(self.expire_after, int) or self.expire_after < 1):
            raise InvalidAgreement("expire_after", "must be a whole number of periods, at least 1")


@dataclass(frozen=True, kw_only=True)
class Retainer(Component):
    """``fee`` per period including ``included_hours``; hours beyond at ``overage_rate``."""

    TYPE = "retainer"
    USAGE_KINDS = ("time",)

    fee: Decimal
    included_hours: Decimal
    overage_rate: Decimal
    timing: Timing = Timing.ADVANCE
    prorate: bool = True
    rollover: Rollover | None = None  # None: unused hours lapse
    rounding: EntryRounding = EntryRounding()
    overage_item: str | None = None
    usage: UsageFilter = UsageFilter()

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("fee", self.fee, zero_ok=True)
        positive("included_hours", self.included_hours, zero_ok=True)
        positive("overage_rate", self.overage_rate, zero_ok=True)
        if not isinstance(self.timing, Timing):
            object.__setattr__(self, "timing", Timing(self.timing))
