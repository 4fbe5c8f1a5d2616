"""Billing of prepaid hour blocks."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from rules.components.hour_block import HourBlock
from rules.components.retainer_billing import settle_hours, usage_period
from rules.components.usage_view import hour_entries, hours_text
from rules.draft import BlockChange, LineKind
from rules.money import ZERO, money
from rules.window import Trigger

if TYPE_CHECKING:
    from rules.engine.context import Context


def bill_block(component: HourBlock, ctx: Context) -> None:
    """Draw the period's hours from the block, top it up below the threshold, bill any excess."""
    if ctx.window.trigger not in (Trigger.BOUNDARY, Trigger.END):
        return
    known = ctx.history.blocks.get(component.id)
    balance = known if known is not None else ZERO
    purchased = ZERO
    if known is None and component.initial_purchase and ctx.window.trigger is Trigger.BOUNDARY:
        _purchase(ctx, component, 1, "first prepaid block", balance)
        balance += component.block_hours
        purchased += component.block_hours
    period = usage_period(ctx)
    hours = ZERO
    entries = []
    if period is not None:
        entries = hour_entries(ctx.usage_for(component), component.rounding, ctx.history)
        hours = settle_hours(ctx, component, entries)
    drawn = min(hours, balance)
    short = hours - drawn
    balance -= drawn
    if component.top_up_below is not None and balance - short < component.top_up_below:
        blocks = int(((component.top_up_below - (balance - short)) / component.block_hours)
                     .to_integral_value(rounding=ROUND_CEILING)) or 1
        _purchase(ctx, component, blocks, f"top-up: the balance fell to {hours_text(balance - short)}", balance - short)
        balance += blocks * component.block_hours - short
        purchased += blocks * component.block_hours
        drawn += short
        short = ZERO
    sources = [e.source_id for e in entries]
    if hours > 0 and component.show_draws and period is not None:
        ctx.add_line(component, LineKind.BLOCK_DRAW, quantity=drawn, rate=ZERO, unrounded=ZERO,
                     default=f"{component.item or 'Prepaid hours'}: {hours_text(drawn)} used in {period.label}, "
                             f"{hours_text(balance)} left",
                     inputs=[("hours logged", hours_text(hours)), ("balance after", hours_text(balance))],
                     arithmetic=f"{hours_text(drawn)} drawn from the prepaid block at 0.00", sources=sources,
                     service_date=period.start, detail={"hours": drawn, "name": "Prepaid hours"})
    if short > 0:
        rate = component.overage_rate
        if rate is None:
            ctx.warn("missing_rate", f"{hours_text(short)} beyond the prepaid block of {component.id} have no "
                                     "rate (set overage_rate or top_up_below)")
            rate = ZERO
        ctx.add_line(component, LineKind.OVERAGE, quantity=short, rate=rate, unrounded=short * rate,
                     item=component.overage_item,
                     default=f"{component.overage_item or 'Hours beyond the prepaid block'}: {hours_text(short)}",
                     inputs=[("hours logged", hours_text(hours)), ("block balance", hours_text(hours - short)),
                             ("rate", money(rate))],
                     arithmetic=f"{hours_text(short)} × {money(rate)}", sources=sources,
                     service_date=period.start if period else None, detail={"hours": short, "name": "Overage"})
    if purchased or drawn or known is None:
        ctx.blocks.append(BlockChange(component.id, drawn, purchased, balance))


def _purchase(ctx: Context, component: HourBlock, blocks: int, why: str, balance: Decimal) -> None:
    ctx.add_line(component, LineKind.BLOCK_PURCHASE, quantity=Decimal(blocks), rate=component.block_price,
                 unrounded=component.block_price * blocks,
                 default=f"{component.item or 'Prepaid hours'}: block of {hours_text(component.block_hours)}"
                         + (f" × {blocks}" if blocks > 1 else "") + f" ({why})",
                 inputs=[("block", f"{hours_text(component.block_hours)} for {money(component.block_price)}"),
                         ("balance before", hours_text(balance)),
                         ("top up below", hours_text(component.top_up_below) if component.top_up_below is not None
                          else "not set")],
                 arithmetic=f"{blocks} × {money(component.block_price)}",
                 service_date=ctx.window.on, detail={"hours": component.block_hours * blocks, "name": "Prepaid block"})
