"""The inbox: every authentic delivery stored raw, then read into events by a job.

The inbox is the truth, Redis is not: a delivery is committed before it is acknowledged, its job is
enqueued after the commit, and the sweeper enqueues again any delivery still ``received`` after
``AUTOBILL_SWEEP_GRACE`` (Redis flushed, a worker died). The delivery job (``process_delivery``,
queue ``events``) asks the connector for the delivery's events, or why there are none, stores the
events once each and hands them to the event flow; running it twice changes nothing. Each reading
appends ``delivery.received`` (``delivery.reread`` after a replay) with its outcome to the audit chain.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

import connectors
from addon import eventflow
from addon.clock import utcnow
from addon.errors import InvalidInput, NotFound
from addon.inboxwriter import DeliveryWriter
from addon.models.base import new_id
from addon.models.events import EventRecord
from addon.models.inbox import Delivery, DeliveryStatus, Endpoint
from addon.rqjobs import without_live_jobs
from addon.sqlutil import for_update, insert_unless_present, short_key
from connectors.errors import ConnectorError

log = logging.getLogger(__name__)

# Never stored: credentials (Pipedrive's basic-auth pair) and Asana's handshake secret.
DROPPED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-hook-secret"})
SWEEP_LIMIT = 1000
ACTOR = "worker"


@dataclass(frozen=True)
class Stored:
    """Where a delivery landed: its id, and whether it is new (False: a redelivery of a stored one)."""

    delivery_id: str
    new: bool


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers stored with a delivery (lower-case names), credentials left out."""
    return {k.lower(): v for k, v in headers.items() if k.lower() not in DROPPED_HEADERS}


def store(container: Any, endpoint: Any, *, key: str, body: bytes, headers: Mapping[str, str],
          now: datetime) -> Stored:
    """Commit the delivery once per (endpoint, sender's key) and enqueue its job after the commit."""
    kept = kept_headers(headers)
    values = {
        "id": new_id("dl"), "company_id": endpoint.company_id, "endpoint_id": endpoint.id, "source": endpoint.source,
        "dedupe_key": short_key(key), "received_at": now, "content_type": (kept.get("content-type") or "")[:255] or None,
        "headers": json.dumps(kept), "body": body, "status": DeliveryStatus.RECEIVED.value, "reason": None,
        "events_count": 0, "attempts": 0,
        "next_attempt_at": now + timedelta(seconds=container.settings.sweep_grace), "processed_at": None,
    }
    if container.database.dialect == "postgresql":
        new = _writer(container).store(values)  # committed, and enqueued, with those arriving beside it
    else:
        with container.unit_of_work() as session:
            new = insert_unless_present(session, Delivery, values, ("endpoint_id", "dedupe_key"))
        if new:
            try:
                enqueue_deliveries(container, [values["id"]])
            except Exception:  # noqa: BLE001 - stored is what counts; the sweeper enqueues it after the grace
                log.exception("could not enqueue delivery %s; the sweeper will", values["id"])
    if new:
        return Stored(values["id"], True)
    with container.unit_of_work() as session:
        existing = session.execute(select(Delivery.id).where(
            Delivery.endpoint_id == endpoint.id, Delivery.dedupe_key == values["dedupe_key"])).scalar_one()
    return Stored(existing, False)


_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _writer(container: Any) -> DeliveryWriter:
    with _WRITERS_LOCK:
        writer = _WRITERS.get(container)
        if writer is None:
            writer = _WRITERS[container] = DeliveryWriter(container, enqueue_deliveries)
        return writer


def delivery_job_id(delivery_id: str) -> str:
    """The RQ job id of a delivery's job: one name per delivery, so the sweeper can see it is still queued."""
    return f"delivery-{delivery_id}"


def enqueue_deliveries(container: Any, delivery_ids: list[str]) -> None:
    """Put ``process_delivery`` jobs on the ``events`` queue now."""
    queue = container.queue("events")
    queue.enqueue_many([queue.prepare_data(process_delivery, (delivery_id,), job_id=delivery_job_id(delivery_id))
                        for delivery_id in delivery_ids])


def process_delivery(delivery_id: str) -> str:
    """RQ job (queue ``events``): read a stored delivery into events; safe to run twice. Returns its status."""
    row = run_delivery(eventflow.current_container(), delivery_id)
    return row.status if row is not None else "missing"


