"""Drafting from events: conditions, versions, warnings, holds, templates, tax, corrections."""

from datetime import date

import pytest

from rules import (
    Condition,
    Conditions,
    CurrencyMismatch,
    Event,
    EventIncomplete,
    EventKind,
    EventLine,
    EventLines,
    FixedFee,
    History,
    How,
    InvalidInput,
    InvalidTemplate,
    PassThrough,
    Rule,
    SendMode,
    SourceCustomer,
    TaxTreatment,
    TimeAndMaterials,
    UsageConsumed,
    UsageKind,
    UsageRecord,
    What,
    When,
    draft_for_event,
    rules_for_event,
)
from tests.unit.rules.helpers import PERIOD_RULE, D, agreement, at, boundary, time

DEC1 = date(2026, 12, 1)


def _deal(**fields) -> Event:
    base = dict(kind=EventKind.DEAL_WON, source="hubspot", source_object_id="deal-1001",
                occurred_at=at(2026, 11, 20, 15), amount=D("12500.00"), currency="USD",
                source_customer=SourceCustomer("company-77", name="Northwind IT"),
                attributes={"pipeline": "default", "dealstage": "closedwon", "seats": 25},
                lines=(EventLine("Managed services", D(1), D("4000.00"), sku="MS-1"),))
    base.update(fields)
    return Event(**base)


def _won_rule(*conditions, any_of=(), rule_id="won", **fields) -> Rule:
    return Rule(id=rule_id, when=When(EventKind.DEAL_WON, Conditions(tuple(conditions), tuple(any_of))), **fields)


@pytest.mark.parametrize(("condition", "holds"), [
    (Condition("amount", "gte", "12500"), True),
    (Condition("amount", "gt", "12500.00"), False),
    (Condition("attributes.seats", "lt", 30), True),
    (Condition("attributes.pipeline", "in", ["default", "msp"]), True),
    (Condition("attributes.pipeline", "not_in", ["default"]), False),
    (Condition("source_customer.name", "starts_with", "North"), True),
    (Condition("source_customer.name", "contains", "wind"), True),
    (Condition("lines.0.sku", "eq", "MS-1"), True),
    (Condition("lines.3.sku", "exists"), False),
    (Condition("attributes.region", "missing"), True),
    (Condition("attributes.region", "ne", "EU"), False),  # a missing field meets no operator but missing
    (Condition("kind", "eq", "deal_won"), True),
    (Condition("occurred_at", "gte", "2026-11-20"), True),
    (Condition("amount", "gt", "lots"), False),
    (Condition("source_customer.__class__", "exists"), False),
])
def test_a_condition_tests_a_field_path_of_the_event(condition, holds):
    agr = agreement(EventLines(id="deal"), rules=(_won_rule(condition),))
    assert (draft_for_event(_deal(), agr, agr.rules[0], today=DEC1) is not None) is holds


def test_all_and_any_groups_nest():
    rule = _won_rule(Condition("source", "eq", "hubspot"),
                     any_of=(Condition("amount", "gt", "99999"),
                             Conditions(all=(Condition("attributes.pipeline", "eq", "default"),
                                             Condition("attributes.seats", "gte", 25)))))
    agr = agreement(EventLines(id="deal"), rules=(rule,))
    assert draft_for_event(_deal(), agr, rule, today=DEC1) is not None
    assert draft_for_event(_deal(attributes={"pipeline": "default", "seats": 3}), agr, rule, today=DEC1) is None


def test_the_rule_version_in_effect_on_the_event_day_fires_and_is_named_on_every_line():
    old = _won_rule(effective_to=date(2026, 11, 30), how=How(SendMode.HOLD_FOR_REVIEW))
    new = _won_rule(version=2, effective_from=date(2026, 12, 1), how=How(SendMode.AUTO_SEND))
    agr = agreement(EventLines(id="deal"), rules=(old, new))
    assert rules_for_event(_deal(), agr) == [old]
    assert rules_for_event(_deal(occurred_at=at(2026, 12, 2, 9)), agr) == [new]
    draft = draft_for_event(_deal(occurred_at=at(2026, 12, 2, 9)), agr, new, today=date(2026, 12, 2))
    assert {(ln.explanation.rule_id, ln.explanation.rule_version) for ln in draft.lines} == {("won", 2)}
    assert draft_for_event(_deal(occurred_at=at(2026, 12, 2, 9)), agr, old, today=DEC1) is None


