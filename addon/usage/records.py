"""Recording usage: each usage event becomes a version of its record, once.

A record is (company, source, source id). A new version is stored only when the billing content
(every ``rules.UsageRecord`` field but the version) or the agreement changed; an identical re-read
(Harvest's poll overlap, a redelivered webhook) is not a version. A deletion is the final version.
Versions of one record are ordered by the source's time of change, so a delivery that arrives late
with an older change is stale and kept out; sources that send no time of change (Clockify) are
ordered by arrival (docs/decisions.md, "Usage ledger").
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from addon.clock import as_utc
from addon.models.usage import UsageHead, UsageVersion
from addon.usage import providers
from addon.usage.errors import NotUsage
from addon.usage.state import consumed_anywhere, lock_agreements, locked_head, reassign, refresh_pending
from rules import Event, EventKind, UsageRecord, usage_from_event

USAGE_KINDS = (EventKind.TIME_LOGGED, EventKind.EXPENSE_LOGGED, EventKind.SLA_BREACHED)
# Sources whose events carry no time of change: their versions follow the order of arrival.
ARRIVAL_ORDERED_SOURCES = frozenset({"clockify"})
log = logging.getLogger(__name__)
_CONTENT = tuple(f.name for f in fields(UsageRecord) if f.name not in ("version", "agreement_id"))


class Outcome(StrEnum):
    """What recording one usage event did."""

    NEW = "new"  # the first version of a record
    CHANGED = "changed"  # a new version (an edit, a deletion, or a move to another agreement)
    MAPPED = "mapped"  # the same content, now mapped to an agreement it was waiting for
    UNCHANGED = "unchanged"  # the same content again: no version
    STALE = "stale"  # older than the current version's change: kept out
    AFTER_DELETION = "after_deletion"  # the record was deleted; a deletion is final


@dataclass(frozen=True)
class Recorded:
    """The outcome for one usage event, and the agreements whose usage it changed."""

    outcome: Outcome
    source: str
    source_id: str
    version: int
    agreement_id: str | None
    previous_agreement_id: str | None = None
    deleted: bool = False

    @property
    def touched(self) -> tuple[str, ...]:
        """Agreements whose unbilled usage changed (their thresholds need a look)."""
        if self.outcome in (Outcome.UNCHANGED, Outcome.STALE, Outcome.AFTER_DELETION):
            return ()
        return tuple(sorted({a for a in (self.agreement_id, self.previous_agreement_id) if a}))


def fingerprint(record: UsageRecord) -> str:
    """SHA-256 of a record's billing content (not its version or agreement)."""
    content = {name: getattr(record, name) for name in _CONTENT}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mapping_keys(event: Event) -> list[str]:
    """The mapping keys a connector offered, most specific first (anything else is ignored)."""
    keys = event.attributes.get("mapping_keys")
    if not isinstance(keys, list | tuple):
        return []
    return [k for k in keys if isinstance(k, str) and k]


def record_usage(session: Session, company_id: str, event: Event, *, now: datetime,
                 event_id: str | None = None) -> Recorded:
    """Store ``event`` (time logged, expense logged, SLA breached) as a version of its usage record."""
    if event.kind not in USAGE_KINDS:
        raise NotUsage(f"{event.kind} events carry no usage")
    if event.company_id is not None and event.company_id != company_id:
        raise NotUsage(f"the event belongs to company {event.company_id}, not {company_id}")
    try:
        record = usage_from_event(event, version=1)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise NotUsage(f"usage event {event.source}:{event.source_object_id} cannot be read: {exc}") from None
    keys = mapping_keys(event)
    named = event.agreement_id
    if named is not None and providers.agreement(session, company_id, named) is None:
        # A sender may name an agreement (the generic connector); one this company does not have
        # is treated as no name at all, so the usage waits for a mapping instead of vanishing.
        log.warning("usage %s:%s names agreement %s, unknown in company %s", event.source,
                    event.source_object_id, named, company_id)
        named = None
        event = replace(event, agreement_id=None)
    agreement_id = named or providers.resolve_project(session, company_id, event.source, keys)
    print_ = fingerprint(record)
    now = as_utc(now)
    # Agreements before the record's head, as everywhere (addon.usage.state): peek at the head unlocked
    # to learn the agreement it may leave.
    peek = session.get(UsageHead, (company_id, event.source, event.source_object_id))
    locked = {a for a in (agreement_id, peek.agreement_id if peek is not None else None) if a}
    lock_agreements(session, company_id, locked, now=now)
    head = locked_head(session, company_id, event.source, event.source_object_id)
    if head is None:
        head = _first_version(session, company_id, event, record, agreement_id, keys, print_, now, event_id)
        if head is not None:
            return Recorded(Outcome.NEW, event.source, event.source_object_id, 1, agreement_id,
                            deleted=record.deleted)
        # Another worker stored the first version meanwhile: carry on as an update of it.
        head = locked_head(session, company_id, event.source, event.source_object_id)
    if head.agreement_id and head.agreement_id not in locked:
        lock_agreements(session, company_id, [head.agreement_id], now=now)  # it moved while we looked
    return _next_version(session, head, event, record, agreement_id, keys, print_, now, event_id)