def run_delivery(container: Any, delivery_id: str, *, now: datetime | None = None) -> Delivery | None:
    """Ask the connector what the delivery says and store its events (once); the delivery as it ends."""
    now = now or utcnow()
    with container.unit_of_work() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.RECEIVED:
            return delivery
        settings = json.loads(session.get(Endpoint, delivery.endpoint_id).settings or "{}")
    events, status, reason = _interpret(delivery, settings)
    with container.unit_of_work() as session:
        row = session.execute(for_update(select(Delivery).where(Delivery.id == delivery_id))).scalar_one()
        if row.status != DeliveryStatus.RECEIVED:
            return row
        created = eventflow.add_delivery_events(session, company_id=row.company_id, delivery_id=row.id,
                                                endpoint_id=row.endpoint_id, events=events, now=now,
                                                grace=container.settings.sweep_grace)
        eventflow.enqueue_after_commit(session, created, container)
        first = row.attempts == 0
        row.status, row.reason, row.events_count = status.value, reason, len(events)
        row.attempts, row.processed_at, row.next_attempt_at = row.attempts + 1, now, None
        _audit_reading(container, session, row, created, first=first)
        return row


def _audit_reading(container: Any, session, row: Delivery, created: list[str], *, first: bool) -> None:
    """Append what became of the delivery, in the transaction that records it (so once per reading).

    Last in the transaction, so the company's chain head is locked only for the commit. The front door
    appends nothing: its request path stays free of the per-company lock. Neither body nor headers go
    in, only what says which delivery it was (the sender's key, when it arrived) and its outcome.
    """
    action = "delivery.received" if first else "delivery.reread"  # a re-reading only follows a replay
    container.audit.append(row.company_id, action, actor=ACTOR, subject=f"delivery:{row.id}", session=session,
                           details={"source": row.source, "endpoint_id": row.endpoint_id,
                                    "dedupe_key": row.dedupe_key, "received_at": row.received_at,
                                    "outcome": row.status, "reason": row.reason, "events": row.events_count,
                                    "new_event_ids": created})


def _interpret(delivery: Delivery, settings: dict) -> tuple[list, DeliveryStatus, str | None]:
    headers = json.loads(delivery.headers)
    try:
        connector = connectors.get(delivery.source)
        events = connector.events(delivery.body, headers, settings=settings)
        if events:
            return list(events), DeliveryStatus.PROCESSED, None
        reason = connector.ignored_reason(delivery.body, headers, settings=settings)
        return [], DeliveryStatus.IGNORED, reason or "the delivery carries nothing to bill"
    except ConnectorError as exc:  # PayloadError above all: authentic, but not readable
        return [], DeliveryStatus.UNPARSEABLE, exc.message
    except Exception as exc:  # noqa: BLE001 - a connector bug must not lose the delivery; replay it once fixed
        log.exception("the %s connector broke on delivery %s", delivery.source, delivery.id)
        return [], DeliveryStatus.FAILED, f"the {delivery.source} connector broke ({type(exc).__name__}); " \
                                          "see the worker log, then autobill replay"


