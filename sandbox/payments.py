"""Payments applied to invoices (and credit memos), and the customer balances they move.

Intuit's Payment reference: ``Line[]`` entries ``{"Amount", "LinkedTxn":[{"TxnId","TxnType"}]}`` apply
money to open forms; what is not applied stays as ``UnappliedAmt``. Applying more than a form's open
balance, or more than the payment, is a business validation error (6000). Each linked form gets
``LinkedTxn`` back to the payment, a lower ``Balance`` and a new SyncToken; voiding or deleting the
payment gives the balance back. The server adds a read-only ``LineEx`` to each line.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox import faults
from sandbox.names import currency_ref
from sandbox.sales import applied_to, today
from sandbox.totals import ZERO
from sandbox.values import boolean, decimal, iso_date, ref_id, resolve, text

TARGET_TYPES = ("Invoice", "CreditMemo")


def _applications(payment: dict | None) -> dict[tuple[str, str], Decimal]:
    found: dict[tuple[str, str], Decimal] = {}
    for line in (payment or {}).get("Line", []):
        for link in line.get("LinkedTxn", []):
            key = (link["TxnType"], link["TxnId"])
            found[key] = found.get(key, ZERO) + line.get("Amount", ZERO)
    return found


def _name_value(name: str, value: str) -> dict:
    return {"name": "{http://schema.intuit.com/finance/v3}NameValue",
            "declaredType": "com.intuit.schema.finance.v3.NameValue",
            "scope": "javax.xml.bind.JAXBElement$GlobalScope", "value": {"Name": name, "Value": value},
            "nil": False, "globalScope": True, "typeSubstituted": False}


def prepare_payment(realm, obj: dict, existing: dict | None) -> dict:
    """Validate a payment's applications against open balances and fill in its derived fields."""
    if existing is not None and ("Payment", existing["Id"]) in realm.voided:
        raise faults.business("This payment has been voided and can no longer be changed")
    if not ref_id(obj.get("CustomerRef"), "CustomerRef"):
        raise faults.required("CustomerRef")
    obj["CustomerRef"] = resolve(realm, "Customer", obj["CustomerRef"], "CustomerRef")
    total = decimal(obj.get("TotalAmt"), "TotalAmt")
    if total is None:
        raise faults.required("TotalAmt")
    if total < 0:
        raise faults.business("The payment amount must be 0 or greater", "TotalAmt")
    old = _applications(existing)
    raw_lines = obj.get("Line") or []
    if not isinstance(raw_lines, list):
        raise faults.invalid_property("Line: expected a list of lines")
    lines, applied, credits = [], ZERO, ZERO
    wanted: dict[tuple[str, str], Decimal] = {}
    for raw in raw_lines:
        if not isinstance(raw, dict):
            raise faults.invalid_property("Line: expected line objects")
        amount = decimal(raw.get("Amount"), "Line.Amount")
        links = raw.get("LinkedTxn") or []
        if amount is None:
            raise faults.required("Line.Amount")
        if amount <= 0:
            raise faults.business("Each payment line must apply an amount greater than 0", "Line.Amount")
        if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
            raise faults.business("Each payment line must link exactly one transaction", "Line.LinkedTxn")
        kind = text(links[0].get("TxnType"), "Line.LinkedTxn.TxnType")
        ident = text(links[0].get("TxnId"), "Line.LinkedTxn.TxnId")
        if kind not in TARGET_TYPES or not ident:
            raise faults.business("A payment can be applied to an Invoice or a CreditMemo only", "Line.LinkedTxn")
        target = realm.get(kind, ident)
        if target is None:
            raise faults.invalid_reference(kind, ident, "Line.LinkedTxn.TxnId")
        if target["CustomerRef"]["value"] != obj["CustomerRef"]["value"]:
            raise faults.business(f"{kind} {ident} belongs to another customer", "Line.LinkedTxn")
        key = (kind, ident)
        wanted[key] = wanted.get(key, ZERO) + amount
        open_amount = target.get("Balance", ZERO) + old.get(key, ZERO)
        if wanted[key] > open_amount:
            raise faults.business(f"The amount applied to {kind} {ident} ({wanted[key]}) is more than its open "
                                  f"balance ({open_amount})", "Line.Amount")
        if kind == "Invoice":
            applied += amount
        else:
            credits += amount
        number = target.get("DocNumber") or ""
        lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": ident, "TxnType": kind}],
                      "LineEx": {"any": [_name_value("txnId", ident), _name_value("txnOpenBalance", f"{open_amount:.2f}"),
                                         _name_value("txnReferenceNumber", number)]}})
    net = applied - credits
    if net > total:
        raise faults.business(f"The amount applied ({net}) is more than the payment amount ({total})", "TotalAmt")
    obj["Line"] = lines
    obj["TotalAmt"] = total
    obj["UnappliedAmt"] = total - net
    obj["TxnDate"] = iso_date(obj.get("TxnDate"), "TxnDate") or today(realm).isoformat()
    obj["CurrencyRef"] = currency_ref(realm, obj.get("CurrencyRef"))
    rate = decimal(obj.get("ExchangeRate"), "ExchangeRate")
    obj["ExchangeRate"] = rate if rate else Decimal(1)
    obj["ProcessPayment"] = boolean(obj.get("ProcessPayment"), "ProcessPayment", False)
    deposit = resolve(realm, "Account", obj.get("DepositToAccountRef"), "DepositToAccountRef")
    if deposit is None:
        undeposited = next((a for a in realm.objects["Account"].values() if a.get("Name") == "Undeposited Funds"), None)
        deposit = {"value": undeposited["Id"], "name": undeposited["Name"]} if undeposited else None
    if deposit:
        obj["DepositToAccountRef"] = deposit
    else:
        obj.pop("DepositToAccountRef", None)
    return obj


