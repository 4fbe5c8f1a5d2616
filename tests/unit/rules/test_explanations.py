"""Every line's explanation shows its unrounded value, the one rounding step and where it came from."""

from datetime import date

from rules import (
    Cadence,
    Deposit,
    EventKind,
    FixedFee,
    History,
    LineKind,
    Milestone,
    Milestones,
    PassThrough,
    RoundingPolicy,
    Rule,
    SlaCredits,
    TimeAndMaterials,
    UsageKind,
    UsageRecord,
    When,
    draft_for_event,
    due_drafts,
)
from rules.events import Event
from tests.unit.rules.helpers import PERIOD_RULE, D, agreement, at, boundary, time

DEC1 = date(2026, 12, 1)


def _line(draft, kind):
    return next(ln for ln in draft.lines if ln.kind is kind)


def test_an_sla_credit_explains_its_rounding_from_the_unrounded_credit():
    # 5% of a 333.33 fee is 16.6665 per breach: the line is -16.67 and says how it got there.
    agr = agreement(FixedFee(id="fee", amount=D("333.33")), SlaCredits(id="sla", percent_of_fee=D(5)))
    breach = UsageRecord(UsageKind.SLA_BREACH, "pagerduty", "P1-77", 1, date(2026, 11, 6))
    [draft] = due_drafts(agr, at(2026, 12, 1, 12), since=at(2026, 11, 30, 12), usage=[breach])
    line = _line(draft, LineKind.SLA_CREDIT)
    assert line.amount == D("-16.67") and line.explanation.unrounded == D("-16.6665")
    assert line.explanation.rounding == "rounded half_up to 0.01: -16.6665 -> -16.67"
    assert line.explanation.source_ids == ("pagerduty:P1-77@v1",)


def test_a_proportional_deposit_explains_its_rounding_from_the_unrounded_share():
    won = Rule(id="deposit", when=When(EventKind.DEAL_WON))
    done_rule = Rule(id="milestones", when=When(EventKind.MILESTONE_COMPLETED))
    agr = agreement(Milestones(id="project", contract_value=D("3000.00"),
                               milestones=(Milestone("m1", "Design", ("jira:acme/version/1",), amount=D("1000.00")),),
                               deposit=Deposit(amount=D("1000.00"), apply="proportional")), rules=(won, done_rule))
    deposit = draft_for_event(Event(EventKind.DEAL_WON, "hubspot", "deal-1", at(2026, 11, 2)), agr, won,
                              today=date(2026, 11, 2))
    done = Event(EventKind.MILESTONE_COMPLETED, "jira", "acme/version/1", at(2026, 11, 20))
    draft = draft_for_event(done, agr, done_rule, history=History().after(deposit), today=date(2026, 11, 20))
    less = _line(draft, LineKind.LESS_DEPOSIT)
    # 1,000.00 × 1,000.00 / 3,000.00 = 333.333…: one third of the deposit, rounded once on the line.
    assert less.amount == D("-333.33") and draft.total == D("666.67")
    assert less.explanation.unrounded == -(D("1000.00") * D("1000.00") / D("3000.00"))
    assert less.explanation.rounding == "rounded half_up to 0.01: -333.33333333… -> -333.33"
    assert less.explanation.arithmetic == "-333.33333333…"
    assert less.explanation.source_ids == (str(deposit.key),)
    assert draft.consumption.deposits_applied[0].amount == D("333.33")


def test_a_prorated_fee_explains_its_rounding_and_names_the_agreement_and_period_it_bills():
    agr = agreement(FixedFee(id="fee", amount=D("4000.00"), timing="arrears"), start=date(2026, 11, 17),
                    cycle=Cadence(day_of_month=1))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, today=DEC1)
    [line] = draft.lines
    assert line.amount == D("1866.67") and line.explanation.unrounded == D("4000.00") * 14 / 30
    assert line.explanation.rounding == "rounded half_up to 0.01: 1866.66666666… -> 1866.67"
    assert line.explanation.source_ids == ("agreement:agr-northwind", "period:2026-11-17/2026-11-30")


def test_the_agreement_rounding_policy_is_the_one_the_explanation_names():
    agr = agreement(FixedFee(id="fee", amount=D("4000.00"), timing="arrears"), start=date(2026, 11, 17),
                    cycle=Cadence(day_of_month=1), rounding=RoundingPolicy.DOWN)
    [line] = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, today=DEC1).lines
    assert (line.amount, line.explanation.rounding) == (D("1866.66"),
                                                        "rounded down to 0.01: 1866.66666666… -> 1866.66")


def test_time_at_a_rate_that_needs_no_rounding_says_so_and_lists_its_entries():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")))
    usage = [time("te-1", date(2026, 11, 3), "7.5"), time("te-2", date(2026, 11, 4), "30", version=2)]
    [line] = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1).lines
    assert line.amount == D("5437.50") and line.explanation.unrounded == D("5437.500")
    assert line.explanation.rounding == "exact at 0.01 (half_up)"
    assert line.explanation.source_ids == ("toggl:te-1@v1", "toggl:te-2@v2")
    assert (line.explanation.rule_id, line.explanation.rule_version) == ("monthly", 1)


def test_a_marked_up_expense_explains_its_rounding():
    agr = agreement(PassThrough(id="kit", markup_percent=D("12.5")))
    expense = UsageRecord(UsageKind.EXPENSE, "xero", "x-1", 1, date(2026, 11, 9), amount=D("133.33"),
                          description="Switch")
    [line] = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=[expense], today=DEC1).lines
    assert line.amount == D("150.00") and line.explanation.unrounded == D("149.99625")
    assert line.explanation.rounding == "rounded half_up to 0.01: 149.99625 -> 150.00"
    assert line.explanation.source_ids == ("xero:x-1@v1",)
    assert "Sources: xero:x-1@v1." in line.explanation.text()