def sweep(container: Any, now: datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Enqueue deliveries still unprocessed after their grace (Redis lost them); how many."""
    grace = timedelta(seconds=container.settings.sweep_grace)
    with container.unit_of_work() as session:
        ids = session.execute(select(Delivery.id).where(
            Delivery.next_attempt_at <= now, Delivery.status == DeliveryStatus.RECEIVED.value)
            .order_by(Delivery.next_attempt_at).limit(limit)).scalars().all()
        if ids:
            session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(next_attempt_at=now + grace))
            # A delivery whose job still waits in a long queue is left to it: enqueued again every grace,
            # a backlog of a thousand turned into thousands of duplicate jobs ahead of the events.
            ids = without_live_jobs(container.queue("events"), ids, delivery_job_id)
            if ids:
                eventflow.after_commit(session, lambda: enqueue_deliveries(container, list(ids)))
    return len(ids)


def replay(container: Any, company_id: str, item_id: str, *, actor: str,
           now: datetime | None = None) -> list[EventRecord]:
    """Run a delivery (``dl_...``) or one event (``ev_...``) again on purpose, here and now; the events as they end.

    A delivery is read again (its events are not stored twice) and each of its events is put back at
    the first step it needs; an event alone likewise. Handlers are idempotent, so this is safe.
    """
    now = now or utcnow()
    one_event = item_id.startswith("ev_")
    with container.unit_of_work() as session:
        if one_event:
            event = session.get(EventRecord, item_id)
            if event is None or event.company_id != company_id:
                raise NotFound(f"no event {item_id!r} in company {company_id!r}")
            eventflow.reopen(event, now)
        else:
            delivery = session.get(Delivery, item_id)
            if delivery is None or delivery.company_id != company_id:
                raise NotFound(f"no delivery {item_id!r} in company {company_id!r}")
            delivery.status, delivery.reason, delivery.next_attempt_at = DeliveryStatus.RECEIVED.value, None, now
            for event in session.execute(select(EventRecord).where(EventRecord.delivery_id == item_id)).scalars():
                eventflow.reopen(event, now)
        kind = "event" if one_event else "delivery"
        container.audit.append(company_id, f"{kind}.replayed", actor=actor, subject=f"{kind}:{item_id}",
                               session=session)
    ids = [item_id]
    if not one_event:
        run_delivery(container, item_id, now=now)
        with container.unit_of_work() as session:
            ids = list(session.execute(select(EventRecord.id).where(EventRecord.delivery_id == item_id)
                                       .order_by(EventRecord.dedupe_key)).scalars())
    from addon.eventjob import run_event

    return [run_event(container, event_id, now=now) for event_id in ids]


def deliveries(container: Any, company_id: str, *, status: str | None = None, limit: int = 50) -> list[Delivery]:
    """The company's newest deliveries (of one status)."""
    query = select(Delivery).where(Delivery.company_id == company_id)
    if status:
        query = query.where(Delivery.status == DeliveryStatus(status).value)
    with container.unit_of_work() as session:
        return list(session.execute(query.order_by(Delivery.received_at.desc(), Delivery.id).limit(limit)).scalars())


def delivery(container: Any, company_id: str, delivery_id: str) -> Delivery:
    """One delivery of the company, or ``NotFound``."""
    with container.unit_of_work() as session:
        row = session.get(Delivery, delivery_id)
        if row is None or row.company_id != company_id:
            raise NotFound(f"no delivery {delivery_id!r} in company {company_id!r}")
        return row


def events(container: Any, company_id: str, *, status: str | None = None, limit: int = 50) -> list[EventRecord]:
    """The company's newest events (of one status)."""
    query = select(EventRecord).where(EventRecord.company_id == company_id)
    if status:
        query = query.where(EventRecord.status == status)
    with container.unit_of_work() as session:
        return list(session.execute(query.order_by(EventRecord.created_at.desc(), EventRecord.dedupe_key)
                                    .limit(limit)).scalars())


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill stored: new deliveries, lines stored before, and refused lines with reasons."""

    stored: int
    repeated: int
    refused: tuple[tuple[int, str], ...]


def backfill(container: Any, company_id: str, lines, *, endpoint_id: str | None = None, actor: str,
             now: datetime | None = None) -> BackfillReport:
    """Store past events from JSON lines (docs/connectors/generic.md) as deliveries of a generic endpoint.

    Each good line becomes one delivery keyed by its text, so importing a file again stores nothing
    twice; a bad line is reported with its number and the rest still import. Processing is the same
    as for deliveries that arrive over HTTP.
    """
    from connectors import generic

    now = now or utcnow()
    endpoint = _backfill_endpoint(container, company_id, endpoint_id)
    stored = repeated = 0
    refused = []
    texts = [line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape") for line in lines]
    for item in generic.parse_backfill(texts):
        if item.error:
            refused.append((item.number, item.error))
            continue
        # The line's own bytes go into the body: parsing and writing it again could change a number.
        line = texts[item.number - 1].strip()
        key = "backfill:" + hashlib.sha256(line).hexdigest()[:40]
        body = b'{"id": "' + key.encode() + b'", "events": [' + line + b"]}"
        result = store(container, endpoint, key=key, body=body, now=now,
                       headers={"Content-Type": "application/json", "X-Autobill-Backfill": actor})
        stored, repeated = stored + result.new, repeated + (not result.new)
    container.audit.append(company_id, "events.backfilled", actor=actor, subject=f"endpoint:{endpoint.id}",
                           details={"stored": stored, "repeated": repeated, "refused": len(refused)})
    return BackfillReport(stored, repeated, tuple(refused))


def _backfill_endpoint(container: Any, company_id: str, endpoint_id: str | None):
    generic_ones = [e for e in container.endpoints.list(company_id) if e.source == "generic"]
    if endpoint_id is not None:
        generic_ones = [e for e in generic_ones if e.id == endpoint_id]
        if not generic_ones:
            raise NotFound(f"no generic endpoint {endpoint_id!r} in company {company_id!r}")
    if len(generic_ones) != 1:
        raise InvalidInput("backfill needs the company's generic endpoint: "
                           + ("create one with autobill endpoints create --source generic" if not generic_ones
                              else "it has several, name one with --endpoint"))
    return generic_ones[0]
