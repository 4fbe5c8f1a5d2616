"""Invoices and credit memos: defaults QuickBooks fills in, DocNumber rules, void and send.

DocNumber (Intuit Invoice reference): with the company's custom transaction numbers preference off
(the demo company), QuickBooks numbers a form it was not given a number for as last + 1; with it on,
a form without a number keeps none and a number another form of that type already uses is refused
with 6140 (``?include=allowduplicatedocnum`` lets it through).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from sandbox import faults
from sandbox.clock import qbo_time
from sandbox.names import currency_ref, number_addresses
from sandbox.totals import ZERO, compute_lines
from sandbox.values import boolean, decimal, iso_date, ref_id, resolve, text

EMAIL_STATUSES = ("NotSet", "NeedToSend", "EmailSent")
PRINT_STATUSES = ("NotSet", "NeedToPrint", "PrintComplete")
_ADDRESS = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def today(realm) -> date:
    """The company's current date (its time zone, not UTC)."""
    from sandbox.clock import PACIFIC

    return realm.clock.now().astimezone(PACIFIC).date()


def applied_to(realm, entity: str, ident: str) -> Decimal:
    """How much of a sales form linked payments have used up."""
    total = ZERO
    for link in (realm.get(entity, ident) or {}).get("LinkedTxn", []):
        if link.get("TxnType") != "Payment":
            continue
        payment = realm.get("Payment", link["TxnId"]) or {}
        for line in payment.get("Line", []):
            for target in line.get("LinkedTxn", []):
                if target.get("TxnId") == ident and target.get("TxnType") == entity:
                    total += line.get("Amount", ZERO)
    return total


def prepare_sale(realm, entity: str, obj: dict, existing: dict | None, allow_duplicate: bool = False) -> dict:
    """An Invoice or CreditMemo with lines, totals, dates, addresses and numbers filled in."""
    if existing is not None and (entity, existing["Id"]) in realm.voided:
        raise faults.business("This transaction has been voided and can no longer be changed")
    if not ref_id(obj.get("CustomerRef"), "CustomerRef"):
        raise faults.required("CustomerRef")
    obj["CustomerRef"] = resolve(realm, "Customer", obj["CustomerRef"], "CustomerRef")
    customer = realm.get("Customer", obj["CustomerRef"]["value"])
    lines, subtotal, discount, tax_detail = compute_lines(realm, obj)
    obj["Line"] = lines
    obj["TxnTaxDetail"] = tax_detail
    total = subtotal - discount + tax_detail["TotalTax"]
    if total < 0:
        raise faults.business("Transaction total amount must be 0 or greater", "TotalAmt")
    obj["TotalAmt"] = total
    _doc_number(realm, entity, obj, existing, allow_duplicate)
    obj["TxnDate"] = iso_date(obj.get("TxnDate"), "TxnDate") or today(realm).isoformat()
    _terms_and_due_date(realm, entity, obj, customer)
    _addresses(obj, customer)
    number_addresses(realm, obj)
    obj["CurrencyRef"] = currency_ref(realm, obj.get("CurrencyRef"))
    if obj["CurrencyRef"]["value"] != customer["CurrencyRef"]["value"]:
        raise faults.business("The transaction currency must be the customer's currency", "CurrencyRef")
    rate = decimal(obj.get("ExchangeRate"), "ExchangeRate")
    obj["ExchangeRate"] = rate if rate else Decimal(1)
    for field, allowed in (("EmailStatus", EMAIL_STATUSES), ("PrintStatus", PRINT_STATUSES)):
        value = text(obj.get(field), field) or "NotSet"
        if value not in allowed:
            raise faults.invalid_property(f"{field}: {value!r} is not one of {', '.join(allowed)}")
        obj[field] = value
    if obj["EmailStatus"] == "NeedToSend" and not (obj.get("BillEmail") or {}).get("Address"):
        raise faults.business("BillEmail is required when EmailStatus is NeedToSend", "BillEmail")
    obj["ApplyTaxAfterDiscount"] = boolean(obj.get("ApplyTaxAfterDiscount"), "ApplyTaxAfterDiscount", False)
    obj["GlobalTaxCalculation"] = text(obj.get("GlobalTaxCalculation"), "GlobalTaxCalculation") or "TaxExcluded"
    for field in ("ClassRef", "DepositToAccountRef", "SalesTermRef"):
        if obj.get(field) is None:
            obj.pop(field, None)
    if "ClassRef" in obj:
        obj["ClassRef"] = resolve(realm, "Class", obj["ClassRef"], "ClassRef")
    if "DepositToAccountRef" in obj:
        obj["DepositToAccountRef"] = resolve(realm, "Account", obj["DepositToAccountRef"], "DepositToAccountRef")
    obj["LinkedTxn"] = list(existing.get("LinkedTxn", [])) if existing else []
    used = applied_to(realm, entity, existing["Id"]) if existing else ZERO
    if entity == "Invoice":
        for field in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
            obj[field] = boolean(obj.get(field), field, False)
        deposit = decimal(obj.get("Deposit"), "Deposit") or Decimal(0)
        if deposit < 0 or deposit > total:
            raise faults.business("The deposit must be between zero and the invoice total", "Deposit")
        obj["Deposit"] = deposit
        balance = total - deposit - used
    else:
        balance = total - used
        obj["RemainingCredit"] = balance
    if balance < 0:
        raise faults.business("The new total is less than the payments already applied to this transaction",
                              "TotalAmt")
    obj["Balance"] = balance
    if obj["CurrencyRef"]["value"] != realm.home_currency():
        obj["HomeTotalAmt"] = (total * obj["ExchangeRate"]).quantize(Decimal("0.01"))
        obj["HomeBalance"] = (balance * obj["ExchangeRate"]).quantize(Decimal("0.01"))
    else:
        obj.pop("HomeTotalAmt", None)
        obj.pop("HomeBalance", None)
    if existing is not None:
        for field in ("DeliveryInfo", "InvoiceLink"):
            if field in existing:
                obj[field] = existing[field]
    return obj


