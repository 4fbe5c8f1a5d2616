"""Due periods, thresholds, starting agreements from won deals, contract ends and credits over time."""

from datetime import date

import pytest

from rules import (
    AgreementTemplate,
    Cadence,
    Condition,
    Conditions,
    DepositBalance,
    Event,
    EventIncomplete,
    EventKind,
    EventLine,
    FixedFee,
    History,
    HourBlock,
    How,
    Milestone,
    Milestones,
    Rule,
    SendMode,
    SlaCredits,
    SourceCustomer,
    TimeAndMaterials,
    UsageKind,
    UsageRecord,
    What,
    When,
    draft_for_event,
    due_drafts,
    start_agreement,
    threshold_event,
)
from tests.unit.rules.helpers import PERIOD_RULE, D, agreement, at, boundary, time

THRESHOLD_RULE = Rule(id="forty-hours", when=When(EventKind.THRESHOLD_CROSSED))


def test_a_tick_after_missed_runs_bills_each_missed_period_once_in_order():
    agr = agreement(FixedFee(id="fee", amount=D("4000.00")))
    drafts = due_drafts(agr, at(2027, 2, 10, 12), since=at(2026, 11, 20))
    assert [d.service_start for d in drafts] == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert len({d.key for d in drafts}) == 3 and all(d.invoice_date == date(2027, 2, 10) for d in drafts)
    assert due_drafts(agr, at(2027, 2, 10, 12), since=at(2027, 2, 10, 11)) == []


def test_a_doubled_tick_gives_the_same_drafts_and_keys():
    agr = agreement(FixedFee(id="fee", amount=D("4000.00")))
    assert due_drafts(agr, at(2026, 12, 1, 6), since=at(2026, 11, 30)) == due_drafts(agr, at(2026, 12, 1, 6),
                                                                                      since=at(2026, 11, 30))


def test_unbilled_time_crossing_the_threshold_raises_the_first_crossing_then_the_second():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00"), threshold_hours=D(40)),
                    rules=(PERIOD_RULE, THRESHOLD_RULE))
    usage = [time("te-1", date(2026, 11, 3), "25"), time("te-2", date(2026, 11, 9), "15")]
    event = threshold_event(agr, THRESHOLD_RULE, usage=usage, now=at(2026, 11, 10, 15))
    assert event.attributes["crossing"] == 1 and event.period_start == date(2026, 11, 1)
    first = draft_for_event(event, agr, THRESHOLD_RULE, usage=usage, today=date(2026, 11, 10))
    assert first.total == D("5800.00") and first.key.billed_thing == "threshold:2026-11-01#1"
    history = History().after(first)
    assert history.thresholds == {("forty-hours", date(2026, 11, 1)): 1}
    assert threshold_event(agr, THRESHOLD_RULE, usage=usage, history=history, now=at(2026, 11, 11)) is None
    more = usage + [time("te-3", date(2026, 11, 20), "41")]
    second = threshold_event(agr, THRESHOLD_RULE, usage=more, history=history, now=at(2026, 11, 21, 12))
    assert second.attributes["crossing"] == 2
    draft = draft_for_event(second, agr, THRESHOLD_RULE, usage=more, history=history, today=date(2026, 11, 21))
    assert draft.total == D("5945.00") and draft.key != first.key


def test_an_amount_threshold_counts_unbilled_time_at_its_rates():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00"), threshold_amount=D("1000")),
                    rules=(THRESHOLD_RULE,))
    assert threshold_event(agr, THRESHOLD_RULE, usage=[time("te-1", date(2026, 11, 3), "6.8")],
                           now=at(2026, 11, 4)) is None
    assert threshold_event(agr, THRESHOLD_RULE, usage=[time("te-1", date(2026, 11, 3), "6.9")],
                           now=at(2026, 11, 4)) is not None


def test_a_threshold_event_without_its_crossing_number_is_incomplete():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D(1)), rules=(THRESHOLD_RULE,))
    event = Event(EventKind.THRESHOLD_CROSSED, "autobill", "x", at(2026, 11, 10))
    with pytest.raises(EventIncomplete, match="crossing"):
        draft_for_event(event, agr, THRESHOLD_RULE, today=date(2026, 11, 10))


