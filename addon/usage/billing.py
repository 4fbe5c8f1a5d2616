"""What drafting reads and what posting records: unbilled usage, and consumption ("billed" means
consumed).

For an agreement, a record is unbilled when its current version is mapped to the agreement and the
agreement has not consumed that version: a new entry, or an edit or deletion of one it billed (the
rules engine bills the difference from the billed version in ``History``). A record the agreement
billed that has since moved to another agreement (or lost its mapping) is handed to it as a
deletion, so the agreement credits what it billed and the new owner bills it in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from addon import clock
from addon.clock import as_utc
from addon.models.usage import UsageConsumption, UsageCredit, UsageHead, UsageVersion
from addon.usage import state
from addon.usage.errors import UnknownUsage, UsageAlreadyBilled
from addon.usage.records import as_usage_record
from rules import BusinessKey, Consumption, UsageConsumed, UsageRecord

_CHUNK = 500


def lock_agreement(session: Session, company_id: str, agreement_id: str, *, now: datetime | None = None) -> None:
    """Hold the agreement's usage lock until the transaction ends (threshold checks and drafting
    take it, so neither sees the other half done). SQLite's single writer already serializes."""
    state.lock_agreement(session, company_id, agreement_id, now=as_utc(now or clock.utcnow()))


def unbilled(session: Session, company_id: str, agreement_id: str, *, through: date | None = None,
             lock: bool = True) -> list[UsageRecord]:
    """The agreement's usage drafting must see: current versions it has not consumed (new
    records, and edits and deletions of billed ones), dated on or before ``through`` when given.
    Takes the agreement's usage lock first unless ``lock=False``."""
    if lock:
        lock_agreement(session, company_id, agreement_id)
    current = and_(UsageVersion.company_id == UsageHead.company_id, UsageVersion.source == UsageHead.source,
                   UsageVersion.source_id == UsageHead.source_id, UsageVersion.version == UsageHead.version)
    pending = (select(UsageVersion).join(UsageHead, current)
               .where(UsageHead.company_id == company_id, UsageHead.agreement_id == agreement_id,
                      UsageHead.pending.is_(True)))
    # Records the agreement billed that moved elsewhere come back as deletions, so it credits them.
    owed = (select(UsageVersion).join(UsageHead, current)
            .join(UsageCredit, and_(UsageCredit.company_id == UsageHead.company_id,
                                    UsageCredit.source == UsageHead.source,
                                    UsageCredit.source_id == UsageHead.source_id))
            .where(UsageCredit.company_id == company_id, UsageCredit.agreement_id == agreement_id))
    if through is not None:
        pending = pending.where(UsageVersion.date <= through)
        owed = owed.where(UsageVersion.date <= through)
    out = [as_usage_record(row) for row in session.scalars(pending)]
    out.extend(as_usage_record(row, agreement_id=agreement_id, deleted=True) for row in session.scalars(owed))
    return sorted(out, key=lambda r: (r.date, r.source, r.source_id))


def _last_consumed(session: Session, company_id: str, agreement_id: str) -> dict[tuple[str, str], UsageConsumption]:
    rows = session.scalars(select(UsageConsumption)
                           .where(UsageConsumption.company_id == company_id,
                                  UsageConsumption.agreement_id == agreement_id))
    last: dict[tuple[str, str], UsageConsumption] = {}
    for row in rows:
        known = last.get((row.source, row.source_id))
        if known is None or known.version < row.version:
            last[(row.source, row.source_id)] = row
    return last


def billed_usage(session: Session, company_id: str, agreement_id: str) -> tuple[UsageConsumed, ...]:
    """The last billed ``UsageConsumed`` of each record the agreement consumed (``History.billed_usage``)."""
    return tuple(UsageConsumed(c.source, c.source_id, c.version, c.component_id, hours=c.hours,
                               quantity=c.quantity, amount=c.amount, deleted=c.deleted)
                 for c in _last_consumed(session, company_id, agreement_id).values())


@dataclass(frozen=True)
class Consumed:
    """What ``consume`` did: rows recorded now, and rows this posting had already recorded."""

    recorded: int
    already: int


