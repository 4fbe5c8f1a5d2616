"""Subscription renewals and one-off deal invoices: the lines and amount the event carries, or
the agreement's price."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from rules.components.base import Component, positive


class LineSelection(StrEnum):
    """Which of the event's lines to bill."""

    ALL = "all"
    ONE_OFF = "one_off"
    RECURRING = "recurring"


@dataclass(frozen=True, kw_only=True)
class EventLines(Component):
    """Bill the event's lines (``items`` maps a product id, SKU or name to a QuickBooks item);
    with no lines, its amount; with neither, ``price``."""

    TYPE = "event_lines"

    lines: LineSelection = LineSelection.ALL
    price: Decimal | None = None
    items: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("price", self.price, zero_ok=True)
        if not isinstance(self.lines, LineSelection):
            object.__setattr__(self, "lines", LineSelection(self.lines))
