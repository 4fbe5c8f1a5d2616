"""Billing of retainers: the fee, hours against rollover then included hours, overage, new rollover."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import BillingPeriod, schedule_for
from rules.components.fees import bill_fee, due_fee_periods
from rules.components.retainer import Retainer
from rules.components.usage_view import Entry, hour_entries, hours_text, total_hours
from rules.draft import LineKind, RolloverDraw, RolloverGrant
from rules.money import ZERO, money
from rules.window import BOUNDARY, END

if TYPE_CHECKING:
    from rules.engine.context import Context


def usage_period(ctx: Context) -> BillingPeriod | None:
    """The agreement period whose hours this draft settles (the closed one, or the last at an end)."""
    window = ctx.window
    if window.trigger is BOUNDARY:
        return window.closed
    if window.trigger is END and window.end_day is not None:
        agreement = ctx.agreement
        return schedule_for(agreement.start, agreement.cycle, window.end_day).period_at(window.end_day)
    return None


def settle_hours(ctx: Context, component, entries: list[Entry]) -> Decimal:
    """Consume ``entries`` and return the hours they bill; a net reduction is held for a person."""
    ctx.usage_consumed.extend(entry.consumed(component.id) for entry in entries)
    hours = total_hours(entries)
    if hours < 0:
        ctx.holds.append(f"{component.id}: time already billed was reduced by {hours_text(-hours)}; "
                         "credit it by hand if the client is owed money")
        return ZERO
    return hours


def bill(component: Retainer, ctx: Context) -> None:
    """Retainer fee by timing; at a period's close its hours, overage and rollover."""
    cycle = ctx.agreement.cycle
    for period in due_fee_periods(ctx, component, cycle, component.timing):
        bill_fee(ctx, component, component.fee, period, prorate=component.prorate, timing=component.timing,
                 cadence=cycle, name=component.item or "Retainer")
    period = usage_period(ctx)
    if period is None:
        return
    entries = hour_entries(ctx.usage_for(component), component.rounding, ctx.history)
    hours = settle_hours(ctx, component, entries)
    included = component.included_hours
    if period.is_partial and component.prorate:
        included = included * period.days / period.full_days
    grants = sorted((g for g in ctx.history.rollover
                     if g.component_id == component.id and g.granted_for < period.start and g.hours > 0
                     and (g.expires is None or period.start < g.expires)), key=lambda g: g.granted_for)
    remaining, from_rollover = hours, ZERO
    for grant in grants:
        take = min(grant.hours, remaining)
        if take > 0:
            ctx.rollover_draws.append(RolloverDraw(component.id, grant.granted_for, take))
            remaining -= take
            from_rollover += take
    from_included = min(remaining, included)
    overage = remaining - from_included
    if hours > 0 or overage > 0:
        sources = [e.source_id for e in entries]
        name = component.item or "Retainer"
        hours_label, included_label, rollover_label = hours_text(hours), hours_text(included), hours_text(from_rollover)
    if hours > 0:
        covered = from_rollover + from_included
        covered_label = hours_text(covered)
        ctx.add_line(component, LineKind.TIME, quantity=covered, rate=ZERO, unrounded=ZERO,
                     default=f"{name}: {covered_label} of support used in {period.label} "
                             f"({included_label} included"
                             + (f", {rollover_label} from rollover)" if from_rollover else ")"),
                     inputs=[("hours logged", hours_label), ("included", included_label),
                             ("rollover used", rollover_label)],
                     arithmetic=f"{covered_label} covered by the retainer at 0.00", sources=sources,
                     service_date=period.start,
                     detail={"hours": covered, "name": name} if component.description else None)
    if overage > 0:
        overage_label, rate_label = hours_text(overage), money(component.overage_rate)
        ctx.add_line(component, LineKind.OVERAGE, quantity=overage, rate=component.overage_rate,
                     unrounded=overage * component.overage_rate, item=component.overage_item,
                     default=f"{component.overage_item or 'Overage'}: {overage_label} beyond "
                             f"{included_label} included ({period.label})",
                     inputs=[("hours logged", hours_label), ("included", included_label),
                             ("rollover used", rollover_label), ("overage rate", rate_label)],
                     arithmetic=f"({hours_label}"
                                + (f" - {rollover_label} rollover" if from_rollover else "")
                                + f" - {included_label} included) = {overage_label} × {rate_label}",
                     sources=sources, service_date=period.start,
                     detail={"hours": overage, "name": "Overage"} if component.description else None)
    _grant_rollover(ctx, component, period, included - from_included, grants)


def _grant_rollover(ctx: Context, component: Retainer, period: BillingPeriod, unused: Decimal,
                    grants: list) -> None:
    policy = component.rollover
    if policy is None or unused <= 0:
        return
    schedule = ctx.agreement.schedule
    expires = None if policy.expire_after is None else schedule.grid(period.index + policy.expire_after + 1)
    next_start = schedule.grid(period.index + 1)
    drawn = {d.granted_for: d.hours for d in ctx.rollover_draws if d.component_id == component.id}
    held = sum((g.hours - drawn.get(g.granted_for, ZERO) for g in grants
                if g.expires is None or next_start < g.expires), ZERO)
    room = unused if policy.cap_hours is None else max(min(unused, policy.cap_hours - held), ZERO)
    if room > 0:
        ctx.rollover_grants.append(RolloverGrant(component.id, period.start, room, expires))