def _doc_number(realm, entity: str, obj: dict, existing: dict | None, allow_duplicate: bool) -> None:
    custom = realm.preference("SalesFormsPrefs", "CustomTxnNumbers", default=False)
    given = text(obj.get("DocNumber"), "DocNumber")
    if given is None:
        if existing is not None and existing.get("DocNumber"):
            obj["DocNumber"] = existing["DocNumber"]
        elif existing is None and not custom:
            obj["DocNumber"] = realm.next_doc_number(entity)
        else:
            obj.pop("DocNumber", None)
        return
    obj["DocNumber"] = given
    if custom and not allow_duplicate:
        own = existing["Id"] if existing else None
        for other in realm.objects[entity].values():
            if other.get("DocNumber") == given and other["Id"] != own:
                raise faults.duplicate_doc_number(given, entity, other["Id"])
    realm.saw_doc_number(entity, given)


def _terms_and_due_date(realm, entity: str, obj: dict, customer: dict) -> None:
    term_ref = obj.get("SalesTermRef") or customer.get("SalesTermRef")
    if term_ref is None:
        default = realm.preference("SalesFormsPrefs", "DefaultTerms")
        term_ref = default if isinstance(default, dict) else None
    term = None
    if term_ref:
        obj["SalesTermRef"] = resolve(realm, "Term", term_ref, "SalesTermRef")
        term = realm.get("Term", obj["SalesTermRef"]["value"])
    if entity != "Invoice":
        obj.pop("DueDate", None)
        return
    due = iso_date(obj.get("DueDate"), "DueDate")
    if due is None:
        txn_date = date.fromisoformat(obj["TxnDate"])
        if term and term.get("Type") == "DATE_DRIVEN" and term.get("DayOfMonthDue"):
            day = min(int(term["DayOfMonthDue"]), 28)
            candidate = txn_date.replace(day=day)
            if candidate < txn_date:
                candidate = (candidate.replace(day=1) + timedelta(days=32)).replace(day=day)
            due = candidate.isoformat()
        else:
            due = (txn_date + timedelta(days=int((term or {}).get("DueDays") or 0))).isoformat()
    obj["DueDate"] = due


