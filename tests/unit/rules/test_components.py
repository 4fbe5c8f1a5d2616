"""Finer points of single components: partial periods, rollover caps, per-entry lines, corrections."""

from datetime import date

from rules import (
    Cadence,
    EntryRounding,
    History,
    LineGrouping,
    PassThrough,
    Retainer,
    Rollover,
    RolloverGrant,
    TimeAndMaterials,
    UsageConsumed,
    UsageKind,
    UsageRecord,
    draft_for_event,
)
from tests.unit.rules.helpers import PERIOD_RULE, D, agreement, boundary, time

DEC1 = date(2026, 12, 1)


def test_a_retainer_starting_mid_month_prorates_its_fee_and_its_included_hours():
    agr = agreement(Retainer(id="support", fee=D("4000.00"), included_hours=D(20), overage_rate=D("150.00"),
                             timing="arrears"), start=date(2026, 11, 16), cycle=Cadence(day_of_month=1))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 20), "12")],
                            today=DEC1)
    # 15 of November's 30 days: 4,000.00 × 15/30 = 2,000.00 and 20 h × 15/30 = 10 h included; 2 h over.
    assert [(ln.kind.value, ln.quantity, ln.amount) for ln in draft.lines] == [
        ("fee", D(1), D("2000.00")), ("time", D(10), D("0.00")), ("overage", D(2), D("300.00"))]


def test_rollover_is_capped_by_the_hours_already_held():
    agr = agreement(Retainer(id="support", fee=D(1000), included_hours=D(20), overage_rate=D(150),
                             timing="arrears", rollover=Rollover(cap_hours=D(10))))
    held = History(rollover=(RolloverGrant("support", date(2026, 10, 1), D(6)),))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 2), "18")],
                            history=held, today=DEC1)
    # 18 h: 6 h from October's rollover, 12 h of November's 20; October's grant is used up, so none is held
    # and all 8 unused hours fit under the 10 h cap.
    assert [(g.hours, g.expires) for g in draft.consumption.rollover_grants] == [(D(8), None)]
    unused = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 2), "1")],
                             history=held, today=DEC1)
    # 1 h from the rollover (6 -> 5 left), 20 h unused; 10 - 5 held = 5 h more may roll over.
    assert [g.hours for g in unused.consumption.rollover_grants] == [D(5)]


def test_retainer_hours_lapse_without_a_rollover_setting():
    agr = agreement(Retainer(id="support", fee=D(1000), included_hours=D(20), overage_rate=D(150)))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[time("te-1", date(2026, 11, 2), "3")],
                            today=DEC1)
    assert draft.consumption.rollover_grants == ()


def test_time_grouped_per_entry_gives_one_dated_line_per_entry():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00"), group_by=LineGrouping.ENTRY,
                                     rounding=EntryRounding(D("0.25"))))
    usage = [time("te-1", date(2026, 11, 3), "1.1", person="Ana", description="Firewall cutover"),
             time("te-2", date(2026, 11, 4), "2", person="Bob", description="Printer queue")]
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1)
    assert [(ln.description, ln.quantity, ln.amount, ln.service_date) for ln in draft.lines] == [
        ("2026-11-03 Ana: Firewall cutover", D("1.25"), D("181.25"), date(2026, 11, 3)),
        ("2026-11-04 Bob: Printer queue", D("2.00"), D("290.00"), date(2026, 11, 4))]
    assert draft.lines[0].explanation.notes == ("1.1 h logged, billed as 1.25 h",)


def test_an_expense_edited_after_billing_bills_a_correction_line():
    agr = agreement(PassThrough(id="kit", markup_percent=D(10)))
    history = History(billed_usage=(UsageConsumed("xero", "x-1", 1, "kit", quantity=D(1), amount=D("110.00")),))
    edited = UsageRecord(UsageKind.EXPENSE, "xero", "x-1", 2, date(2026, 10, 20), amount=D("150.00"))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[edited], history=history, today=DEC1)
    assert [(ln.amount, ln.explanation.arithmetic) for ln in draft.lines] == [
        (D("55.00"), "165.00 now - 110.00 billed before")]
