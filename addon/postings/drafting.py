"""Drafting: the events job's handler that turns a billing event into postings.

event → company → agreements (the one the event names; else its milestone, project and customer
mappings: ``addon.postings.routing``) → the rules whose kind and conditions hold → the rules engine
(event, agreement, unbilled usage, history, today in the agreement's zone) → drafts → postings. Before
the handler's transaction, the prepare step (``addon.postings.lineitems``) resolves the QuickBooks
item of each line the event carries, so the draft names it. All of the handler runs in the events
job's one unit of work, with the usage the drafts consume and any agreement a company rule starts,
so a crash leaves nothing half done and a second event about the same billed thing finds the posting
there and changes nothing. Each agreement is drafted under the usage ledger's lock of that agreement,
so two workers never bill one usage record twice. A milestone event no agreement bills waits for a
mapping instead of being ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.clock import utcnow
from addon.eventflow import Outcome
from addon.models.companies import Company
from addon.models.events import OPEN_STATUSES, EventRecord
from addon.postings.history import history_for, previous_draft
from addon.postings.jobs import enqueue_after_commit
from addon.postings.lineitems import item_problems
from addon.postings.routing import route, waiting_reason
from addon.postings.store import add_posting
from addon.usage import consume, lock_agreement, unbilled
from rules import (
    Agreement,
    Event,
    EventKind,
    InvoiceDraft,
    RulesError,
    SendMode,
    agreement_id_for,
    customer_diff,
    draft_for_event,
    rules_for_event,
    start_agreement,
)
from rules.calendar import local_date
from rules.components.milestone_billing import MAPPED_MILESTONE, matching_milestone
from rules.components.milestones import Milestones

log = logging.getLogger(__name__)
ACTOR = "worker"
KINDS = (EventKind.DEAL_WON, EventKind.MILESTONE_COMPLETED, EventKind.SUBSCRIPTION_RENEWED, EventKind.PERIOD_CLOSED,
         EventKind.THRESHOLD_CROSSED, EventKind.CONTRACT_ENDED)
# Review by exception sends only what looks like last time: these dry-run flags hold it. The rule's
# own tolerance already covers the change in total; a negative total and a missing rate are holds anyway.
EXCEPTION_FLAGS = ("new_line_type", "zero_total")


@dataclass
class Drafted:
    """What drafting did with one event (``waiting``: why it waits for a mapping instead)."""

    postings: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    waiting: str | None = None


def handle_event(container, session: Session, row: EventRecord, event: Event) -> Outcome:
    """The events job's handler for billing events: postings (or the reason there are none)."""
    now = utcnow()
    if event.kind is EventKind.PERIOD_CLOSED and event.agreement_id:
        earlier = _earlier_period_open(session, row, event)
        if earlier is not None:
            # Periods are billed in order: a later close must see what the earlier one consumed.
            return Outcome.later(f"waiting for the period close {earlier} to be billed first", retry_in=1.0)
    try:
        done = draft_event(container, session, row, event, now=now)
    except RulesError as exc:
        if exc.retryable:
            return Outcome.later(f"{exc.code}: {exc.message}", retry_in=container.settings.retry_base)
        container.audit.append(row.company_id, "event.failed", actor=ACTOR, subject=f"event:{row.id}",
                               session=session, details={"kind": event.kind.value, "error": exc.code,
                                                         "message": exc.message})
        return Outcome.failed(f"{exc.code}: {exc.message}")
    if done.postings or done.existing or done.started:
        parts = [f"{len(done.postings)} new posting(s)"]
        if done.existing:
            parts.append(f"{len(done.existing)} already there")
        if done.started:
            parts.append(f"started {', '.join(done.started)}")
        return Outcome.done("; ".join(parts))
    if done.waiting:
        container.audit.append(row.company_id, "event.waiting", actor=ACTOR, subject=f"event:{row.id}",
                               session=session, details={"kind": event.kind.value, "source": event.source,
                                                         "source_object_id": event.source_object_id,
                                                         "reason": done.waiting})
        return Outcome.waiting_mapping(done.waiting)
    reason = "no rule matched: " + ("; ".join(done.reasons) if done.reasons else "no agreement for this event")
    container.audit.append(row.company_id, "event.ignored", actor=ACTOR, subject=f"event:{row.id}", session=session,
                           details={"kind": event.kind.value, "source": event.source,
                                    "source_object_id": event.source_object_id, "reason": reason})
    return Outcome.ignored(reason)


def _earlier_period_open(session: Session, row: EventRecord, event: Event) -> str | None:
    prefix = f"{event.agreement_id}@"
    found = session.execute(select(EventRecord.source_object_id).where(
        EventRecord.company_id == row.company_id, EventRecord.kind == EventKind.PERIOD_CLOSED.value,
        EventRecord.agreement_id == event.agreement_id, EventRecord.id != row.id,
        EventRecord.status.in_([s.value for s in OPEN_STATUSES]),
        EventRecord.source_object_id.startswith(prefix, autoescape=True),
        EventRecord.source_object_id < event.source_object_id)
        .order_by(EventRecord.source_object_id).limit(1)).scalar_one_or_none()
    return found.removeprefix(prefix) if found else None


