"""What a scheduler tick bills: the period boundaries due at an instant, in the agreement's time
zone, anchored to its start; and the drafts they make."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from rules.agreement import Agreement
from rules.calendar import ONE_DAY, BillingPeriod, day_starts, local_date, require_aware
from rules.draft import InvoiceDraft
from rules.engine.drafting import make_draft, rules_for_event
from rules.events import Event, EventKind
from rules.history import History
from rules.quick import quick_init
from rules.usage import UsageRecord

SCHEDULER_SOURCE = "autobill"
PERIOD_CLOSED = EventKind.PERIOD_CLOSED  # a plain name: see rules.window


@quick_init
@dataclass(frozen=True)
class DuePeriod:
    """A boundary of the agreement that is due: ``closed`` ends there and ``opening`` starts there."""

    index: int
    boundary: date
    due_at: datetime  # the first instant of the boundary day in the agreement's time zone (UTC)
    closed: BillingPeriod | None
    opening: BillingPeriod | None


def due_periods(agreement: Agreement, now: datetime, *, since: datetime | None = None) -> list[DuePeriod]:
    """Boundaries whose first instant is in ``(since, now]`` (from the start when ``since`` is None).

    Ticks at t0 < t1 < ... each asking for ``(t_prev, t]`` see every boundary exactly once.
    """
    require_aware(now)
    tz, schedule = agreement.timezone, agreement.schedule
    if since is not None:
        require_aware(since, "since")
        if since >= now:
            return []
    # A tick asks every agreement about the same (now, since); agreements share schedules, so the
    # answer is kept per schedule and zone (only for the last few ticks).
    memo = schedule.memo.get("due")
    if memo is None:
        memo = schedule.memo["due"] = {}
    slot = (tz, now, since)
    found = memo.get(slot)
    if found is None:
        if len(memo) >= _DUE_MEMO:
            memo.clear()
        found = memo[slot] = tuple(_due_periods(schedule, tz, now, since))
    return list(found)


_DUE_MEMO = 64


def _due_periods(schedule, tz: str, now: datetime, since: datetime | None) -> list[DuePeriod]:
    last_day = local_date(now, tz) + ONE_DAY
    k = 0 if since is None else max(0, schedule.index_at(local_date(since, tz) - ONE_DAY) - 1)
    out = []
    while True:
        boundary = schedule.boundary(k)
        if boundary is None or boundary > last_day:
            return out
        at = day_starts(boundary, tz)
        if at <= now and (since is None or at > since):
            out.append(DuePeriod(k, boundary, at, schedule.period(k - 1), schedule.period(k)))
        k += 1


def period_event(agreement: Agreement, due: DuePeriod) -> Event:
    """The ``period_closed`` event tick raises for ``due`` (it carries its company and agreement)."""
    closed = due.closed
    return Event(
        kind=PERIOD_CLOSED, source=SCHEDULER_SOURCE,
        source_object_id=f"{agreement.id}@{due.boundary.isoformat()}", occurred_at=due.due_at,
        attributes={"boundary": due.boundary.isoformat(), "index": due.index},
        period_start=closed.start if closed else None, period_end=closed.last_day if closed else None,
        company_id=agreement.company_id, agreement_id=agreement.id)


def due_events(agreement: Agreement, now: datetime, *, since: datetime | None = None) -> list[Event]:
    """The ``period_closed`` events due in ``(since, now]``."""
    return [period_event(agreement, due) for due in due_periods(agreement, now, since=since)]


def due_drafts(agreement: Agreement, now: datetime, *, since: datetime | None = None,
               usage: Iterable[UsageRecord] = (), history: History | None = None) -> list[InvoiceDraft]:
    """Every draft a tick at ``now`` makes for ``agreement`` (oldest period first, each seeing the
    ones before it in ``history``); the dry run calls exactly this."""
    usage = tuple(usage)
    history = history if history is not None else History()
    today = local_date(now, agreement.timezone)
    drafts = []
    steps = [(event, rule) for event in due_events(agreement, now, since=since)
             for rule in rules_for_event(event, agreement)]
    for i, (event, rule) in enumerate(steps):
        draft = make_draft(event, agreement, rule, usage=usage, history=history, today=today)
        if draft is not None:
            drafts.append(draft)
            if i + 1 < len(steps):  # the next draft must see what this one consumed
                history = history.after(draft)
    return drafts