def relink(realm, payment_id: str, before: dict | None, after: dict | None) -> None:
    """Update the forms a payment was or is now applied to: LinkedTxn, Balance, SyncToken, webhooks."""
    targets = set(_applications(before)) | set(_applications(after))
    now_linked = set(_applications(after))
    customers = {p["CustomerRef"]["value"] for p in (before, after) if p}
    for kind, ident in sorted(targets):
        form = realm.get(kind, ident)
        if form is None:
            continue
        links = [x for x in form.get("LinkedTxn", []) if not (x.get("TxnType") == "Payment" and x.get("TxnId") == payment_id)]
        if (kind, ident) in now_linked:
            links.append({"TxnId": payment_id, "TxnType": "Payment"})
        form["LinkedTxn"] = links
        used = applied_to(realm, kind, ident)
        base = form["TotalAmt"] - (form.get("Deposit") or ZERO) if kind == "Invoice" else form["TotalAmt"]
        form["Balance"] = base - used
        if kind == "CreditMemo":
            form["RemainingCredit"] = form["Balance"]
        if "HomeBalance" in form:
            form["HomeBalance"] = (form["Balance"] * form.get("ExchangeRate", 1)).quantize(Decimal("0.01"))
        realm.touch(kind, form)
        customers.add(form["CustomerRef"]["value"])
    for customer_id in customers:
        refresh_balance(realm, customer_id)


def void_payment(realm, obj: dict) -> dict:
    """Void a payment: amounts to zero, applications given back, "Voided" in the memo."""
    if ("Payment", obj["Id"]) in realm.voided:
        raise faults.business("This payment has already been voided")
    obj["Line"] = []
    obj["TotalAmt"] = obj["UnappliedAmt"] = ZERO
    note = obj.get("PrivateNote")
    obj["PrivateNote"] = f"Voided - {note}" if note else "Voided"
    realm.voided.add(("Payment", obj["Id"]))
    return obj


def refresh_balance(realm, customer_id: str) -> None:
    """Recompute a customer's open balance: open invoices less unused credits and unapplied payments."""
    customer = realm.get("Customer", customer_id)
    if customer is None:
        return
    balance = ZERO
    for entity, ident in realm.by_customer.get(customer_id, ()):
        obj = realm.objects[entity].get(ident)
        if obj is None:
            continue
        if entity == "Invoice":
            balance += obj.get("Balance", ZERO)
        elif entity == "CreditMemo":
            balance -= obj.get("Balance", ZERO)
        else:
            balance -= obj.get("UnappliedAmt", ZERO)
    customer["Balance"] = customer["BalanceWithJobs"] = balance
    realm.version += 1
