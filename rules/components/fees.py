"""Which fee periods a draft bills, and the prorated fee line: shared by fixed fees and retainers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import ONE_DAY, BillingPeriod, Cadence, Schedule, schedule_for
from rules.components.base import Component, Timing
from rules.draft import FeePeriod, LineKind
from rules.money import money
from rules.window import Trigger

if TYPE_CHECKING:
    from rules.engine.context import Context


def periods_ending_in(schedule: Schedule, after: date, through: date) -> list[BillingPeriod]:
    """Periods whose (exclusive) end is in ``(after, through]``."""
    out = []
    k = schedule.index_at(after)
    while True:
        period = schedule.period(k)
        if period is None or period.start >= through:
            return out
        if after < period.end <= through:
            out.append(period)
        k += 1


def due_fee_periods(ctx: Context, component: Component, cadence: Cadence, timing: Timing) -> list[BillingPeriod]:
    """The fee periods of ``component`` this draft bills, never one already billed."""
    window, agreement = ctx.window, ctx.agreement
    periods: list[BillingPeriod] = []
    if window.trigger is Trigger.BOUNDARY:
        grid = schedule_for(agreement.start, cadence, agreement.end)
        if timing is Timing.ADVANCE and window.next_boundary is not None:
            periods = grid.periods_between(window.on, window.next_boundary)
        elif timing is Timing.ARREARS and window.previous_boundary is not None:
            periods = periods_ending_in(grid, window.previous_boundary, window.on)
    elif window.trigger is Trigger.END and timing is Timing.ARREARS and window.end_day is not None:
        # A fixed end date is billed by the scheduled final run; only an early end is billed here.
        if agreement.end is None or window.end_day < agreement.end:
            grid = schedule_for(agreement.start, cadence, window.end_day)
            after = window.previous_boundary or agreement.start - ONE_DAY
            periods = periods_ending_in(grid, after, window.end_day + ONE_DAY)
    return [p for p in periods if not ctx.history.fee_billed(component.id, p.start)]


def bill_fee(ctx: Context, component: Component, amount: Decimal, period: BillingPeriod, *, prorate: bool,
             timing: Timing, cadence: Cadence, name: str, kind: LineKind = LineKind.FEE,
             extra: Callable[[], list[str]] | None = None) -> None:
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
