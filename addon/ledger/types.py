"""What goes into and comes out of the ledger: plain, typed values (never python-quickbooks objects).

Amounts are ``Decimal``; dates are ``date``; instants are timezone-aware UTC. Ids and sync
tokens are QuickBooks' strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class CompanyInfoRecord:
    """The QuickBooks company's own description of itself."""

    name: str
    legal_name: str | None = None
    country: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class CustomerSpec:
    """A customer to create."""

    display_name: str
    email: str | None = None
    company_name: str | None = None
    phone: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class CustomerRecord:
    """A QuickBooks customer."""

    id: str
    sync_token: str
    display_name: str
    email: str | None = None
    company_name: str | None = None
    active: bool = True
    balance: Decimal | None = None


@dataclass(frozen=True)
class ItemSpec:
    """A product or service to create; QuickBooks needs an income account (the first one if unset)."""

    name: str
    kind: str = "Service"
    unit_price: Decimal | None = None
    description: str | None = None
    sku: str | None = None
    income_account_id: str | None = None
    taxable: bool | None = None


@dataclass(frozen=True)
class ItemRecord:
    """A QuickBooks product or service."""

    id: str
    sync_token: str
    name: str
    kind: str
    unit_price: Decimal | None = None
    description: str | None = None
    sku: str | None = None
    active: bool = True


@dataclass(frozen=True)
class InvoiceLineSpec:
    """One line to bill: an amount, with an item, quantity and rate when it has them."""

    amount: Decimal
    description: str | None = None
    item_id: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    service_date: date | None = None
    taxable: bool | None = None


@dataclass(frozen=True)
class InvoiceSpec:
    """An invoice to create."""

    customer_id: str
    lines: tuple[InvoiceLineSpec, ...]
    txn_date: date | None = None
    due_date: date | None = None
    doc_number: str | None = None
    private_note: str | None = None
    customer_memo: str | None = None
    bill_email: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class InvoiceUpdate:
    """A sparse update: only the fields that are not None change (``lines`` replaces every line)."""

    due_date: date | None = None
    doc_number: str | None = None
    private_note: str | None = None
    customer_memo: str | None = None
    bill_email: str | None = None
    lines: tuple[InvoiceLineSpec, ...] | None = None


@dataclass(frozen=True)
class InvoiceLine:
    """A line as QuickBooks stored it."""

    amount: Decimal
    description: str | None = None
    item_id: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    service_date: date | None = None
    line_id: str | None = None


@dataclass(frozen=True)
class InvoiceRecord:
    """A QuickBooks invoice. ``total`` and ``balance`` are QuickBooks' numbers (a balance of 0 is paid)."""

    id: str
    sync_token: str
    customer_id: str
    total: Decimal
    balance: Decimal
    lines: tuple[InvoiceLine, ...] = ()
    doc_number: str | None = None
    txn_date: date | None = None
    due_date: date | None = None
    currency: str | None = None
    email_status: str | None = None
    bill_email: str | None = None
    private_note: str | None = None
    customer_memo: str | None = None
    delivered_at: datetime | None = None
    delivery_error: str | None = None  # DeliveryInfo.DeliveryErrorType of the last send, if it failed
    payment_ids: tuple[str, ...] = ()
    updated_at: datetime | None = None

    @property
    def voided(self) -> bool:
        """QuickBooks keeps a voided invoice with zero amounts and "Voided" in its private note."""
        return self.total == 0 and (self.private_note or "").startswith("Voided")


@dataclass(frozen=True)
class PaymentApplication:
    """Part of a payment applied to one invoice."""

    invoice_id: str
    amount: Decimal


@dataclass(frozen=True)
class PaymentSpec:
    """A payment received from a customer, applied to invoices (the rest stays unapplied credit)."""

    customer_id: str
    amount: Decimal
    applied_to: tuple[PaymentApplication, ...] = ()
    txn_date: date | None = None
    reference: str | None = None
    private_note: str | None = None


@dataclass(frozen=True)
class PaymentRecord:
    """A QuickBooks payment."""

    id: str
    sync_token: str
    customer_id: str
    total: Decimal
    unapplied: Decimal
    applied_to: tuple[PaymentApplication, ...] = ()
    txn_date: date | None = None
    reference: str | None = None
    private_note: str | None = None


@dataclass(frozen=True)
class Deleted:
    """An object CDC reports as deleted."""

    entity: str
    id: str


@dataclass(frozen=True)
class ChangeSet:
    """What changed since an instant (change data capture), by kind."""

    invoices: tuple[InvoiceRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()
    customers: tuple[CustomerRecord, ...] = ()
    items: tuple[ItemRecord, ...] = ()
    deleted: tuple[Deleted, ...] = field(default=())
