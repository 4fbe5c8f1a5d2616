"""Events on their way to a handler: statuses, one handler per kind, raising events, waking and sweeping.

An event is a ``rules.Event`` stored in the ``events`` table with a status (``EventStatus``) and a
reason. Events a connector read from a delivery go through enrichment (the source's API) and
customer mapping before they are ``ready``; events raised by tick and the usage ledger carry their
company and agreement and start ``ready``. The event job (``process_event``, queue ``events``) runs
the steps an event still needs and then calls the handler registered for its kind, inside one unit
of work, and closes the event in that same transaction. Without a handler an event stays ``ready``
with the reason ``no handler for <kind>``. docs/architecture.md documents this contract.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from addon.clock import utcnow
from addon.models.base import new_id
from addon.models.events import OPEN_STATUSES, EventOrigin, EventRecord, EventStatus
from addon.rqjobs import without_live_jobs
from addon.sqlutil import insert_unless_present, short_key
from rules.events import Event, EventKind, event_from_dict, event_to_dict

log = logging.getLogger(__name__)

# Usage events are mapped to agreements by project (the usage ledger's work), never to a customer here.
USAGE_KINDS = frozenset({EventKind.TIME_LOGGED, EventKind.EXPENSE_LOGGED, EventKind.SLA_BREACHED})
SWEEP_LIMIT = 1000

__all__ = ["EventStatus", "OPEN_STATUSES", "Outcome", "USAGE_KINDS", "after_commit", "enqueue_after_commit",
           "event_of", "handler_for", "preparer_for", "process_event", "raise_event", "register_handler", "sweep",
           "unregister_handler", "wake", "wake_customer"]


@dataclass(frozen=True)
class Outcome:
    """What a handler did with an event: ``done`` (the default), ``ignored``, ``failed``, or still waiting
    (``waiting_mapping`` or ``ready``, tried again after ``retry_in`` seconds, or when woken)."""

    status: EventStatus = EventStatus.DONE
    reason: str | None = None
    retry_in: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", EventStatus(self.status))
        if self.status is EventStatus.WAITING_ENRICHMENT:
            raise ValueError("a handler cannot send an event back to enrichment")

    @classmethod
    def done(cls, reason: str | None = None) -> Outcome:
        """The event is handled."""
        return cls(EventStatus.DONE, reason)

    @classmethod
    def ignored(cls, reason: str) -> Outcome:
        """The event bills nothing, for ``reason``."""
        return cls(EventStatus.IGNORED, reason)

    @classmethod
    def failed(cls, reason: str) -> Outcome:
        """The event cannot be handled and retrying will not help."""
        return cls(EventStatus.FAILED, reason)

    @classmethod
    def waiting_mapping(cls, reason: str, retry_in: float | None = None) -> Outcome:
        """The event waits for a mapping (a person, or a listener that wakes it)."""
        return cls(EventStatus.WAITING_MAPPING, reason, retry_in)

    @classmethod
    def later(cls, reason: str, retry_in: float) -> Outcome:
        """Not yet: offer the event to the handler again after ``retry_in`` seconds."""
        return cls(EventStatus.READY, reason, retry_in)


Handler = Callable[[Any, Session, EventRecord, Event], Outcome | None]
# Runs before the handler, outside any transaction, for the slow part (QuickBooks lookups): returns
# the event the handler is given (the stored one, or one carrying what it found).
Preparer = Callable[[Any, EventRecord, Event], Event]
_HANDLERS: dict[EventKind, Handler] = {}
_PREPARERS: dict[Handler, Preparer] = {}  # by handler, so re-registering a handler keeps its step


def _kinds(kinds: EventKind | str | Iterable[EventKind | str]) -> list[EventKind]:
    if isinstance(kinds, str):
        kinds = [kinds]
    return [EventKind(k) for k in kinds]


def register_handler(kinds: EventKind | str | Iterable[EventKind | str], handler: Handler, *,
                     replace: bool = False, prepare: Preparer | None = None) -> None:
    """Make ``handler(container, session, event_row, event) -> Outcome | None`` handle events of ``kinds``;
    ``prepare(container, event_row, event) -> Event``, if given, runs first, outside any transaction.

    One handler per kind: registering another for a kind that has one is refused unless ``replace``.
    """
    for kind in _kinds(kinds):
        present = _HANDLERS.get(kind)
        if present is not None and present is not handler and not replace:
            raise ValueError(f"{kind.value} events already have a handler ({getattr(present, '__qualname__', present)})")
        _HANDLERS[kind] = handler
    if prepare is not None:
        _PREPARERS[handler] = prepare


def unregister_handler(kinds: EventKind | str | Iterable[EventKind | str]) -> None:
    """Remove the handlers of ``kinds`` (tests use it)."""
    for kind in _kinds(kinds):
        _HANDLERS.pop(kind, None)


def handler_for(kind: EventKind | str) -> Handler | None:
    """The handler registered for ``kind``, if any."""
    return _HANDLERS.get(EventKind(kind))


def preparer_for(kind: EventKind | str) -> Preparer | None:
    """The step registered to run before ``kind``'s handler, if any."""
    handler = _HANDLERS.get(EventKind(kind))
    return _PREPARERS.get(handler) if handler is not None else None


