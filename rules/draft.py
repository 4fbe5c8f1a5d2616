"""Drafts: what the engine proposes, every line with the explanation of how it was reached, and
what the invoice consumes (so the caller records both in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rules.keys import BusinessKey
from rules.quick import quick_init
from rules.rule import SendMode


class LineKind(StrEnum):
    """What a line is, for diffs and anomaly flags."""

    FEE = "fee"
    TIME = "time"
    OVERAGE = "overage"
    TIERED = "tiered"
    BLOCK_PURCHASE = "block_purchase"
    BLOCK_DRAW = "block_draw"
    MILESTONE = "milestone"
    DEPOSIT = "deposit"
    LESS_DEPOSIT = "less_deposit"
    UNUSED_DEPOSIT = "unused_deposit"
    SLA_CREDIT = "sla_credit"
    SLA_CREDIT_REVERSED = "sla_credit_reversed"
    PASS_THROUGH = "pass_through"
    EVENT_LINE = "event_line"
    CAP_CARRY_OVER = "cap_carry_over"
    CARRIED_IN = "carried_in"


@quick_init
@dataclass(frozen=True)
class Explanation:
    """How a line was reached: inputs, arithmetic, the one rounding step, sources, rule."""

    component_id: str
    model: str
    inputs: tuple[tuple[str, str], ...]
    arithmetic: str
    unrounded: Decimal
    rounding: str
    source_ids: tuple[str, ...]
    rule_id: str
    rule_version: int
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        """One paragraph a bookkeeper can read."""
        inputs = "; ".join(f"{k}: {v}" for k, v in self.inputs)
        parts = [f"{self.model} ({self.component_id}), rule {self.rule_id} v{self.rule_version}.",
                 f"Inputs: {inputs}." if inputs else "", f"{self.arithmetic}; {self.rounding}."]
        if self.source_ids:
            parts.append("Sources: " + ", ".join(self.source_ids) + ".")
        parts.extend(self.notes)
        return " ".join(p for p in parts if p)


@quick_init
@dataclass(frozen=True)
class DraftLine:
    """One invoice line; ``amount`` is already rounded (once) to the currency's minor unit."""

    kind: LineKind
    component_id: str
    item: str | None
    description: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    tax_code: str
    explanation: Explanation
    service_date: date | None = None
    class_ref: str | None = None


@quick_init
@dataclass(frozen=True)
class DraftWarning:
    """Something a person should look at before the invoice goes out (``missing_rate``, ...)."""

    code: str
    message: str


@quick_init
@dataclass(frozen=True)
class UsageConsumed:
    """A usage record version this invoice bills, and what it billed for it."""

    source: str
    source_id: str
    version: int
    component_id: str
    hours: Decimal | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None
    deleted: bool = False


@quick_init
@dataclass(frozen=True)
class BlockChange:
    """Hours drawn from and bought into a prepaid block, and the balance after."""

    component_id: str
    drawn_hours: Decimal
    purchased_hours: Decimal
    balance_after: Decimal


@quick_init
@dataclass(frozen=True)
class RolloverDraw:
    """Rolled-over hours used, from the grant of the period starting ``granted_for``."""

    component_id: str
    granted_for: date
    hours: Decimal


@quick_init
@dataclass(frozen=True)
class RolloverGrant:
    """Unused included hours of the period starting ``granted_for``, usable in periods that start
    before ``expires`` (None: never expire)."""

    component_id: str
    granted_for: date
    hours: Decimal
    expires: date | None = None


@quick_init
@dataclass(frozen=True)
class CreditApplied:
    """An SLA credit taken off this invoice; ``carried`` is what did not fit and waits for the next."""

    component_id: str
    amount: Decimal
    carried: Decimal
    source_ids: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
class DepositBilled:
    """A deposit this invoice asks for; later milestone invoices take it off."""

    component_id: str
    amount: Decimal


