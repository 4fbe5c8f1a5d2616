"""Which agreements an event bills, and what a person could map when none does.

An event that names its agreement (tick, the usage ledger, a generic sender) bills that one. Any
other event is routed through the company's mappings, all of them together:
- a **milestone** mapping of its source object (a milestone event) names an agreement and, as its
  detail, the milestone of that agreement the event completes;
- a **project** mapping of the first of its ``mapping_keys`` that has one (most specific first, as the
  usage ledger reads them: ``project:jira:10000`` before ``site:jira:acme.atlassian.net``);
- its **customer** mapping (the event's QuickBooks customer): that customer's agreements.
Within each agreement the rules decide; a milestone event completes the milestone a milestone
mapping names, else one whose ``match`` lists the event's source object.

A milestone event that reaches no agreement waits for a mapping (``waiting_mapping``), with a reason
naming the keys a person could map; setting a milestone, project or customer mapping for one of them
wakes it (``wake_for_mapping``, registered in ``addon.postings_setup``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon import eventflow
from addon.errors import NotFound
from addon.models.events import EventRecord, EventStatus
from addon.models.mappings import MappingKind
from addon.usage.records import mapping_keys
from rules import Agreement, Event, EventKind
from rules.components.milestone_billing import MAPPED_MILESTONE
from rules.components.milestones import Milestones


@dataclass(frozen=True)
class Route:
    """One agreement the event bills, and the event as that agreement's drafting sees it."""

    agreement: Agreement
    event: Event
    via: str  # event, milestone mapping, project mapping, customer mapping


@dataclass
class Routing:
    """Where an event goes: its routes, why some were not taken, whether a mapping would help."""

    routes: list[Route] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unmapped: bool = False  # a milestone event that no agreement bills (or whose mapping is broken)


def milestone_ids(agreement: Agreement) -> list[str]:
    """The ids of the agreement's milestones, in order."""
    return [m.id for c in agreement.components if isinstance(c, Milestones) for m in c.milestones]


def route(container: Any, session: Session, row: EventRecord, event: Event) -> Routing:
    """The agreements ``event`` bills (by id), in the caller's transaction."""
    store, mappings, company = container.agreements, container.mappings, row.company_id
    routing = Routing()
    if event.agreement_id is not None:
        try:
            agreement = store.agreement(company, event.agreement_id, session=session)
        except NotFound:
            routing.reasons.append(f"agreement {event.agreement_id} does not exist in this company")
            return routing
        routing.routes.append(Route(agreement, event, "event"))
        return routing
    found: dict[str, Route] = {}
    milestone = event.kind is EventKind.MILESTONE_COMPLETED
    if milestone:
        mapped = mappings.get(company, MappingKind.MILESTONE, event.source, event.source_object_id, session=session)
        if mapped is not None:
            agreement = _agreement(store, session, company, mapped.target, routing, "milestone mapping")
            if agreement is not None and mapped.detail and mapped.detail not in milestone_ids(agreement):
                routing.reasons.append(
                    f"the milestone mapping of {event.source} {event.source_object_id} names milestone "
                    f"{mapped.detail!r}, which agreement {agreement.id} does not have "
                    f"(its milestones: {', '.join(milestone_ids(agreement)) or 'none'})")
                routing.unmapped = True
            elif agreement is not None:
                attributes = {**event.attributes, MAPPED_MILESTONE: mapped.detail} if mapped.detail else event.attributes
                found[agreement.id] = Route(agreement, replace(event, attributes=attributes), "milestone mapping")
    project = mappings.first(company, MappingKind.PROJECT, event.source, mapping_keys(event), session=session)
    if project is not None and project.target not in found:
        agreement = _agreement(store, session, company, project.target, routing, f"project mapping of {project.key}")
        if agreement is not None:
            found[agreement.id] = Route(agreement, event, f"project mapping of {project.key}")
    if row.qbo_customer_id:
        for agreement in store.of_customer(company, row.qbo_customer_id, session=session):
            found.setdefault(agreement.id, Route(agreement, event, "customer mapping"))
    routing.routes = [found[k] for k in sorted(found)]
    if not found:
        routing.unmapped = routing.unmapped or milestone
        if not row.qbo_customer_id and not milestone:
            routing.reasons.append("the event names no QuickBooks customer and no agreement")
    return routing


def _agreement(store, session: Session, company_id: str, agreement_id: str, routing: Routing,
               via: str) -> Agreement | None:
    try:
        return store.agreement(company_id, agreement_id, session=session)
    except NotFound:
        routing.reasons.append(f"the {via} names agreement {agreement_id}, which does not exist")
        return None


def waiting_reason(row: EventRecord, event: Event, reasons: list[str]) -> str:
    """Why a milestone event waits, and the keys a person could map (with the command)."""
    company, source, thing = row.company_id, event.source, event.source_object_id
    command = f"autobill mappings set --company {company} --source {source}"
    ways = [f"the milestone itself: {command} --kind milestone --key {thing} --target AGREEMENT "
            "--detail MILESTONE"]
    keys = mapping_keys(event)
    if keys:
        ways.append(f"one of its project keys ({', '.join(keys)}): {command} --kind project --key KEY "
                    "--target AGREEMENT")
    customer = event.source_customer
    if row.qbo_customer_id:
        ways.append(f"give QuickBooks customer {row.qbo_customer_id} an agreement with a milestone rule, then "
                    f"autobill replay {row.id} --company {company}")
    elif customer is not None:
        ways.append(f"its customer {customer.id}: {command} --kind customer --key {customer.id} "
                    "--target QUICKBOOKS_CUSTOMER_ID")
    why = "; ".join(reasons) if reasons else f"no agreement bills {source}:{thing}"
    return f"waiting for a mapping: {why}. Map " + "; or ".join(ways)


def _waiting(session: Session, company_id: str, source: str):
    return select(EventRecord).where(EventRecord.company_id == company_id, EventRecord.source == source,
                                     EventRecord.status == EventStatus.WAITING_MAPPING.value)


def wake_for_mapping(container: Any, session: Session, mapping) -> int:
    """A milestone, project or item mapping was set: wake the events waiting that name its key; how many."""
    query = _waiting(session, mapping.company_id, mapping.source)
    if mapping.kind == MappingKind.MILESTONE.value:
        rows = session.execute(query.where(EventRecord.source_object_id == mapping.key)).scalars().all()
    else:
        # Mapping keys and product keys live in the stored event; the text filter narrows, the check decides.
        text = json.dumps(mapping.key)
        rows = [r for r in session.execute(query.where(EventRecord.payload.contains(text, autoescape=True)))
                .scalars() if mapping.key in _keys_of(r, mapping.kind)]
    return eventflow.wake(session, [r.id for r in rows], container)


def _keys_of(row: EventRecord, kind: str) -> list[str]:
    event = eventflow.event_of(row)
    if kind == MappingKind.PROJECT.value:
        return mapping_keys(event)
    return [k for line in event.lines for k in (line.product_id, line.sku, line.product_name) if k]


def wake_for_customer(container: Any, session: Session, mapping) -> int:
    """A customer mapping was set: events that passed customer mapping and wait for an agreement take the
    new customer and go on (those still waiting for their customer are intake's listener's)."""
    rows = session.execute(_waiting(session, mapping.company_id, mapping.source).where(
        EventRecord.source_customer_id == mapping.key, EventRecord.qbo_customer_id.is_not(None))).scalars().all()
    for row in rows:
        row.qbo_customer_id = mapping.target
    return len(rows)
