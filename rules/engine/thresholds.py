"""Thresholds: the usage ledger raises the n-th ``threshold_crossed`` event of a period when unbilled
time crosses a time-and-materials threshold, or takes a prepaid hour block's balance below its
``top_up_below`` (the draft for it is then a top-up invoice)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rules.agreement import Agreement
from rules.calendar import ONE_DAY, local_date, require_aware
from rules.components import HourBlock, TimeAndMaterials
from rules.components.block_billing import block_shortfall
from rules.components.time_billing import rate_for
from rules.components.usage_view import hour_entries
from rules.engine.context import Context
from rules.events import Event, EventKind
from rules.history import History
from rules.money import ZERO, plain
from rules.rule import Rule
from rules.usage import UsageRecord
from rules.window import Trigger, Window

THRESHOLD_SOURCE = "autobill"


def threshold_event(agreement: Agreement, rule: Rule, *, usage: Iterable[UsageRecord], history: History | None = None,
                    now: datetime) -> Event | None:
    """The next ``threshold_crossed`` event for ``rule`` if, in the period containing ``now``, unbilled
    time (hours or amount) has reached a time-and-materials threshold, or unbilled time takes a
    prepaid block below ``top_up_below``; else None. Its source object names the agreement, the
    rule, the blocks (if any) and the period's n-th crossing."""
    require_aware(now)
    if rule.when.kind is not EventKind.THRESHOLD_CROSSED:
        return None
    history = history if history is not None else History()
    today = local_date(now, agreement.timezone)
    period = agreement.schedule.period_at(today)
    if period is None or not rule.in_effect(today):
        return None
    window = Window(Trigger.THRESHOLD, "", today, usage_through=today + ONE_DAY)
    probe = Event(EventKind.THRESHOLD_CROSSED, THRESHOLD_SOURCE, "probe", now)
    ctx = Context(agreement, rule, probe, window, usage, history, today)
    selected = set(rule.what.components)
    crossed, blocks, hours_total, amount_total = [], {}, ZERO, ZERO
    for comp in agreement.components:
        if selected and comp.id not in selected:
            continue
        if isinstance(comp, TimeAndMaterials):
            if comp.threshold_hours is None and comp.threshold_amount is None:
                continue
            entries = hour_entries(ctx.usage_for(comp), comp.rounding, history)
            hours = sum((e.delta for e in entries), ZERO)
            amount = sum((e.delta * (rate_for(comp, e.record)[0] or ZERO) for e in entries), ZERO)
            if ((comp.threshold_hours is not None and hours >= comp.threshold_hours)
                    or (comp.threshold_amount is not None and amount >= comp.threshold_amount)):
                crossed.append(comp.id)
                hours_total += hours
                amount_total += amount
        elif isinstance(comp, HourBlock):
            shortfall = block_shortfall(comp, ctx)
            if shortfall is not None:
                crossed.append(comp.id)
                blocks[comp.id] = plain(shortfall.projected)
                hours_total += shortfall.hours
    if not crossed:
        return None
    crossing = history.thresholds.get((rule.id, period.start), 0) + 1
    attributes = {"crossing": crossing, "rule_id": rule.id, "components": crossed, "hours": plain(hours_total),
                  "amount": plain(amount_total)}
    if blocks:
        attributes["blocks"] = blocks  # block id -> the balance unbilled time takes it to
    return Event(
        kind=EventKind.THRESHOLD_CROSSED, source=THRESHOLD_SOURCE,
        source_object_id=crossing_object_id(agreement.id, rule.id, tuple(blocks), period.start, crossing),
        occurred_at=now, attributes=attributes, period_start=period.start, period_end=period.last_day,
        company_id=agreement.company_id, agreement_id=agreement.id)


def crossing_object_id(agreement_id: str, rule_id: str, blocks: tuple[str, ...], period_start, crossing: int) -> str:
    """``agr/rule@2026-03-01#1``, or ``agr/rule/block@2026-03-01#1`` when prepaid blocks crossed."""
    named = f"{agreement_id}/{rule_id}" + (f"/{'+'.join(blocks)}" if blocks else "")
    return f"{named}@{period_start.isoformat()}#{crossing}"
