"""The usage ledger's services: record a usage event (and check thresholds), map waiting usage when a
project mapping is set, and list usage for people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from addon import clock
from addon.clock import as_utc
from addon.models.usage import UsageConsumption, UsageHead, UsageVersion
from addon.usage import providers
from addon.usage.records import Recorded, record_usage
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


def handle_usage_event(container, session: Session, event_row, event: Event) -> RecordResult:
    """The events job's handler for time logged, expense logged and SLA breached events."""
    return record_event(session, event_row.company_id, event, event_id=getattr(event_row, "id", None))


def map_waiting_usage(session: Session, company_id: str, key: str, *, now: datetime | None = None) -> list[str]:
    """After a project mapping for ``key`` is set: give usage that waits for a mapping, or was never
    billed, the agreement its keys now resolve to; then check thresholds. Returns the agreements
    whose usage changed. Billed usage keeps its agreement until its next edit."""
    now = as_utc(now or clock.utcnow())
    needle = json.dumps(key)
    heads = session.scalars(
        select(UsageHead)
        .where(UsageHead.company_id == company_id, UsageHead.deleted.is_(False),
               UsageHead.mapping_keys.contains(needle, autoescape=True))
        .order_by(UsageHead.source, UsageHead.source_id)
        .with_for_update())
    touched: set[str] = set()
    for head in heads:
        keys = json.loads(head.mapping_keys)
        if key not in keys or (head.agreement_id is not None and _ever_billed(session, head)):
            continue
        target = providers.resolve_project(session, company_id, head.source, keys)
        if target is None or target == head.agreement_id:
            continue
        touched.update(a for a in (head.agreement_id, target) if a)
        head.agreement_id, head.updated_at = target, now
        session.execute(update(UsageVersion)
                        .where(UsageVersion.company_id == company_id, UsageVersion.source == head.source,
                               UsageVersion.source_id == head.source_id, UsageVersion.version == head.version)
                        .values(agreement_id=target))
    session.flush()
    check_thresholds(session, company_id, touched, now=now)
    return sorted(touched)


def _ever_billed(session: Session, head: UsageHead) -> bool:
    return session.scalars(select(UsageConsumption.id).where(
        UsageConsumption.company_id == head.company_id, UsageConsumption.source == head.source,
        UsageConsumption.source_id == head.source_id).limit(1)).first() is not None


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
    rows = session.execute(stmt).all()
    billed = _billed_versions(session, company_id, [(h.source, h.source_id) for h, _ in rows])
    return [_line(head, row, billed.get((head.source, head.source_id, head.agreement_id))) for head, row in rows]


def _billed_versions(session: Session, company_id: str, records) -> dict:
    found: dict[tuple[str, str, str], int] = {}
    ids = sorted({source_id for _source, source_id in records})
    for start in range(0, len(ids), 500):
        for c in session.scalars(select(UsageConsumption).where(
                UsageConsumption.company_id == company_id, UsageConsumption.source_id.in_(ids[start:start + 500]))):
            slot = (c.source, c.source_id, c.agreement_id)
            found[slot] = max(found.get(slot, 0), c.version)
    return found


def _line(head: UsageHead, row: UsageVersion, billed_version: int | None) -> UsageLine:
    if head.agreement_id is None:
        status = "deleted" if head.deleted else "needs mapping"
    elif billed_version is None:
        status = "deleted" if head.deleted else "unbilled"
    elif billed_version >= head.version:
        status = "billed"
    else:
        status = "deleted after billing" if head.deleted else "changed after billing"
    return UsageLine(head.source, head.source_id, head.version, head.kind, head.date, head.agreement_id,
                     row.hours, row.quantity, row.amount, row.person, row.description or "", head.deleted, status,
                     tuple(json.loads(head.mapping_keys)))