COMPANY_RULE = Rule(
    id="hubspot-won", when=When(EventKind.DEAL_WON), what=What(default_item="Services"),
    how=How(SendMode.HOLD_FOR_REVIEW),
    starts=AgreementTemplate(items={"MS-1": "Managed services", "LIC": "Backup licence", "ONB": "Onboarding"},
                             rules=(PERIOD_RULE,)))


def _won_deal(**fields) -> Event:
    base = dict(kind=EventKind.DEAL_WON, source="hubspot", source_object_id="deal-1001",
                occurred_at=at(2026, 11, 16, 15), currency="USD", amount=D("9700.00"),
                source_customer=SourceCustomer("company-77", name="Northwind IT"),
                lines=(EventLine("Managed services", D(1), D("1500.00"), sku="MS-1", recurring="monthly", term_months=12),
                       EventLine("Backup licence", D(1), D("1200.00"), sku="LIC", recurring="annually", term_months=12),
                       EventLine("Onboarding", D(1), D("2000.00"), sku="ONB")))
    base.update(fields)
    return Event(**base)


def test_a_won_deal_starts_one_agreement_with_its_recurring_lines_and_bills_the_one_off_lines_at_once():
    started = start_agreement(_won_deal(), COMPANY_RULE, company_id="c1", customer_id="58",
                              timezone="America/New_York", today=date(2026, 11, 16))
    agr = started.agreement
    assert agr.id == start_agreement(_won_deal(source_event_id="another-delivery", occurred_at=at(2026, 11, 17)),
                                     COMPANY_RULE, company_id="c1", customer_id="58", today=date(2026, 11, 17)).agreement.id
    assert (agr.start, agr.end, agr.cycle, agr.customer_name) == (date(2026, 11, 16), date(2027, 11, 15), Cadence(),
                                                                  "Northwind IT")
    fees = {c.id: (c.amount, c.cadence.label, c.item) for c in agr.components}
    assert fees == {"ms-1": (D("1500.00"), "monthly", "Managed services"),
                    "lic": (D("1200.00"), "yearly", "Backup licence")}
    assert [(ln.item, ln.amount) for ln in started.onboarding.lines] == [("Onboarding", D("2000.00"))]
    assert started.onboarding.key.billed_thing == "object:hubspot:deal-1001"
    assert started.onboarding.agreement_id == agr.id and started.onboarding.needs_review
    first = due_drafts(agr, at(2026, 11, 16, 6))
    assert [ln.amount for ln in first[0].lines] == [D("1500.00"), D("1200.00")]


@pytest.mark.parametrize(("words", "label"), [
    ("monthly", "monthly"), ("annually", "yearly"), ("semiannually", "semiannually"), ("per_six_months", "semiannually"),
    ("biennially", "every 24 months"), ("every 48 months", "every 48 months"), ("every 2 weeks", "every 2 weeks"),
    ("every 3 months", "quarterly"), ("Quarterly", "quarterly")])
def test_the_billing_frequencies_connectors_write_become_cadences(words, label):
    from rules.engine.start import cadence_of

    assert cadence_of(EventLine("Licence", recurring=words)).label == label


def test_a_deal_recurring_on_a_cycle_autobill_cannot_schedule_is_refused():
    deal = _won_deal(lines=(EventLine("Odd", D(1), D(5), recurring="every_leap_year"),))
    with pytest.raises(EventIncomplete, match="every_leap_year"):
        start_agreement(deal, COMPANY_RULE, company_id="c1", customer_id="58", today=date(2026, 11, 16))


def test_a_company_rule_whose_conditions_fail_starts_nothing():
    picky = Rule(id="big", when=When(EventKind.DEAL_WON, Conditions((Condition("amount", "gt", "50000"),))),
                 starts=AgreementTemplate())
    assert start_agreement(_won_deal(), picky, company_id="c1", customer_id="58", today=date(2026, 11, 16)) is None


