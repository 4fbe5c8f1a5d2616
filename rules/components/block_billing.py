"""Billing of prepaid hour blocks: the first block, draws at each close, top-ups and overage.

A top-up is billed at the close when the balance would fall below ``top_up_below``, or earlier, as
its own invoice, when a threshold rule bills the block: the usage ledger raises a threshold event
as soon as unbilled time takes the balance below it (``block_shortfall``), and its draft buys the
blocks; the hours themselves are still drawn at the close."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, NamedTuple

from rules.components.hour_block import HourBlock
from rules.components.retainer_billing import settle_hours, usage_period
from rules.components.usage_view import hour_entries, hours_text, total_hours
from rules.draft import BlockChange, LineKind
from rules.money import ZERO, money
from rules.window import BOUNDARY, END, THRESHOLD

if TYPE_CHECKING:
    from rules.engine.context import Context


class Shortfall(NamedTuple):
    """Unbilled time that takes a block below ``top_up_below``: the balance before it, the hours,
    the balance they leave, and the entries (for the explanation)."""

    balance: Decimal
    hours: Decimal
    projected: Decimal
    entries: list


def block_shortfall(component: HourBlock, ctx: Context) -> Shortfall | None:
    """What unbilled time in ``ctx``'s window does to the block, when it takes the balance below
    ``top_up_below``; None otherwise, or before the first block (the first boundary bills it)."""
    if component.top_up_below is None:
        return None
    known = ctx.history.blocks.get(component.id)
    if known is None and component.initial_purchase:
        return None
    balance = known if known is not None else ZERO
    entries = hour_entries(ctx.usage_for(component), component.rounding, ctx.history)
    hours = max(total_hours(entries), ZERO)
    projected = balance - hours
    if projected >= component.top_up_below:
        return None
    return Shortfall(balance, hours, projected, entries)


def _blocks_needed(component: HourBlock, balance: Decimal) -> int:
    return int(((component.top_up_below - balance) / component.block_hours)
               .to_integral_value(rounding=ROUND_CEILING)) or 1


def top_up(component: HourBlock, ctx: Context) -> None:
    """A threshold's top-up invoice: as many blocks as bring the balance unbilled time leaves back to
    ``top_up_below`` or more. The hours are not drawn here: the close draws them from the new balance."""
    shortfall = block_shortfall(component, ctx)
    if shortfall is None:
        return  # topped up already (by the close or an earlier crossing) or no longer short
    blocks = _blocks_needed(component, shortfall.projected)
    why = (f"top-up: {hours_text(shortfall.hours)} not yet drawn take the balance of {hours_text(shortfall.balance)} "
           f"to {hours_text(shortfall.projected)}, below {hours_text(component.top_up_below)}")
    sources = [e.source_id for e in shortfall.entries]
    _purchase(ctx, component, blocks, why, shortfall.balance, sources=sources,
              note=f"the {hours_text(shortfall.hours)} are drawn from the block on the period's statement")
    purchased = blocks * component.block_hours
    ctx.blocks.append(BlockChange(component.id, ZERO, purchased, shortfall.balance + purchased))


def bill_block(component: HourBlock, ctx: Context) -> None:
    """Draw the period's hours from the block, top it up below the threshold, bill any excess."""
    trigger = ctx.window.trigger
    if trigger is THRESHOLD:
        top_up(component, ctx)
        return
    if trigger is not BOUNDARY and trigger is not END:
        return
    known = ctx.history.blocks.get(component.id)
    balance = known if known is not None else ZERO
    purchased = ZERO
    if known is None and component.initial_purchase and trigger is BOUNDARY:
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
        blocks = _blocks_needed(component, balance - short)
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


def _purchase(ctx: Context, component: HourBlock, blocks: int, why: str, balance: Decimal, *,
              sources: list[str] | None = None, note: str | None = None) -> None:
    ctx.add_line(component, LineKind.BLOCK_PURCHASE, quantity=Decimal(blocks), rate=component.block_price,
                 unrounded=component.block_price * blocks,
                 default=f"{component.item or 'Prepaid hours'}: block of {hours_text(component.block_hours)}"
                         + (f" × {blocks}" if blocks > 1 else "") + f" ({why})",
                 inputs=[("block", f"{hours_text(component.block_hours)} for {money(component.block_price)}"),
                         ("balance before", hours_text(balance)),
                         ("top up below", hours_text(component.top_up_below) if component.top_up_below is not None
                          else "not set")],
                 arithmetic=f"{blocks} × {money(component.block_price)}", sources=sources or (),
                 notes=(note,) if note else (),
                 service_date=ctx.window.on, detail={"hours": component.block_hours * blocks, "name": "Prepaid block"})
