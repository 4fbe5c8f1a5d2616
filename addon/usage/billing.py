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
from addon.models.usage import UsageAgreementLock, UsageConsumption, UsageHead, UsageVersion
from addon.usage.errors import UnknownUsage, UsageAlreadyBilled
from addon.usage.records import as_usage_record
from rules import BusinessKey, Consumption, UsageConsumed, UsageRecord

_CHUNK = 500


def lock_agreement(session: Session, company_id: str, agreement_id: str, *, now: datetime | None = None) -> None:
    """Hold the agreement's usage lock until the transaction ends (threshold checks and drafting
    take it, so neither sees the other half done). SQLite's single writer already serializes."""
    if session.get_bind().dialect.name == "sqlite":
        return
    stmt = (select(UsageAgreementLock)
            .where(UsageAgreementLock.company_id == company_id, UsageAgreementLock.agreement_id == agreement_id)
            .with_for_update())
    row = session.scalars(stmt).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(UsageAgreementLock(company_id=company_id, agreement_id=agreement_id,
                                               checked_at=as_utc(now or clock.utcnow())))
        except IntegrityError:
            pass  # another worker made the row first; the lock below waits for it
        session.scalars(stmt).first()


def unbilled(session: Session, company_id: str, agreement_id: str, *, through: date | None = None,
             lock: bool = True) -> list[UsageRecord]:
    """The agreement's usage drafting must see: current versions it has not consumed (new
    records, and edits and deletions of billed ones), dated on or before ``through`` when given.
    Takes the agreement's usage lock first unless ``lock=False``."""
    if lock:
        lock_agreement(session, company_id, agreement_id)
    last = _last_consumed(session, company_id, agreement_id)
    out: list[UsageRecord] = []
    current = (select(UsageVersion)
               .join(UsageHead, and_(UsageHead.company_id == UsageVersion.company_id,
                                     UsageHead.source == UsageVersion.source,
                                     UsageHead.source_id == UsageVersion.source_id,
                                     UsageHead.version == UsageVersion.version))
               .where(UsageHead.company_id == company_id, UsageHead.agreement_id == agreement_id))
    if through is not None:
        current = current.where(UsageVersion.date <= through)
    for row in session.scalars(current):
        billed = last.pop((row.source, row.source_id), None)
        if billed is None:
            if not row.deleted:  # deleted before it was ever billed: nothing to bill or credit
                out.append(as_usage_record(row))
        elif billed.version < row.version:
            out.append(as_usage_record(row))
    out.extend(_moved_away(session, company_id, agreement_id, last, through))
    return sorted(out, key=lambda r: (r.date, r.source, r.source_id))


def _moved_away(session: Session, company_id: str, agreement_id: str, billed: dict, through: date | None):
    """Records the agreement billed whose current version is another agreement's (or unmapped):
    each comes back as a deletion in this agreement, so it credits what it billed."""
    waiting = [(k, c) for k, c in billed.items() if not c.deleted]
    for chunk in _chunks(waiting):
        ids = [source_id for (_source, source_id), _c in chunk]
        wanted = {key: c for key, c in chunk}
        rows = session.execute(
            select(UsageHead, UsageVersion)
            .join(UsageVersion, and_(UsageVersion.company_id == UsageHead.company_id,
                                     UsageVersion.source == UsageHead.source,
                                     UsageVersion.source_id == UsageHead.source_id,
                                     UsageVersion.version == UsageHead.version))
            .where(UsageHead.company_id == company_id, UsageHead.source_id.in_(ids)))
        for head, row in rows:
            consumed = wanted.get((head.source, head.source_id))
            if consumed is None or head.agreement_id == agreement_id or consumed.version >= head.version:
                continue
            if through is not None and row.date > through:
                continue
            yield as_usage_record(row, agreement_id=agreement_id, deleted=True)


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
    _require_known(session, company_id, fresh)
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
    return Consumed(len(fresh), already)


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
    for chunk in _chunks(sorted({u.source_id for u in items})):
        for row in session.scalars(select(UsageConsumption).where(
                UsageConsumption.company_id == company_id, UsageConsumption.agreement_id == agreement_id,
                UsageConsumption.source_id.in_(chunk))):
            found[(row.source, row.source_id, row.version)] = row
    return found


def _require_known(session, company_id: str, items) -> None:
    wanted = {(u.source, u.source_id, u.version) for u in items}
    for chunk in _chunks(sorted({u.source_id for u in items})):
        for source, source_id, version in session.execute(
                select(UsageVersion.source, UsageVersion.source_id, UsageVersion.version)
                .where(UsageVersion.company_id == company_id, UsageVersion.source_id.in_(chunk))):
            wanted.discard((source, source_id, version))
    if wanted:
        source, source_id, version = sorted(wanted)[0]
        raise UnknownUsage(f"the usage ledger holds no version {version} of {source}:{source_id} "
                           f"for company {company_id}")


def _billed_twice(item: UsageConsumed, other_key: str) -> UsageAlreadyBilled:
    return UsageAlreadyBilled(f"{item.source}:{item.source_id} version {item.version} was already billed by "
                              f"posting {other_key}; draft again")


def _chunks(items: list) -> Iterable[list]:
    items = list(items)
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]
