"""Company jobs the tests enqueue: module-level functions taking plain ids, safe to run twice."""

from __future__ import annotations

from decimal import Decimal

from addon import bootstrap
from addon.ledger import CustomerSpec, InvoiceLineSpec, InvoiceSpec


def create_invoice(company_id: str, request_id: str, amount: str = "5437.50") -> str:
    """Create one invoice for Northwind IT with a requestid (QuickBooks replays a repeat)."""
    ledger = bootstrap.current().ledger(company_id)
    customer = ledger.find_customer("Northwind IT") or ledger.create_customer(CustomerSpec("Northwind IT"))
    item = ledger.find_item("Consulting hours")
    line = InvoiceLineSpec(amount=Decimal(amount), description="37.5 hours at 145.00", item_id=item.id)
    return ledger.create_invoice(InvoiceSpec(customer.id, (line,), private_note=f"autobill:{request_id}"),
                                 request_id=request_id).id


def hold_a_slot(company_id: str, label: str, seconds: float = 0.8) -> str:
    """Run ``seconds`` while counting, in Redis, how many of the company's jobs run at the same time."""
    import time

    redis = bootstrap.current().redis
    running = redis.incr(f"test:running:{company_id}")
    redis.rpush(f"test:seen:{company_id}", running)
    try:
        time.sleep(seconds)
    finally:
        redis.decr(f"test:running:{company_id}")
    return label
