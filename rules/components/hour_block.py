"""Prepaid hour blocks: usage burns the balance down, a top-up is billed when it falls below a
threshold, and time beyond the block is billed at a rate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rules.components.base import Component, UsageFilter, positive
from rules.components.time_materials import EntryRounding


@dataclass(frozen=True, kw_only=True)
class HourBlock(Component):
    """Blocks of ``block_hours`` sold at ``block_price``."""

    TYPE = "hour_block"
    USAGE_KINDS = ("time",)

    block_hours: Decimal
    block_price: Decimal
    top_up_below: Decimal | None = None  # bill a new block when the balance falls below this
    overage_rate: Decimal | None = None  # time beyond the balance when no top-up is set
    initial_purchase: bool = True  # bill the first block when the agreement has none yet
    show_draws: bool = True  # a zero-amount line telling the client what the block paid for
    rounding: EntryRounding = EntryRounding()
    overage_item: str | None = None
    usage: UsageFilter = UsageFilter()

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("block_hours", self.block_hours)
        positive("block_price", self.block_price, zero_ok=True)
        positive("top_up_below", self.top_up_below, zero_ok=True)
        positive("overage_rate", self.overage_rate, zero_ok=True)
