"""Registers the usage ledger with the rest of autobill: its handler for usage events, the project
mapping listener, and the Harvest poll ``tick`` runs. (Intake's mappings, agreements and event raising
are the ledger's neighbours by default: ``addon.usage.providers``.)

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from addon import eventflow, mappings, tick
from addon.models.companies import Company
from addon.models.inbox import Endpoint, EndpointStatus
from addon.models.mappings import MappingKind
from addon.usage.polling import PollAccount, PollReport, poll_account
from addon.usage.records import USAGE_KINDS
from addon.usage.service import handle_usage_event, map_waiting_usage
from connectors import harvest

log = logging.getLogger(__name__)


def on_project_mapping(container, session, mapping: mappings.MappingInfo) -> None:
    """A project mapping was set: usage waiting for it (or never billed) takes its agreement."""
    map_waiting_usage(session, mapping.company_id, mapping.key)


def harvest_accounts(container) -> list[PollAccount]:
    """Every active Harvest endpoint of a company that is not disconnected, with its credentials."""
    with container.unit_of_work() as session:
        rows = session.execute(
            select(Endpoint).join(Company, Company.id == Endpoint.company_id)
            .where(Endpoint.source == harvest.SOURCE,
                   Endpoint.status == EndpointStatus.ACTIVE.value, Company.status != "disconnected")
            .order_by(Endpoint.company_id, Endpoint.id)).scalars().all()
    accounts = []
    for row in rows:
        credentials = json.loads(container.vault.decrypt(row.api_credentials)) if row.api_credentials else None
        accounts.append(PollAccount(row.company_id, row.id, credentials, json.loads(row.settings or "{}")))
    return accounts


def poll_harvest(ctx: tick.TickContext) -> dict[str, int]:
    """Tick task: poll each Harvest account whose turn has come; one failing never stops the others."""
    container = ctx.container
    counts: dict[str, int] = {}
    for account in harvest_accounts(container):
        try:
            report = poll_account(container.database, account, now=ctx.now, settings=container.settings)
        except Exception:  # noqa: BLE001 - the cursor did not move; the next turn tries again
            log.exception("Harvest poll of endpoint %s could not store its entries", account.account)
            report = PollReport(account.account, "failed", reason="storing the entries failed")
        counts[report.status] = counts.get(report.status, 0) + 1
        counts["stored"] = counts.get("stored", 0) + report.stored
    return counts


eventflow.register_handler(USAGE_KINDS, handle_usage_event)
mappings.on_set(MappingKind.PROJECT, on_project_mapping)
tick.register("usage.poll_harvest", poll_harvest)
