"""From an event to the window its draft covers, and the business key's billed thing."""

from __future__ import annotations

from datetime import date

from rules.agreement import Agreement
from rules.calendar import ONE_DAY, local_date
from rules.components.contract_end import end_window
from rules.components.milestone_billing import matching_milestone
from rules.components.milestones import Milestones
from rules.errors import EventIncomplete, InvalidInput
from rules.events import Event, EventKind
from rules.keys import object_thing, period_thing, threshold_thing
from rules.rule import Rule
from rules.window import Trigger, Window

USAGE_EVENTS = (EventKind.TIME_LOGGED, EventKind.EXPENSE_LOGGED, EventKind.SLA_BREACHED)


def event_day(event: Event, agreement: Agreement) -> date:
    """The date of ``event`` in the agreement's time zone."""
    return local_date(event.occurred_at, agreement.timezone)


def _date_attribute(event: Event, name: str) -> date | None:
    value = event.attributes.get(name)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"event attribute {name} is not a date: {value!r}") from None


def boundary_window(agreement: Agreement, day: date) -> Window:
    """The scheduled run at the last boundary on or before ``day``."""
    schedule = agreement.schedule
    if day < agreement.start:
        raise InvalidInput(f"{day} is before agreement {agreement.id} starts ({agreement.start})")
    if agreement.end is not None and day > agreement.end:
        k = schedule.index_at(agreement.end) + 1
    else:
        k = schedule.index_at(day)
    # A boundary's window depends on the schedule alone, and schedules are shared: make it once.
    memo = schedule.memo
    window = memo.get(("boundary", k))
    if window is None:
        boundary = schedule.boundary(k)
        window = memo[("boundary", k)] = Window(
            Trigger.BOUNDARY, period_thing(boundary), boundary, boundary_index=k, closed=schedule.period(k - 1),
            opening=schedule.period(k), previous_boundary=schedule.boundary(k - 1) if k else None,
            next_boundary=schedule.boundary(k + 1), usage_through=boundary)
    return window


def window_for(event: Event, agreement: Agreement, rule: Rule) -> Window:
    """The window a draft for ``event`` covers under ``rule``."""
    kind, day = event.kind, event_day(event, agreement)
    if kind is EventKind.PERIOD_CLOSED:
        return boundary_window(agreement, _date_attribute(event, "boundary") or day)
    if kind is EventKind.THRESHOLD_CROSSED:
        crossing = event.attributes.get("crossing")
        if not isinstance(crossing, int) or isinstance(crossing, bool) or crossing < 1:
            raise EventIncomplete("a threshold event must say which crossing of the period it is (crossing)")
        period = agreement.schedule.period_at(day)
        if period is None:
            raise InvalidInput(f"{day} is outside agreement {agreement.id}")
        return Window(Trigger.THRESHOLD, threshold_thing(period.start, crossing), day, usage_through=day + ONE_DAY)
    if kind is EventKind.CONTRACT_ENDED:
        return end_window(agreement, event.period_end or _date_attribute(event, "end_date") or day)
    if kind is EventKind.MILESTONE_COMPLETED:
        selected = set(rule.what.components)
        for comp in agreement.components:
            if isinstance(comp, Milestones) and (not selected or comp.id in selected):
                milestone = matching_milestone(comp, event)
                if milestone is not None:
                    # Keyed by the milestone, so two source objects that complete it bill it once.
                    return Window(Trigger.OBJECT, f"milestone:{comp.id}:{milestone.id}", day)
    if kind in USAGE_EVENTS:
        return Window(Trigger.OBJECT, object_thing(event.source, event.source_object_id), day,
                      only_source_ids=frozenset({event.source_object_id}))
    period_start = event.period_start if kind is EventKind.SUBSCRIPTION_RENEWED else None
    return Window(Trigger.OBJECT, object_thing(event.source, event.source_object_id, period_start), day)
