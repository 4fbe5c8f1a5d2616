"""Pass-throughs (hardware, licences, expenses): cost plus a markup, or list price; taxable per item."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rules.components.base import Component, UsageFilter, positive


@dataclass(frozen=True, kw_only=True)
class PassThrough(Component):
    """Expenses at cost plus ``markup_percent``, or at their list price when no markup is set."""

    TYPE = "pass_through"
    USAGE_KINDS = ("expense",)

    markup_percent: Decimal | None = None
    taxable: bool | None = None  # None: the item's default, then the expense's own flag
    usage: UsageFilter = UsageFilter()

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("markup_percent", self.markup_percent, zero_ok=True)
