"""Which fee periods a draft bills, and the prorated fee line: shared by fixed fees and retainers."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import ONE_DAY, BillingPeriod, Cadence, schedule_for
from rules.components.base import Component, Timing
from rules.components.contract_end import early_end_fee_periods
from rules.draft import FeePeriod, LineKind
from rules.money import money
from rules.window import BOUNDARY, END

ONE = Decimal(1)
ADVANCE, ARREARS = Timing.ADVANCE, Timing.ARREARS  # plain names: see rules.window

if TYPE_CHECKING:
    from rules.engine.context import Context


def due_fee_periods(ctx: Context, component: Component, cadence: Cadence, timing: Timing) -> list[BillingPeriod]:
    """The fee periods of ``component`` this draft bills, never one already billed."""
    window, agreement = ctx.window, ctx.agreement
    trigger = window.trigger
    if trigger is BOUNDARY:
        grid = (agreement.schedule if cadence == agreement.cycle
                else schedule_for(agreement.start, cadence, agreement.end))
        if timing is ADVANCE:
            if window.next_boundary is None:
                return []
            slot = ("advance", window.on, window.next_boundary)
        elif window.previous_boundary is not None:
            slot = ("arrears", window.previous_boundary, window.on)
        else:
            return []
        # Schedules are shared, so which periods fall in a window is worked out once per schedule.
        periods = grid.memo.get(slot)
        if periods is None:
            periods = grid.memo[slot] = tuple(
                grid.periods_between(slot[1], slot[2]) if timing is ADVANCE
                else grid.periods_ending_in(slot[1], slot[2]))
    elif trigger is END and timing is ARREARS:
        periods = early_end_fee_periods(ctx, cadence)
    else:
        return []
    history = ctx.history
    if not history.fee_periods:
        return list(periods)
    return [p for p in periods if not history.fee_billed(component.id, p.start)]


def bill_fee(ctx: Context, component: Component, amount: Decimal, period: BillingPeriod, *, prorate: bool,
             timing: Timing, cadence: Cadence, name: str, kind: LineKind = LineKind.FEE) -> None:
    """One fee line for ``period``: the full amount, or prorated by day for a partial period."""
    fee = money(amount)
    label = period.label
    inputs = [("fee", f"{fee} {cadence.label}"), ("period", label),
              ("timing", "in advance" if timing is ADVANCE else "in arrears")]
    if period.is_partial:
        days, full_days = period.days, period.full_days
        if prorate:
            unrounded = amount * days / full_days
            inputs.append(("days", f"{days} of {full_days} "
                                   f"({period.full_start.isoformat()} to {(period.full_end - ONE_DAY).isoformat()})"))
            arithmetic = f"{fee} × {days}/{full_days} days"
            default = f"{name}, {label} ({days} of {full_days} days)"
        else:
            unrounded = amount
            arithmetic = f"{fee} for the partial period"
            inputs.append(("prorate", "off: a partial period is billed in full"))
            default = f"{name}, {label}"
    else:
        unrounded = amount
        arithmetic = f"{fee} for the period"
        default = f"{name}, {label}"
    detail = None
    if component.description:
        detail = {"period": {"start": period.start, "end": period.last_day, "label": label,
                             "index": period.index, "partial": period.is_partial}, "name": name}
    # A fee comes from the agreement itself: its sources name the agreement and the fee period.
    sources = (f"agreement:{ctx.agreement.id}", period.source_id)
    ctx.add_line(component, kind, quantity=ONE, rate=None, unrounded=unrounded, default=default,
                 inputs=inputs, arithmetic=arithmetic, sources=sources, service_date=period.start, detail=detail)
    ctx.fee_periods.append(FeePeriod(component.id, period.start, period.end))
