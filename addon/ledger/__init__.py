"""The ledger port: typed QuickBooks operations, their values and their faults."""

from addon.ledger.faults import (
    AuthLost,
    DuplicateDocNumber,
    InvalidGrant,
    LedgerFault,
    ObjectNotFound,
    OperationRefused,
    Rejected,
    StaleObject,
    Throttled,
    Transient,
)
from addon.ledger.port import LedgerGateway
from addon.ledger.types import (
    ChangeSet,
    CompanyInfoRecord,
    CustomerRecord,
    CustomerSpec,
    Deleted,
    InvoiceLine,
    InvoiceLineSpec,
    InvoiceRecord,
    InvoiceSpec,
    InvoiceUpdate,
    ItemRecord,
    ItemSpec,
    PaymentApplication,
    PaymentRecord,
    PaymentSpec,
)

__all__ = [
    "AuthLost", "InvalidGrant", "ChangeSet", "CompanyInfoRecord", "CustomerRecord", "CustomerSpec", "Deleted",
    "DuplicateDocNumber", "OperationRefused", "InvoiceLine", "InvoiceLineSpec", "InvoiceRecord", "InvoiceSpec", "InvoiceUpdate",
    "ItemRecord", "ItemSpec", "LedgerFault", "LedgerGateway", "ObjectNotFound", "PaymentApplication",
    "PaymentRecord", "PaymentSpec", "Rejected", "StaleObject", "Throttled", "Transient",
]
