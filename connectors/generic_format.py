"""The generic connector's JSON form of one canonical event, read strictly (docs/connectors/generic.md).

Unknown fields are refused rather than dropped, so a typo in a Zap ("ammount") is an error a
person sees in the inbox instead of an invoice without an amount.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.base import decimal_or_none, quantity_or_one
from connectors.errors import PayloadError
from connectors.timeparse import parse_day, parse_instant
from rules.events import Event, EventKind, EventLine, SourceCustomer

SOURCE = "generic"
MAX_LINES = 500
MAX_ID_LENGTH = 200
EVENT_FIELDS = {"kind", "source_object_id", "occurred_at", "event_id", "customer", "amount", "currency", "lines",
                "period_start", "period_end", "agreement_id", "attributes"}
LINE_FIELDS = {"description", "quantity", "unit_price", "amount", "product_id", "sku", "product_name", "recurring",
               "term_months", "taxable"}
CUSTOMER_FIELDS = {"id", "name", "email", "phone", "attributes"}
# Kinds that tick and the usage ledger raise for one agreement: a sender must name it.
NEEDS_AGREEMENT = {EventKind.PERIOD_CLOSED, EventKind.THRESHOLD_CROSSED}
USAGE_KINDS = {EventKind.TIME_LOGGED, EventKind.EXPENSE_LOGGED, EventKind.SLA_BREACHED}
USAGE_NUMBERS = ("hours", "quantity", "rate", "amount")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _text(value: Any, where: str, *, required: bool = False, limit: int = 1000) -> str | None:
    if value is None:
        if required:
            raise PayloadError(f"{where} is required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PayloadError(f"{where} must be a string")
    text = str(value).strip()
    if required and not text:
        raise PayloadError(f"{where} must not be empty")
    if len(text) > limit:
        raise PayloadError(f"{where} is longer than {limit} characters")
    return text or None


def _object(value: Any, where: str, allowed: set[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise PayloadError(f"{where} has unknown field(s): {', '.join(unknown[:5])}")
    return value


def _customer(value: Any, where: str) -> SourceCustomer | None:
    if value is None:
        return None
    data = _object(value, where, CUSTOMER_FIELDS)
    return SourceCustomer(
        id=_text(data.get("id"), f"{where}.id", required=True, limit=MAX_ID_LENGTH),
        name=_text(data.get("name"), f"{where}.name"), email=_text(data.get("email"), f"{where}.email", limit=320),
        phone=_text(data.get("phone"), f"{where}.phone", limit=50),
        attributes=_object(data.get("attributes") or {}, f"{where}.attributes"),
    )


def _line(value: Any, where: str) -> EventLine:
    data = _object(value, where, LINE_FIELDS)
    term = data.get("term_months")
    if term is not None and (isinstance(term, bool) or not isinstance(term, int) or term <= 0):
        raise PayloadError(f"{where}.term_months must be a positive whole number")
    taxable = data.get("taxable")
    if taxable is not None and not isinstance(taxable, bool):
        raise PayloadError(f"{where}.taxable must be true or false")
    return EventLine(
        description=_text(data.get("description"), f"{where}.description", required=True),
        quantity=quantity_or_one(decimal_or_none(data.get("quantity"), f"{where}.quantity")),
        unit_price=decimal_or_none(data.get("unit_price"), f"{where}.unit_price"),
        amount=decimal_or_none(data.get("amount"), f"{where}.amount"),
        product_id=_text(data.get("product_id"), f"{where}.product_id", limit=MAX_ID_LENGTH),
        sku=_text(data.get("sku"), f"{where}.sku", limit=MAX_ID_LENGTH),
        product_name=_text(data.get("product_name"), f"{where}.product_name"),
        recurring=_text(data.get("recurring"), f"{where}.recurring", limit=50),
        term_months=term, taxable=taxable,
    )


def _attributes(value: Any, kind: EventKind, where: str) -> dict:
    attributes = dict(_object(value if value is not None else {}, where))
    if kind in USAGE_KINDS:
        for name in USAGE_NUMBERS:
            if name in attributes:
                attributes[name] = decimal_or_none(attributes[name], f"{where}.{name}")
        if "date" in attributes:
            parse_day(attributes["date"], f"{where}.date")
        if kind is EventKind.TIME_LOGGED and attributes.get("hours") is None:
            raise PayloadError(f"{where}.hours is required for a time_logged event")
        if kind is EventKind.EXPENSE_LOGGED and attributes.get("amount") is None:
            raise PayloadError(f"{where}.amount is required for an expense_logged event")
    return attributes


def event_from_json(value: Any, where: str = "event") -> Event:
    """The ``rules.Event`` one generic event object describes, or a ``PayloadError`` naming the field."""
    data = _object(value, where, EVENT_FIELDS)
    raw_kind = data.get("kind")
    try:
        kind = EventKind(raw_kind)
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise PayloadError(f"{where}.kind must be one of {known}") from None
    amount = decimal_or_none(data.get("amount"), f"{where}.amount")
    currency = _text(data.get("currency"), f"{where}.currency", limit=3)
    if currency is not None and not _CURRENCY.match(currency):
        raise PayloadError(f"{where}.currency must be a three-letter ISO 4217 code")
    lines = data.get("lines") or []
    if not isinstance(lines, list) or len(lines) > MAX_LINES:
        raise PayloadError(f"{where}.lines must be a list of at most {MAX_LINES} lines")
    agreement = _text(data.get("agreement_id"), f"{where}.agreement_id", limit=MAX_ID_LENGTH)
    if kind in NEEDS_AGREEMENT and agreement is None:
        raise PayloadError(f"{where}.agreement_id is required for a {kind.value} event")
    start, end = data.get("period_start"), data.get("period_end")
    event = Event(
        kind=kind, source=SOURCE,
        source_object_id=_text(data.get("source_object_id"), f"{where}.source_object_id", required=True,
                               limit=MAX_ID_LENGTH),
        occurred_at=parse_instant(data.get("occurred_at"), f"{where}.occurred_at"),
        source_customer=_customer(data.get("customer"), f"{where}.customer"),
        amount=amount, currency=currency.upper() if currency else None,
        lines=tuple(_line(line, f"{where}.lines[{i}]") for i, line in enumerate(lines)),
        attributes=_attributes(data.get("attributes"), kind, f"{where}.attributes"),
        source_event_id=_text(data.get("event_id"), f"{where}.event_id", limit=MAX_ID_LENGTH),
        period_start=parse_day(start, f"{where}.period_start") if start is not None else None,
        period_end=parse_day(end, f"{where}.period_end") if end is not None else None,
        agreement_id=agreement,
    )
    if (amount is not None or any(line.amount is not None or line.unit_price is not None for line in event.lines)) \
            and event.currency is None:
        raise PayloadError(f"{where}.currency is required when an amount or price is given")
    if event.period_start and event.period_end and event.period_end < event.period_start:
        raise PayloadError(f"{where}.period_end is before period_start")
    return event

