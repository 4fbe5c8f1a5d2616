"""``LedgerGateway``: the port through which autobill reads and writes a company's QuickBooks books.

One gateway serves one company. Adapters: ``addon.quickbooks.QuickBooksLedgerGateway`` (the real
thing, the only code that imports python-quickbooks or intuitlib) and
``addon.ledger.fake.FakeLedgerGateway`` (in memory, for unit tests); both pass the same contract
tests. Every method raises only ``addon.ledger.faults`` and returns ``addon.ledger.types``.

Writes that create take a ``request_id`` (at most 50 characters; QuickBooks replays the first
response for a repeated id), derived by the caller from its business key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime

from addon.ledger.faults import LedgerFault
from addon.ledger.types import (
    ChangeSet,
    CompanyInfoRecord,
    CustomerRecord,
    CustomerSpec,
    InvoiceRecord,
    InvoiceSpec,
    InvoiceUpdate,
    ItemRecord,
    ItemSpec,
    PaymentRecord,
    PaymentSpec,
)

MAX_REQUEST_ID = 50
MAX_BATCH = 30  # QuickBooks refuses more items in one batch call
QUERYABLE = ("Invoice", "Customer", "Item", "Payment")


class LedgerGateway(ABC):
    """Typed operations on one company's QuickBooks books."""

    company_id: str

    @property
    @abstractmethod
    def intuit_tid(self) -> str | None:
        """Intuit's transaction id of the last response (for the audit record), if any."""

    @abstractmethod
    def company_info(self) -> CompanyInfoRecord:
        """The company's name and details."""

    @abstractmethod
    def find_customer(self, display_name: str) -> CustomerRecord | None:
        """The active customer with exactly this display name, if any."""

    @abstractmethod
    def create_customer(self, spec: CustomerSpec, *, request_id: str | None = None) -> CustomerRecord:
        """Create a customer."""

    @abstractmethod
    def read_customer(self, customer_id: str) -> CustomerRecord:
        """One customer by id."""

    @abstractmethod
    def find_item(self, name: str) -> ItemRecord | None:
        """The active product or service with exactly this name, if any."""

    @abstractmethod
    def create_item(self, spec: ItemSpec, *, request_id: str | None = None) -> ItemRecord:
        """Create a product or service."""

    @abstractmethod
    def create_invoice(self, spec: InvoiceSpec, *, request_id: str) -> InvoiceRecord:
        """Create an invoice; the same ``request_id`` again returns the same invoice."""

    @abstractmethod
    def read_invoice(self, invoice_id: str) -> InvoiceRecord:
        """One invoice by id."""

    @abstractmethod
    def update_invoice(self, invoice_id: str, sync_token: str, changes: InvoiceUpdate) -> InvoiceRecord:
        """Sparse update: change only the given fields (``StaleObject`` if ``sync_token`` is old)."""

    @abstractmethod
    def void_invoice(self, invoice_id: str, sync_token: str) -> InvoiceRecord:
        """Void an invoice (amounts become zero; QuickBooks keeps it)."""

    @abstractmethod
    def send_invoice(self, invoice_id: str, *, to: str | None = None) -> InvoiceRecord:
        """Email the invoice (to ``to``, which replaces its billing email, or to its billing email)."""

    @abstractmethod
    def query(self, entity: str, where: Mapping[str, object] | None = None, *, start: int = 1,
              max_results: int = 100) -> list:
        """Objects of ``entity`` (Invoice, Customer, Item, Payment) whose fields equal ``where``.

        A value may be ``(operator, value)`` with operator one of ``= < > <= >= in like``. Only fields
        QuickBooks lists as filterable may be used (not PrivateNote).
        """

    @abstractmethod
    def batch_create_invoices(self, specs: Sequence[InvoiceSpec], *, request_id: str | None = None
                              ) -> list[InvoiceRecord | LedgerFault]:
        """Create up to 30 invoices in one call; results (record or fault) in the order given."""

    @abstractmethod
    def changes_since(self, entities: Sequence[str], since: datetime) -> ChangeSet:
        """Change data capture: objects of ``entities`` changed after ``since`` (at most 30 days back)."""

    @abstractmethod
    def record_payment(self, spec: PaymentSpec, *, request_id: str) -> PaymentRecord:
        """Record a customer payment, applied to the given invoices."""

    @abstractmethod
    def read_payment(self, payment_id: str) -> PaymentRecord:
        """One payment by id."""


def check_request_id(request_id: str | None) -> None:
    """Refuse a request id QuickBooks would refuse (more than 50 characters)."""
    if request_id is not None and not 0 < len(request_id) <= MAX_REQUEST_ID:
        raise ValueError(f"request_id must be 1 to {MAX_REQUEST_ID} characters, got {len(request_id)}")
