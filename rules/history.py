"""History: what was billed before, as plain data the caller loads from its database.

The engine never reads a database; the caller folds the consumption of earlier drafts of an
agreement into a ``History`` (``History.after(draft)`` does exactly that) and passes it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from rules.draft import FeePeriod, InvoiceDraft, RolloverGrant, UsageConsumed

ZERO = Decimal(0)


@dataclass(frozen=True)
class DepositBalance:
    """A deposit billed earlier: its invoice (key, and QuickBooks number once known), amount and use."""

    component_id: str
    key: str
    amount: Decimal
    applied: Decimal = ZERO
    invoice_ref: str | None = None  # the deposit invoice's DocNumber, to name it on "less deposit" lines

    @property
    def remaining(self) -> Decimal:
        """What is left to take off later invoices."""
        return self.amount - self.applied


@dataclass(frozen=True)
class History:
    """What the engine needs to know about an agreement's earlier invoices."""

    billed_usage: tuple[UsageConsumed, ...] = ()  # the latest billed version of each record
    blocks: Mapping[str, Decimal] = field(default_factory=dict)  # component id -> hours left
    rollover: tuple[RolloverGrant, ...] = ()  # grants with the hours still left in them
    deposits: tuple[DepositBalance, ...] = ()
    carried: Mapping[str, Decimal] = field(default_factory=dict)  # component id -> amount waiting
    credits_carried: Mapping[str, Decimal] = field(default_factory=dict)  # SLA credit not yet used
    fee_periods: tuple[FeePeriod, ...] = ()
    cap_used: Mapping[tuple[str, date], Decimal] = field(default_factory=dict)  # (component, period) -> billed
    thresholds: Mapping[tuple[str, date], int] = field(default_factory=dict)  # (rule, period) -> crossings
    previous_totals: Mapping[str, Decimal] = field(default_factory=dict)  # rule id -> last draft's total
    # (source, source id) -> business key of the invoice that last billed the usage record
    billed_on: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # business key -> the invoice's QuickBooks number (DocNumber), once known: the caller fills it
    invoice_numbers: Mapping[str, str] = field(default_factory=dict)

    def billed(self, source: str, source_id: str) -> UsageConsumed | None:
        """The last billed version of a usage record, if any."""
        index = self.__dict__.get("_billed_index")
        if index is None:
            index = {(u.source, u.source_id): u for u in self.billed_usage}
            object.__setattr__(self, "_billed_index", index)
        return index.get((source, source_id))

    def invoice_name(self, key: str) -> str:
        """How a line names an earlier invoice: ``invoice 1042``, else by its autobill key (the
        private note's marker, which finds it in QuickBooks)."""
        number = self.invoice_numbers.get(key)
        return f"invoice {number}" if number else f"invoice autobill:{key}"

    def fee_billed(self, component_id: str, start: date) -> bool:
        """True when the fee period of ``component_id`` starting ``start`` was billed."""
        index = self.__dict__.get("_fee_index")
        if index is None:
            index = {(p.component_id, p.start) for p in self.fee_periods}
            object.__setattr__(self, "_fee_index", index)
        return (component_id, start) in index

    def after(self, draft: InvoiceDraft) -> History:
        """This history once ``draft`` is posted (what a caller's records would then say)."""
        c = draft.consumption
        billed = {(u.source, u.source_id): u for u in self.billed_usage}
        billed_on = dict(self.billed_on)
        for u in c.usage:
            billed[(u.source, u.source_id)] = u
            billed_on[(u.source, u.source_id)] = str(draft.key)
        blocks = dict(self.blocks)
        for b in c.blocks:
            blocks[b.component_id] = b.balance_after
        grants = {(g.component_id, g.granted_for): g for g in self.rollover}
        for d in c.rollover_draws:
            g = grants[(d.component_id, d.granted_for)]
            grants[(d.component_id, d.granted_for)] = replace(g, hours=g.hours - d.hours)
        for g in c.rollover_grants:
            grants[(g.component_id, g.granted_for)] = g
        deposits = {d.key: d for d in self.deposits}
        for dep in c.deposits_billed:
            deposits[str(draft.key)] = DepositBalance(dep.component_id, str(draft.key), dep.amount)
        for a in c.deposits_applied:
            d = deposits[a.deposit_key]
            deposits[a.deposit_key] = replace(d, applied=d.applied + a.amount)
        carried = dict(self.carried)
        for item in c.carried:
            carried[item.component_id] = carried.get(item.component_id, ZERO) + item.amount
        credits = dict(self.credits_carried)
        for cr in c.credits:
            credits[cr.component_id] = cr.carried
        cap_used = dict(self.cap_used)
        for use in c.cap_uses:
            cap_used[(use.component_id, use.period_start)] = use.amount
        thresholds = dict(self.thresholds)
        thing = draft.key.billed_thing
        if thing.startswith("threshold:"):
            slot = (draft.rule_id, date.fromisoformat(thing[len("threshold:"):].split("#")[0]))
            thresholds[slot] = thresholds.get(slot, 0) + 1
        # After a scheduled run at boundary b only periods starting on or after b are settled, so a
        # grant that expires by b can never be drawn again: it is dropped, not carried forever.
        usable_from = date.fromisoformat(thing[len("period:"):]) if thing.startswith("period:") else None
        return History(
            billed_usage=tuple(billed.values()),
            blocks=blocks,
            rollover=tuple(g for g in grants.values() if g.hours > 0
                           and (usable_from is None or g.expires is None or g.expires > usable_from)),
            deposits=tuple(deposits.values()),
            carried={k: v for k, v in carried.items() if v},
            credits_carried={k: v for k, v in credits.items() if v},
            fee_periods=self.fee_periods + c.fee_periods,
            cap_used=cap_used,
            thresholds=thresholds,
            previous_totals={**self.previous_totals, draft.rule_id: draft.total},
            billed_on=billed_on,
            invoice_numbers=self.invoice_numbers,
        )

    def with_usage_billed(self, records: tuple[UsageConsumed, ...]) -> History:
        """This history with ``records`` marked billed (tests and previews use it)."""
        return replace(self, billed_usage=self.billed_usage + records)