@quick_init
@dataclass(frozen=True)
class DepositApplied:
    """Part of an earlier deposit (by the deposit invoice's business key) taken off this invoice."""

    component_id: str
    deposit_key: str
    amount: Decimal


@quick_init
@dataclass(frozen=True)
class Carried:
    """An amount moved to the next invoice (above a not-to-exceed cap) or brought in from one."""

    component_id: str
    amount: Decimal  # positive: carried forward by this invoice; negative: brought in and billed
    reason: str


@quick_init
@dataclass(frozen=True)
class CapUse:
    """What a not-to-exceed cap's period has billed so far, this invoice included."""

    component_id: str
    period_start: date
    amount: Decimal


@quick_init
@dataclass(frozen=True)
class FeePeriod:
    """A fee period this invoice bills (so a contract end does not bill it again)."""

    component_id: str
    start: date
    end: date  # exclusive


@quick_init
@dataclass(frozen=True)
class Consumption:
    """Everything the invoice uses up or creates, for the caller to record with the posting."""

    usage: tuple[UsageConsumed, ...] = ()
    blocks: tuple[BlockChange, ...] = ()
    rollover_draws: tuple[RolloverDraw, ...] = ()
    rollover_grants: tuple[RolloverGrant, ...] = ()
    credits: tuple[CreditApplied, ...] = ()
    deposits_billed: tuple[DepositBilled, ...] = ()
    deposits_applied: tuple[DepositApplied, ...] = ()
    carried: tuple[Carried, ...] = ()
    fee_periods: tuple[FeePeriod, ...] = ()
    cap_uses: tuple[CapUse, ...] = ()

    def __add__(self, other: Consumption) -> Consumption:
        return Consumption(*(getattr(self, f) + getattr(other, f) for f in _CONSUMPTION_FIELDS))


_CONSUMPTION_FIELDS = ("usage", "blocks", "rollover_draws", "rollover_grants", "credits", "deposits_billed",
                       "deposits_applied", "carried", "fee_periods", "cap_uses")


@quick_init
@dataclass(frozen=True)
class TaxExpectation:
    """Tax the draft expects for one code, when the company's rate is known."""

    tax_code: str
    taxable_amount: Decimal
    rate_percent: Decimal
    tax: Decimal


@quick_init
@dataclass(frozen=True, kw_only=True)
class InvoiceDraft:
    """One rule firing, as the invoice it proposes. ``total`` is the sum of the lines (before tax)."""

    key: BusinessKey
    rule_id: str
    rule_version: int
    company_id: str
    agreement_id: str
    customer_id: str
    customer_name: str
    currency: str
    invoice_date: date
    due_date: date
    terms: str
    lines: tuple[DraftLine, ...]
    total: Decimal
    send_mode: SendMode
    hold_before_create: bool = False
    hold_reasons: tuple[str, ...] = ()
    warnings: tuple[DraftWarning, ...] = ()
    service_start: date | None = None
    service_end: date | None = None  # last day
    memo: str | None = None
    private_note: str | None = None
    doc_number: str | None = None
    bill_to: tuple[str, ...] = ()
    po_number: str | None = None
    class_ref: str | None = None
    trigger: str = ""  # what fired the rule, e.g. "deal_won hubspot:deal-1001"
    expected_tax: tuple[TaxExpectation, ...] | None = None  # None when a rate is unknown
    consumption: Consumption = Consumption()

    @property
    def requestid(self) -> str:
        """QuickBooks' ``requestid`` for this invoice's create call."""
        return self.key.requestid

    @property
    def tax_total(self) -> Decimal | None:
        """The tax expected in all, when every rate is known."""
        if self.expected_tax is None:
            return None
        return sum((t.tax for t in self.expected_tax), Decimal(0))

    @property
    def needs_review(self) -> bool:
        """True when it must wait for a person whatever its send mode says."""
        return bool(self.hold_reasons) or self.send_mode is SendMode.HOLD_FOR_REVIEW