def _first_version(session, company_id, event, record, agreement_id, keys, print_, now, event_id) -> UsageHead | None:
    head = UsageHead(company_id=company_id, source=event.source, source_id=event.source_object_id, version=1,
                     kind=record.kind.value, date=record.date, agreement_id=agreement_id, deleted=record.deleted,
                     fingerprint=print_, mapping_keys=json.dumps(keys), changed_at=as_utc(event.occurred_at),
                     updated_at=now, billed_version=None)
    refresh_pending(head)
    try:
        with session.begin_nested():
            session.add(head)
            session.add(_version_row(company_id, event, replace(record, agreement_id=agreement_id), keys, print_,
                                     now, event_id))
    except IntegrityError:
        return None
    return head


def _next_version(session, head: UsageHead, event, record, agreement_id, keys, print_, now, event_id) -> Recorded:
    def outcome(kind: Outcome, previous: str | None = None) -> Recorded:
        return Recorded(kind, head.source, head.source_id, head.version, head.agreement_id, previous, head.deleted)

    changed_at = as_utc(event.occurred_at)
    if head.deleted:
        return outcome(Outcome.AFTER_DELETION)
    if head.source not in ARRIVAL_ORDERED_SOURCES and changed_at < head.changed_at:
        return outcome(Outcome.STALE)
    keys_changed = head.mapping_keys != json.dumps(keys)
    if keys_changed:
        head.mapping_keys = json.dumps(keys)
        head.updated_at = now
    previous = head.agreement_id
    if record.deleted or (not keys and event.agreement_id is None) or (agreement_id is None and not keys_changed):
        # A deletion belongs where the record was (deletions often carry no project); an event naming
        # no key, or the keys the record already had, never unmaps it (its mapping may be gone, or the
        # resolver not wired). Keys that changed and map to nothing move it to "needs mapping".
        agreement_id = previous
    if print_ == head.fingerprint:
        if agreement_id == previous:
            return outcome(Outcome.UNCHANGED)
        if previous is None:
            assign_agreement(session, head, agreement_id, now=now)  # waiting usage found its agreement
            return outcome(Outcome.MAPPED)
    head.version += 1
    head.kind, head.date, head.deleted, head.fingerprint = record.kind.value, record.date, record.deleted, print_
    head.changed_at, head.updated_at = max(changed_at, head.changed_at), now
    reassign(session, head, agreement_id, now=now)
    session.add(_version_row(head.company_id, event, replace(record, version=head.version, agreement_id=agreement_id),
                             keys, print_, now, event_id))
    session.flush()
    return outcome(Outcome.CHANGED, previous if previous != agreement_id else None)


def assign_agreement(session: Session, head: UsageHead, agreement_id: str, *, now: datetime) -> None:
    """Map a record that waits (or was never billed) to ``agreement_id``: in place while no invoice
    consumed its current version, else as a new version (what was billed stays as it was billed)."""
    current = session.scalars(select(UsageVersion).where(
        UsageVersion.company_id == head.company_id, UsageVersion.source == head.source,
        UsageVersion.source_id == head.source_id, UsageVersion.version == head.version)).one()
    if consumed_anywhere(session, head):
        head.version += 1
        copy = {c.key: getattr(current, c.key) for c in UsageVersion.__table__.columns if c.key != "id"}
        session.add(UsageVersion(**{**copy, "version": head.version, "agreement_id": agreement_id,
                                    "received_at": now, "event_id": None, "source_event_id": None}))
    else:
        current.agreement_id = agreement_id
    head.updated_at = now
    reassign(session, head, agreement_id, now=now)
    session.flush()


def _version_row(company_id: str, event: Event, record: UsageRecord, keys: list[str], print_: str,
                 now: datetime, event_id: str | None) -> UsageVersion:
    return UsageVersion(
        company_id=company_id, source=record.source, source_id=record.source_id, version=record.version,
        kind=record.kind.value, date=record.date, agreement_id=record.agreement_id, person=record.person,
        role=record.role, task=record.task, project=record.project, hours=record.hours, quantity=record.quantity,
        billable=record.billable, amount=record.amount, rate=record.rate, currency=record.currency,
        description=record.description, deleted=record.deleted, taxable=record.taxable,
        mapping_keys=json.dumps(keys), fingerprint=print_, changed_at=as_utc(event.occurred_at), received_at=now,
        event_id=event_id, source_event_id=event.source_event_id)


def as_usage_record(row: UsageVersion, **changes) -> UsageRecord:
    """The ``rules.UsageRecord`` a stored version is."""
    record = UsageRecord(
        kind=row.kind, source=row.source, source_id=row.source_id, version=row.version, date=row.date,
        agreement_id=row.agreement_id, person=row.person, role=row.role, task=row.task, project=row.project,
        hours=row.hours, quantity=row.quantity, billable=row.billable, amount=row.amount, rate=row.rate,
        currency=row.currency, description=row.description or "", deleted=row.deleted, taxable=row.taxable)
    return replace(record, **changes) if changes else record
