"""From a stored draft to the invoice QuickBooks is asked to create, and the check of what it answered.

Items are named in drafts and cached by name per company (``qbo_item_refs``), so with a warm cache an
invoice costs exactly two calls: create and send. QuickBooks computes the totals on create; they are
compared with the draft's before anything is sent (promise 4). Intuit's Invoice reference:
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.ledger.faults import Rejected
from addon.ledger.port import LedgerGateway
from addon.ledger.types import InvoiceLineSpec, InvoiceRecord, InvoiceSpec
from addon.models.postings import ItemRef
from addon.postings.sqlinsert import upsert
from rules import InvoiceDraft
from rules.money import exponent

ZERO = Decimal(0)
CENT = Decimal("0.01")
# QuickBooks' US tax model: a line is taxable (``TAX``) or not (``NON``); the rate comes from the
# transaction's tax code. Other codes are left to QuickBooks' defaults.
_TAXABLE = {"TAX": True, "NON": False}


class UnknownItem(Rejected):
    """A draft names an item QuickBooks does not have (a person must create or map it)."""

    code = "unknown_item"


def cached_items(session: Session, company_id: str, names: set[str]) -> dict[str, str]:
    """The cached QuickBooks ids of ``names`` (name -> id) for one company."""
    if not names:
        return {}
    rows = session.execute(select(ItemRef.name, ItemRef.item_id).where(
        ItemRef.company_id == company_id, ItemRef.name.in_(sorted(names)))).all()
    return dict(rows)


def remember_items(session: Session, company_id: str, found: dict[str, str], now) -> None:
    """Cache item ids found in QuickBooks."""
    for name, item_id in found.items():
        upsert(session, ItemRef, {"company_id": company_id, "name": name, "item_id": item_id, "updated_at": now},
               ("company_id", "name"), ("item_id", "updated_at"))


def resolve_items(ledger: LedgerGateway, names: set[str], known: dict[str, str]) -> dict[str, str]:
    """Ids of the items not in ``known``, looked up in QuickBooks (``UnknownItem`` if one is missing)."""
    found: dict[str, str] = {}
    for name in sorted(names - set(known)):
        record = ledger.find_item(name)
        if record is None:
            raise UnknownItem(f"QuickBooks has no active product or service named {name!r}: create it in "
                              "QuickBooks (or correct the agreement), then retry this posting")
        found[name] = record.id
    return found


def item_names(draft: InvoiceDraft) -> set[str]:
    """The item names a draft's lines use."""
    return {line.item for line in draft.lines if line.item}


def _line(line, item_ids: dict[str, str], currency: str) -> InvoiceLineSpec:
    # QuickBooks checks Amount = Qty x UnitPrice rounded half up to cents (6070); a line rounded by
    # another policy goes as an amount alone, so it is never refused for a rounding difference.
    exact = (line.quantity * line.rate).quantize(exponent(currency) if currency else CENT, rounding=ROUND_HALF_UP)
    with_rate = exact == line.amount
    return InvoiceLineSpec(
        amount=line.amount, description=line.description or None,
        item_id=item_ids.get(line.item) if line.item else None,
        quantity=line.quantity if with_rate else None, unit_price=line.rate if with_rate else None,
        service_date=line.service_date, taxable=_TAXABLE.get((line.tax_code or "").upper()))


def invoice_spec(draft: InvoiceDraft, item_ids: dict[str, str]) -> InvoiceSpec:
    """The invoice to create for ``draft`` (its private note already ends with the autobill marker)."""
    return InvoiceSpec(
        customer_id=draft.customer_id, lines=tuple(_line(line, item_ids, draft.currency) for line in draft.lines),
        txn_date=draft.invoice_date, due_date=draft.due_date, doc_number=draft.doc_number,
        private_note=draft.private_note, customer_memo=draft.memo,
        bill_email=", ".join(draft.bill_to) if draft.bill_to else None, currency=draft.currency)


@dataclass(frozen=True)
class TotalsCheck:
    """QuickBooks' totals beside the draft's; ``ok`` when they agree."""

    expected_subtotal: Decimal
    expected_tax: Decimal | None  # None when the draft does not know every tax rate
    subtotal: Decimal
    tax: Decimal
    total: Decimal

    @property
    def ok(self) -> bool:
        """True when the lines add up to the draft's total and, where known, the tax matches."""
        if self.subtotal != self.expected_subtotal:
            return False
        return self.expected_tax is None or self.tax == self.expected_tax

    @property
    def problem(self) -> str | None:
        """What differs, in a bookkeeper's words."""
        if self.subtotal != self.expected_subtotal:
            return (f"QuickBooks' lines add up to {self.subtotal}, the draft's to {self.expected_subtotal}: "
                    "held instead of sent")
        if self.expected_tax is not None and self.tax != self.expected_tax:
            return (f"QuickBooks computed tax of {self.tax}, the draft expected {self.expected_tax}: "
                    "held instead of sent (check the customer's or the company's tax settings)")
        return None

    def as_details(self) -> dict:
        """For the audit record."""
        return {"expected_subtotal": self.expected_subtotal, "expected_tax": self.expected_tax,
                "qbo_subtotal": self.subtotal, "qbo_tax": self.tax, "qbo_total": self.total, "ok": self.ok}


def check_totals(draft: InvoiceDraft, record: InvoiceRecord) -> TotalsCheck:
    """Compare the create response with the draft (no extra read): lines, then tax."""
    subtotal = sum((line.amount for line in record.lines), ZERO)
    # TotalAmt = subtotal + tax (autobill sends no discount line), so the tax is what is left.
    return TotalsCheck(draft.total, draft.tax_total, subtotal, record.total - subtotal, record.total)


ItemLookup = Callable[[set[str]], dict[str, str]]
