"""Fixed recurring fee: per period, in advance or in arrears, prorated by day for partial periods."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import Cadence
from rules.components.base import Component, Timing, positive
from rules.components.fees import bill_fee, due_fee_periods

if TYPE_CHECKING:
    from rules.engine.context import Context


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


def bill(component: FixedFee, ctx: Context) -> None:
    """Fee lines for the fee periods this draft covers (by timing), prorated when partial."""
    cadence = component.cadence or ctx.agreement.cycle
    for period in due_fee_periods(ctx, component, cadence, component.timing):
        bill_fee(ctx, component, component.amount, period, prorate=component.prorate, timing=component.timing,
                 cadence=cadence, name=component.item or "Fee")
