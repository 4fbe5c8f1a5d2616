"""Billing of SLA credits: earned per breach, capped per period, never taking an invoice below zero.

A breach withdrawn (deleted, or made not billable) or changed after it was credited is an adjustment
on the next invoice: a positive line takes back what it earned, naming the breach and the invoice it
was credited on (what of it was still carried is simply dropped), and its deletion is consumed."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rules.components.fixed_fee import FixedFee
from rules.components.retainer import Retainer
from rules.components.sla_credits import SlaCredits
from rules.draft import CreditApplied, LineKind, UsageConsumed
from rules.money import HUNDRED, ZERO, money, plain, quantize
from rules.usage import UsageRecord
from rules.window import BOUNDARY, END

if TYPE_CHECKING:
    from rules.engine.context import Context


def period_fee(component: SlaCredits, ctx: Context) -> Decimal:
    """The full-period fee credits are a share of: the named fee components, or every fee and retainer."""
    total = ZERO
    for comp in ctx.agreement.components:
        if component.fee_components and comp.id not in component.fee_components:
            continue
        if isinstance(comp, FixedFee):
            total += comp.amount
        elif isinstance(comp, Retainer):
            total += comp.fee
    return total


def _per_breach(component: SlaCredits, fee: Decimal) -> tuple[Decimal, str]:
    if component.percent_of_fee is not None:
        return (fee * component.percent_of_fee / HUNDRED,
                f"{plain(component.percent_of_fee)}% of the {money(fee)} period fee")
    return component.fixed_amount, f"{money(component.fixed_amount)} fixed"


def credit(component: SlaCredits, ctx: Context) -> None:
    """A negative line for the credits breaches earned (plus any carried), up to the invoice's subtotal;
    before it, a breach withdrawn (or changed) after it was credited takes its credit back."""
    window = ctx.window
    trigger = window.trigger
    if (trigger is not BOUNDARY and trigger is not END) or (trigger is BOUNDARY and window.closed is None):
        return
    history = ctx.history
    fee = period_fee(component, ctx)
    per_breach, per_text = _per_breach(component, fee)
    waiting = history.credits_carried.get(component.id, ZERO)
    fresh: list[tuple[UsageRecord, Decimal]] = []
    changed = False
    for record in ctx.usage_for(component):
        counts = record.billable and not record.deleted
        count = record.quantity if record.quantity is not None else Decimal(1)
        prior = history.billed(record.source, record.source_id)
        if prior is None:
            if counts:
                fresh.append((record, count))
            continue
        if prior.version >= record.version:
            continue
        # Billed before: an edit or deletion is an adjustment on this invoice, never a silent change.
        before = ZERO if prior.deleted else (prior.quantity if prior.quantity is not None else Decimal(1))
        if counts and count == before:
            ctx.usage_consumed.append(UsageConsumed(record.source, record.source_id, record.version, component.id,
                                                    quantity=count, amount=prior.amount))
            continue
        if before > 0:
            waiting = _take_back(ctx, component, record, prior, before, count if counts else ZERO, per_breach,
                                 waiting)
            changed = True
        if counts:
            fresh.append((record, count))
        else:
            ctx.usage_consumed.append(UsageConsumed(record.source, record.source_id, record.version, component.id,
                                                    quantity=ZERO, amount=ZERO, deleted=record.deleted))
    breaches = sum((count for _, count in fresh), ZERO)
    if breaches == 0 and waiting == 0:
        if changed:
            ctx.credits.append(CreditApplied(component.id, ZERO, ZERO))
        return
    earned = per_breach * breaches
    caps = [c for c in (component.cap_amount,
                        None if component.cap_percent is None else fee * component.cap_percent / HUNDRED) if c is not None]
    capped = min([earned, *caps])
    sources = []
    for record, count in fresh:
        sources.append(f"{record.source}:{record.source_id}@v{record.version}")
        # What this breach earned (its share of the capped credit) is kept, so a later withdrawal
        # takes back exactly that.
        share = quantize(capped * count / breaches, ctx.currency, ctx.policy)
        ctx.usage_consumed.append(UsageConsumed(record.source, record.source_id, record.version, component.id,
                                                quantity=count, amount=share))
    owed = capped + waiting
    available = max(ctx.subtotal(), ZERO)
    unrounded = min(owed, available)
    applied = quantize(unrounded, ctx.currency, ctx.policy)
    carried = owed - applied
    inputs = [("breaches", plain(breaches)), ("credit per breach", per_text)]
    if caps:
        inputs.append(("cap this period", money(min(caps))))
    if waiting:
        inputs.append(("carried from earlier invoices", money(waiting)))
    inputs.append(("invoice before credit", money(available)))
    notes = [f"{money(carried)} did not fit on this invoice and is carried to the next"] if carried else []
    if applied > 0:
        ctx.add_line(component, LineKind.SLA_CREDIT, quantity=Decimal(1), rate=None, unrounded=-unrounded,
                     default=f"{component.item or 'SLA credit'}: {plain(breaches)} breach"
                             f"{'' if breaches == 1 else 'es'}" + (f" ({window.period.label})" if window.period else ""),
                     inputs=inputs,
                     arithmetic=f"min({plain(breaches)} × {money(per_breach)} = {money(earned)}"
                                + "".join(f", cap {money(c)}" for c in caps) + f") + {money(waiting)} carried, "
                                f"at most the {money(available)} invoiced",
                     sources=sources, notes=notes, service_date=window.period.start if window.period else None)
    ctx.credits.append(CreditApplied(component.id, applied, carried, tuple(sources)))


def _take_back(ctx: Context, component: SlaCredits, record: UsageRecord, prior: UsageConsumed, before: Decimal,
               now: Decimal, per_breach: Decimal, waiting: Decimal) -> Decimal:
    """A positive line taking back what a breach billed before earned, less what of it was still
    waiting to be credited (that is simply dropped). Returns the credit still waiting."""
    history = ctx.history
    key = history.billed_on.get((record.source, record.source_id))
    invoice = history.invoice_name(key) if key else "an earlier invoice"
    notes = []
    credited = prior.amount
    if credited is None:  # billed before the credit per breach was recorded
        credited = quantize(per_breach * before, ctx.currency, ctx.policy)
        notes.append("the credit this breach earned was not recorded; taken back at today's credit per breach")
    from_waiting = min(waiting, credited)
    back = credited - from_waiting
    what = "withdrawn" if now == 0 else f"changed from {plain(before)} to {plain(now)} breaches"
    inputs = [("breach", f"{record.source}:{record.source_id} v{prior.version} -> v{record.version}, {what}"),
              ("credited", f"{money(credited)} on {invoice}")]
    if from_waiting:
        inputs.append(("not yet applied", f"{money(from_waiting)} of it was still carried and is dropped"))
    if now:
        notes.append(f"its {plain(now)} breaches are credited again below, at this period's credit")
    source = f"{record.source}:{record.source_id}@v{record.version}"
    ctx.add_line(component, LineKind.SLA_CREDIT_REVERSED, quantity=Decimal(1), rate=None, unrounded=back,
                 default=f"{component.item or 'SLA credit'} reversed: breach {record.source}:{record.source_id} "
                         f"{'withdrawn' if now == 0 else 'changed'} (credited on {invoice})",
                 inputs=inputs, arithmetic=f"{money(credited)} credited - {money(from_waiting)} not yet applied",
                 sources=[source] + ([key] if key else []), notes=notes, service_date=record.date)
    return waiting - from_waiting
