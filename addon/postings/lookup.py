"""Finding an invoice autobill may already have created, before creating it (again).

When a create's outcome is unknown (timeout, reset, 5xx after QuickBooks may have committed, a
worker killed after the request), ``requestid`` alone is not trusted: the next attempt looks for the
invoice by fields QuickBooks can filter on (customer and transaction date, which autobill always
sets from the draft) and matches the marker ``autobill:<key>`` that ends every draft's private note
(PrivateNote itself is not filterable). Queryable fields:
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#query-an-invoice
"""

from __future__ import annotations

from addon.ledger.port import LedgerGateway
from addon.ledger.types import InvoiceRecord
from rules import InvoiceDraft

PAGE = 1000  # QuickBooks' largest MAXRESULTS


def marker(key: str) -> str:
    """The line autobill's drafts end their private note with."""
    return f"autobill:{key}"


def carries_marker(invoice: InvoiceRecord, key: str) -> bool:
    """True when ``invoice``'s private note ends with the marker of ``key`` (its last line)."""
    note = (invoice.private_note or "").rstrip()
    return note.splitlines()[-1].strip() == marker(key) if note else False


def find_posted(ledger: LedgerGateway, draft: InvoiceDraft) -> InvoiceRecord | None:
    """The invoice of ``draft``'s customer and date whose private note carries its key, if any."""
    key = str(draft.key)
    start = 1
    while True:
        page = ledger.query("Invoice", {"CustomerRef": draft.customer_id, "TxnDate": draft.invoice_date},
                            start=start, max_results=PAGE)
        for invoice in page:
            if carries_marker(invoice, key):
                return invoice
        if len(page) < PAGE:
            return None
        start += PAGE
