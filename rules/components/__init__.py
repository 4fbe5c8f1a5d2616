"""The billing components, one module per billing model."""

from __future__ import annotations

from rules.components.base import Component, Timing, UsageFilter
from rules.components.event_lines import EventLines, LineSelection
from rules.components.fixed_fee import FixedFee
from rules.components.hour_block import HourBlock
from rules.components.milestones import Deposit, DepositApplication, Milestone, Milestones
from rules.components.pass_through import PassThrough
from rules.components.retainer import Retainer, Rollover
from rules.components.sla_credits import SlaCredits
from rules.components.tiered_hours import Tier, TieredHours, TierMode
from rules.components.time_materials import (
    EntryRounding,
    HourRounding,
    LineGrouping,
    OverCap,
    Rates,
    TimeAndMaterials,
)

COMPONENT_TYPES: dict[str, type[Component]] = {
    cls.TYPE: cls
    for cls in (FixedFee, TimeAndMaterials, Milestones, Retainer, HourBlock, TieredHours, SlaCredits,
                PassThrough, EventLines)
}

__all__ = [
    "COMPONENT_TYPES", "Component", "Deposit", "DepositApplication", "EntryRounding", "EventLines",
    "FixedFee", "HourBlock", "HourRounding", "LineGrouping", "LineSelection", "Milestone", "Milestones",
    "OverCap", "PassThrough", "Rates", "Retainer", "Rollover", "SlaCredits", "Tier", "TierMode",
    "TieredHours", "TimeAndMaterials", "Timing", "UsageFilter",
]
