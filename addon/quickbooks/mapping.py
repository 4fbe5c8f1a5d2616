"""QuickBooks JSON to autobill's typed values, and back. Amounts travel as decimal strings.

Shapes: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from addon.ledger.faults import LedgerFault, fault_for_code
from addon.ledger.types import (
    CompanyInfoRecord,
    CustomerRecord,
    CustomerSpec,
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


def dec(value) -> Decimal | None:
    """A Decimal from a JSON number or numeric string (None stays None)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def day(value) -> date | None:
    """A date from ``YYYY-MM-DD``."""
    return date.fromisoformat(value[:10]) if value else None


def instant(value) -> datetime | None:
    """A UTC instant from QuickBooks' local-time-with-offset strings."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ref(obj: dict | None) -> str | None:
    return (obj or {}).get("value")


def _drop_none(body: dict) -> dict:
    return {k: v for k, v in body.items() if v is not None}


def company_info(d: dict) -> CompanyInfoRecord:
    """CompanyInfo JSON to a record."""
    return CompanyInfoRecord(name=d.get("CompanyName") or "", legal_name=d.get("LegalName"),
                             country=d.get("Country"), email=(d.get("Email") or {}).get("Address"))


def customer(d: dict) -> CustomerRecord:
    """Customer JSON to a record."""
    return CustomerRecord(id=str(d["Id"]), sync_token=str(d.get("SyncToken", "0")), display_name=d["DisplayName"],
                          email=(d.get("PrimaryEmailAddr") or {}).get("Address"), company_name=d.get("CompanyName"),
                          active=d.get("Active", True), balance=dec(d.get("Balance")))


def customer_body(spec: CustomerSpec) -> dict:
    """A customer to create, as QuickBooks takes it."""
    return _drop_none({
        "DisplayName": spec.display_name, "CompanyName": spec.company_name, "Notes": spec.notes,
        "PrimaryEmailAddr": {"Address": spec.email} if spec.email else None,
        "PrimaryPhone": {"FreeFormNumber": spec.phone} if spec.phone else None,
    })


def item(d: dict) -> ItemRecord:
    """Item JSON to a record."""
    return ItemRecord(id=str(d["Id"]), sync_token=str(d.get("SyncToken", "0")), name=d["Name"],
                      kind=d.get("Type", "Service"), unit_price=dec(d.get("UnitPrice")),
                      description=d.get("Description"), sku=d.get("Sku"), active=d.get("Active", True))


def item_body(spec: ItemSpec, income_account_id: str) -> dict:
    """An item to create, as QuickBooks takes it."""
    return _drop_none({
        "Name": spec.name, "Type": spec.kind, "UnitPrice": spec.unit_price, "Description": spec.description,
        "Sku": spec.sku, "Taxable": spec.taxable, "IncomeAccountRef": {"value": income_account_id},
    })


def _line_body(line: InvoiceLineSpec) -> dict:
    detail = _drop_none({
        "ItemRef": {"value": line.item_id} if line.item_id else None, "Qty": line.quantity,
        "UnitPrice": line.unit_price, "ServiceDate": line.service_date.isoformat() if line.service_date else None,
        "TaxCodeRef": None if line.taxable is None else {"value": "TAX" if line.taxable else "NON"},
    })
    return _drop_none({"DetailType": "SalesItemLineDetail", "Amount": line.amount, "Description": line.description,
                       "SalesItemLineDetail": detail})


def invoice_body(spec: InvoiceSpec) -> dict:
    """An invoice to create, as QuickBooks takes it."""
    return _drop_none({
        "CustomerRef": {"value": spec.customer_id}, "Line": [_line_body(line) for line in spec.lines],
        "TxnDate": spec.txn_date.isoformat() if spec.txn_date else None,
        "DueDate": spec.due_date.isoformat() if spec.due_date else None,
        "DocNumber": spec.doc_number, "PrivateNote": spec.private_note,
        "CustomerMemo": {"value": spec.customer_memo} if spec.customer_memo else None,
        "BillEmail": {"Address": spec.bill_email} if spec.bill_email else None,
        "CurrencyRef": {"value": spec.currency} if spec.currency else None,
    })


def invoice_update_body(invoice_id: str, sync_token: str, changes: InvoiceUpdate) -> dict:
    """A sparse update: Id, SyncToken, ``sparse: true`` and only the changed fields."""
    body = {"Id": invoice_id, "SyncToken": sync_token, "sparse": True}
    body.update(_drop_none({
        "DueDate": changes.due_date.isoformat() if changes.due_date else None,
        "DocNumber": changes.doc_number, "PrivateNote": changes.private_note,
        "CustomerMemo": {"value": changes.customer_memo} if changes.customer_memo is not None else None,
        "BillEmail": {"Address": changes.bill_email} if changes.bill_email is not None else None,
        "Line": [_line_body(line) for line in changes.lines] if changes.lines is not None else None,
    }))
    return body


def invoice(d: dict) -> InvoiceRecord:
    """Invoice JSON to a record (item lines only; QuickBooks' subtotal line is left out)."""
    lines = []
    for line in d.get("Line") or []:
        if line.get("DetailType") != "SalesItemLineDetail":
            continue
        detail = line.get("SalesItemLineDetail") or {}
        lines.append(InvoiceLine(amount=dec(line.get("Amount")) or Decimal("0"), description=line.get("Description"),
                                 item_id=_ref(detail.get("ItemRef")), quantity=dec(detail.get("Qty")),
                                 unit_price=dec(detail.get("UnitPrice")), service_date=day(detail.get("ServiceDate")),
                                 line_id=line.get("Id")))
    return InvoiceRecord(
        id=str(d["Id"]), sync_token=str(d.get("SyncToken", "0")), customer_id=_ref(d.get("CustomerRef")),
        total=dec(d.get("TotalAmt")) or Decimal("0"), balance=dec(d.get("Balance")) or Decimal("0"),
        lines=tuple(lines), doc_number=d.get("DocNumber"), txn_date=day(d.get("TxnDate")),
        due_date=day(d.get("DueDate")), currency=_ref(d.get("CurrencyRef")), email_status=d.get("EmailStatus"),
        bill_email=(d.get("BillEmail") or {}).get("Address"), private_note=d.get("PrivateNote"),
        customer_memo=(d.get("CustomerMemo") or {}).get("value"),
        delivered_at=instant((d.get("DeliveryInfo") or {}).get("DeliveryTime")),
        delivery_error=(d.get("DeliveryInfo") or {}).get("DeliveryErrorType"),
        payment_ids=tuple(str(t["TxnId"]) for t in d.get("LinkedTxn") or [] if t.get("TxnType") == "Payment"),
        updated_at=instant((d.get("MetaData") or {}).get("LastUpdatedTime")))


def payment(d: dict) -> PaymentRecord:
    """Payment JSON to a record."""
    applied = []
    for line in d.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked.get("TxnType") == "Invoice":
                applied.append(PaymentApplication(str(linked["TxnId"]), dec(line.get("Amount"))))
    return PaymentRecord(id=str(d["Id"]), sync_token=str(d.get("SyncToken", "0")), customer_id=_ref(d.get("CustomerRef")),
                         total=dec(d.get("TotalAmt")) or Decimal("0"), unapplied=dec(d.get("UnappliedAmt")) or Decimal("0"),
                         applied_to=tuple(applied), txn_date=day(d.get("TxnDate")), reference=d.get("PaymentRefNum"),
                         private_note=d.get("PrivateNote"))


def payment_body(spec: PaymentSpec) -> dict:
    """A payment to record, as QuickBooks takes it."""
    return _drop_none({
        "CustomerRef": {"value": spec.customer_id}, "TotalAmt": spec.amount,
        "TxnDate": spec.txn_date.isoformat() if spec.txn_date else None,
        "PaymentRefNum": spec.reference, "PrivateNote": spec.private_note,
        "Line": [{"Amount": a.amount, "LinkedTxn": [{"TxnId": a.invoice_id, "TxnType": "Invoice"}]}
                 for a in spec.applied_to],
    })


RECORD_OF = {"Invoice": invoice, "Customer": customer, "Item": item, "Payment": payment}


def fault(fault_json: dict, intuit_tid: str | None = None) -> LedgerFault:
    """The fault for a ``Fault`` object (its first error, as QuickBooks lists the cause first)."""
    errors = fault_json.get("Error") or [{}]
    first = errors[0]
    return fault_for_code(first.get("code"), first.get("Message") or "QuickBooks refused the request",
                          first.get("Detail") or "", intuit_tid=intuit_tid, element=first.get("element"))
