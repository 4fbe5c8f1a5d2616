"""Thresholds: when unbilled time of the current period crosses a component's threshold, the
usage ledger raises the n-th ``threshold_crossed`` event of that period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rules.agreement import Agreement
from rules.calendar import ONE_DAY, local_date, require_aware
from rules.components import TimeAndMaterials
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
    """The next ``threshold_crossed`` event for ``rule`` if unbilled time (hours or amount) of the
    period containing ``now`` has reached a time-and-materials threshold, else None."""
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
    crossed, hours_total, amount_total = [], ZERO, ZERO
    for comp in agreement.components:
        if not isinstance(comp, TimeAndMaterials) or (selected and comp.id not in selected):
            continue
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
    if not crossed:
        return None
    crossing = history.thresholds.get((rule.id, period.start), 0) + 1
    return Event(
        kind=EventKind.THRESHOLD_CROSSED, source=THRESHOLD_SOURCE,
        source_object_id=f"{agreement.id}@{period.start.isoformat()}#{crossing}", occurred_at=now,
        attributes={"crossing": crossing, "components": crossed, "hours": plain(hours_total),
                    "amount": plain(amount_total)},
        period_start=period.start, period_end=period.last_day, company_id=agreement.company_id,
        agreement_id=agreement.id)



