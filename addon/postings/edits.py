"""Edit-then-approve: a person changes a held posting's lines, memo or recipients before it goes out.

The edited draft replaces the stored one (the original is kept), its amounts and expected tax are
recomputed the way the rules engine rounds (once per line, to the currency's minor unit), and when the
invoice already exists in QuickBooks it is updated and QuickBooks' totals are compared again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from addon.clock import utcnow
from addon.errors import InvalidInput
from addon.ledger.types import InvoiceUpdate
from addon.models.postings import PostingState
from addon.postings.invoice import (
    cached_items,
    check_totals,
    invoice_spec,
    item_names,
    remember_items,
    resolve_items,
)
from addon.postings.pipeline import finish, subject
from addon.postings.review import ReviewResult, approve_one, reviewer
from addon.postings.store import get_posting, has_credit, posting_draft
from rules import InvoiceDraft, TaxExpectation, dump_draft
from rules.money import HUNDRED, ZERO, quantize


@dataclass(frozen=True)
class LineEdit:
    """New values for line ``number`` (1-based); None keeps the value."""

    number: int
    quantity: Decimal | None = None
    rate: Decimal | None = None
    description: str | None = None


@dataclass(frozen=True)
class DraftEdit:
    """What a person changes: lines, the customer memo, the email recipients."""

    lines: tuple[LineEdit, ...] = ()
    memo: str | None = None
    bill_to: tuple[str, ...] | None = None


def _tax(draft: InvoiceDraft, lines) -> tuple[TaxExpectation, ...] | None:
    if draft.expected_tax is None:
        return None
    rates = {t.tax_code: t.rate_percent for t in draft.expected_tax}
    by_code: dict[str, Decimal] = {}
    for line in lines:
        by_code[line.tax_code] = by_code.get(line.tax_code, ZERO) + line.amount
    if set(by_code) - set(rates):
        return None
    return tuple(TaxExpectation(code, amount, rates[code], quantize(amount * rates[code] / HUNDRED, draft.currency))
                 for code, amount in sorted(by_code.items()))


def edited_draft(draft: InvoiceDraft, edit: DraftEdit, by: str) -> InvoiceDraft:
    """``draft`` with ``edit`` applied and every derived number recomputed."""
    lines = list(draft.lines)
    for change in edit.lines:
        if not 1 <= change.number <= len(lines):
            raise InvalidInput(f"the draft has lines 1 to {len(lines)}, not {change.number}")
        line = lines[change.number - 1]
        quantity = line.quantity if change.quantity is None else change.quantity
        rate = line.rate if change.rate is None else change.rate
        amount = line.amount if (quantity, rate) == (line.quantity, line.rate) else quantize(
            quantity * rate, draft.currency)
        note = (f"Edited by {by}: quantity {line.quantity} -> {quantity}, rate {line.rate} -> {rate}, "
                f"amount {line.amount} -> {amount}.")
        lines[change.number - 1] = replace(
            line, quantity=quantity, rate=rate, amount=amount,
            description=line.description if change.description is None else change.description,
            explanation=replace(line.explanation, notes=(*line.explanation.notes, note)))
    return replace(draft, lines=tuple(lines), total=sum((ln.amount for ln in lines), ZERO),
                   memo=draft.memo if edit.memo is None else edit.memo,
                   bill_to=draft.bill_to if edit.bill_to is None else tuple(edit.bill_to),
                   expected_tax=_tax(draft, lines))


def edit(container, company_id: str, posting_id: int, who: str, change: DraftEdit, *, approve: bool = True,
         ledger=None) -> ReviewResult:
    """Apply ``change`` to a held posting (updating its QuickBooks invoice if one exists), then approve it."""
    person = reviewer(container, company_id, who)
    with container.unit_of_work() as session:
        p = get_posting(session, company_id, posting_id)
        if p.state != PostingState.HELD:
            raise InvalidInput(f"posting {p.id} is {p.state}: only held postings can be edited")
        before, invoice_id, stored = posting_draft(p), p.qbo_invoice_id, p.draft
        items = cached_items(session, company_id, item_names(before))
    after = edited_draft(before, change, person.email or person.user_id)
    check = None
    if invoice_id is not None:
        gateway = ledger if ledger is not None else container.ledger(company_id)
        found = resolve_items(gateway, item_names(after) - set(items), items)
        if found:
            with container.unit_of_work() as session:
                remember_items(session, company_id, found, utcnow())
        spec = invoice_spec(after, {**items, **found})
        current = gateway.read_invoice(invoice_id)
        record = gateway.update_invoice(invoice_id, current.sync_token, InvoiceUpdate(
            lines=spec.lines, customer_memo=spec.customer_memo, bill_email=spec.bill_email))
        check = check_totals(after, record)
    now = utcnow()
    with container.unit_of_work() as session:
        p = get_posting(session, company_id, posting_id, lock=True)
        if p.draft != stored or p.state != PostingState.HELD:
            raise InvalidInput(f"posting {p.id} changed while it was being edited: look at it again")
        p.original_draft = p.original_draft or p.draft
        p.draft, p.total, p.has_credit = dump_draft(after), after.total, has_credit(after)
        p.edited_by, p.edited_at, p.updated_at = person.actor, now, now
        container.audit.append(company_id, "posting.edited", actor=person.actor, subject=subject(p), session=session,
                               details={"by": person.actor, "email": person.email, "total_before": before.total,
                                        "total_after": after.total, "lines": [
                                            {"number": c.number, "quantity": c.quantity, "rate": c.rate,
                                             "description": c.description} for c in change.lines],
                                        "memo": change.memo, "bill_to": change.bill_to})
        if check is not None:
            p.qbo_total, p.qbo_tax = check.total, check.tax
            container.audit.append(company_id, "totals.compared", actor=person.actor, subject=subject(p),
                                   session=session, details={**check.as_details(), "invoice_id": invoice_id})
            if not check.ok:
                finish(p, PostingState.NEEDS_ATTENTION, check.problem, now)
                return ReviewResult(p.id, False, p.state, check.problem)
    if not approve:
        return ReviewResult(posting_id, True, PostingState.HELD.value, f"posting {posting_id} edited")
    return approve_one(container, company_id, posting_id, person)
