"""Polling sources without webhooks (Harvest): a tick task per account, cursor kept in ``poll_cursors``.

One poll of one account:
1. claim the account's turn in a short transaction (``not_before`` moves one poll interval ahead), so
   two schedulers ticking the same minute poll it once;
2. poll outside any transaction (a network call never holds a database transaction);
3. store every entry read and, only if the poll was complete, the new cursor, in one transaction:
   the cursor never runs ahead of the entries it covers. A rate limit that ended the poll early
   stores what was read, keeps the cursor, and waits ``Retry-After`` before the next poll; a failure
   keeps the cursor and waits ``AUTOBILL_POLL_RETRY``.
Harvest's rate limit (100 requests per 15 s per account: https://help.getharvest.com/api-v2/introduction/overview/general/)
is respected inside a poll by ``connectors.harvest.poll``, which waits out a short ``Retry-After``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from addon.clock import as_utc
from addon.models.usage import PollCursor
from addon.usage import providers, state
from addon.usage.records import mapping_keys, record_usage
from addon.usage.thresholds import check_thresholds
from connectors import harvest
from connectors.errors import ConnectorError

log = logging.getLogger(__name__)

SLEEP: Callable[[float], None] = time.sleep  # tests replace it, so a rate-limit pause takes no real time


@dataclass(frozen=True)
class PollAccount:
    """One source account to poll: its company, the endpoint that holds its credentials, its settings."""

    company_id: str
    account: str  # the endpoint id
    credentials: Any = field(repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)
    source: str = harvest.SOURCE


@dataclass(frozen=True)
class PollReport:
    """What one account's poll did."""

    account: str
    status: str  # "polled", "partial", "failed", "not due"
    stored: int = 0
    pages: int = 0
    skipped: int = 0
    cursor: str | None = None
    reason: str | None = None


def harvest_credentials(credentials: Any, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Harvest's {"token", "account_id"} from the stored API credentials (a token, or an object with
    ``token``/``access_token`` and ``account_id``) and the endpoint's ``account_id`` setting."""
    if isinstance(credentials, Mapping):
        token = credentials.get("token") or credentials.get("access_token")
        account = credentials.get("account_id") or settings.get("account_id")
    else:
        token, account = credentials, settings.get("account_id")
    return {"token": token, "account_id": account}


def poll_account(database, account: PollAccount, *, now: datetime, settings) -> PollReport:
    """Poll one Harvest account if its turn has come; store its entries, then its cursor."""
    now = as_utc(now)
    with database.unit_of_work() as session:
        cursor = _claim(session, account, now, timedelta(seconds=settings.harvest_poll_interval))
    if cursor is False:
        return PollReport(account.account, "not due")
    try:
        result = harvest.poll(harvest_credentials(account.credentials, account.settings), cursor,
                              base_url=account.settings.get("api_base_url"), now=now, settings=account.settings,
                              max_wait_seconds=settings.harvest_max_wait, sleep=SLEEP)
    except (ConnectorError, ValueError) as exc:
        reason = getattr(exc, "message", None) or str(exc)
        with database.unit_of_work() as session:
            row = _row(session, account)
            row.last_error, row.updated_at = reason, now
            row.not_before = now + timedelta(seconds=settings.poll_retry)
        log.warning("Harvest poll of endpoint %s failed: %s", account.account, reason)
        return PollReport(account.account, "failed", reason=reason)
    for entry_id, reason in result.skipped:
        log.info("Harvest entry %s of endpoint %s skipped: %s", entry_id, account.account, reason)
    with database.unit_of_work() as session:
        # Agreements first, in one order, as every path that locks usage does (addon.usage.state).
        state.lock_agreements(session, account.company_id, {
            providers.resolve_project(session, account.company_id, e.source, mapping_keys(e)) for e in result.events},
            now=now)
        touched: set[str] = set()
        for event in result.events:
            touched.update(record_usage(session, account.company_id, event, now=now).touched)
        row = _row(session, account)
        if result.complete:
            row.cursor, row.polled_at, row.last_error = result.cursor, now, None
        else:
            row.not_before = now + timedelta(seconds=result.retry_after or settings.poll_retry)
            row.last_error = (f"Harvest asked to wait {result.retry_after or 0:g} s; the next poll resumes from "
                              "the same cursor")
        row.updated_at = now
        check_thresholds(session, account.company_id, touched, now=now)
    return PollReport(account.account, "polled" if result.complete else "partial", len(result.events),
                      result.pages, len(result.skipped), row.cursor, row.last_error)


def _row(session: Session, account: PollAccount) -> PollCursor:
    stmt = (select(PollCursor)
            .where(PollCursor.company_id == account.company_id, PollCursor.source == account.source,
                   PollCursor.account == account.account)
            .with_for_update())
    return session.scalars(stmt).one()


def _claim(session: Session, account: PollAccount, now: datetime, interval: timedelta) -> str | None | bool:
    """The cursor to poll from, or False when it is not this account's turn yet."""
    stmt = (select(PollCursor)
            .where(PollCursor.company_id == account.company_id, PollCursor.source == account.source,
                   PollCursor.account == account.account)
            .with_for_update())
    row = session.scalars(stmt).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(PollCursor(company_id=account.company_id, source=account.source,
                                       account=account.account, updated_at=now))
        except IntegrityError:
            pass  # another scheduler made it first; its lock decides below
        row = session.scalars(stmt).one()
    if row.not_before is not None and row.not_before > now:
        return False
    row.not_before, row.updated_at = now + interval, now
    return row.cursor
