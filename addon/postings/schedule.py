"""The scheduler's billing (tick tasks): period closes raised as events, and the threshold safety net.

Each agreement with a ``period_closed`` rule has a cursor (``billing_cursors``): the instant through
which its boundaries have been raised, and when the next one falls due. A tick at ``now`` raises
the ``period_closed`` events of the boundaries due in ``(through, now]``, computed in the agreement's
time zone and anchored to its start (``rules.due_periods``), and moves the cursor, all in one
transaction under the cursor's row lock. Two schedulers at once, or a doubled tick, raise nothing
twice: the second sees the cursor moved, the events table dedupes on the boundary, and the business key
makes the period billable once. A missed tick catches up; more than ``AUTOBILL_BACKLOG_PERIODS`` due at
once for one agreement is a backlog: those events carry ``backlog`` and their drafts are held before
create for a person to look at.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.eventflow import raise_event
from addon.models.agreements import AgreementRecord
from addon.models.companies import Company, CompanyStatus
from addon.models.postings import BillingCursor
from addon.postings.sqlinsert import insert_unless_present
from rules import Agreement, EventKind, due_periods, period_event

log = logging.getLogger(__name__)
NOTHING_RAISED = datetime(1970, 1, 1, tzinfo=UTC)
RECHECK = timedelta(days=1)
# A month-end raises thousands of period closes: a transaction (a connection check-out, its pre-ping, a
# commit) per agreement cost about as much as raising the close itself. Each agreement keeps its own
# savepoint, so one that fails leaves the others' closes standing; cursor locks are held for one batch.
AGREEMENTS_PER_TRANSACTION = 50
LOOKAHEAD = timedelta(days=800)  # the longest usual cycle (two years) fits; longer ones are checked again then


def has_rule(agreement: Agreement, kind: EventKind) -> bool:
    """True when one of the agreement's rules answers ``kind``."""
    return any(rule.when.kind is kind for rule in agreement.rules)


def next_due(agreement: Agreement, now: datetime) -> datetime:
    """When the agreement's next boundary after ``now`` falls due (or when to look again)."""
    upcoming = due_periods(agreement, now + LOOKAHEAD, since=now)
    return upcoming[0].due_at if upcoming else now + LOOKAHEAD


def _cursor(session: Session, company_id: str, agreement_id: str, now: datetime) -> tuple[BillingCursor, bool]:
    fresh = insert_unless_present(session, BillingCursor, {
        "company_id": company_id, "agreement_id": agreement_id, "through": now, "next_due_at": None,
        "updated_at": now}, ("company_id", "agreement_id"))
    row = session.execute(select(BillingCursor).where(
        BillingCursor.company_id == company_id, BillingCursor.agreement_id == agreement_id)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    return row, fresh


def _not_scheduled(session: Session, company_id: str, agreement_id: str, now: datetime) -> None:
    # Nothing raised yet (the cursor stays at the epoch), so a period rule added later bills from the
    # start, visibly as a backlog; looked at again daily.
    cursor, fresh = _cursor(session, company_id, agreement_id, now)
    if fresh:
        cursor.through = NOTHING_RAISED
    cursor.next_due_at, cursor.updated_at = now + RECHECK, now


def raise_due_periods(container, session: Session, agreement: Agreement, now: datetime) -> int:
    """Raise the agreement's period closes due through ``now`` (in the caller's transaction); how many."""
    cursor, fresh = _cursor(session, agreement.company_id, agreement.id, now)
    since = None if fresh else cursor.through
    if since is not None and since >= now:
        return 0
    due = due_periods(agreement, now, since=since)
    backlog = len(due) > container.settings.backlog_periods
    for period in due:
        event = period_event(agreement, period)
        if backlog:
            event = replace(event, attributes={**event.attributes, "backlog": True})
        raise_event(session, agreement.company_id, event, now=now, container=container)
    cursor.through = now
    cursor.next_due_at = next_due(agreement, now)
    cursor.updated_at = now
    if backlog:
        container.audit.append(agreement.company_id, "billing.backlog", actor="tick",
                               subject=f"agreement:{agreement.id}", session=session,
                               details={"periods": [p.boundary for p in due], "limit": container.settings.backlog_periods,
                                        "held_for_review": True})
    return len(due)


def _due_agreement_ids(session: Session, company_id: str, now: datetime) -> list[str]:
    """Agreements without a cursor, changed since their cursor moved, or whose next boundary is due."""
    rows = session.execute(
        select(AgreementRecord.id, AgreementRecord.updated_at, BillingCursor.next_due_at, BillingCursor.updated_at)
        .outerjoin(BillingCursor, (BillingCursor.company_id == AgreementRecord.company_id)
                   & (BillingCursor.agreement_id == AgreementRecord.id))
        .where(AgreementRecord.company_id == company_id).order_by(AgreementRecord.id)).all()
    return [agreement_id for agreement_id, changed, next_at, moved in rows
            if next_at is None or next_at <= now or (moved is not None and changed > moved)]


def bill_periods(container, now: datetime) -> int:
    """Tick task: raise every connected company's due period closes; how many events."""
    raised = 0
    with container.unit_of_work() as session:
        companies = session.execute(select(Company.id).where(
            Company.status == CompanyStatus.CONNECTED.value).order_by(Company.id)).scalars().all()
    for company_id in companies:
        with container.unit_of_work() as session:
            due = _due_agreement_ids(session, company_id, now)
        for start in range(0, len(due), AGREEMENTS_PER_TRANSACTION):
            raised += _bill_some(container, company_id, due[start:start + AGREEMENTS_PER_TRANSACTION], now)
    return raised


def _bill_some(container, company_id: str, agreement_ids: list[str], now: datetime) -> int:
    """Raise the period closes of a few agreements in one transaction, each in a savepoint of its own."""
    raised = 0
    try:
        with container.unit_of_work() as session:
            for agreement_id in agreement_ids:
                try:
                    with session.begin_nested():
                        agreement = container.agreements.agreement(company_id, agreement_id, session=session)
                        if has_rule(agreement, EventKind.PERIOD_CLOSED):
                            raised += raise_due_periods(container, session, agreement, now)
                        else:
                            _not_scheduled(session, company_id, agreement_id, now)
                except Exception:  # noqa: BLE001 - one broken agreement must not stop the others' billing
                    log.exception("period billing of agreement %s of %s failed", agreement_id, company_id)
    except Exception:  # noqa: BLE001 - the database failed the whole batch: the next tick raises it
        log.exception("period billing of %d agreement(s) of %s failed", len(agreement_ids), company_id)
        return 0
    return raised


def check_thresholds_everywhere(container, now: datetime) -> int:
    """Tick task (safety net): raise threshold crossings the usage ledger's own check may have missed."""
    from addon.usage import check_thresholds

    raised = 0
    with container.unit_of_work() as session:
        companies = session.execute(select(Company.id).where(
            Company.status == CompanyStatus.CONNECTED.value).order_by(Company.id)).scalars().all()
    for company_id in companies:
        with container.unit_of_work() as session:
            agreements = [a.id for a in container.agreements.all(company_id, session=session)
                          if has_rule(a, EventKind.THRESHOLD_CROSSED)]
        for agreement_id in agreements:
            with container.unit_of_work() as session:
                raised += len(check_thresholds(session, company_id, [agreement_id], now=now))
    return raised