def draft_event(container, session: Session, row: EventRecord, event: Event, *, now: datetime) -> Drafted:
    """Draft every posting the event makes, in the caller's transaction."""
    done = Drafted()
    if MAPPED_MILESTONE in event.attributes:  # only routing names it, for the agreement mapped
        event = replace(event, attributes={k: v for k, v in event.attributes.items() if k != MAPPED_MILESTONE})
    problems = item_problems(event)
    if problems:
        done.waiting = "waiting for a mapping: " + "; ".join(problems)
        return done
    company = session.get(Company, row.company_id)
    started_ids = set()
    if event.kind is EventKind.DEAL_WON and event.agreement_id is None:
        started_ids = _start_agreements(container, session, row, event, company, now, done)
    routing = route(container, session, row, event)
    done.reasons.extend(routing.reasons)
    for found in routing.routes:
        if found.agreement.id not in started_ids:
            _draft_agreement(container, session, row, found.event, found.agreement, now, done)
    if routing.unmapped and not (done.postings or done.existing or done.started):
        done.waiting = waiting_reason(row, event, routing.reasons)
    return done


def _rules(event: Event, agreement: Agreement):
    rules = rules_for_event(event, agreement)
    wanted = event.attributes.get("rule_id") if event.kind is EventKind.THRESHOLD_CROSSED else None
    return [r for r in rules if wanted is None or r.id == wanted]


def _draft_agreement(container, session: Session, row: EventRecord, event: Event, agreement: Agreement,
                     now: datetime, done: Drafted) -> None:
    rules = _rules(event, agreement)
    if not rules:
        done.reasons.append(f"agreement {agreement.id} has no rule for {event.kind.value} whose conditions hold")
        return
    lock_agreement(session, row.company_id, agreement.id, now=now)
    today = local_date(now, agreement.timezone)
    for rule in rules:
        usage = unbilled(session, row.company_id, agreement.id, lock=False)
        history = history_for(session, row.company_id, agreement.id)
        draft = draft_for_event(event, agreement, rule, usage=usage, history=history, today=today)
        if draft is None:
            done.reasons.append(f"agreement {agreement.id}, rule {rule.id}: {_nothing_due(event, agreement)}")
            continue
        _post(container, session, row, event, draft, now, done)


def _nothing_due(event: Event, agreement: Agreement) -> str:
    if event.kind is not EventKind.MILESTONE_COMPLETED or any(
            isinstance(c, Milestones) and matching_milestone(c, event) for c in agreement.components):
        return "nothing is due"
    return (f"no milestone of it is completed by {event.source}:{event.source_object_id} (list it in a "
            "milestone's match, or map it: autobill mappings set --kind milestone --detail MILESTONE)")


def _anomalies(session: Session, draft: InvoiceDraft) -> list[str]:
    if draft.send_mode is not SendMode.REVIEW_BY_EXCEPTION:
        return []
    before = previous_draft(session, draft.company_id, draft.agreement_id, draft.rule_id)
    if before is None:
        return []  # the draft itself holds when there is nothing to compare with
    flags = customer_diff([draft], [before]).flags
    return [f.message for f in flags if f.code in EXCEPTION_FLAGS]


def _post(container, session: Session, row: EventRecord, event: Event, draft: InvoiceDraft, now: datetime,
          done: Drafted) -> None:
    new = add_posting(session, draft, now=now, event_id=row.id, backlog=bool(event.attributes.get("backlog")),
                      anomalies=_anomalies(session, draft))
    posting = new.posting
    if not new.created:
        done.existing.append(posting.id)
        return
    consume(session, row.company_id, draft.consumption, draft.key, now=now)
    container.audit.append(row.company_id, "draft.made", actor=ACTOR, subject=f"posting:{posting.id}",
                           session=session, details={
                               "event_id": row.id, "trigger": draft.trigger, "key": draft.key.text,
                               "requestid": posting.key, "rule_id": draft.rule_id, "rule_version": draft.rule_version,
                               "agreement_id": draft.agreement_id, "customer_id": draft.customer_id,
                               "invoice_date": draft.invoice_date, "total": draft.total,
                               "expected_tax": draft.tax_total, "lines": len(draft.lines),
                               "usage_billed": len(draft.consumption.usage), "state": posting.state,
                               "hold_reasons": list(draft.hold_reasons)})
    done.postings.append(posting.id)
    if new.needs_job:
        enqueue_after_commit(session, container, posting.id, posting.company_id, posting.job_seq)


def _start_agreements(container, session: Session, row: EventRecord, event: Event, company: Company,
                      now: datetime, done: Drafted) -> set[str]:
    """Agreements the company rules start from a won deal, and their onboarding postings."""
    if not row.qbo_customer_id:
        return set()
    ids = set()
    name = event.source_customer.name if event.source_customer else None
    for rule in container.agreements.company_rules(row.company_id, session=session):
        if rule.starts is None:
            continue
        ids.add(agreement_id_for(row.company_id, rule.id, event.source, event.source_object_id))
        started = start_agreement(event, rule, company_id=row.company_id, customer_id=row.qbo_customer_id,
                                  today=local_date(now, company.timezone), customer_name=name,
                                  timezone=company.timezone)
        if started is None:
            continue
        _stored, created = container.agreements.save_started(
            session, started.agreement, rule_id=rule.id, source=event.source,
            source_object_id=event.source_object_id, actor=ACTOR)
        if created:
            done.started.append(started.agreement.id)
        if started.onboarding is not None:
            _post(container, session, row, event, started.onboarding, now, done)
    return ids
