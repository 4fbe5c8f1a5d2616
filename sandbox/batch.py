"""Batch: up to 30 independent operations in one request, each answered on its own.

Intuit "Batch" reference: ``{"BatchItemRequest": [{"bId", "operation": "create|update|delete",
"<Entity>": {...}} | {"bId", "Query": "select ..."}]}`` answers ``{"BatchItemResponse": [{"bId",
"<Entity>": {...}} | {"bId", "Fault": {...}} | {"bId", "QueryResponse": {...}}]}``. ``optionsData:
"void"`` with ``operation: "update"`` voids a payment or invoice. An item's fault does not stop the others.
"""

from __future__ import annotations

from sandbox import faults, operations, query
from sandbox.schema import SPECS

MAX_ITEMS = 30


def items_of(body) -> list:
    """The request's items (Fault when the envelope itself is wrong)."""
    if not isinstance(body, dict) or not isinstance(body.get("BatchItemRequest"), list):
        raise faults.invalid_property("failed to parse json object; expected BatchItemRequest")
    items = body["BatchItemRequest"]
    if not items:
        raise faults.QBOFault("400", "MalformedRequest", "Batch Request is Empty")
    if len(items) > MAX_ITEMS:
        raise faults.QBOFault("400", "MalformedRequest",
                              f"Batch Request has {len(items)} items; the maximum is {MAX_ITEMS}")
    return items


def run(realm, items: list) -> list[dict]:
    """Run every item in order and collect its response."""
    return [_one(realm, item) for item in items]


def _one(realm, item) -> dict:
    bid = item.get("bId") if isinstance(item, dict) else None
    out: dict = {"bId": bid}
    try:
        if not isinstance(item, dict) or not bid:
            raise faults.required("bId")
        if "Query" in item:
            out["QueryResponse"] = query.run(parsed := query.parse(str(item["Query"])),
                                             realm.all(parsed.entity.name))
            return out
        names = [k for k in item if k in SPECS]
        if len(names) != 1:
            raise faults.invalid_property("a batch item must carry exactly one entity object or a Query")
        spec = SPECS[names[0]]
        operation = str(item.get("operation") or "").lower()
        body = item[spec.name]
        if operation == "create":
            out[spec.name] = operations.create(realm, spec, body)
        elif operation == "update" and str(item.get("optionsData") or "").lower() == "void":
            out[spec.name] = operations.void(realm, spec, body)
        elif operation == "update":
            out[spec.name] = operations.update(realm, spec, body)
        elif operation == "delete":
            out[spec.name] = operations.delete(realm, spec, body)
        elif operation == "void":
            out[spec.name] = operations.void(realm, spec, body)
        else:
            raise faults.invalid_property(f"operation: {operation or 'missing'} (expected create, update or delete)")
    except faults.QBOFault as fault:
        out = {"bId": bid, "Fault": fault.fault()}
    return out
