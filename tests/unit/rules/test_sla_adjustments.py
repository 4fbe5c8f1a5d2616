"""SLA breaches changed after they were credited: a withdrawal takes the credit back on the next invoice,
naming the breach and the invoice it was credited on, and the deletion is consumed."""

from datetime import date

from rules import (
    FixedFee,
    History,
    LineKind,
    SlaCredits,
    UsageConsumed,
    UsageKind,
    UsageRecord,
    due_drafts,
)
from tests.unit.rules.helpers import D, agreement, at

NOV30, DEC31 = at(2026, 11, 30, 12), at(2026, 12, 31, 12)
DEC1, JAN1 = at(2026, 12, 1, 12), at(2027, 1, 1, 12)


def _woodgrove(fee="4000.00", **credit):
    credit = credit or {"percent_of_fee": D(5)}
    return agreement(FixedFee(id="noc", amount=D(fee)), SlaCredits(id="sla", item="SLA credit", **credit))


def breach(source_id, on, *, version=1, quantity=None, **fields):
    return UsageRecord(UsageKind.SLA_BREACH, "pagerduty", source_id, version, on, quantity=quantity, **fields)


def _close(agr, now, since, usage, history):
    [draft] = due_drafts(agr, now, since=since, usage=usage, history=history)
    return draft


def test_a_breach_withdrawn_after_it_was_credited_is_taken_back_naming_the_breach_and_the_invoice():
    agr = _woodgrove()
    first = _close(agr, DEC1, NOV30, [breach("P1-77", date(2026, 11, 6))], History())
    assert [(ln.kind, ln.amount) for ln in first.lines] == [(LineKind.FEE, D("4000.00")),
                                                            (LineKind.SLA_CREDIT, D("-200.00"))]
    assert [(u.source_id, u.quantity, u.amount) for u in first.consumption.usage] == [("P1-77", D(1), D("200.00"))]
    history = History().after(first)
    withdrawn = breach("P1-77", date(2026, 11, 6), version=2, deleted=True)
    second = _close(agr, JAN1, DEC31, [withdrawn], history)
    fee, back = second.lines
    assert (back.kind, back.amount, second.total) == (LineKind.SLA_CREDIT_REVERSED, D("200.00"), D("4200.00"))
    assert back.description == f"SLA credit reversed: breach pagerduty:P1-77 withdrawn (credited on invoice autobill:{first.key})"
    assert back.explanation.source_ids == ("pagerduty:P1-77@v2", str(first.key))
    assert dict(back.explanation.inputs)["credited"] == f"200.00 on invoice autobill:{first.key}"
    assert [(u.source_id, u.version, u.deleted, u.quantity) for u in second.consumption.usage] == [
        ("P1-77", 2, True, D(0))]
    # The deletion is consumed: drafting again with it changes nothing more.
    third = due_drafts(agr, at(2027, 2, 1, 12), since=at(2027, 1, 31, 12), usage=[withdrawn],
                       history=history.after(second))
    assert [ln.kind for ln in third[0].lines] == [LineKind.FEE]


def test_the_invoice_is_named_by_its_quickbooks_number_once_the_caller_knows_it():
    agr = _woodgrove()
    history = History(billed_usage=(UsageConsumed("pagerduty", "P1-77", 1, "sla", quantity=D(1), amount=D("200.00")),),
                      billed_on={("pagerduty", "P1-77"): "ab1deadbeef"}, invoice_numbers={"ab1deadbeef": "1042"})
    draft = _close(agr, JAN1, DEC31, [breach("P1-77", date(2026, 11, 6), version=2, deleted=True)], history)
    assert draft.lines[1].description.endswith("(credited on invoice 1042)")


def test_a_breach_made_not_billable_is_a_withdrawal_too():
    agr = _woodgrove()
    history = History(billed_usage=(UsageConsumed("pagerduty", "P1-77", 1, "sla", quantity=D(1), amount=D("200.00")),))
    draft = _close(agr, JAN1, DEC31, [breach("P1-77", date(2026, 11, 6), version=2, billable=False)], history)
    assert [(ln.kind, ln.amount) for ln in draft.lines][1] == (LineKind.SLA_CREDIT_REVERSED, D("200.00"))
    assert draft.lines[1].description.endswith("withdrawn (credited on an earlier invoice)")
    assert [(u.version, u.deleted, u.quantity, u.amount) for u in draft.consumption.usage] == [(2, False, 0, 0)]


def test_a_withdrawn_credit_still_waiting_to_be_applied_is_dropped_and_only_the_rest_taken_back():
    # A 500.00 fixed credit on a 300.00 invoice: 300.00 applied, 200.00 carried. Withdrawn: the 200.00
    # waiting is dropped and only the 300.00 the client had is taken back.
    agr = _woodgrove(fee="300.00", fixed_amount=D("500.00"))
    first = _close(agr, DEC1, NOV30, [breach("P1-77", date(2026, 11, 6))], History())
    assert first.total == D("0.00") and first.consumption.credits[0].carried == D("200.00")
    history = History().after(first)
    second = _close(agr, JAN1, DEC31, [breach("P1-77", date(2026, 11, 6), version=2, deleted=True)], history)
    assert [(ln.kind, ln.amount) for ln in second.lines] == [(LineKind.FEE, D("300.00")),
                                                             (LineKind.SLA_CREDIT_REVERSED, D("300.00"))]
    assert "200.00 of it was still carried and is dropped" in dict(second.lines[1].explanation.inputs)["not yet applied"]
    assert History().after(first).after(second).credits_carried == {}


def test_a_breach_whose_count_changed_takes_back_its_credit_and_is_credited_again_never_below_zero():
    agr = _woodgrove()
    history = History(billed_usage=(UsageConsumed("pagerduty", "P1-77", 1, "sla", quantity=D(1), amount=D("200.00")),))
    draft = _close(agr, JAN1, DEC31, [breach("P1-77", date(2026, 11, 6), version=2, quantity=D(3))], history)
    # +200.00 back, then 3 × 5% × 4,000.00 = 600.00 credited again (under the invoice's 4,200.00).
    assert [(ln.kind, ln.amount) for ln in draft.lines] == [
        (LineKind.FEE, D("4000.00")), (LineKind.SLA_CREDIT_REVERSED, D("200.00")), (LineKind.SLA_CREDIT, D("-600.00"))]
    assert "changed from 1 to 3 breaches" in dict(draft.lines[1].explanation.inputs)["breach"]
    assert [(u.version, u.quantity, u.amount) for u in draft.consumption.usage] == [(2, D(3), D("600.00"))]
    assert draft.total == D("3600.00") and all(d.total >= 0 for d in [draft])


def test_an_edit_that_keeps_the_breach_count_is_consumed_without_a_line():
    agr = _woodgrove()
    history = History(billed_usage=(UsageConsumed("pagerduty", "P1-77", 1, "sla", quantity=D(1), amount=D("200.00")),))
    edited = breach("P1-77", date(2026, 11, 6), version=2, description="root cause: DNS")
    draft = _close(agr, JAN1, DEC31, [edited], history)
    assert [ln.kind for ln in draft.lines] == [LineKind.FEE]
    assert [(u.version, u.quantity, u.amount) for u in draft.consumption.usage] == [(2, D(1), D("200.00"))]


def test_a_breach_withdrawn_before_it_was_ever_credited_makes_no_line():
    agr = _woodgrove()
    draft = _close(agr, DEC1, NOV30, [breach("P1-77", date(2026, 11, 6), version=2, deleted=True)], History())
    assert [ln.kind for ln in draft.lines] == [LineKind.FEE] and draft.consumption.usage == ()