def test_a_new_rule_version_keeps_the_business_key_so_nothing_is_billed_twice():
    v1, v2 = _won_rule(effective_to=date(2026, 11, 30)), _won_rule(version=2, effective_from=date(2026, 12, 1))
    agr = agreement(EventLines(id="deal"), rules=(v1, v2))
    before = draft_for_event(_deal(), agr, v1, today=DEC1)
    after = draft_for_event(_deal(occurred_at=at(2026, 12, 3)), agr, v2, today=DEC1)
    assert before.key == after.key


def test_time_without_any_rate_is_billed_at_zero_warned_and_held():
    agr = agreement(TimeAndMaterials(id="tm"))
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE,
                            usage=[time("te-1", date(2026, 11, 3), "37.5", person="Ana", task="Migration")], today=DEC1)
    assert draft.lines[0].amount == 0 and draft.warnings[0].code == "missing_rate"
    assert "No rate for 37.5 h of Ana on Migration" in draft.hold_reasons[0]
    assert draft.needs_review


def test_an_edited_time_entry_bills_only_the_difference_and_a_deleted_one_is_credited():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")))
    billed = History(billed_usage=(UsageConsumed("toggl", "te-1", 1, "tm", hours=D("7.5")),
                                   UsageConsumed("toggl", "te-2", 1, "tm", hours=D("2"))))
    usage = [time("te-1", date(2026, 10, 30), "8", version=2),
             UsageRecord(UsageKind.TIME, "toggl", "te-2", 2, date(2026, 10, 31), hours=D(2), deleted=True)]
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, history=billed, today=DEC1)
    assert [(ln.quantity, ln.amount) for ln in draft.lines] == [(D("-1.5"), D("-217.50"))]
    assert "toggl:te-1 changed since billed: 7.5 h -> 8 h" in draft.lines[0].explanation.notes
    assert {(u.source_id, u.version) for u in draft.consumption.usage} == {("te-1", 2), ("te-2", 2)}


def test_usage_already_billed_at_its_version_is_not_billed_again():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")))
    usage = [time("te-1", date(2026, 11, 3), "37.5")]
    first = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1)
    assert first.total == D("5437.50")
    assert draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, history=History().after(first),
                           today=DEC1) is None


def test_usage_dated_after_the_closed_period_waits_for_the_next_one():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")))
    usage = [time("te-1", date(2026, 11, 30), "1"), time("te-2", date(2026, 12, 1), "1")]
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1)
    assert [u.source_id for u in draft.consumption.usage] == ["te-1"]


def test_an_expense_in_another_currency_is_refused():
    agr = agreement(PassThrough(id="kit"))
    usage = [UsageRecord(UsageKind.EXPENSE, "xero", "x-1", 1, date(2026, 11, 4), amount=D(10), currency="EUR")]
    with pytest.raises(CurrencyMismatch, match="x-1 is in EUR; the agreement bills in USD"):
        draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, usage=usage, today=DEC1)


def test_usage_of_another_agreement_is_refused():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D(1)))
    with pytest.raises(InvalidInput, match="belongs to agreement agr-other"):
        draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE,
                        usage=[time("te-1", date(2026, 11, 3), "1", agreement_id="agr-other")], today=DEC1)


def test_an_event_of_another_agreement_is_refused():
    agr = agreement(FixedFee(id="fee", amount=D(1)))
    event = Event(EventKind.PERIOD_CLOSED, "autobill", "x", at(2026, 12, 1, 5), agreement_id="agr-other")
    with pytest.raises(InvalidInput, match="about agreement agr-other"):
        draft_for_event(event, agr, PERIOD_RULE, today=DEC1)


def test_a_renewal_with_no_amount_and_no_price_is_incomplete_and_may_succeed_later():
    rule = Rule(id="renewal", when=When(EventKind.SUBSCRIPTION_RENEWED))
    agr = agreement(EventLines(id="sub"), rules=(rule,))
    event = Event(EventKind.SUBSCRIPTION_RENEWED, "stripe", "sub_1", at(2026, 12, 1, 6))
    with pytest.raises(EventIncomplete) as caught:
        draft_for_event(event, agr, rule, today=DEC1)
    assert caught.value.retryable and caught.value.code == "event_incomplete"


def test_review_by_exception_holds_only_when_the_total_moves_beyond_the_tolerance():
    rule = Rule(id="monthly", when=When(EventKind.PERIOD_CLOSED), how=How(SendMode.REVIEW_BY_EXCEPTION, D(10)))
    agr = agreement(FixedFee(id="fee", amount=D("4000.00")), rules=(rule,))
    steady = draft_for_event(boundary(agr, DEC1), agr, rule, history=History(previous_totals={"monthly": D(3700)}),
                             today=DEC1)
    assert steady.hold_reasons == ()
    jumped = draft_for_event(boundary(agr, DEC1), agr, rule, history=History(previous_totals={"monthly": D(3000)}),
                             today=DEC1)
    assert jumped.hold_reasons == ("the total moved 33.3% from 3,000 to 4,000.00 (tolerance 10%)",)


