"""Billing of time and materials: rates through the fallback chain, grouped lines, the cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import ONE_DAY, schedule_for
from rules.components.time_materials import LineGrouping, OverCap, TimeAndMaterials
from rules.components.usage_view import Entry, hour_entries, hours_text
from rules.draft import CapUse, Carried, LineKind
from rules.money import ZERO, money, plain
from rules.usage import UsageRecord
from rules.window import Trigger

if TYPE_CHECKING:
    from rules.engine.context import Context


def rate_for(component: TimeAndMaterials, record: UsageRecord) -> tuple[Decimal | None, str]:
    """The rate of one entry and where it came from: entry, task, person, role, project, default."""
    if record.rate is not None:
        return record.rate, "the entry"
    rates = component.rates
    for table, value, label in ((rates.task, record.task, "task"), (rates.person, record.person, "person"),
                                (rates.role, record.role, "role"), (rates.project, record.project, "project")):
        if value is not None and value in table:
            return table[value], f"{label} {value!r}"
    if component.default_rate is not None:
        return component.default_rate, "the agreement's default rate"
    return None, "no rate"


def _group(component: TimeAndMaterials, entry: Entry) -> str:
    record = entry.record
    if component.group_by is LineGrouping.ENTRY:
        return f"{record.date.isoformat()} {record.source}:{record.source_id}"
    value = {LineGrouping.TASK: record.task, LineGrouping.PERSON: record.person,
             LineGrouping.ROLE: record.role}[component.group_by]
    return value or ""


def cap_period_start(ctx: Context) -> date:
    """The start of the agreement period a cap counts in (the one the billed usage belongs to)."""
    window = ctx.window
    if window.closed is not None:
        return window.closed.start
    day = (window.usage_through - ONE_DAY) if window.usage_through else window.on
    period = schedule_for(ctx.agreement.start, ctx.agreement.cycle, ctx.agreement.end).period_at(day)
    return period.start if period is not None else ctx.agreement.start


def bill(component: TimeAndMaterials, ctx: Context) -> None:
    """Lines for billable time not billed yet (edits bill their difference), then the cap."""
    window = ctx.window
    if window.trigger is Trigger.BOUNDARY and window.closed is None:
        return
    entries = hour_entries(ctx.usage_for(component), component.rounding, ctx.history)
    groups: dict[tuple[str, Decimal], tuple[list[Entry], str]] = {}
    for entry in entries:
        rate, origin = rate_for(component, entry.record)
        if rate is None:
            who = entry.record.person or entry.record.role or "someone"
            ctx.warn("missing_rate", f"No rate for {hours_text(entry.delta)} of {who} on "
                                     f"{entry.record.task or entry.record.project or 'untitled work'} "
                                     f"({entry.record.source}:{entry.record.source_id}): no entry, task, person, "
                                     "role, project or default rate")
            rate = ZERO
        groups.setdefault((_group(component, entry), rate), ([], origin))[0].append(entry)
        ctx.usage_consumed.append(entry.consumed(component.id))
    billed = ZERO
    for (label, rate), (members, origin) in sorted(groups.items()):
        hours = sum((e.delta for e in members), ZERO)
        if hours == 0:
            continue
        line = _time_line(ctx, component, label, rate, origin, members, hours)
        billed += line.amount
    if window.trigger in (Trigger.BOUNDARY, Trigger.END):
        billed += _carried_in(ctx, component)
    if component.cap_amount is not None and billed:
        _apply_cap(ctx, component, billed)


def _time_line(ctx: Context, component: TimeAndMaterials, label: str, rate: Decimal, origin: str,
               members: list[Entry], hours: Decimal):
    first = members[0].record
    notes = [n for n in (e.rounding_note() for e in members) if n]
    notes += [f"{e.record.source}:{e.record.source_id} changed since billed: {hours_text(e.prior.hours or ZERO)}"
              f" -> {hours_text(e.hours)}" for e in members if e.prior is not None]
    name = component.item or "Time"
    if component.group_by is LineGrouping.ENTRY:
        default = f"{first.date.isoformat()} {first.person or ''}: {first.description or first.task or name}".strip()
    else:
        default = f"{label or name}: {hours_text(hours)} at {money(rate)}"
    period = ctx.window.period
    if period is not None and component.group_by is not LineGrouping.ENTRY:
        default += f" ({period.label})"
    inputs = [("hours", f"{hours_text(hours)} in {len(members)} entr{'y' if len(members) == 1 else 'ies'}"),
              ("rate", f"{money(rate)} from {origin}")]
    if component.rounding.increment or component.rounding.minimum:
        inputs.append(("entry rounding", f"{component.rounding.mode.value} to {plain(component.rounding.increment or Decimal(0))}"
                                         f" h, minimum {plain(component.rounding.minimum or Decimal(0))} h"))
    return ctx.add_line(
        component, LineKind.TIME, quantity=hours, rate=rate, unrounded=hours * rate, default=default,
        inputs=inputs, arithmetic=f"{hours_text(hours)} × {money(rate)}", sources=[e.source_id for e in members],
        service_date=first.date if component.group_by is LineGrouping.ENTRY else (period.start if period else first.date),
        notes=notes, detail={"hours": hours, "task": first.task, "person": first.person, "role": first.role,
                             "project": first.project, "date": first.date, "name": label or name})


def _carried_in(ctx: Context, component: TimeAndMaterials) -> Decimal:
    waiting = ctx.history.carried.get(component.id, ZERO)
    if waiting <= 0:
        return ZERO
    line = ctx.add_line(component, LineKind.CARRIED_IN, quantity=Decimal(1), rate=None, unrounded=waiting,
                        default=f"{component.item or 'Time'}: carried over from the previous period (not-to-exceed cap)",
                        inputs=[("carried", money(waiting))], arithmetic=f"{money(waiting)} carried in")
    ctx.carried.append(Carried(component.id, -waiting, "billed after a not-to-exceed cap"))
    return line.amount


def _apply_cap(ctx: Context, component: TimeAndMaterials, billed: Decimal) -> None:
    cap = component.cap_amount
    start = cap_period_start(ctx)
    used = ctx.history.cap_used.get((component.id, start), ZERO)
    room = max(cap - used, ZERO)
    if billed <= room:
        ctx.cap_uses.append(CapUse(component.id, start, used + billed))
        return
    excess = billed - room
    if component.over_cap is OverCap.HOLD:
        ctx.holds.append(f"{component.id}: {money(excess)} over the not-to-exceed cap of {money(cap)} "
                         f"for the period from {start.isoformat()}")
        ctx.cap_uses.append(CapUse(component.id, start, used + billed))
        return
    ctx.add_line(component, LineKind.CAP_CARRY_OVER, quantity=Decimal(1), rate=None, unrounded=-excess,
                 default=f"{component.item or 'Time'}: {money(excess)} above the not-to-exceed cap of {money(cap)}, "
                         "carried to the next period",
                 inputs=[("cap", money(cap)), ("already billed this period", money(used)), ("this invoice", money(billed))],
                 arithmetic=f"{money(used)} + {money(billed)} - {money(cap)} = {money(excess)} over the cap")
    ctx.carried.append(Carried(component.id, excess, "above the not-to-exceed cap"))
    ctx.cap_uses.append(CapUse(component.id, start, used + room))
