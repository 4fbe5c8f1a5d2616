"""The event job's steps: enrichment, customer mapping, then the kind's handler (``eventflow.process_event``),
after the handler's prepare step if it has one (outside any transaction: drafting's item lookups).

Each step reads the event, does its slow part (a vendor API, QuickBooks) outside any transaction,
then writes the result in a short unit of work that first locks the event and checks it is still
where the step found it, so two workers running one event at once change it once. A failed step
keeps the event where it is and schedules the next try (``next_attempt_at``) with a doubling pause;
after ``AUTOBILL_RETRY_LIMIT`` tries, or at once for an error retrying cannot fix, it is ``failed``.
The steps that settle something are audited in the same unit of work, so once each: ``event.mapped``
(its QuickBooks customer found), ``event.ignored`` and ``event.failed`` (unless the handler already
recorded its own, as drafting does).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

import connectors
from addon import customers
from addon.audit import audited_in
from addon.clock import utcnow
from addon.errors import AutobillError
from addon.eventflow import Outcome, event_of, handler_for, needs_customer, next_status, preparer_for
from addon.models.events import OPEN_STATUSES, EventRecord, EventStatus
from addon.sqlutil import for_update
from connectors.base import dropped_reasons
from connectors.errors import ConnectorError, EnrichmentError
from rules.events import Event, event_to_dict

log = logging.getLogger(__name__)
ACTOR = "worker"


Step = tuple[EventRecord | None, bool]  # the row as the step left it (None: another worker moved it), go on?


def run_event(container: Any, event_id: str, *, now: datetime | None = None) -> EventRecord | None:
    """Run every step ``event_id`` still needs, as far as it can go now; the row as it ends."""
    now = now or utcnow()
    steps = {EventStatus.WAITING_ENRICHMENT: _enrich, EventStatus.WAITING_MAPPING: _map_customer,
             EventStatus.READY: _handle}
    row = _read(container, event_id)
    for _ in range(len(steps)):
        if row is None or row.status not in OPEN_STATUSES:
            return row
        row, go_on = steps[EventStatus(row.status)](container, row, now)
        if row is None:
            return _read(container, event_id)
        if not go_on:
            return row
    return row


def _read(container: Any, event_id: str) -> EventRecord | None:
    with container.unit_of_work() as session:
        return session.get(EventRecord, event_id)


def _locked(session, event_id: str, expected: EventStatus) -> EventRecord | None:
    row = session.execute(for_update(select(EventRecord).where(EventRecord.id == event_id))).scalar_one_or_none()
    return row if row is not None and row.status == expected.value else None


def _backoff(container: Any, attempts: int) -> float:
    settings = container.settings
    return min(settings.retry_base * 2 ** max(attempts - 1, 0), settings.retry_max)


def _retry(container: Any, event_id: str, expected: EventStatus, reason: str, now: datetime, *,
           retryable: bool = True, at_least: float | None = None) -> Step:
    """Keep the event where it is, with the reason, until the next try; or fail it."""
    with container.unit_of_work() as session:
        row = _locked(session, event_id, expected)
        if row is None:
            return None, False
        row.attempts += 1
        row.updated_at = now
        limit = container.settings.retry_limit
        if not retryable or row.attempts >= limit:
            row.status, row.closed_at, row.next_attempt_at = EventStatus.FAILED.value, now, None
            row.reason = reason if not retryable else f"{reason} (gave up after {row.attempts} tries)"
            _audit(container, session, row, "event.failed", step=expected.value, attempts=row.attempts)
            return row, False
        row.reason = reason
        row.next_attempt_at = now + timedelta(seconds=max(_backoff(container, row.attempts), at_least or 0))
        return row, False


def _advance(container: Any, event_id: str, expected: EventStatus, now: datetime, *, event: Event | None = None,
             qbo_customer_id: str | None = None) -> Step:
    """Record a finished step (and what it learned) and move the event to the step it needs next."""
    with container.unit_of_work() as session:
        row = _locked(session, event_id, expected)
        if row is None:
            return None, False
        if event is not None:
            row.payload = json.dumps(event_to_dict(event), sort_keys=True)
            row.source_customer_id = event.source_customer.id if event.source_customer else None
        if qbo_customer_id is not None:
            row.qbo_customer_id = qbo_customer_id
        row.status = next_status(row.origin, event or event_of(row), row.qbo_customer_id).value
        row.reason, row.attempts, row.updated_at = None, 0, now
        row.next_attempt_at = now + timedelta(seconds=container.settings.sweep_grace)
        if qbo_customer_id is not None:  # once: the step moves on only from waiting_mapping
            _audit(container, session, row, "event.mapped", source_customer_id=row.source_customer_id,
                   customer_id=qbo_customer_id)
        return row, True


def _close(container: Any, event_id: str, expected: EventStatus, status: EventStatus, reason: str,
           now: datetime) -> Step:
    with container.unit_of_work() as session:
        row = _locked(session, event_id, expected)
        if row is not None:
            row.status, row.reason, row.closed_at, row.updated_at, row.next_attempt_at = (
                status.value, reason, now, now, None)
            _audit(container, session, row, f"event.{status.value}", step=expected.value)
        return row, False


def _wait(container: Any, event_id: str, expected: EventStatus, reason: str, now: datetime,
          retry_in: float | None) -> Step:
    """Leave the event where it is with a reason; tried again after ``retry_in`` seconds (None: when woken)."""
    with container.unit_of_work() as session:
        row = _locked(session, event_id, expected)
        if row is not None:
            row.reason, row.updated_at = reason, now
            row.next_attempt_at = now + timedelta(seconds=retry_in) if retry_in else None
        return row, False


# --- Enrichment -----------------------------------------------------------------------------------

def _enrich(container: Any, row: EventRecord, now: datetime) -> Step:
    step = EventStatus.WAITING_ENRICHMENT
    event = event_of(row)
    enrich = getattr(connectors.get(row.source), "enrich", None)
    if enrich is None or not event.attributes.get("needs_enrichment") or row.endpoint_id is None:
        return _advance(container, row.id, step, now)
    try:
        settings, credentials = container.endpoints.settings_and_credentials(row.endpoint_id)
        result = enrich([event], credentials=credentials, base_url=settings.get("api_base_url"), settings=settings)
    except EnrichmentError as exc:
        return _retry(container, row.id, step, f"enrichment failed: {exc.message}", now,
                      at_least=getattr(exc, "retry_after", None))
    except (ConnectorError, AutobillError) as exc:
        return _retry(container, row.id, step, f"enrichment failed: {exc.message}", now, retryable=exc.retryable)
    except Exception as exc:  # noqa: BLE001 - a bug in enrichment must not lose the event
        log.exception("enrichment of event %s broke", row.id)
        return _retry(container, row.id, step, f"enrichment broke ({type(exc).__name__}); see the worker log", now)
    kept = list(result)
    if not kept:
        reasons = [d.reason for d in dropped_reasons(result)] or ["the source's API has nothing to bill for it"]
        return _close(container, row.id, step, EventStatus.IGNORED, "; ".join(reasons), now)
    return _advance(container, row.id, step, now, event=kept[0])


# --- Customer mapping -----------------------------------------------------------------------------

def _map_customer(container: Any, row: EventRecord, now: datetime) -> Step:
    step = EventStatus.WAITING_MAPPING
    event = event_of(row)
    if not needs_customer(row.origin, event) or row.qbo_customer_id is not None:
        return _advance(container, row.id, step, now)
    try:
        found = customers.resolve(container, row.company_id, row.source, event.source_customer, now=now)
    except AutobillError as exc:  # QuickBooks throttled or unreachable, the company needs reconnecting
        return _retry(container, row.id, step, f"customer mapping waits: {exc.message}", now, retryable=True,
                      at_least=getattr(exc, "retry_after", None))
    except Exception as exc:  # noqa: BLE001 - a bug or a lost database connection must not lose the event
        log.exception("customer mapping of event %s broke", row.id)
        return _retry(container, row.id, step, f"customer mapping broke ({type(exc).__name__}); see the worker log",
                      now)
    if found.customer_id is not None:
        return _advance(container, row.id, step, now, qbo_customer_id=found.customer_id)
    return _wait(container, row.id, step, found.reason, now, found.retry_in)


# --- The handler ----------------------------------------------------------------------------------

def _handle(container: Any, row: EventRecord, now: datetime) -> Step:
    step = EventStatus.READY
    handler = handler_for(row.kind)
    if handler is None:
        return _wait(container, row.id, step, f"no handler for {row.kind}", now, container.settings.idle_retry)
    prepare = preparer_for(row.kind)
    what = "preparing"
    try:
        # The preparer's slow part (QuickBooks lookups) runs before the handler's transaction opens.
        event = prepare(container, row, event_of(row)) if prepare is not None else None
        what = "handler"
        with container.unit_of_work() as session:
            locked = _locked(session, row.id, step)
            if locked is None:
                return None, False
            if prepare is None:
                event = event_of(locked)
            elif locked.payload != row.payload:  # changed since it was prepared: prepared again soon
                locked.next_attempt_at, locked.updated_at = now, now
                return locked, False
            outcome = handler(container, session, locked, event) or Outcome.done()
            _apply(container, session, locked, outcome, now)
        return locked, False
    except Exception as exc:  # noqa: BLE001 - the handler's work rolled back; the event is tried again
        retryable = exc.retryable if isinstance(exc, AutobillError | ConnectorError) else True
        if not isinstance(exc, AutobillError | ConnectorError):
            log.exception("the %s %s broke on event %s", row.kind, what, row.id)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}; see the worker log"
        return _retry(container, row.id, step, f"{what} failed: {message}", now, retryable=retryable,
                      at_least=getattr(exc, "retry_after", None))


def _apply(container: Any, session, row: EventRecord, outcome: Outcome, now: datetime) -> None:
    row.status, row.reason, row.updated_at = outcome.status.value, outcome.reason, now
    if outcome.status in OPEN_STATUSES:
        row.next_attempt_at = now + timedelta(seconds=outcome.retry_in) if outcome.retry_in else None
    else:
        row.closed_at, row.next_attempt_at = now, None
    action = f"event.{outcome.status.value}"
    if outcome.status in (EventStatus.IGNORED, EventStatus.FAILED) and not audited_in(session, action, _subject(row)):
        _audit(container, session, row, action, step=EventStatus.READY.value)  # unless the handler explained it


def _subject(row: EventRecord) -> str:
    return f"event:{row.id}"


def _audit(container: Any, session, row: EventRecord, action: str, **details) -> None:
    """Append one step of the event to its company's chain, in the transaction that records the step."""
    container.audit.append(row.company_id, action, actor=ACTOR, subject=_subject(row), session=session, details={
        "kind": row.kind, "source": row.source, "source_object_id": row.source_object_id,
        "delivery_id": row.delivery_id, **details, "reason": row.reason})
