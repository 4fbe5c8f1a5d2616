"""Where a usage record stands for billing, kept on its head so drafting reads only what is pending.

- ``billed_version``: the last version the record's current agreement consumed (None: never billed it);
- ``pending``: drafting for that agreement must see the current version (new, edited or deleted since
  it was billed);
- ``usage_credits``: agreements that billed the record before it moved elsewhere, and owe a credit.

Locks are always taken agreement first (``lock_agreement``), then usage heads, in every path that
takes both: recording, mapping, drafting (``unbilled`` then ``consume``). One order means no deadlock
between a worker recording an entry and a worker drafting the invoice that bills it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from addon.models.usage import UsageAgreementLock, UsageConsumption, UsageCredit, UsageHead


def lock_agreement(session: Session, company_id: str, agreement_id: str, *, now: datetime) -> None:
    """Hold the agreement's usage lock until the transaction ends (PostgreSQL; SQLite's single
    writer already serializes every transaction)."""
    if session.get_bind().dialect.name == "sqlite":
        return
    stmt = (select(UsageAgreementLock)
            .where(UsageAgreementLock.company_id == company_id, UsageAgreementLock.agreement_id == agreement_id)
            .with_for_update())
    if session.scalars(stmt).first() is not None:
        return
    try:
        with session.begin_nested():
            session.add(UsageAgreementLock(company_id=company_id, agreement_id=agreement_id, checked_at=now))
    except IntegrityError:
        pass  # another worker made the row first; the lock below waits for its transaction
    session.scalars(stmt).first()


def lock_agreements(session: Session, company_id: str, agreement_ids: Iterable[str | None], *,
                    now: datetime) -> None:
    """Lock several agreements, always in the same (sorted) order."""
    for agreement_id in sorted({a for a in agreement_ids if a}):
        lock_agreement(session, company_id, agreement_id, now=now)


def locked_head(session: Session, company_id: str, source: str, source_id: str) -> UsageHead | None:
    """The record's head, locked until the transaction ends, freshly read."""
    stmt = (select(UsageHead)
            .where(UsageHead.company_id == company_id, UsageHead.source == source, UsageHead.source_id == source_id)
            .with_for_update()
            .execution_options(populate_existing=True))
    return session.scalars(stmt).first()


def last_consumption(session: Session, head: UsageHead, agreement_id: str) -> UsageConsumption | None:
    """The agreement's last consumption of the record (the unique key's index answers it)."""
    return session.scalars(
        select(UsageConsumption)
        .where(UsageConsumption.company_id == head.company_id, UsageConsumption.agreement_id == agreement_id,
               UsageConsumption.source == head.source, UsageConsumption.source_id == head.source_id)
        .order_by(UsageConsumption.version.desc()).limit(1)).first()


def refresh_pending(head: UsageHead) -> None:
    """Recompute ``pending`` from the head's version, agreement, deletion and billed version."""
    if head.agreement_id is None:
        head.pending = False
    elif head.billed_version is None:
        head.pending = not head.deleted  # deleted before it was ever billed: nothing to bill or credit
    else:
        head.pending = head.billed_version < head.version


def reassign(session: Session, head: UsageHead, agreement_id: str | None, *, now: datetime) -> None:
    """Give the record to ``agreement_id``: the agreement it leaves owes a credit if it billed it;
    the one it joins picks up what it billed of it before (a record that comes back)."""
    previous = head.agreement_id
    if previous != agreement_id:
        if previous is not None:
            last = last_consumption(session, head, previous)
            if last is not None and not last.deleted and _credit(session, head, previous) is None:
                session.add(UsageCredit(company_id=head.company_id, agreement_id=previous, source=head.source,
                                        source_id=head.source_id, since=now))
        if agreement_id is not None:
            owed = _credit(session, head, agreement_id)
            if owed is not None:
                session.delete(owed)
            last = last_consumption(session, head, agreement_id)
            head.billed_version = last.version if last is not None else None
        else:
            head.billed_version = None
        head.agreement_id = agreement_id
    refresh_pending(head)


def settle(session: Session, head: UsageHead, agreement_id: str, version: int) -> None:
    """A posting of ``agreement_id`` consumed ``version`` of the record."""
    if head.agreement_id == agreement_id:
        if head.billed_version is None or head.billed_version < version:
            head.billed_version = version
        refresh_pending(head)
    else:
        session.execute(delete(UsageCredit).where(
            UsageCredit.company_id == head.company_id, UsageCredit.agreement_id == agreement_id,
            UsageCredit.source == head.source, UsageCredit.source_id == head.source_id))


def consumed_anywhere(session: Session, head: UsageHead) -> bool:
    """True when some agreement consumed the record's current version (then it cannot change in place)."""
    return session.scalars(select(UsageConsumption.id).where(
        UsageConsumption.company_id == head.company_id, UsageConsumption.source == head.source,
        UsageConsumption.source_id == head.source_id, UsageConsumption.version == head.version).limit(1)).first() \
        is not None


def _credit(session: Session, head: UsageHead, agreement_id: str) -> UsageCredit | None:
    return session.get(UsageCredit, (head.company_id, agreement_id, head.source, head.source_id))