def test_an_early_contract_end_credits_the_unused_deposit():
    rule = Rule(id="end", when=When(EventKind.CONTRACT_ENDED))
    agr = agreement(Milestones(id="web", contract_value=D(48000), milestones=(Milestone("m1", "Design", ("jira:1",),
                                                                                        amount=D(10000)),)),
                    rules=(rule,))
    history = History(deposits=(DepositBalance("web", "ab1dep", D("9600.00"), D("2400.00"), "1042"),))
    event = Event(EventKind.CONTRACT_ENDED, "hubspot", "deal-1", at(2027, 3, 1, 17))
    draft = draft_for_event(event, agr, rule, history=history, today=date(2027, 3, 2))
    assert [(ln.kind.value, ln.amount) for ln in draft.lines] == [("unused_deposit", D("-7200.00"))]
    assert "the total is negative (-7,200.00): issue a credit memo instead" in draft.hold_reasons


def test_a_fixed_end_is_billed_by_the_final_scheduled_run_not_again_by_a_contract_end_event():
    end_rule = Rule(id="end", when=When(EventKind.CONTRACT_ENDED))
    agr = agreement(FixedFee(id="fee", amount=D("3000.00"), timing="arrears"), rules=(PERIOD_RULE, end_rule),
                    end=date(2027, 1, 15))
    final = due_drafts(agr, at(2027, 1, 16, 12), since=at(2027, 1, 10))
    assert [(ln.amount, ln.service_date) for ln in final[0].lines] == [(D("1451.61"), date(2027, 1, 1))]
    event = Event(EventKind.CONTRACT_ENDED, "hubspot", "deal-1", at(2027, 1, 15, 20), period_end=date(2027, 1, 15))
    assert draft_for_event(event, agr, end_rule, history=History().after(final[0]), today=date(2027, 1, 16)) is None


def test_sla_credits_never_take_an_invoice_below_zero_and_the_rest_waits_for_the_next_invoice():
    agr = agreement(FixedFee(id="fee", amount=D("1000.00"), timing="arrears"),
                    SlaCredits(id="sla", fixed_amount=D("400.00")))
    breaches = [UsageRecord(UsageKind.SLA_BREACH, "pagerduty", f"p{i}", 1, date(2026, 11, 3 + i)) for i in range(3)]
    first = draft_for_event(boundary(agr, date(2026, 12, 1)), agr, PERIOD_RULE, usage=breaches, today=date(2026, 12, 1))
    assert [ln.amount for ln in first.lines] == [D("1000.00"), D("-1000.00")] and first.total == 0
    assert first.consumption.credits[0].carried == D("200.00")
    history = History().after(first)
    second = draft_for_event(boundary(agr, date(2027, 1, 1)), agr, PERIOD_RULE, usage=breaches, history=history,
                             today=date(2027, 1, 1))
    assert [ln.amount for ln in second.lines] == [D("1000.00"), D("-200.00")]
    assert History().after(first).after(second).credits_carried == {}


def test_time_beyond_a_block_without_top_up_is_billed_at_the_overage_rate():
    agr = agreement(HourBlock(id="block", block_hours=D(10), block_price=D(1400), overage_rate=D(150)))
    draft = draft_for_event(boundary(agr, date(2026, 12, 1)), agr, PERIOD_RULE,
                            usage=[time("te-1", date(2026, 11, 5), "12.5")], history=History(blocks={"block": D(10)}),
                            today=date(2026, 12, 1))
    assert [(ln.kind.value, ln.quantity, ln.amount) for ln in draft.lines] == [
        ("block_draw", D(10), D("0.00")), ("overage", D("2.5"), D("375.00"))]
    assert draft.consumption.blocks[0].balance_after == 0


def test_history_after_a_draft_records_what_it_consumed():
    agr = agreement(FixedFee(id="fee", amount=D(10)), TimeAndMaterials(id="tm", default_rate=D(1)))
    draft = draft_for_event(boundary(agr, date(2026, 12, 1)), agr, PERIOD_RULE,
                            usage=[time("te-1", date(2026, 11, 5), "2")], today=date(2026, 12, 1))
    history = History().after(draft)
    assert history.billed("toggl", "te-1").version == 1
    assert history.fee_billed("fee", date(2026, 12, 1)) and history.previous_totals == {"monthly": D("12.00")}
