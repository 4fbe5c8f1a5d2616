"""Billing of tiered support hours: graduated or volume tiers over a period's hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.components.retainer_billing import settle_hours, usage_period
from rules.components.tiered_hours import TieredHours, TierMode
from rules.components.usage_view import hour_entries, hours_text
from rules.draft import LineKind
from rules.money import ZERO, money

if TYPE_CHECKING:
    from rules.engine.context import Context


def bill_tiers(component: TieredHours, ctx: Context) -> None:
    """The period's hours priced by graduated or volume tiers."""
    period = usage_period(ctx)
    if period is None:
        return
    entries = hour_entries(ctx.usage_for(component), component.rounding, ctx.history)
    hours = settle_hours(ctx, component, entries)
    if hours <= 0:
        return
    sources = [e.source_id for e in entries]
    name = component.item or "Support hours"
    if component.mode is TierMode.VOLUME:
        tier = next(t for t in component.tiers if t.up_to is None or hours <= t.up_to)
        reach = f"up to {hours_text(tier.up_to)}" if tier.up_to is not None else "the top tier"
        ctx.add_line(component, LineKind.TIERED, quantity=hours, rate=tier.rate, unrounded=hours * tier.rate,
                     default=f"{name}: {hours_text(hours)} at {money(tier.rate)} ({reach}, {period.label})",
                     inputs=[("hours", hours_text(hours)), ("tier", f"{reach} at {money(tier.rate)}")],
                     arithmetic=f"all {hours_text(hours)} × {money(tier.rate)} (volume pricing)", sources=sources,
                     service_date=period.start, detail={"hours": hours, "name": name})
        return
    lower = ZERO
    for tier in component.tiers:
        upper = tier.up_to
        in_tier = (hours if upper is None else min(hours, upper)) - lower
        if in_tier > 0:
            span = f"{hours_text(lower)} to {hours_text(upper)}" if upper is not None else f"over {hours_text(lower)}"
            ctx.add_line(component, LineKind.TIERED, quantity=in_tier, rate=tier.rate, unrounded=in_tier * tier.rate,
                         default=f"{name}: {hours_text(in_tier)} at {money(tier.rate)} (hours {span}, {period.label})",
                         inputs=[("hours in the period", hours_text(hours)), ("tier", f"{span} at {money(tier.rate)}")],
                         arithmetic=f"{hours_text(in_tier)} × {money(tier.rate)} (graduated pricing)",
                         sources=sources, service_date=period.start, detail={"hours": in_tier, "name": name})
        if upper is None or hours <= upper:
            break
        lower = upper
