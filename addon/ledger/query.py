"""Query filters: the fields QuickBooks lets a query filter on, as SQL text and as an in-memory test.

QuickBooks filters only on fields its reference lists as filterable (never PrivateNote or custom
fields), supports AND but not OR, and the operators = < > <= >= IN LIKE (``%`` wildcards only).
https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from addon.ledger.faults import Rejected

# QuickBooks field name -> attribute of our record, per entity.
FILTERABLE: dict[str, dict[str, str]] = {
    "Invoice": {"Id": "id", "DocNumber": "doc_number", "TxnDate": "txn_date", "DueDate": "due_date",
                "CustomerRef": "customer_id", "TotalAmt": "total", "Balance": "balance",
                "MetaData.LastUpdatedTime": "updated_at"},
    "Customer": {"Id": "id", "DisplayName": "display_name", "CompanyName": "company_name", "Active": "active",
                 "Balance": "balance", "PrimaryEmailAddr": "email"},
    "Item": {"Id": "id", "Name": "name", "Active": "active", "Type": "kind", "Sku": "sku"},
    "Payment": {"Id": "id", "CustomerRef": "customer_id", "TxnDate": "txn_date", "TotalAmt": "total"},
    # Read by the adapter itself (an item needs an income account), not offered as typed records.
    "Account": {"Id": "id", "Name": "name", "AccountType": "account_type", "Active": "active"},
}
OPERATORS = ("=", "<", ">", "<=", ">=", "in", "like")


def _split(value: object) -> tuple[str, object]:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and value[0].lower() in OPERATORS:
        return value[0].lower(), value[1]
    return "=", value


def check_filter(entity: str, where: Mapping[str, object]) -> None:
    """Refuse (``Rejected``) an entity or field QuickBooks cannot filter on, before anything is sent."""
    fields = FILTERABLE.get(entity)
    if fields is None:
        raise Rejected(f"Invalid query: {entity} cannot be queried", qbo_code="4000")
    for name in where:
        if name not in fields:
            raise Rejected(f"Invalid query: {entity}.{name} is not filterable in QuickBooks", qbo_code="4001")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def select_statement(entity: str, where: Mapping[str, object], *, start: int = 1, max_results: int = 100) -> str:
    """``SELECT * FROM entity WHERE ... STARTPOSITION n MAXRESULTS m`` with every value quoted."""
    check_filter(entity, where)
    if not 1 <= max_results <= 1000 or start < 1:
        raise ValueError("start must be at least 1 and max_results between 1 and 1000")
    clauses = []
    for name, raw in where.items():
        op, value = _split(raw)
        if op == "in":
            if not isinstance(value, Sequence) or isinstance(value, str) or not value:
                raise ValueError(f"{name}: 'in' takes a non-empty list")
            clauses.append(f"{name} IN ({', '.join(_literal(v) for v in value)})")
        else:
            clauses.append(f"{name} {op.upper() if op == 'like' else op} {_literal(value)}")
    text = f"SELECT * FROM {entity}"
    if clauses:
        text += " WHERE " + " AND ".join(clauses)
    return f"{text} STARTPOSITION {start} MAXRESULTS {max_results}"


def _normal(value: object) -> object:
    if isinstance(value, bool | Decimal | date | datetime) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    return str(value)


def matches(entity: str, record: object, where: Mapping[str, object]) -> bool:
    """True when ``record`` satisfies ``where`` the way QuickBooks would evaluate it."""
    check_filter(entity, where)
    for name, raw in where.items():
        op, wanted = _split(raw)
        have = _normal(getattr(record, FILTERABLE[entity][name]))
        if op == "in":
            if have not in {_normal(v) for v in wanted}:
                return False
        elif op == "like":
            pattern = "^" + ".*".join(re.escape(part) for part in str(wanted).split("%")) + "$"
            if have is None or not re.match(pattern, str(have), re.I):
                return False
        else:
            wanted = _normal(wanted)
            if isinstance(have, Decimal) and isinstance(wanted, str):
                wanted = Decimal(wanted)
            if have is None:
                return False
            if not {"=": have == wanted, "<": have < wanted, ">": have > wanted,
                    "<=": have <= wanted, ">=": have >= wanted}[op]:
                return False
    return True
