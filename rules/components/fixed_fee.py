"""Fixed recurring fee: per period, in advance or in arrears, prorated by day for partial periods."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rules.calendar import Cadence
from rules.components.base import Component, Timing, positive


@dataclass(frozen=True, kw_only=True)
class FixedFee(Component):
    """``amount`` per period of ``cadence`` (the agreement's cycle when unset)."""

    TYPE = "fixed_fee"

    amount: Decimal
    cadence: Cadence | None = None
    timing: Timing = Timing.ADVANCE
    prorate: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("amount", self.amount, zero_ok=True)
        if not isinstance(self.timing, Timing):
            object.__setattr__(self, "timing", Timing(self.timing))
