"""Events and deliveries with memorable values, stored the way the front door and the delivery job do."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from addon import eventflow
from addon.models.base import new_id
from addon.models.inbox import Delivery, DeliveryStatus
from rules.events import Event, EventKind, EventLine, SourceCustomer

OCCURRED = datetime(2026, 1, 12, 14, 0, tzinfo=UTC)


def period_closed(agreement_id="agr-northwind-support", start=date(2026, 1, 1)) -> Event:
    """What tick raises when a period of an agreement closes."""
    return Event(kind=EventKind.PERIOD_CLOSED, source="tick", source_object_id=f"{agreement_id}:{start}",
                 occurred_at=OCCURRED, agreement_id=agreement_id, period_start=start, period_end=date(2026, 1, 31))


def deal_won(deal="deal-42", customer_id="cust-7", name="Northwind IT", email="billing@northwind.example",
             source="generic") -> Event:
    """A won deal of Northwind IT, as the generic connector reads one."""
    return Event(kind=EventKind.DEAL_WON, source=source, source_object_id=deal, occurred_at=OCCURRED,
                 source_customer=SourceCustomer(id=customer_id, name=name, email=email),
                 amount=Decimal("18500.00"), currency="USD",
                 lines=(EventLine(description="Managed services", quantity=Decimal("1"),
                                  unit_price=Decimal("18500.00"), sku="MS-1"),))


def time_logged(entry="entry-1", hours="37.5") -> Event:
    """A time entry: usage, mapped to an agreement by project, never to a customer here."""
    return Event(kind=EventKind.TIME_LOGGED, source="generic", source_object_id=entry, occurred_at=OCCURRED,
                 source_customer=SourceCustomer(id="cust-7", name="Northwind IT"),
                 attributes={"hours": hours, "date": "2026-01-12", "mapping_keys": ["project:generic:site"]})


def generic_endpoint(container, company_id):
    """A generic endpoint of the company (its URL and generated secret)."""
    return container.endpoints.create(company_id, "generic", actor="test")


def store_events(container, company_id, events, *, endpoint=None, now=OCCURRED) -> list[str]:
    """A stored delivery carrying ``events``, its events stored as the delivery job stores them."""
    endpoint = endpoint or generic_endpoint(container, company_id).endpoint
    with container.unit_of_work() as session:
        delivery = Delivery(id=new_id("dl"), company_id=company_id, endpoint_id=endpoint.id, source=endpoint.source,
                            dedupe_key=new_id("k"), received_at=now, content_type="application/json",
                            headers=json.dumps({}), body=b"{}", status=DeliveryStatus.PROCESSED.value,
                            events_count=len(events))
        session.add(delivery)
        session.flush()
        ids = eventflow.add_delivery_events(session, company_id=company_id, delivery_id=delivery.id,
                                            endpoint_id=endpoint.id, events=events, now=now,
                                            grace=container.settings.sweep_grace)
        eventflow.enqueue_after_commit(session, ids, container)
    return ids
