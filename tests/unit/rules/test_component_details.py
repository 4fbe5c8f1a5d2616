"""Behaviours of single components that the worked examples do not pin down: the whole rate chain,
hour rounding modes, caps that hold, and rollover that has expired."""

from datetime import date

import pytest

from rules import (
    Cadence,
    EntryRounding,
    History,
    HourRounding,
    Rates,
    Retainer,
    Rollover,
    RolloverGrant,
    TimeAndMaterials,
    draft_for_event,
)
from rules.components.time_billing import rate_for
from rules.components.usage_view import round_hours
from tests.unit.rules.helpers import PERIOD_RULE, D, agreement, boundary, time

DEC1 = date(2026, 12, 1)
CHAIN = TimeAndMaterials(id="tm", default_rate=D("100.00"),
                         rates=Rates(task={"Migration": D("175.00")}, person={"Ana": D("160.00")},
                                     role={"engineer": D("150.00")}, project={"p-42": D("130.00")}))


@pytest.mark.parametrize(("fields", "rate", "origin"), [
    ({"rate": D("210.00"), "task": "Migration", "person": "Ana", "role": "engineer", "project": "p-42"},
     D("210.00"), "the entry"),
    ({"task": "Migration", "person": "Ana", "role": "engineer", "project": "p-42"}, D("175.00"), "task 'Migration'"),
    ({"task": "Cabling", "person": "Ana", "role": "engineer", "project": "p-42"}, D("160.00"), "person 'Ana'"),
    ({"task": "Cabling", "person": "Bob", "role": "engineer", "project": "p-42"}, D("150.00"), "role 'engineer'"),
    ({"task": "Cabling", "person": "Bob", "role": "technician", "project": "p-42"}, D("130.00"), "project 'p-42'"),
    ({"task": "Cabling", "person": "Bob", "role": "technician", "project": "p-7"}, D("100.00"),
     "the agreement's default rate"),
])
def test_the_rate_chain_is_entry_then_task_person_role_project_and_the_default(fields, rate, origin):
    assert rate_for(CHAIN, time("te-1", DEC1, "1", **fields)) == (rate, origin)


def test_the_rate_chain_decides_the_billed_line_too():
    agr = agreement(CHAIN)
    usage = [time("te-1", date(2026, 11, 3), "2", task="Cabling", person="Bob", project="p-42"),
             time("te-2", date(2026, 11, 4), "1", task="Cabling", person="Bob", project="p-42", rate=D("90.00"))]
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1)
    assert [(ln.quantity, ln.rate, ln.amount) for ln in draft.lines] == [(D(1), D("90.00"), D("90.00")),
                                                                         (D(2), D("130.00"), D("260.00"))]
    assert dict(draft.lines[1].explanation.inputs)["rate"] == "130.00 from project 'p-42'"


@pytest.mark.parametrize(("hours", "mode", "expected"), [
    ("1.1", HourRounding.NEAREST, "1.00"), ("1.125", HourRounding.NEAREST, "1.25"), ("1.2", HourRounding.NEAREST, "1.25"),
    ("1.1", HourRounding.DOWN, "1.00"), ("1.24", HourRounding.DOWN, "1.00"), ("1.25", HourRounding.DOWN, "1.25"),
    ("1.01", HourRounding.UP, "1.25"),
])
def test_entries_round_to_the_increment_nearest_down_or_up(hours, mode, expected):
    assert str(round_hours(D(hours), EntryRounding(D("0.25"), mode))) == expected


def test_rounding_down_never_goes_below_the_minimum_and_is_noted_on_the_line():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("100.00"),
                                     rounding=EntryRounding(D("0.5"), HourRounding.DOWN, minimum=D("1"))))
    usage = [time("te-1", date(2026, 11, 3), "0.9"), time("te-2", date(2026, 11, 4), "2.4")]
    [line] = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1).lines
    # 0.9 h -> 0.5 h down, then the 1 h minimum; 2.4 h -> 2.0 h down: 3 h × 100.00.
    assert (line.quantity, line.amount) == (D("3.0"), D("300.00"))
    assert line.explanation.notes == ("0.9 h logged, billed as 1 h", "2.4 h logged, billed as 2.0 h")
    assert dict(line.explanation.inputs)["entry rounding"] == "down to 0.5 h, minimum 1 h"


def test_a_cap_that_holds_bills_everything_and_holds_the_invoice_naming_the_cap_with_its_cents():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00"), cap_amount=D(1000), over_cap="hold"))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 3), "10")],
                            today=DEC1)
    assert draft.total == D("1450.00") and [ln.kind.value for ln in draft.lines] == ["time"]
    assert draft.hold_reasons == ("tm: 450.00 over the not-to-exceed cap of 1,000.00 for the period from 2026-11-01",)
    assert draft.needs_review and draft.consumption.carried == ()
    assert [(u.period_start, u.amount) for u in draft.consumption.cap_uses] == [(date(2026, 11, 1), D("1450.00"))]


def test_a_cap_given_with_more_places_than_the_currency_keeps_them():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00"), cap_amount=D("999.995"), over_cap="hold"))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 3), "10")],
                            today=DEC1)
    assert "cap of 999.995 for" in draft.hold_reasons[0]


def test_a_fee_with_proration_off_bills_a_partial_period_in_full_and_says_so():
    agr = agreement(Retainer(id="support", fee=D("4000.00"), included_hours=D(20), overage_rate=D(150),
                             prorate=False, timing="arrears"), start=date(2026, 11, 16), cycle=Cadence(day_of_month=1))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 20), "18")],
                            today=DEC1)
    # Not prorated: the whole 4,000.00 and all 20 included hours for the 15-day first period.
    assert [(ln.kind.value, ln.quantity, ln.amount) for ln in draft.lines] == [("fee", D(1), D("4000.00")),
                                                                                ("time", D(18), D("0.00"))]
    assert dict(draft.lines[0].explanation.inputs)["prorate"] == "off: a partial period is billed in full"
    assert draft.lines[0].explanation.arithmetic == "4,000.00 for the partial period"


def test_rollover_grants_that_have_expired_are_dropped_from_the_history():
    agr = agreement(Retainer(id="support", fee=D(1000), included_hours=D(20), overage_rate=D(150), timing="arrears",
                             rollover=Rollover(expire_after=1)), start=date(2026, 10, 1), cycle=Cadence(day_of_month=1))
    # October's 5 h may be used in November only (they expire when December starts).
    held = History(rollover=(RolloverGrant("support", date(2026, 10, 1), D(5), expires=date(2026, 12, 1)),))
    november = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 3), "25")],
                               history=held, today=DEC1)
    assert [(d.granted_for, d.hours) for d in november.consumption.rollover_draws] == [(date(2026, 10, 1), D(5))]
    assert held.after(november).rollover == ()
    quiet = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, history=held, today=DEC1)
    # No time in November: October's 5 h were not drawn, but December cannot use them, so only
    # November's own 20 unused hours are carried.
    assert [(g.granted_for, g.hours) for g in held.after(quiet).rollover] == [(date(2026, 11, 1), D(20))]
    lasting = History(rollover=(RolloverGrant("support", date(2026, 10, 1), D(5), expires=date(2027, 1, 1)),))
    assert [(g.granted_for, g.hours) for g in lasting.after(quiet).rollover] == [(date(2026, 10, 1), D(5)),
                                                                                (date(2026, 11, 1), D(20))]
