"""Tick tasks that keep companies connected: token keep-alive and resuming parked work.

Intuit's refresh tokens die after 100 days unused. The keep-alive refreshes every connected
company whose tokens were last refreshed longer ago than ``AUTOBILL_KEEPALIVE_IDLE`` (30 days), so
a company with no billing for a season stays connected. A refusal marks the company "needs
reconnect" (through the token keeper); a transient failure is retried by the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from addon import companyjobs
from addon.ledger.faults import AuthLost, LedgerFault
from addon.models.companies import Company, CompanyStatus, Connection
from addon.models.work import ParkedJob

log = logging.getLogger(__name__)


def keep_alive(ctx) -> dict:
    """Refresh the tokens of connected companies idle for longer than the keep-alive period."""
    container = ctx.container
    cutoff = ctx.now - timedelta(seconds=container.settings.keepalive_idle)
    query = (select(Connection.company_id, Connection.version).join(Company, Company.id == Connection.company_id)
             .where(Company.status == CompanyStatus.CONNECTED.value, Connection.refresh_token.is_not(None),
                    or_(Connection.refreshed_at.is_(None), Connection.refreshed_at < cutoff)))
    with container.unit_of_work() as session:
        due = list(session.execute(query))
    outcome = {"refreshed": 0, "needs_reconnect": 0, "failed": 0}
    for company_id, version in due:
        try:
            container.tokens.refresh(company_id, seen_version=version)
            outcome["refreshed"] += 1
        except AuthLost:
            outcome["needs_reconnect"] += 1
        except LedgerFault as exc:
            log.warning("keep-alive of %s failed (%s); the next run retries", company_id, exc.code)
            outcome["failed"] += 1
    return outcome


def resume_parked(ctx) -> dict:
    """Re-enqueue work parked for companies that are connected again (if resuming at reconnect failed)."""
    container = ctx.container
    query = (select(ParkedJob.company_id).join(Company, Company.id == ParkedJob.company_id)
             .where(Company.status == CompanyStatus.CONNECTED.value).distinct())
    with container.unit_of_work() as session:
        companies = list(session.execute(query).scalars())
    return {"resumed": sum(companyjobs.resume(container, company_id) for company_id in companies)}
