"""Create, read, update, delete, void and send, for every entity, with QuickBooks' rules.

One entry point per operation, shared by the Accounting API, batch items and the control API's
"person in QuickBooks" actions. Each runs under the realm's lock and either changes nothing (and
raises a ``QBOFault``) or commits completely.
"""

from __future__ import annotations

import copy

from sandbox import company, faults, names, payments, sales
from sandbox.schema import EntitySpec
from sandbox.values import check_sync_token, clean_body, object_id

SERVER_FIELDS = ("Id", "SyncToken", "sparse", "domain", "MetaData")


def _prepare(realm, spec: EntitySpec, fields: dict, existing: dict | None, options: dict) -> dict:
    if spec.name in names.PREPARE:
        return names.PREPARE[spec.name](realm, fields, existing)
    if spec.name in ("Invoice", "CreditMemo"):
        return sales.prepare_sale(realm, spec.name, fields, existing, options.get("allow_duplicate", False))
    if spec.name == "Payment":
        return payments.prepare_payment(realm, fields, existing)
    raise faults.unsupported(f"/{spec.path}")


def read(realm, spec: EntitySpec, ident: str) -> dict:
    """The stored object (610 when there is none)."""
    if spec.name == "CompanyInfo" and ident == realm.id:
        ident = "1"
    obj = realm.get(spec.name, ident)
    if obj is None:
        raise faults.object_not_found(spec.name, ident)
    return obj


def save(realm, spec: EntitySpec, body, options: dict | None = None) -> dict:
    """Create, or update when the body carries an Id (as python-quickbooks' ``save`` expects)."""
    options = options or {}
    if isinstance(body, dict) and body.get("Id") not in (None, ""):
        return update(realm, spec, body, options)
    return create(realm, spec, body, options)


def create(realm, spec: EntitySpec, body, options: dict | None = None) -> dict:
    """A new object from ``body``."""
    if not spec.creatable:
        raise faults.operation_unsupported("Create", spec.name)
    with realm.lock:
        fields = clean_body(body, spec)
        for key in SERVER_FIELDS:
            fields.pop(key, None)
        obj = _prepare(realm, spec, fields, None, options or {})
        realm.insert(spec.name, obj)
        _after(realm, spec, None, obj)
        return obj


def update(realm, spec: EntitySpec, body, options: dict | None = None) -> dict:
    """A full or sparse update; a stale SyncToken is 5010."""
    options = options or {}
    with realm.lock:
        ident = object_id(body, spec)
        stored = read(realm, spec, ident)
        check_sync_token(stored, body, realm.settings.get("email_user", "root"))
        sparse = body.get("sparse") in (True, "true")
        fields = clean_body(body, spec)
        for key in SERVER_FIELDS:
            fields.pop(key, None)
        if spec.name == "Preferences":
            obj = company.merge_preferences(stored, fields)
        elif spec.name == "CompanyInfo":
            obj = company.merge_company_info(stored, fields, sparse)
        elif spec.name in ("TaxCode", "TaxRate"):
            raise faults.operation_unsupported("Update", spec.name)
        else:
            if sparse:
                merged = copy.deepcopy(stored)
                for key in SERVER_FIELDS:
                    merged.pop(key, None)
                merged.update(fields)
                fields = merged
            obj = _prepare(realm, spec, fields, stored, options)
        for key in SERVER_FIELDS:
            if key in stored:
                obj[key] = copy.deepcopy(stored[key])
        realm.touch(spec.name, obj)
        _after(realm, spec, stored, obj)
        return obj


def delete(realm, spec: EntitySpec, body) -> dict:
    """Delete a transaction (name lists are made inactive instead, as in QuickBooks)."""
    if not spec.deletable:
        raise faults.operation_unsupported("Delete", spec.name, " Make it inactive instead (Active false).")
    with realm.lock:
        ident = object_id(body, spec)
        stored = read(realm, spec, ident)
        check_sync_token(stored, body, realm.settings.get("email_user", "root"))
        if spec.name != "Payment" and any(x.get("TxnType") == "Payment" for x in stored.get("LinkedTxn", [])):
            raise faults.business("This transaction has payments linked to it; delete or unlink them first")
        result = realm.remove(spec.name, ident)
        realm.voided.discard((spec.name, ident))
        _after(realm, spec, stored, None)
        return result


def void(realm, spec: EntitySpec, body) -> dict:
    """Void an Invoice (``operation=void``) or a Payment (``operation=update&include=void``)."""
    if spec.name not in ("Invoice", "Payment"):
        raise faults.operation_unsupported("Void", spec.name)
    with realm.lock:
        ident = object_id(body, spec)
        stored = read(realm, spec, ident)
        check_sync_token(stored, body, realm.settings.get("email_user", "root"))
        obj = copy.deepcopy(stored)
        if spec.name == "Invoice":
            sales.void_sale(realm, "Invoice", obj)
        else:
            payments.void_payment(realm, obj)
        realm.touch(spec.name, obj, "Void")
        _after(realm, spec, stored, obj)
        return obj


def send(realm, spec: EntitySpec, ident: str, send_to: str | None) -> dict:
    """Email a sales form: EmailStatus EmailSent, DeliveryInfo, a mail in the outbox."""
    if spec.name not in ("Invoice", "CreditMemo"):
        raise faults.unsupported(f"/{spec.path}/{ident}/send")
    with realm.lock:
        stored = read(realm, spec, ident)
        obj = sales.send_sale(realm, spec.name, copy.deepcopy(stored), send_to)
        realm.touch(spec.name, obj, "Emailed", bump=False)
        return obj


def _after(realm, spec: EntitySpec, before: dict | None, after: dict | None) -> None:
    if spec.name == "Payment":
        ident = (after or before)["Id"]
        payments.relink(realm, ident, before, after)
    elif spec.name in ("Invoice", "CreditMemo"):
        for obj in (before, after):
            if obj is not None:
                payments.refresh_balance(realm, obj["CustomerRef"]["value"])
