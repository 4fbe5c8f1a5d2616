"""From an event, an agreement and a rule to one ``InvoiceDraft`` (or None when nothing is due)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from rules import templates
from rules.agreement import Agreement
from rules.calendar import ONE_DAY, local_date
from rules.components import (
    EventLines,
    FixedFee,
    HourBlock,
    Milestones,
    PassThrough,
    Retainer,
    SlaCredits,
    TieredHours,
    TimeAndMaterials,
    block_billing,
    credit_billing,
    milestone_billing,
    retainer_billing,
    tier_billing,
    time_billing,
)
from rules.components import event_lines as event_lines_billing
from rules.components import fixed_fee as fixed_fee_billing
from rules.components import pass_through as pass_through_billing
from rules.draft import Consumption, InvoiceDraft, LineKind, TaxExpectation
from rules.engine.conditions import conditions_hold
from rules.engine.context import Context, period_variables, template_variables
from rules.engine.windows import window_for
from rules.errors import InvalidInput, TemplateDataMissing
from rules.events import Event
from rules.history import History
from rules.keys import BusinessKey
from rules.money import HUNDRED, ZERO, money, plain, quantize
from rules.rule import Rule, SendMode
from rules.usage import UsageRecord
from rules.window import OBJECT

BILLERS = {
    FixedFee: fixed_fee_billing.bill,
    TimeAndMaterials: time_billing.bill,
    Milestones: milestone_billing.bill,
    Retainer: retainer_billing.bill,
    HourBlock: block_billing.bill_block,
    TieredHours: tier_billing.bill_tiers,
    PassThrough: pass_through_billing.bill,
    EventLines: event_lines_billing.bill,
}
TENTH = Decimal("0.1")
FEE_LINE, BY_EXCEPTION = LineKind.FEE, SendMode.REVIEW_BY_EXCEPTION  # plain names: see rules.window
# Credits run after every charge, because they may never take the invoice below zero.
CREDITERS = {SlaCredits: credit_billing.credit}


def rule_applies(rule: Rule, event: Event, agreement: Agreement) -> bool:
    """True when ``rule`` answers ``event``: its kind, in effect on the event's local date, conditions met."""
    return (rule.when.kind is event.kind and rule.in_effect(local_date(event.occurred_at, agreement.timezone))
            and conditions_hold(rule.when.conditions, event))


def rules_for_event(event: Event, agreement: Agreement) -> list[Rule]:
    """The agreement's rules (the version in effect of each) that answer ``event``, in file order."""
    found, seen = [], set()
    for rule in agreement.rules:
        if rule.id not in seen and rule_applies(rule, event, agreement):
            found.append(rule)
            seen.add(rule.id)
    return found


def draft_for_event(event: Event, agreement: Agreement, rule: Rule, *, usage: Iterable[UsageRecord] = (),
                    history: History | None = None, today: date) -> InvoiceDraft | None:
    """The draft ``rule`` makes for ``event`` on ``agreement``, or None when it does not apply or
    nothing is due. ``usage`` is the agreement's unbilled usage (latest versions), ``history`` what
    was billed before, ``today`` the invoice date in the agreement's time zone."""
    if event.agreement_id is not None and event.agreement_id != agreement.id:
        raise InvalidInput(f"the event is about agreement {event.agreement_id}, not {agreement.id}")
    if not rule_applies(rule, event, agreement):
        return None
    return make_draft(event, agreement, rule, usage=usage, history=history, today=today)


def make_draft(event: Event, agreement: Agreement, rule: Rule, *, usage: Iterable[UsageRecord] = (),
               history: History | None = None, today: date) -> InvoiceDraft | None:
    """``draft_for_event`` once the caller knows ``rule`` answers ``event`` (``due_drafts`` does)."""
    history = history if history is not None else History()
    ctx = Context(agreement, rule, event, window_for(event, agreement, rule), usage, history, today)
    selected = rule.what.components
    components = [c for c in agreement.components if c.id in selected] if selected else agreement.components
    credits = []
    for comp in components:
        biller = BILLERS.get(type(comp))
        if biller is not None:
            biller(comp, ctx)
        elif type(comp) in CREDITERS:
            credits.append(comp)
    for comp in credits:
        CREDITERS[type(comp)](comp, ctx)
    return assemble(ctx)


