"""Billing of time and materials: rates through the fallback chain, grouped lines, the cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from rules.calendar import ONE_DAY, schedule_for
from rules.components.time_materials import LineGrouping, OverCap, TimeAndMaterials
from rules.components.usage_view import Entry, hour_entries, hours_text, total_hours
from rules.draft import CapUse, Carried, LineKind
from rules.money import ZERO, money, money_in, plain
from rules.usage import UsageRecord
from rules.window import BOUNDARY, END

if TYPE_CHECKING:
    from rules.engine.context import Context


def rate_for(component: TimeAndMaterials, record: UsageRecord) -> tuple[Decimal | None, str]:
    """The rate of one entry and where it came from: entry, task, person, role, project, default."""
    if record.rate is not None:
        return record.rate, "the entry"
    rates = component.rates
    if record.task is not None and record.task in rates.task:
        return rates.task[record.task], f"task {record.task!r}"
    if record.person is not None and record.person in rates.person:
        return rates.person[record.person], f"person {record.person!r}"
    if record.role is not None and record.role in rates.role:
        return rates.role[record.role], f"role {record.role!r}"
    if record.project is not None and record.project in rates.project:
        return rates.project[record.project], f"project {record.project!r}"
    if component.default_rate is not None:
        return component.default_rate, "the agreement's default rate"
    return None, "no rate"


_GROUP_FIELD = {LineGrouping.TASK: "task", LineGrouping.PERSON: "person", LineGrouping.ROLE: "role"}
BY_ENTRY = LineGrouping.ENTRY  # a plain name: see rules.window


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
    if window.trigger is BOUNDARY and window.closed is None:
        return
    entries = hour_entries(ctx.usage_for(component), component.rounding, ctx.history)
    groups: dict[tuple[str, Decimal], tuple[list[Entry], str]] = {}
    by_entry = component.group_by is BY_ENTRY
    field = None if by_entry else _GROUP_FIELD[component.group_by]
    consumed, comp_id = ctx.usage_consumed, component.id
    for entry in entries:
        record = entry.record
        rate, origin = rate_for(component, record)
        if rate is None:
            who = record.person or record.role or "someone"
            ctx.warn("missing_rate", f"No rate for {hours_text(entry.delta)} of {who} on "
                                     f"{record.task or record.project or 'untitled work'} "
                                     f"({record.source}:{record.source_id}): no entry, task, person, "
                                     "role, project or default rate")
            rate = ZERO
        label = (f"{record.date.isoformat()} {record.source}:{record.source_id}" if by_entry
                 else getattr(record, field) or "")
        group = groups.get((label, rate))
        if group is None:
            groups[(label, rate)] = ([entry], origin)
        else:
            group[0].append(entry)
        consumed.append(entry.consumed(comp_id))
    billed = ZERO
    if groups:
        rounding_text = _rounding_text(component.rounding)
        for (label, rate), (members, origin) in sorted(groups.items()):
            hours = total_hours(members)
            if hours == 0:
                continue
            line = _time_line(ctx, component, label, rate, origin, members, hours, rounding_text)
            billed += line.amount
    if window.trigger is BOUNDARY or window.trigger is END:
        billed += _carried_in(ctx, component)
    if component.cap_amount is not None and billed:
        _apply_cap(ctx, component, billed)


def _rounding_text(rounding) -> str | None:
    if not (rounding.increment or rounding.minimum):
        return None
    return (f"{rounding.mode.value} to {plain(rounding.increment or Decimal(0))}"
            f" h, minimum {plain(rounding.minimum or Decimal(0))} h")


def _time_line(ctx: Context, component: TimeAndMaterials, label: str, rate: Decimal, origin: str,
               members: list[Entry], hours: Decimal, rounding_text: str | None):
    first = members[0].record
    notes = []
    for e in members:
        if e.logged != e.hours:
            notes.append(e.rounding_note())
    for e in members:
        if e.prior is not None:
            notes.append(f"{e.record.source}:{e.record.source_id} changed since billed: "
                         f"{hours_text(e.prior.hours or ZERO)} -> {hours_text(e.hours)}")
    name = component.item or "Time"
    by_entry = component.group_by is BY_ENTRY
    hours_label, rate_label = hours_text(hours), money(rate)
    if by_entry:
        default = f"{first.date.isoformat()} {first.person or ''}: {first.description or first.task or name}".strip()
    else:
        default = f"{label or name}: {hours_label} at {rate_label}"
    period = ctx.window.period
    if period is not None and not by_entry:
        default += f" ({period.label})"
    count = len(members)
    inputs = [("hours", f"{hours_label} in {count} entr{'y' if count == 1 else 'ies'}"),
              ("rate", f"{rate_label} from {origin}")]
    if rounding_text is not None:
        inputs.append(("entry rounding", rounding_text))
    detail = None
    if component.description:
        detail = {"hours": hours, "task": first.task, "person": first.person, "role": first.role,
                  "project": first.project, "date": first.date, "name": label or name}
    return ctx.add_line(
        component, LineKind.TIME, quantity=hours, rate=rate, unrounded=hours * rate, default=default,
        inputs=inputs, arithmetic=f"{hours_label} × {rate_label}", sources=[e.source_id for e in members],
        service_date=first.date if by_entry else (period.start if period else first.date),
        notes=notes, detail=detail)


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
    cap_text = money_in(cap, ctx.currency)  # the cap as typed (1000) reads 1,000.00 like the amounts
    if component.over_cap is OverCap.HOLD:
        ctx.holds.append(f"{component.id}: {money(excess)} over the not-to-exceed cap of {cap_text} "
                         f"for the period from {start.isoformat()}")
        ctx.cap_uses.append(CapUse(component.id, start, used + billed))
        return
    ctx.add_line(component, LineKind.CAP_CARRY_OVER, quantity=Decimal(1), rate=None, unrounded=-excess,
                 default=f"{component.item or 'Time'}: {money(excess)} above the not-to-exceed cap of {cap_text}, "
                         "carried to the next period",
                 inputs=[("cap", cap_text), ("already billed this period", money(used)), ("this invoice", money(billed))],
                 arithmetic=f"{money(used)} + {money(billed)} - {cap_text} = {money(excess)} over the cap")
    ctx.carried.append(Carried(component.id, excess, "above the not-to-exceed cap"))
    ctx.cap_uses.append(CapUse(component.id, start, used + room))