def _addresses(obj: dict, customer: dict) -> None:
    for field in ("BillEmail", "BillEmailCc", "BillEmailBcc", "BillAddr", "ShipAddr", "CustomerMemo"):
        if field in obj and not isinstance(obj[field], dict):
            raise faults.invalid_property(f"{field}: expected an object")
    if not (obj.get("BillEmail") or {}).get("Address") and (customer.get("PrimaryEmailAddr") or {}).get("Address"):
        obj["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
    for field in ("BillAddr", "ShipAddr"):
        if field not in obj and customer.get(field):
            obj[field] = dict(customer[field])


def void_sale(realm, entity: str, obj: dict) -> dict:
    """Void: amounts and quantities to zero, "Voided" before the private note, the form stays."""
    if (entity, obj["Id"]) in realm.voided:
        raise faults.business("This transaction has already been voided")
    if any(link.get("TxnType") == "Payment" for link in obj.get("LinkedTxn", [])):
        raise faults.business("This transaction has payments linked to it; delete or unlink them before voiding")
    for line in obj["Line"]:
        line["Amount"] = ZERO
        detail = line.get("SalesItemLineDetail")
        if detail is not None:
            detail.pop("UnitPrice", None)
            detail["Qty"] = Decimal(0)
    obj["TotalAmt"] = obj["Balance"] = ZERO
    if entity == "Invoice":
        obj["Deposit"] = ZERO
    else:
        obj["RemainingCredit"] = ZERO
    obj["TxnTaxDetail"] = {"TotalTax": ZERO}
    note = obj.get("PrivateNote")
    obj["PrivateNote"] = f"Voided - {note}" if note else "Voided"
    realm.voided.add((entity, obj["Id"]))
    return obj


def deliverable(address: str) -> bool:
    """False for addresses QuickBooks' mailer could never deliver to (bad syntax, reserved domains)."""
    if not _ADDRESS.match(address):
        return False
    domain = address.rsplit("@", 1)[1].lower()
    return not (domain == "invalid" or domain.endswith(".invalid"))


def send_sale(realm, entity: str, obj: dict, send_to: str | None) -> dict:
    """Mark a form sent by email and record the mail in the outbox (a bad address is a delivery error)."""
    if send_to is not None:
        obj["BillEmail"] = {"Address": send_to}
    address = (obj.get("BillEmail") or {}).get("Address")
    if not address:
        raise faults.business("An email address is required to send this transaction", "BillEmail")
    moment = realm.clock.now()
    ok = all(deliverable(part.strip()) for part in address.split(",") if part.strip())
    obj["EmailStatus"] = "EmailSent"
    obj["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": qbo_time(moment)}
    if not ok:
        obj["DeliveryInfo"]["DeliveryErrorType"] = "Undeliverable"
    company = (realm.get("CompanyInfo", "1") or {}).get("CompanyName", realm.name)
    number = obj.get("DocNumber") or obj["Id"]
    realm.outbox.append({
        "id": str(len(realm.outbox) + 1), "realmId": realm.id, "entity": entity, "txnId": obj["Id"],
        "docNumber": obj.get("DocNumber"), "to": address, "from": "quickbooks@notification.example",
        "subject": f"{entity} {number} from {company}",
        "body": f"Dear {obj['CustomerRef'].get('name', 'customer')},\n\nYour {entity.lower()} {number} for "
                f"{obj['TotalAmt']} {obj['CurrencyRef']['value']} is attached. Balance due: {obj['Balance']}.\n\n{company}",
        "sentAt": moment.isoformat(), "status": "delivered" if ok else "failed",
        "error": None if ok else f"Undeliverable address: {address}", "attachment": f"{entity.lower()}-{number}.pdf",
    })
    realm.count("emails_sent")
    return obj
