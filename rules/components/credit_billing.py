"""Billing of SLA credits: earned per breach, capped per period, never taking an invoice below zero."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rules.components.fixed_fee import FixedFee
from rules.components.retainer import Retainer
from rules.components.sla_credits import SlaCredits
from rules.draft import CreditApplied, LineKind, UsageConsumed
from rules.money import HUNDRED, ZERO, money, plain, quantize
from rules.window import Trigger

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


def credit(component: SlaCredits, ctx: Context) -> None:
    """A negative line for the credits breaches earned (plus any carried), up to the invoice's subtotal."""
    window = ctx.window
    if window.trigger not in (Trigger.BOUNDARY, Trigger.END) or (
            window.trigger is Trigger.BOUNDARY and window.closed is None):
        return
    breaches, sources = ZERO, []
    for record in ctx.usage_for(component):
        prior = ctx.history.billed(record.source, record.source_id)
        if prior is not None or record.deleted or not record.billable:
            continue  # a breach is credited once; later edits do not undo a credit
        count = record.quantity if record.quantity is not None else Decimal(1)
        breaches += count
        sources.append(f"{record.source}:{record.source_id}@v{record.version}")
        ctx.usage_consumed.append(UsageConsumed(record.source, record.source_id, record.version, component.id,
                                                quantity=count))
    waiting = ctx.history.credits_carried.get(component.id, ZERO)
    if breaches == 0 and waiting == 0:
        return
    fee = period_fee(component, ctx)
    if component.percent_of_fee is not None:
        per_breach = fee * component.percent_of_fee / HUNDRED
        per_text = f"{plain(component.percent_of_fee)}% of the {money(fee)} period fee"
    else:
        per_breach = component.fixed_amount
        per_text = f"{money(per_breach)} fixed"
    earned = per_breach * breaches
    caps = [c for c in (component.cap_amount,
                        None if component.cap_percent is None else fee * component.cap_percent / HUNDRED) if c is not None]
    capped = min([earned, *caps])
    owed = capped + waiting
    available = max(ctx.subtotal(), ZERO)
    applied = quantize(min(owed, available), ctx.currency, ctx.policy)
    carried = owed - applied
    inputs = [("breaches", plain(breaches)), ("credit per breach", per_text)]
    if caps:
        inputs.append(("cap this period", money(min(caps))))
    if waiting:
        inputs.append(("carried from earlier invoices", money(waiting)))
    inputs.append(("invoice before credit", money(available)))
    notes = [f"{money(carried)} did not fit on this invoice and is carried to the next"] if carried else []
    if applied > 0:
        ctx.add_line(component, LineKind.SLA_CREDIT, quantity=Decimal(1), rate=None, unrounded=-applied,
                     default=f"{component.item or 'SLA credit'}: {plain(breaches)} breach"
                             f"{'' if breaches == 1 else 'es'}" + (f" ({window.period.label})" if window.period else ""),
                     inputs=inputs,
                     arithmetic=f"min({plain(breaches)} × {money(per_breach)} = {money(earned)}"
                                + "".join(f", cap {money(c)}" for c in caps) + f") + {money(waiting)} carried, "
                                f"at most the {money(available)} invoiced",
                     sources=sources, notes=notes, service_date=window.period.start if window.period else None)
    ctx.credits.append(CreditApplied(component.id, applied, carried, tuple(sources)))
