"""Tiered support hours: graduated (each tier at its rate) or volume (all at the reached tier's)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from rules.components.base import Component, UsageFilter, positive
from rules.components.time_materials import EntryRounding
from rules.errors import InvalidAgreement


class TierMode(StrEnum):
    """Graduated: each tier's hours at its rate; volume: all hours at the reached tier's rate."""

    GRADUATED = "graduated"
    VOLUME = "volume"


@dataclass(frozen=True)
class Tier:
    """Hours up to ``up_to`` (cumulative; None for the last tier) at ``rate``."""

    rate: Decimal
    up_to: Decimal | None = None

    def __post_init__(self) -> None:
        positive("rate", self.rate, zero_ok=True)
        positive("up_to", self.up_to)


@dataclass(frozen=True, kw_only=True)
class TieredHours(Component):
    """Hours in a period priced by ``tiers`` (ascending, the last open-ended)."""

    TYPE = "tiered_hours"
    USAGE_KINDS = ("time",)

    tiers: tuple[Tier, ...]
    mode: TierMode = TierMode.GRADUATED
    rounding: EntryRounding = EntryRounding()
    usage: UsageFilter = UsageFilter()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.mode, TierMode):
            object.__setattr__(self, "mode", TierMode(self.mode))
        if not self.tiers:
            raise InvalidAgreement("tiers", "must list at least one tier")
        bounds = [t.up_to for t in self.tiers]
        if bounds[-1] is not None or any(b is None for b in bounds[:-1]):
            raise InvalidAgreement("tiers", "only the last tier may (and must) be open-ended (no up_to)")
        if any(a >= b for a, b in zip(bounds[:-2], bounds[1:-1], strict=False)):
            raise InvalidAgreement("tiers", "tier up_to values must increase")
