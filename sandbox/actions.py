"""A person working in QuickBooks: the control API's ``/actions/`` do what someone clicking in the UI does.

They go through the same rules as the API (totals, balances, links) and fire the same webhooks, but
skip tokens, limits and SyncTokens: a person always edits the current version.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox import faults, operations
from sandbox.errors import ControlError
from sandbox.jsonio import to_decimal
from sandbox.schema import SPECS


def _invoice(realm, ident: str) -> dict:
    obj = realm.get("Invoice", ident)
    if obj is None:
        raise ControlError(404, f"invoice {ident} does not exist in realm {realm.id}")
    return obj


def _lookup(realm, entity: str, value, field: str) -> dict:
    if value is None:
        raise ControlError(400, f"{field} is required")
    found = realm.get(entity, str(value))
    if found is None:
        key = "DisplayName" if entity == "Customer" else "Name"
        found = next((o for o in realm.objects[entity].values() if o.get(key) == value), None)
    if found is None:
        raise ControlError(400, f"{field}: no {entity.lower()} {value!r} in realm {realm.id}")
    return {"value": found["Id"]}


def _amount(value, field: str) -> Decimal | None:
    try:
        return to_decimal(value)
    except ValueError:
        raise ControlError(400, f"{field} must be a number") from None


def create_invoice(realm, body: dict) -> dict:
    """An invoice typed in by hand: ``{"customer", "lines": [{"item", "qty", "unit_price"|"amount",
    "description"}], "doc_number", "txn_date", "due_date", "private_note"}`` or a raw Invoice object."""
    if "Line" in body or "CustomerRef" in body:
        return operations.create(realm, SPECS["Invoice"], body)
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ControlError(400, "lines must be a non-empty list")
    invoice: dict = {"CustomerRef": _lookup(realm, "Customer", body.get("customer"), "customer"), "Line": []}
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ControlError(400, f"lines[{i}] must be an object")
        detail: dict = {}
        if line.get("item") is not None:
            detail["ItemRef"] = _lookup(realm, "Item", line["item"], f"lines[{i}].item")
        qty, price = _amount(line.get("qty"), "qty"), _amount(line.get("unit_price"), "unit_price")
        if qty is not None:
            detail["Qty"] = qty
        if price is not None:
            detail["UnitPrice"] = price
        if line.get("tax_code"):
            detail["TaxCodeRef"] = {"value": str(line["tax_code"])}
        entry = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
        amount = _amount(line.get("amount"), "amount")
        entry["Amount"] = amount if amount is not None else (qty or 0) * (price or 0)
        if line.get("description"):
            entry["Description"] = str(line["description"])
        invoice["Line"].append(entry)
    for key, field in (("doc_number", "DocNumber"), ("txn_date", "TxnDate"), ("due_date", "DueDate"),
                       ("private_note", "PrivateNote")):
        if body.get(key) is not None:
            invoice[field] = body[key]
    return operations.create(realm, SPECS["Invoice"], invoice)


def edit_invoice(realm, ident: str, changes: dict) -> dict:
    """Change some fields of an invoice (a sparse update at its current SyncToken)."""
    stored = _invoice(realm, ident)
    if not isinstance(changes, dict) or not changes:
        raise ControlError(400, "send the Invoice fields to change, e.g. {\"DueDate\": \"2026-01-31\"}")
    return operations.update(realm, SPECS["Invoice"], {**changes, "Id": ident, "SyncToken": stored["SyncToken"],
                                                        "sparse": True})


def void_invoice(realm, ident: str) -> dict:
    """Void an invoice."""
    stored = _invoice(realm, ident)
    return operations.void(realm, SPECS["Invoice"], {"Id": ident, "SyncToken": stored["SyncToken"]})


def delete_invoice(realm, ident: str) -> dict:
    """Delete an invoice."""
    stored = _invoice(realm, ident)
    return operations.delete(realm, SPECS["Invoice"], {"Id": ident, "SyncToken": stored["SyncToken"]})


def send_invoice(realm, ident: str, to: str | None) -> dict:
    """Send an invoice by email from QuickBooks."""
    _invoice(realm, ident)
    return operations.send(realm, SPECS["Invoice"], ident, to)


def edit_tax_rate(realm, ident: str, body: dict) -> dict:
    """Change a sales tax rate's percentage, as a person editing a custom rate in QuickBooks does.

    The API cannot (TaxRate is read-only there); forms created or updated afterwards are taxed at the new
    rate, forms already saved keep the tax they were computed with, as in QuickBooks.
    """
    if set(body) != {"rate"}:
        raise ControlError(400, 'send {"rate": <percent>}, e.g. {"rate": "8.875"}')
    rate = _amount(body["rate"], "rate")
    if rate is None or rate < 0 or rate > 100:
        raise ControlError(400, "rate must be a percentage from 0 to 100")
    with realm.lock:
        stored = realm.copy_of("TaxRate", ident)
        if stored is None:
            raise ControlError(404, f"tax rate {ident} does not exist in realm {realm.id}")
        stored["RateValue"] = rate
        return realm.touch("TaxRate", stored)


def record_payment(realm, body: dict) -> dict:
    """Receive a payment: ``{"invoice_id", "amount" (default: the open balance), "txn_date",
    "payment_ref", "unapplied"}``; ``{"customer", "amount"}`` alone is an unapplied payment."""
    amount = _amount(body.get("amount"), "amount")
    payment: dict = {}
    if body.get("invoice_id") is not None:
        invoice = _invoice(realm, str(body["invoice_id"]))
        applied = amount if amount is not None else invoice["Balance"]
        extra = _amount(body.get("unapplied"), "unapplied") or Decimal(0)
        payment = {"CustomerRef": {"value": invoice["CustomerRef"]["value"]}, "TotalAmt": applied + extra,
                   "Line": [{"Amount": applied, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]}
    else:
        if amount is None:
            raise ControlError(400, "amount is required for a payment not applied to an invoice")
        payment = {"CustomerRef": _lookup(realm, "Customer", body.get("customer"), "customer"), "TotalAmt": amount}
    if body.get("txn_date"):
        payment["TxnDate"] = body["txn_date"]
    if body.get("payment_ref"):
        payment["PaymentRefNum"] = str(body["payment_ref"])
    return operations.create(realm, SPECS["Payment"], payment)


def run(realm, parts: list[str], body: dict) -> dict:
    """Dispatch ``/actions/<parts>``; a QuickBooks rule that refuses becomes a 400 with its Fault."""
    try:
        if parts == ["payments"]:
            return {"Payment": record_payment(realm, body)}
        if parts == ["invoices"]:
            return {"Invoice": create_invoice(realm, body)}
        if len(parts) == 3 and parts[0] == "invoices":
            ident, verb = parts[1], parts[2]
            if verb == "edit":
                return {"Invoice": edit_invoice(realm, ident, body)}
            if verb == "void":
                return {"Invoice": void_invoice(realm, ident)}
            if verb == "delete":
                return {"Invoice": delete_invoice(realm, ident)}
            if verb == "send":
                return {"Invoice": send_invoice(realm, ident, body.get("to"))}
        if len(parts) == 3 and parts[0] == "tax_rates" and parts[2] == "edit":
            return {"TaxRate": edit_tax_rate(realm, parts[1], body)}
    except faults.QBOFault as fault:
        raise ControlError(400, f"QuickBooks refused: {fault.code} {fault.message}: {fault.detail}") from None
    raise ControlError(404, "unknown action; see docs/sandbox.md")
