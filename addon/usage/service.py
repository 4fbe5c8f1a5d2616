"""The usage ledger's services: record a usage event (and check thresholds), map waiting usage when a
project mapping is set, and list usage for people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from addon import clock
from addon.clock import as_utc
from addon.models.usage import UsageHead, UsageVersion
from addon.usage import providers, state
from addon.usage.records import Outcome as UsageOutcome
from addon.usage.records import Recorded, assign_agreement, record_usage
from addon.usage.thresholds import check_thresholds
from rules import Event


@dataclass(frozen=True)
class RecordResult:
    """One usage event recorded, and the threshold events it raised."""

    recorded: Recorded
    raised: tuple[Event, ...] = ()


def record_event(session: Session, company_id: str, event: Event, *, now: datetime | None = None,
                 event_id: str | None = None) -> RecordResult:
    """Record a usage event in the caller's transaction, then check the thresholds of the
    agreements whose usage it changed."""
    now = as_utc(now or clock.utcnow())
    recorded = record_usage(session, company_id, event, now=now, event_id=event_id)
    raised = check_thresholds(session, company_id, recorded.touched, now=now)
    return RecordResult(recorded, tuple(raised))


def handle_usage_event(container, session: Session, event_row, event: Event):
    """The events job's handler for time logged, expense logged and SLA breached events: records the
    usage and says what it did as the event's outcome (the reason people see on the event)."""
    from addon.eventflow import Outcome

    result = record_event(session, event_row.company_id, event, event_id=getattr(event_row, "id", None))
    r = result.recorded
    name = f"{r.source}:{r.source_id}"
    if r.agreement_id and getattr(event_row, "agreement_id", None) is None:
        event_row.agreement_id = r.agreement_id
    if r.outcome is UsageOutcome.UNCHANGED:
        if _recorded_from(session, event_row, r):
            # A replay of the event that stored this version: still done, nothing new.
            return Outcome.done(f"usage {name} version {r.version} already recorded from this event")
        return Outcome.ignored(f"{name} is unchanged since version {r.version}")
    if r.outcome is UsageOutcome.STALE:
        return Outcome.ignored(f"{name} changed again later (version {r.version} is newer): this older change is stale")
    if r.outcome is UsageOutcome.AFTER_DELETION:
        return Outcome.ignored(f"{name} was deleted (version {r.version}); a deletion is final")
    where = f"agreement {r.agreement_id}" if r.agreement_id else "needs mapping (no project mapping for its keys)"
    what = "deleted" if r.deleted else str(r.outcome)
    raised = "".join(f"; raised {e.kind} {e.source_object_id}" for e in result.raised)
    return Outcome.done(f"usage {name} version {r.version} {what}: {where}{raised}")


def _recorded_from(session: Session, event_row, recorded: Recorded) -> bool:
    event_id = getattr(event_row, "id", None)
    return event_id is not None and session.scalars(select(UsageVersion.id).where(
        UsageVersion.company_id == event_row.company_id, UsageVersion.source == recorded.source,
        UsageVersion.source_id == recorded.source_id, UsageVersion.event_id == event_id).limit(1)).first() is not None


def map_waiting_usage(session: Session, company_id: str, key: str, *, now: datetime | None = None) -> list[str]:
    """After a project mapping for ``key`` is set: give usage that waits for a mapping, or that its
    agreement never billed, the agreement its keys now resolve to; then check thresholds. Returns the
    agreements whose usage changed. Billed usage keeps its agreement until its next edit."""
    now = as_utc(now or clock.utcnow())
    candidates = session.scalars(
        select(UsageHead)
        .where(UsageHead.company_id == company_id, UsageHead.deleted.is_(False), UsageHead.billed_version.is_(None),
               UsageHead.mapping_keys.contains(json.dumps(key), autoescape=True))
        .order_by(UsageHead.source, UsageHead.source_id)).all()
    plan = []
    for head in candidates:
        keys = json.loads(head.mapping_keys)
        if key in keys:
            target = providers.resolve_project(session, company_id, head.source, keys)
            if target is not None and target != head.agreement_id:
                plan.append((head.source, head.source_id, head.agreement_id, target))
    touched = {a for _s, _i, old, new in plan for a in (old, new) if a}
    state.lock_agreements(session, company_id, touched, now=now)
    for source, source_id, old, target in plan:
        head = state.locked_head(session, company_id, source, source_id)
        if head is None or head.agreement_id != old or head.deleted or head.billed_version is not None:
            continue  # it changed since we looked: its own next version decides
        assign_agreement(session, head, target, now=now)
    check_thresholds(session, company_id, touched, now=now)
    return sorted(touched)


@dataclass(frozen=True)
class UsageLine:
    """A usage record as people see it: its current version and where it stands."""

    source: str
    source_id: str
    version: int
    kind: str
    date: object
    agreement_id: str | None
    hours: object
    quantity: object
    amount: object
    person: str | None
    description: str
    deleted: bool
    status: str  # needs mapping, unbilled, billed, changed after billing, deleted
    mapping_keys: tuple[str, ...]


def list_usage(session: Session, company_id: str, *, needs_mapping: bool = False,
               agreement_id: str | None = None, limit: int = 500) -> list[UsageLine]:
    """Current usage of a company, newest dates first: all of it, one agreement's, or what needs mapping."""
    stmt = (select(UsageHead, UsageVersion)
            .join(UsageVersion, and_(UsageVersion.company_id == UsageHead.company_id,
                                     UsageVersion.source == UsageHead.source,
                                     UsageVersion.source_id == UsageHead.source_id,
                                     UsageVersion.version == UsageHead.version))
            .where(UsageHead.company_id == company_id))
    if needs_mapping:
        stmt = stmt.where(UsageHead.agreement_id.is_(None), UsageHead.deleted.is_(False))
    if agreement_id is not None:
        stmt = stmt.where(UsageHead.agreement_id == agreement_id)
    stmt = stmt.order_by(UsageHead.date.desc(), UsageHead.source, UsageHead.source_id).limit(limit)
    return [_line(head, row) for head, row in session.execute(stmt).all()]


def _line(head: UsageHead, row: UsageVersion) -> UsageLine:
    if head.agreement_id is None:
        status = "deleted" if head.deleted else "needs mapping"
    elif head.billed_version is None:
        status = "deleted" if head.deleted else "unbilled"
    elif not head.pending:
        status = "billed"
    else:
        status = "deleted after billing" if head.deleted else "changed after billing"
    return UsageLine(head.source, head.source_id, head.version, head.kind, head.date, head.agreement_id,
                     row.hours, row.quantity, row.amount, row.person, row.description or "", head.deleted, status,
                     tuple(json.loads(head.mapping_keys)))
