"""Pass-throughs (hardware, licences, expenses): cost plus a markup, or list price; taxable per item."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from rules.components.base import Component, UsageFilter, positive
from rules.draft import LineKind, UsageConsumed
from rules.errors import CurrencyMismatch
from rules.money import HUNDRED, ZERO, money, plain, quantize
from rules.window import BOUNDARY, THRESHOLD

if TYPE_CHECKING:
    from rules.engine.context import Context


@dataclass(frozen=True, kw_only=True)
class PassThrough(Component):
    """Expenses at cost plus ``markup_percent``, or at their list price when no markup is set."""

    TYPE = "pass_through"
    USAGE_KINDS = ("expense",)

    markup_percent: Decimal | None = None
    taxable: bool | None = None  # None: the item's default, then the expense's own flag
    usage: UsageFilter = UsageFilter()

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("markup_percent", self.markup_percent, zero_ok=True)


def bill(component: PassThrough, ctx: Context) -> None:
    """One line per expense not billed yet (cost plus markup, or list price); edits bill the difference."""
    window = ctx.window
    if window.trigger is THRESHOLD or (window.trigger is BOUNDARY and window.closed is None):
        return
    for record in ctx.usage_for(component):
        prior = ctx.history.billed(record.source, record.source_id)
        if prior is not None and prior.version >= record.version:
            continue
        if record.currency and record.currency != ctx.currency:
            raise CurrencyMismatch(f"expense {record.source}:{record.source_id} is in {record.currency}; "
                                   f"the agreement bills in {ctx.currency}")
        quantity = record.quantity if record.quantity is not None else Decimal(1)
        price, unit, how = _price(component, record, quantity, ctx)
        counts = record.billable and not record.deleted
        if not counts:
            price = ZERO
        if prior is None and price == 0:
            continue
        rounded = quantize(price, ctx.currency, ctx.policy)
        source = f"{record.source}:{record.source_id}@v{record.version}"
        ctx.usage_consumed.append(UsageConsumed(record.source, record.source_id, record.version, component.id,
                                                quantity=quantity, amount=rounded, deleted=record.deleted))
        override = component.tax_code or (None if component.taxable is None else
                                          ctx.agreement.tax.code_for(override=None, item_code=None,
                                                                     taxable=component.taxable))
        label = record.description or record.task or component.item or "Expense"
        if prior is None:
            ctx.add_line(component, LineKind.PASS_THROUGH, quantity=quantity, rate=unit, unrounded=price,
                         default=f"{label} ({record.date.isoformat()})", inputs=how, sources=[source],
                         arithmetic=f"{plain(quantity)} × {money(unit)}", taxable=record.taxable,
                         tax_code=override, service_date=record.date,
                         detail={"date": record.date, "name": label, "task": record.task, "person": record.person})
        else:
            delta = rounded - (prior.amount or ZERO)
            if delta:
                # Unrounded (price now less what was billed), so the explanation shows the rounding step.
                ctx.add_line(component, LineKind.PASS_THROUGH, quantity=Decimal(1), rate=None,
                             unrounded=price - (prior.amount or ZERO),
                             default=f"{label} ({record.date.isoformat()}): correction", inputs=how, sources=[source],
                             arithmetic=f"{money(rounded)} now - {money(prior.amount or ZERO)} billed before",
                             taxable=record.taxable, tax_code=override, service_date=record.date,
                             detail={"date": record.date, "name": label})


def _price(component: PassThrough, record, quantity: Decimal, ctx: Context) -> tuple[Decimal, Decimal, list]:
    if component.markup_percent is not None:
        if record.amount is None:
            ctx.warn("missing_rate", f"expense {record.source}:{record.source_id} has no cost to mark up")
            return ZERO, ZERO, [("cost", "missing")]
        price = record.amount * (HUNDRED + component.markup_percent) / HUNDRED
        return price, price / quantity, [("cost", money(record.amount)),
                                         ("markup", f"{plain(component.markup_percent)}%"),
                                         ("price", f"{money(record.amount)} × (1 + {plain(component.markup_percent)}%)")]
    if record.rate is not None:
        return record.rate * quantity, record.rate, [("list price", f"{money(record.rate)} each"),
                                                     ("quantity", plain(quantity))]
    if record.amount is not None:
        return record.amount, record.amount / quantity, [("list price", money(record.amount))]
    ctx.warn("missing_rate", f"expense {record.source}:{record.source_id} has no price")
    return ZERO, ZERO, [("price", "missing")]