def test_templates_fill_the_memo_private_note_and_document_number_and_the_note_ends_with_the_key():
    rule = Rule(id="monthly", when=When(EventKind.PERIOD_CLOSED),
                what=What(doc_number="NW-{{ invoice.date.strftime('%Y%m') }}"))
    agr = agreement(FixedFee(id="fee", amount=D("4000.00"), description="{{ default }} / PO {{ agreement.po_number }}"),
                    rules=(rule,), po_number="PO-2291", memo="Thank you, {{ agreement.customer_name }}!",
                    private_note="{{ period.label }}: {{ invoice.total|money }} {{ invoice.currency }}")
    draft = draft_for_event(boundary(agr, DEC1), agr, rule, today=DEC1)
    assert draft.memo == "Thank you, Northwind IT!" and draft.doc_number == "NW-202612"
    assert draft.private_note == f"2026-12-01 to 2026-12-31: 4,000.00 USD\nautobill:{draft.key}"
    assert draft.lines[0].description == "Fee, 2026-12-01 to 2026-12-31 / PO PO-2291"


def test_a_document_number_longer_than_quickbooks_allows_is_refused_when_drafting():
    rule = Rule(id="monthly", when=When(EventKind.PERIOD_CLOSED), what=What(doc_number="{{ agreement.customer_name * 3 }}"))
    agr = agreement(FixedFee(id="fee", amount=D(1)), rules=(rule,))
    with pytest.raises(InvalidTemplate, match="doc_number: renders 36 characters; QuickBooks allows 21"):
        draft_for_event(boundary(agr, DEC1), agr, rule, today=DEC1)


def test_expected_tax_is_carried_only_when_every_taxable_code_has_a_rate():
    known = TaxTreatment(default_code="TAX", rates={"TAX": D("8.875")})
    agr = agreement(FixedFee(id="fee", amount=D("4000.00")), FixedFee(id="kit", amount=D(100), tax_code="NON"), tax=known)
    draft = draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, today=DEC1)
    assert [(t.tax_code, t.taxable_amount, t.tax) for t in draft.expected_tax] == [
        ("NON", D("100.00"), D("0.00")), ("TAX", D("4000.00"), D("355.00"))]
    unknown = agreement(FixedFee(id="fee", amount=D(1), tax_code="GST"), tax=known)
    assert draft_for_event(boundary(unknown, DEC1), unknown, PERIOD_RULE, today=DEC1).expected_tax is None


def test_an_exempt_client_gets_the_non_taxable_code_on_every_line():
    agr = agreement(FixedFee(id="fee", amount=D(1), tax_code="TAX"), tax=TaxTreatment(exempt=True))
    assert draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, today=DEC1).lines[0].tax_code == "NON"


def test_a_draft_carries_dates_terms_bill_to_and_how_to_send():
    rule = Rule(id="monthly", when=When(EventKind.PERIOD_CLOSED), how=How(SendMode.HOLD_FOR_REVIEW, hold_before_create=True))
    agr = agreement(FixedFee(id="fee", amount=D("4000.00")), rules=(rule,), bill_to=("ap@northwind.example",))
    draft = draft_for_event(boundary(agr, DEC1), agr, rule, today=date(2026, 12, 2))
    assert (draft.invoice_date, draft.due_date, draft.terms) == (date(2026, 12, 2), date(2027, 1, 1), "Net 30")
    assert (draft.service_start, draft.service_end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert draft.bill_to == ("ap@northwind.example",) and draft.hold_before_create and draft.needs_review
    assert draft.trigger.startswith("period_closed autobill:agr-northwind@2026-12-01")
    assert len(draft.requestid) == 36


def test_nothing_due_makes_no_draft():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D(145)))
    assert draft_for_event(boundary(agr, DEC1), agr, PERIOD_RULE, today=DEC1) is None


def test_a_rule_bills_only_the_components_it_names():
    rule = Rule(id="fees-only", when=When(EventKind.PERIOD_CLOSED), what=What(components=("fee",)))
    agr = agreement(FixedFee(id="fee", amount=D(10)), TimeAndMaterials(id="tm", default_rate=D(145)), rules=(rule,))
    draft = draft_for_event(boundary(agr, DEC1), agr, rule, usage=[time("te-1", date(2026, 11, 3), "1")], today=DEC1)
    assert [ln.component_id for ln in draft.lines] == ["fee"] and draft.consumption.usage == ()