# --- After commit -------------------------------------------------------------------------------

AFTER_COMMIT_KEY = "_autobill_after_commit"  # [(transaction registered in, callback)]


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``session``'s outermost transaction commits; dropped if that transaction, or
    the savepoint it was registered in, rolls back.

    SQLAlchemy signals ``after_commit`` when a savepoint is released and ``after_rollback`` when one
    is rolled back, not only at the end of the transaction: reacting to those, a job would be enqueued
    before its rows are committed (it would find nothing), or a savepoint's failure would forget the
    whole transaction's jobs. https://docs.sqlalchemy.org/en/20/orm/events.html#sqlalchemy.orm.SessionEvents.after_commit
    """
    if not session.info.get("_autobill_listening"):
        session.info["_autobill_listening"] = True
        sa_event.listen(session, "after_commit", _run_callbacks)
        sa_event.listen(session, "after_soft_rollback", _drop_callbacks)
    where = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(AFTER_COMMIT_KEY, []).append((where, callback))


def _run_callbacks(session: Session) -> None:
    root = session.get_transaction()
    if root is not None and root.is_active:
        return  # a savepoint was released; the transaction goes on
    callbacks = session.info.pop(AFTER_COMMIT_KEY, [])
    for _, callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - the commit stands; the sweeper re-enqueues what was missed
            log.exception("an after-commit step failed; the sweeper will pick the work up")


def _within(transaction, outer) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _drop_callbacks(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(AFTER_COMMIT_KEY, None)
        return
    pending = session.info.get(AFTER_COMMIT_KEY)
    if pending:
        pending[:] = [(where, callback) for where, callback in pending if not _within(where, previous_transaction)]


def current_container(container: Any = None) -> Any:
    """``container``, or this process's (jobs and after-commit steps run without one at hand)."""
    if container is not None:
        return container
    from addon import bootstrap

    return bootstrap.current()


def enqueue_after_commit(session: Session, event_ids: Iterable[str], container: Any = None) -> None:
    """Enqueue ``process_event`` for each id once ``session`` commits (never for uncommitted rows)."""
    ids = list(event_ids)
    if ids:
        after_commit(session, lambda: enqueue_events(current_container(container), ids))


def event_job_id(event_id: str) -> str:
    """The RQ job id of an event's job: one name per event, so the sweeper can see it is still queued."""
    return f"event-{event_id}"


def enqueue_events(container: Any, event_ids: list[str]) -> None:
    """Put ``process_event`` jobs for ``event_ids`` on the ``events`` queue now."""
    queue = container.queue("events")
    queue.enqueue_many([queue.prepare_data(process_event, (event_id,), job_id=event_job_id(event_id))
                        for event_id in event_ids])


# --- Storing events -------------------------------------------------------------------------------

def event_of(row: EventRecord) -> Event:
    """The ``rules.Event`` a row stores."""
    return event_from_dict(json.loads(row.payload))


def needs_customer(origin: str, event: Event) -> bool:
    """True when the event bills a source customer that must map to a QuickBooks customer first."""
    return (origin == EventOrigin.DELIVERY and event.kind not in USAGE_KINDS and event.agreement_id is None
            and event.source_customer is not None)


def next_status(origin: str, event: Event, qbo_customer_id: str | None) -> EventStatus:
    """The first step an event still needs: enrichment, customer mapping, or its handler."""
    if origin == EventOrigin.DELIVERY and event.attributes.get("needs_enrichment"):
        return EventStatus.WAITING_ENRICHMENT
    if needs_customer(origin, event) and qbo_customer_id is None:
        return EventStatus.WAITING_MAPPING
    return EventStatus.READY