def consume(session: Session, company_id: str, consumption: Consumption | Iterable[UsageConsumed],
            posting_key: BusinessKey | str, *, agreement_id: str | None = None,
            now: datetime | None = None) -> Consumed:
    """Mark the usage versions a posting's draft bills as consumed by it, in the caller's
    transaction. Idempotent for the same posting; a version another posting of the agreement
    consumed raises ``UsageAlreadyBilled`` (draft again). ``posting_key`` is the draft's
    ``BusinessKey`` (or its string, with ``agreement_id``)."""
    key, agreement_id = _posting(posting_key, agreement_id, company_id)
    items = list(consumption.usage if isinstance(consumption, Consumption) else consumption)
    if not items:
        return Consumed(0, 0)
    now = as_utc(now or clock.utcnow())
    state.lock_agreement(session, company_id, agreement_id, now=now)
    existing = _existing(session, company_id, agreement_id, items)
    fresh, already = [], 0
    for item in {(u.source, u.source_id, u.version): u for u in items}.values():
        row = existing.get((item.source, item.source_id, item.version))
        if row is None:
            fresh.append(item)
        elif row.posting_key == key:
            already += 1
        else:
            raise _billed_twice(item, row.posting_key)
    heads = _locked_heads(session, company_id, fresh)
    try:
        with session.begin_nested():
            session.add_all(UsageConsumption(
                company_id=company_id, agreement_id=agreement_id, posting_key=key, source=u.source,
                source_id=u.source_id, version=u.version, component_id=u.component_id, hours=u.hours,
                quantity=u.quantity, amount=u.amount, deleted=u.deleted, consumed_at=now) for u in fresh)
    except IntegrityError:
        # A concurrent posting consumed one of them between our read and our insert.
        raise UsageAlreadyBilled(f"usage of agreement {agreement_id} was billed by another posting at the "
                                 "same moment; draft again") from None
    for item in fresh:
        state.settle(session, heads[(item.source, item.source_id)], agreement_id, item.version)
    session.flush()
    return Consumed(len(fresh), already)


def _locked_heads(session: Session, company_id: str, items) -> dict[tuple[str, str], UsageHead]:
    """The heads of the consumed records, locked in one order; every version must exist."""
    heads = {}
    for source, source_id in sorted({(u.source, u.source_id) for u in items}):
        head = state.locked_head(session, company_id, source, source_id)
        if head is not None:
            heads[(source, source_id)] = head
    for u in items:
        head = heads.get((u.source, u.source_id))
        if head is None or not 1 <= u.version <= head.version:
            raise UnknownUsage(f"the usage ledger holds no version {u.version} of {u.source}:{u.source_id} "
                               f"for company {company_id}")
    return heads


def _posting(posting_key, agreement_id: str | None, company_id: str) -> tuple[str, str]:
    if isinstance(posting_key, BusinessKey):
        if posting_key.company_id != company_id:
            raise UnknownUsage(f"posting key of company {posting_key.company_id} used for {company_id}")
        if agreement_id is not None and agreement_id != posting_key.agreement_id:
            raise UnknownUsage(f"posting key of agreement {posting_key.agreement_id} used for {agreement_id}")
        return str(posting_key), posting_key.agreement_id
    if not isinstance(posting_key, str) or not posting_key:
        raise TypeError("posting_key must be a BusinessKey or its string")
    if not agreement_id:
        raise TypeError("consume needs agreement_id when posting_key is a string")
    return posting_key, agreement_id


def _existing(session, company_id: str, agreement_id: str, items) -> dict[tuple[str, str, int], UsageConsumption]:
    found = {}
    sources = sorted({u.source for u in items})
    for chunk in _chunks(sorted({u.source_id for u in items})):
        for row in session.scalars(select(UsageConsumption).where(
                UsageConsumption.company_id == company_id, UsageConsumption.agreement_id == agreement_id,
                UsageConsumption.source.in_(sources), UsageConsumption.source_id.in_(chunk))):
            found[(row.source, row.source_id, row.version)] = row
    return found


def _billed_twice(item: UsageConsumed, other_key: str) -> UsageAlreadyBilled:
    return UsageAlreadyBilled(f"{item.source}:{item.source_id} version {item.version} was already billed by "
                              f"posting {other_key}; draft again")


def _chunks(items: list) -> Iterable[list]:
    items = list(items)
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]
