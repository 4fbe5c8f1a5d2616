"""Registers the usage ledger with the rest of autobill: its handler for usage events, the project
mapping listener, intake's agreements, mappings and event raising as its neighbours, and the Harvest
poll ``tick`` runs.

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

import connectors
from addon import eventflow, mappings, tick
from addon.agreements import Agreements
from addon.errors import NotFound
from addon.mappings import Mappings
from addon.models.companies import Company
from addon.models.inbox import Endpoint, EndpointStatus
from addon.models.mappings import MappingKind
from addon.usage import providers
from addon.usage.polling import PollAccount, PollReport, poll_account
from addon.usage.records import USAGE_KINDS
from addon.usage.service import handle_usage_event, map_waiting_usage

log = logging.getLogger(__name__)

# Both are used only with the caller's session, so they need no container of their own.
_MAPPINGS = Mappings(None)
_AGREEMENTS = Agreements(None)


def resolve_project(session, company_id: str, source: str, keys) -> str | None:
    """The agreement of the first of ``keys`` with a project mapping."""
    found = _MAPPINGS.first(company_id, MappingKind.PROJECT.value, source, list(keys), session=session)
    return found.target if found is not None else None


def agreement(session, company_id: str, agreement_id: str):
    """The stored agreement with its current rules, or None when it is gone."""
    try:
        return _AGREEMENTS.agreement(company_id, agreement_id, session=session)
    except NotFound:
        return None


def raise_event(session, company_id: str, event) -> None:
    """Store a threshold-crossed event through intake (deduped on its source object)."""
    eventflow.raise_event(session, company_id, event)


def on_project_mapping(container, session, mapping: mappings.MappingInfo) -> None:
    """A project mapping was set: usage waiting for it (or never billed) takes its agreement."""
    map_waiting_usage(session, mapping.company_id, mapping.key)


def harvest_accounts(container) -> list[PollAccount]:
    """Every active Harvest endpoint of a company that is not disconnected, with its credentials."""
    with container.unit_of_work() as session:
        rows = session.execute(
            select(Endpoint).join(Company, Company.id == Endpoint.company_id)
            .where(Endpoint.source.in_([s for s in connectors.POLLED if s == "harvest"]),
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


providers.set_project_resolver(resolve_project)
providers.set_agreement_provider(agreement)
providers.set_event_raiser(raise_event)
eventflow.register_handler(USAGE_KINDS, handle_usage_event)
mappings.on_set(MappingKind.PROJECT, on_project_mapping)
tick.register("usage.poll_harvest", poll_harvest)