def _values(company_id: str, event: Event, *, key: str, origin: EventOrigin, now: datetime, grace: float,
            delivery_id: str | None = None, endpoint_id: str | None = None) -> dict[str, Any]:
    customer = event.source_customer
    return {
        "id": new_id("ev"), "company_id": company_id, "dedupe_key": key, "origin": origin.value,
        "delivery_id": delivery_id, "endpoint_id": endpoint_id, "source": event.source, "kind": event.kind.value,
        "source_object_id": event.source_object_id, "source_customer_id": customer.id if customer else None,
        "occurred_at": event.occurred_at, "payload": json.dumps(event_to_dict(event), sort_keys=True),
        "status": next_status(origin, event, None).value, "reason": None, "attempts": 0,
        # If no job runs it within the grace (Redis lost it), the sweeper enqueues it again.
        "next_attempt_at": now + timedelta(seconds=grace), "qbo_customer_id": None,
        "agreement_id": event.agreement_id, "created_at": now, "updated_at": now, "closed_at": None,
    }


def raise_event(session: Session, company_id: str, event: Event, *, now: datetime | None = None,
                container: Any = None) -> EventRecord | None:
    """Store an event tick or the usage ledger raised (it names its agreement) and enqueue it after commit.

    Deduped on (company, source, kind, source object): a repeat returns None and changes nothing.
    """
    if event.company_id not in (None, company_id):
        raise ValueError(f"the event belongs to company {event.company_id!r}, not {company_id!r}")
    event = replace(event, company_id=company_id)
    key = short_key(f"raised:{event.source}:{event.kind.value}:{event.source_object_id}")
    grace = current_container(container).settings.sweep_grace
    values = _values(company_id, event, key=key, origin=EventOrigin.RAISED, now=now or utcnow(), grace=grace)
    if not insert_unless_present(session, EventRecord, values, ("company_id", "dedupe_key")):
        return None
    enqueue_after_commit(session, [values["id"]], container)
    return session.get(EventRecord, values["id"])


def add_delivery_events(session: Session, *, company_id: str, delivery_id: str, endpoint_id: str,
                        events: list[Event], now: datetime, grace: float) -> list[str]:
    """Store a delivery's events once each (``delivery:<id>:<n>``); the ids of those new now."""
    created = []
    for n, event in enumerate(events):
        values = _values(company_id, event, key=f"delivery:{delivery_id}:{n}", origin=EventOrigin.DELIVERY,
                         now=now, grace=grace, delivery_id=delivery_id, endpoint_id=endpoint_id)
        if insert_unless_present(session, EventRecord, values, ("company_id", "dedupe_key")):
            created.append(values["id"])
    return created


def reopen(row: EventRecord, now: datetime) -> None:
    """Put an event back at the first step it still needs (``autobill replay``), whatever its status."""
    row.status = next_status(row.origin, event_of(row), row.qbo_customer_id).value
    row.reason, row.attempts, row.closed_at = None, 0, None
    row.next_attempt_at, row.updated_at = now, now


# --- Waking and sweeping --------------------------------------------------------------------------

def wake(session: Session, event_ids: Iterable[str], container: Any = None) -> int:
    """Enqueue these open events after commit (a mapping they waited for was set); how many."""
    ids = list(event_ids)
    enqueue_after_commit(session, ids, container)
    return len(ids)


def wake_customer(session: Session, company_id: str, source: str, source_customer_id: str,
                  container: Any = None) -> int:
    """Wake the events of one source customer that wait for their customer mapping; how many."""
    ids = session.execute(select(EventRecord.id).where(
        EventRecord.company_id == company_id, EventRecord.source == source,
        EventRecord.source_customer_id == source_customer_id,
        EventRecord.status == EventStatus.WAITING_MAPPING.value)).scalars().all()
    return wake(session, ids, container)


def sweep(container: Any, now: datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Enqueue open events whose next attempt is due (Redis lost them, or a retry is due); how many."""
    grace = timedelta(seconds=container.settings.sweep_grace)
    with container.unit_of_work() as session:
        ids = session.execute(
            select(EventRecord.id)
            .where(EventRecord.next_attempt_at <= now, EventRecord.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(EventRecord.next_attempt_at).limit(limit)).scalars().all()
        if ids:
            # Pushed forward, so an enqueued event is not enqueued again each tick while it waits its turn;
            # one whose job is still in the queue (a long backlog) is left to that job.
            session.execute(update(EventRecord).where(EventRecord.id.in_(ids)).values(next_attempt_at=now + grace))
            ids = without_live_jobs(container.queue("events"), ids, event_job_id)
            enqueue_after_commit(session, ids, container)
    return len(ids)


def process_event(event_id: str) -> str:
    """RQ job (queue ``events``): run the steps the event still needs; safe to run twice. Returns its status."""
    from addon.eventjob import run_event

    row = run_event(current_container(), event_id)
    return row.status if row is not None else "missing"