def assemble(ctx: Context) -> InvoiceDraft | None:
    """The draft of a finished context: dates, totals, templates, tax, holds."""
    if not ctx.lines and not ctx.consumes_anything():
        return None
    consumption = ctx.consumption()
    agreement, rule, event, window = ctx.agreement, ctx.rule, ctx.event, ctx.window
    key = BusinessKey(agreement.company_id, agreement.id, rule.id, window.billed_thing)
    lines = tuple(ctx.lines)
    total = ctx.subtotal()
    terms = agreement.terms
    due = terms.due_date(ctx.today)
    service_start, service_end = _service_span(ctx, consumption)
    memo = private_note = doc_number = None
    what = rule.what
    sources = {"memo": what.memo or agreement.memo, "private_note": what.private_note or agreement.private_note,
               "doc_number": what.doc_number or agreement.doc_number}
    if sources["memo"] or sources["private_note"] or sources["doc_number"]:
        variables = {**template_variables(agreement, rule, event, window.period, ctx.today),
                     "period": _span_variables(window, service_start, service_end),
                     "invoice": {"date": ctx.today, "due_date": due, "terms": terms.label, "total": total,
                                 "currency": agreement.currency, "key": str(key), "lines": len(lines)}}
        marker_room = templates.LIMITS["private_note"] - len(_marker(key)) - 1
        memo = _render(ctx, "memo", sources["memo"], variables)
        private_note = _render(ctx, "private_note", sources["private_note"], variables, limit=marker_room)
        doc_number = _render(ctx, "doc_number", sources["doc_number"], variables)
    holds = list(ctx.holds)  # after the templates: one may have held the draft
    _review(ctx, total, holds)
    private_note = f"{private_note}\n{_marker(key)}" if private_note else _marker(key)
    trigger = f"{event.kind} {event.source}:{event.source_object_id}"
    if event.source_event_id:
        trigger += f" (event {event.source_event_id})"
    return InvoiceDraft(
        key=key, rule_id=rule.id, rule_version=rule.version, company_id=agreement.company_id,
        agreement_id=agreement.id, customer_id=agreement.customer_id, customer_name=agreement.customer_name,
        currency=agreement.currency, invoice_date=ctx.today, due_date=due, terms=terms.label,
        lines=lines, total=total, send_mode=rule.how.send_mode, hold_before_create=rule.how.hold_before_create,
        hold_reasons=tuple(holds), warnings=tuple(ctx.warnings), service_start=service_start,
        service_end=service_end, memo=memo, private_note=private_note, doc_number=doc_number,
        bill_to=agreement.bill_to, po_number=agreement.po_number, class_ref=agreement.class_ref, trigger=trigger,
        expected_tax=_expected_tax(ctx, lines), consumption=consumption)


def _span_variables(window, start: date | None, end: date | None) -> dict | None:
    # Templates read the invoice's service span (what it bills), not the closing period alone.
    if start is None or end is None:
        return period_variables(window.period)
    match = next((p for p in (window.closed, window.opening) if p is not None and p.start == start), None)
    return {"start": start, "end": end, "label": f"{start.isoformat()} to {end.isoformat()}",
            "index": match.index if match else None, "partial": match.is_partial if match else False}


def _service_span(ctx: Context, consumption: Consumption) -> tuple[date | None, date | None]:
    spans = [(p.start, p.end - ONE_DAY) for p in consumption.fee_periods]
    window = ctx.window
    period = window.closed or (window.period if window.trigger is not OBJECT else None)
    if period is not None:
        fee = FEE_LINE
        for line in ctx.lines:
            if line.kind is not fee:
                spans.append((period.start, period.last_day))
                break
    if not spans:
        return ctx.event.period_start, ctx.event.period_end
    return min(start for start, _ in spans), max(end for _, end in spans)


def _marker(key: BusinessKey) -> str:
    # The private note carries the key so an invoice whose create response was lost can be found
    # in QuickBooks (PrivateNote is not filterable: match it after querying by customer and date).
    return f"autobill:{key}"


_FALLBACK = {"memo": "the invoice goes without a customer memo",
             "private_note": "the private note carries only the autobill marker",
             "doc_number": "QuickBooks will number the invoice"}


def _render(ctx: Context, field: str, source: str | None, variables: dict, *, limit: int | None = None) -> str | None:
    if not source:
        return None
    try:
        return templates.render(field, source, variables, limit=limit) or None
    except TemplateDataMissing as exc:
        ctx.missing_data(f"the {field.replace('_', ' ')} template", exc, _FALLBACK[field])
        return None


def _review(ctx: Context, total: Decimal, holds: list[str]) -> None:
    how = ctx.rule.how
    if total < 0:
        holds.append(f"the total is negative ({money(total)}): issue a credit memo instead")
    if how.send_mode is not BY_EXCEPTION:
        return
    previous = ctx.history.previous_totals.get(ctx.rule.id)
    if previous is None:
        holds.append("no earlier invoice of this rule to compare with")
    elif previous == 0:
        if total != 0:
            holds.append(f"the total went from 0.00 to {money(total)}")
    else:
        change = abs(total - previous) * HUNDRED / abs(previous)
        if change > how.tolerance_percent:
            holds.append(f"the total moved {plain(change.quantize(TENTH))}% from {money(previous)} to "
                         f"{money(total)} (tolerance {plain(how.tolerance_percent)}%)")


def _expected_tax(ctx: Context, lines) -> tuple[TaxExpectation, ...] | None:
    tax = ctx.agreement.tax
    if not tax.rates:
        return None
    by_code: dict[str, Decimal] = {}
    for line in lines:
        by_code[line.tax_code] = by_code.get(line.tax_code, ZERO) + line.amount
    out = []
    for code in sorted(by_code):
        rate = tax.rates.get(code)
        if rate is None:
            if code == tax.non_taxable_code:
                rate = ZERO
            else:
                return None
        amount = by_code[code]
        out.append(TaxExpectation(code, amount, rate, quantize(amount * rate / HUNDRED, ctx.currency, ctx.policy)))
    return tuple(out)
