"""Properties of the engine, checked by hypothesis (the conftest's CI profile: no deadline, bounded)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rules import (
    Agreement,
    Cadence,
    CadenceUnit,
    Event,
    EventKind,
    FixedFee,
    History,
    RoundingPolicy,
    Timing,
    draft_for_event,
    due_drafts,
    due_periods,
    dump_draft,
    load_draft,
)
from rules.calendar import day_starts, days_in_month
from rules.money import exponent
from tests.unit.rules.strategies import (
    cadences,
    days,
    mixed_agreements,
    money_amounts,
    period_rule,
    tick_walks,
    usage_for,
    zones,
)

HALF_POLICIES = (RoundingPolicy.HALF_UP, RoundingPolicy.HALF_EVEN, RoundingPolicy.HALF_DOWN)


def _fee_agreement(start, end, cadence, amount, policy, timing=Timing.ADVANCE, tz="UTC", ident="a"):
    return Agreement(id=ident, company_id="c1", customer_id="58", start=start, end=end, cycle=cadence, timezone=tz,
                     rounding=policy, components=(FixedFee(id="fee", amount=amount, timing=timing),),
                     rules=(period_rule,))


@given(amount=money_amounts, policy=st.sampled_from(list(RoundingPolicy)), year=st.integers(2010, 2031),
       month=st.integers(1, 12), anchor=st.integers(1, 31), cuts=st.lists(st.integers(1, 30), min_size=1, max_size=4,
                                                                          unique=True))
def test_prorated_parts_of_a_period_sum_to_the_whole_fee_within_the_rounding_policy(amount, policy, year, month,
                                                                                     anchor, cuts):
    full_start = date(year, month, min(anchor, days_in_month(year, month)))
    full_end = full_start + relativedelta(months=1, day=anchor)
    length = (full_end - full_start).days
    points = sorted({c for c in cuts if c < length})
    assume(points)
    bounds = [full_start] + [full_start + timedelta(days=c) for c in points] + [full_end]
    cadence = Cadence(CadenceUnit.MONTH, 1, day_of_month=anchor)
    parts = []
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        agreement = _fee_agreement(lo, hi - timedelta(days=1), cadence, amount, policy, ident=f"part-{i}")
        drafts = due_drafts(agreement, day_starts(hi, "UTC"))
        fee_lines = [line for d in drafts for line in d.lines]
        assert len(fee_lines) == 1 and fee_lines[0].service_date == lo
        parts.append(fee_lines[0].amount)
    quantum = exponent("USD")
    allowed = len(parts) * (quantum / 2 if policy in HALF_POLICIES else quantum)
    assert abs(sum(parts) - amount) <= allowed


def _oracle_boundaries(agreement: Agreement, stop: date) -> list[date]:
    """Boundaries computed independently with dateutil (clamping from the origin, never drifting)."""
    cadence, start = agreement.cycle, agreement.start
    if cadence.unit is CadenceUnit.WEEK:
        grid = [start + timedelta(weeks=cadence.every * k) for k in range(0, 400)]
    else:
        anchor = cadence.day_of_month or start.day
        first = start + relativedelta(day=anchor)
        if first < start:
            first = start + relativedelta(months=1, day=anchor)
        origin = first if cadence.day_of_month and first != start else start
        grid = [origin + relativedelta(months=cadence.every * k, day=anchor) for k in range(0, 400)]
        if origin != start:
            grid = [start] + grid
    out = []
    end_next = agreement.end + timedelta(days=1) if agreement.end else None
    for point in grid:
        if end_next is not None and point >= end_next:
            out.append(end_next)
            break
        out.append(point)
    return [b for b in out if b <= stop]


@settings(max_examples=40)
@given(data=st.data(), start=days, cadence=cadences, tz=zones, timing=st.sampled_from(list(Timing)),
       term=st.one_of(st.none(), st.integers(20, 900)))
def test_walking_any_ticks_across_years_dst_and_zones_bills_every_period_exactly_once(data, start, cadence, tz,
                                                                                     timing, term):
    end = None if term is None else start + timedelta(days=term)
    agreement = _fee_agreement(start, end, cadence, Decimal("1000.00"), RoundingPolicy.HALF_UP, timing, tz)
    ticks = data.draw(tick_walks(start, tz))
    seen, billed, history = [], [], History()
    since = None
    for now in ticks:
        seen += [d.boundary for d in due_periods(agreement, now, since=since)]
        drafts = due_drafts(agreement, now, since=since, history=history)
        for draft in drafts:
            history = history.after(draft)
            billed += [(p.start, p.end) for p in draft.consumption.fee_periods]
        since = now
    last = ticks[-1]
    expected = [b for b in _oracle_boundaries(agreement, last.date() + timedelta(days=2))
                if day_starts(b, tz) <= last]
    assert seen == expected  # each boundary once, in order, none missed
    assert len(billed) == len(set(billed))  # no period billed twice
    billed.sort()
    for (_, end_a), (start_b, _) in zip(billed, billed[1:], strict=False):
        assert end_a == start_b  # the billed periods tile time without gaps or overlaps
    if billed:
        assert billed[0][0] == start
    if billed and end is not None and day_starts(end + timedelta(days=1), tz) <= last:
        assert billed[-1][1] == end + timedelta(days=1)  # the last, partial period was billed


@settings(max_examples=40)
@given(data=st.data(), agreement=mixed_agreements(), months=st.integers(1, 14))
def test_totals_equal_the_sum_of_lines_and_the_same_inputs_give_byte_identical_drafts(data, agreement, months):
    boundary = agreement.schedule.boundary(months) or agreement.schedule.boundary(1)
    usage = data.draw(usage_for(agreement, boundary))
    event = Event(EventKind.PERIOD_CLOSED, "autobill", f"{agreement.id}@{boundary}",
                  day_starts(boundary, agreement.timezone), attributes={"boundary": boundary.isoformat()})
    history = History(blocks={"block": Decimal(5)})
    first = draft_for_event(event, agreement, period_rule, usage=usage, history=history, today=boundary)
    again = draft_for_event(event, agreement, period_rule, usage=tuple(reversed(usage)), history=history,
                            today=boundary)
    if first is None:
        assert again is None
        return
    assert dump_draft(first) == dump_draft(again)
    assert load_draft(dump_draft(first)) == first
    assert first.total == sum((line.amount for line in first.lines), Decimal(0))
    quantum = exponent(agreement.currency)
    for line in first.lines:
        assert line.amount == line.amount.quantize(quantum)
        assert line.explanation.rule_id == period_rule.id
    assert first.total >= 0 or any(r.startswith("the total is negative") for r in first.hold_reasons)
    # Usage marked not billable is never billed: no line names it as a source.
    unbillable = {f"{r.source}:{r.source_id}@v{r.version}" for r in usage if not r.billable}
    assert not any(unbillable & set(line.explanation.source_ids) for line in first.lines)


@given(agreement=mixed_agreements(), object_id=st.text(min_size=1, max_size=12),
       kind=st.sampled_from([EventKind.DEAL_WON, EventKind.SUBSCRIPTION_RENEWED, EventKind.MILESTONE_COMPLETED]),
       hours=st.lists(st.integers(0, 23), min_size=2, max_size=2),
       attrs=st.dictionaries(st.text(max_size=5), st.text(max_size=5)))
def test_two_events_about_one_source_object_give_the_same_business_key(agreement, object_id, kind, hours, attrs):
    from rules import EventLines, Milestone, Milestones, Rule, When

    components = (EventLines(id="deal", price=Decimal(100)),
                  Milestones(id="web", milestones=(Milestone("m1", "Launch", (f"jira:{object_id}",), Decimal(500)),)))
    agreement = Agreement(**{**vars(agreement), "components": components, "rules": (Rule(id="r", when=When(kind)),)})
    keys = set()
    for i, hour in enumerate(hours):
        # Different deliveries: another vendor event id, time and attributes, about the same object.
        event = Event(kind, "jira", object_id, day_starts(agreement.start, agreement.timezone) + timedelta(hours=hour),
                      attributes={**attrs, "attempt": i}, source_event_id=f"evt-{i}-{hour}",
                      period_start=agreement.start, amount=Decimal("100.00"))
        draft = draft_for_event(event, agreement, agreement.rules[0], today=agreement.start)
        keys.add(str(draft.key))
    assert len(keys) == 1


@given(agreement=mixed_agreements(), count=st.integers(2, 40), objects=st.sets(st.text(min_size=1, max_size=8),
                                                                                 min_size=2, max_size=20))
def test_different_periods_or_objects_never_share_a_key(agreement, count, objects):
    from rules import BusinessKey
    from rules.keys import object_thing, period_thing, threshold_thing

    schedule = agreement.schedule
    things = [period_thing(schedule.boundary(k)) for k in range(count) if schedule.boundary(k)]
    things += [object_thing("hubspot", o) for o in objects]
    things += [threshold_thing(schedule.boundary(0), n) for n in range(1, count)]
    keys = {str(BusinessKey(agreement.company_id, agreement.id, "r", thing)) for thing in things}
    assert len(keys) == len(set(things))
    assert all(len(k) == 36 for k in keys)
