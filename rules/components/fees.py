"""Which fee periods a draft bills, and the prorated fee line: shared by fixed fees and retainers."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import ONE_DAY, BillingPeriod, Cadence, schedule_for
from rules.components.base import Component, Timing
from rules.components.contract_end import early_end_fee_periods
from rules.draft import FeePeriod, LineKind
from rules.money import money
from rules.window import Trigger

if TYPE_CHECKING:
    from rules.engine.context import Context


def due_fee_periods(ctx: Context, component: Component, cadence: Cadence, timing: Timing) -> list[BillingPeriod]:
    """The fee periods of ``component`` this draft bills, never one already billed."""
    window, agreement = ctx.window, ctx.agreement
    periods: list[BillingPeriod] = []
    if window.trigger is Trigger.BOUNDARY:
        grid = schedule_for(agreement.start, cadence, agreement.end)
        if timing is Timing.ADVANCE and window.next_boundary is not None:
            periods = grid.periods_between(window.on, window.next_boundary)
        elif timing is Timing.ARREARS and window.previous_boundary is not None:
            periods = grid.periods_ending_in(window.previous_boundary, window.on)
    elif window.trigger is Trigger.END and timing is Timing.ARREARS:
        periods = early_end_fee_periods(ctx, cadence)
    return [p for p in periods if not ctx.history.fee_billed(component.id, p.start)]


def bill_fee(ctx: Context, component: Component, amount: Decimal, period: BillingPeriod, *, prorate: bool,
             timing: Timing, cadence: Cadence, name: str, kind: LineKind = LineKind.FEE) -> None:
    """One fee line for ``period``: the full amount, or prorated by day for a partial period."""
    inputs = [("fee", f"{money(amount)} {cadence.label}"), ("period", period.label),
              ("timing", "in advance" if timing is Timing.ADVANCE else "in arrears")]
    if period.is_partial and prorate:
        unrounded = amount * period.days / period.full_days
        inputs.append(("days", f"{period.days} of {period.full_days} "
                               f"({period.full_start.isoformat()} to {(period.full_end - ONE_DAY).isoformat()})"))
        arithmetic = f"{money(amount)} × {period.days}/{period.full_days} days"
        default = f"{name}, {period.label} ({period.days} of {period.full_days} days)"
    else:
        unrounded = amount
        arithmetic = f"{money(amount)} for the {'partial ' if period.is_partial else ''}period"
        if period.is_partial:
            inputs.append(("prorate", "off: a partial period is billed in full"))
        default = f"{name}, {period.label}"
    ctx.add_line(component, kind, quantity=Decimal(1), rate=None, unrounded=unrounded, default=default,
                 inputs=inputs, arithmetic=arithmetic, service_date=period.start,
                 detail={"period": {"start": period.start, "end": period.last_day, "label": period.label,
                                    "index": period.index, "partial": period.is_partial}, "name": name})
    ctx.fee_periods.append(FeePeriod(component.id, period.start, period.end))
