"""The posting job: claim a posting, create its invoice (or adopt the one a lost reply created),
compare QuickBooks' totals, send it (or hold it), and record every step in the audit chain.

Exactly one invoice per business key (promise 2) rests on four things:
- a **lease** on the posting row, taken in a short transaction before any call to QuickBooks and
  longer than a job can live (RQ kills a job at its timeout), so two workers never work one posting;
- the attempt counters, committed *before* a call: a create (or send) that was started and not
  recorded is an unknown outcome, and the next attempt **looks before it writes** (the invoice by
  customer and date with the key's marker; the invoice's ``EmailStatus`` before a re-send);
- ``requestid`` = the business key on create, which QuickBooks replays when it remembers it;
- the unique business key in the database, so a posting exists once.
No transaction is held across a call to QuickBooks.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from addon.clock import utcnow
from addon.ledger.faults import AuthLost, LedgerFault, ObjectNotFound, Throttled, Transient
from addon.ledger.types import InvoiceRecord
from addon.models.companies import Company, CompanyStatus
from addon.models.postings import Posting, PostingState
from addon.postings.backoff import retry_delay
from addon.postings.invoice import (
    TotalsCheck,
    cached_items,
    check_totals,
    invoice_spec,
    item_names,
    remember_items,
    resolve_items,
)
from addon.postings.jobs import enqueue_after_commit
from addon.postings.lookup import find_posted
from addon.postings.store import ACTIVE, posting_draft, reasons_of
from rules import InvoiceDraft, SendMode

log = logging.getLogger(__name__)
ACTOR = "worker"
EMAIL_SENT = "EmailSent"


@dataclass(frozen=True)
class Claim:
    """What a job may do with a posting it holds the lease of."""

    posting_id: int
    company_id: str
    key: str
    token: str
    phase: str  # "create" or "send"
    check_first: bool  # an earlier attempt may have reached QuickBooks: look before writing
    draft: InvoiceDraft
    invoice_id: str | None = None
    item_ids: dict | None = None


def subject(posting: Posting | int) -> str:
    """The audit subject of a posting."""
    return f"posting:{posting if isinstance(posting, int) else posting.id}"


def lease_seconds(settings) -> float:
    """How long a claim holds a posting: longer than RQ lets a job live (it kills a job at its timeout),
    plus one monitoring interval for clocks that differ between machines."""
    return max(1, round(settings.job_timeout)) + max(1, round(settings.job_monitoring_interval))


def run_posting(container, posting_id: int, *, ledger=None) -> str:
    """Move posting ``posting_id`` as far as it can go now; returns the state (or why it did nothing)."""
    claimed = claim(container, posting_id)
    if isinstance(claimed, str):
        return claimed
    ledger = ledger if ledger is not None else container.ledger(claimed.company_id)
    step = claimed
    try:
        if step.phase == "create":
            after = create_step(container, ledger, step)
            if isinstance(after, str):
                return after
            step = after
        return send_step(container, ledger, step)
    except LedgerFault as fault:
        return on_fault(container, step, fault)
    except Exception as exc:  # noqa: BLE001 - a bug or a lost database must not strand the lease
        log.exception("posting %s: unexpected error", posting_id)
        return on_fault(container, step, Transient(f"unexpected error: {type(exc).__name__}: {exc}"))


def _locked(session, posting_id: int) -> Posting | None:
    return session.get(Posting, posting_id, with_for_update=True, populate_existing=True)


def claim(container, posting_id: int) -> Claim | str:
    """Take the posting's lease and count the attempt, or say why not (a state, ``busy``, ``not yet``)."""
    now = utcnow()
    with container.unit_of_work() as session:
        p = _locked(session, posting_id)
        if p is None:
            return "missing"
        if PostingState(p.state) not in ACTIVE:
            return p.state
        if p.lease_until is not None and p.lease_until > now:
            follow_up(session, container, p, at=p.lease_until)
            return "busy"
        if p.next_attempt_at is not None and p.next_attempt_at > now + timedelta(seconds=1):
            return "not yet"
        company = session.get(Company, p.company_id)
        if company is None or company.status != CompanyStatus.CONNECTED.value:
            pause(session, container, p, "the company must reconnect to QuickBooks", now=now)
            return PostingState.PAUSED.value
        draft = posting_draft(p)
        if p.state == PostingState.PLANNED:
            p.state = PostingState.CREATING.value
        p.lease_token, p.lease_until, p.updated_at = uuid.uuid4().hex, now + timedelta(
            seconds=lease_seconds(container.settings)), now
        if p.state == PostingState.CREATING:
            check_first, p.create_attempts = p.create_attempts > 0, p.create_attempts + 1
            items = cached_items(session, p.company_id, item_names(draft))
            return Claim(p.id, p.company_id, p.key, p.lease_token, "create", check_first, draft, item_ids=items)
        # A re-send after an unknown outcome, or after a person approved it (they may have sent it
        # from QuickBooks meanwhile), reads EmailStatus first: at most one automatic email, ever.
        check_first = p.send_attempts > 0 or p.approved_at is not None
        p.send_attempts += 1
        return Claim(p.id, p.company_id, p.key, p.lease_token, "send", check_first, draft,
                     invoice_id=p.qbo_invoice_id)


def create_step(container, ledger, c: Claim) -> Claim | str:
    """Adopt the invoice a lost reply created, or create it; then record it and decide what follows."""
    record = find_posted(ledger, c.draft) if c.check_first else None
    adopted = record is not None
    if record is None:
        items = dict(c.item_ids or {})
        missing = item_names(c.draft) - set(items)
        if missing:
            found = resolve_items(ledger, missing, items)
            with container.unit_of_work() as session:
                remember_items(session, c.company_id, found, utcnow())
            items.update(found)
        record = ledger.create_invoice(invoice_spec(c.draft, items), request_id=c.key)
    return record_created(container, c, record, adopted, check_totals(c.draft, record), ledger.intuit_tid)


def record_created(container, c: Claim, record: InvoiceRecord, adopted: bool, check: TotalsCheck,
                   tid: str | None) -> Claim | str:
    """Store the invoice and the totals check; hold, finish or go on to send."""
    now = utcnow()
    audit = container.audit
    with container.unit_of_work() as session:
        p = _locked(session, c.posting_id)
        if p is None or p.lease_token != c.token:
            log.warning("posting %s: lease lost before recording invoice %s", c.posting_id, record.id)
            return "lease lost"
        p.qbo_invoice_id, p.qbo_doc_number, p.intuit_tid = record.id, record.doc_number, tid
        p.qbo_total, p.qbo_tax, p.attempts, p.next_attempt_at = check.total, check.tax, 0, None
        audit.append(p.company_id, "invoice.adopted" if adopted else "invoice.created", actor=ACTOR,
                     subject=subject(p), session=session,
                     details={"requestid": p.key, "intuit_tid": tid, "invoice_id": record.id,
                              "doc_number": record.doc_number, "status": "created", "key": p.key_text,
                              "found_by": "private note marker" if adopted else "create"})
        audit.append(p.company_id, "totals.compared", actor=ACTOR, subject=subject(p), session=session,
                     details={**check.as_details(), "invoice_id": record.id})
        reasons = reasons_of(p)
        if not check.ok:
            return finish(p, PostingState.NEEDS_ATTENTION, check.problem, now)
        if reasons and p.approved_at is None:
            return finish(p, PostingState.HELD, "; ".join(reasons), now)
        if p.send_mode == SendMode.CREATE_ONLY:
            return finish(p, PostingState.CREATED, None, now)
        p.state, p.send_attempts, p.updated_at = PostingState.SENDING.value, p.send_attempts + 1, now
        p.lease_until = now + timedelta(seconds=lease_seconds(container.settings))
        return replace(c, phase="send", check_first=False, invoice_id=record.id)


def send_step(container, ledger, c: Claim) -> str:
    """Send the invoice through QuickBooks (unless EmailStatus shows it went), then record delivery."""
    record = None
    if c.check_first:
        current = ledger.read_invoice(c.invoice_id)
        if current.email_status == EMAIL_SENT:
            record = current
    already = record is not None
    if record is None:
        record = ledger.send_invoice(c.invoice_id)
    tid = ledger.intuit_tid
    now = utcnow()
    with container.unit_of_work() as session:
        p = _locked(session, c.posting_id)
        if p is None or p.lease_token != c.token:
            log.warning("posting %s: lease lost before recording the email", c.posting_id)
            return "lease lost"
        error = record.delivery_error
        p.email_status, p.delivered_at, p.delivery_error, p.intuit_tid = record.email_status, record.delivered_at, \
            error, tid
        details = {"invoice_id": record.id, "to": record.bill_email, "email_status": record.email_status,
                   "delivery_time": record.delivered_at, "delivery_error": error, "intuit_tid": tid,
                   "found_sent": already}
        if error:
            container.audit.append(p.company_id, "email.failed", actor=ACTOR, subject=subject(p), session=session,
                                   details=details)
            return finish(p, PostingState.DELIVERY_FAILED,
                          f"QuickBooks could not deliver the email to {record.bill_email}: {error}", now)
        container.audit.append(p.company_id, "email.already_sent" if already else "email.sent", actor=ACTOR,
                               subject=subject(p), session=session, details=details)
        return finish(p, PostingState.SENT, None, now)


def finish(p: Posting, state: PostingState, reason: str | None, now: datetime) -> str:
    """Put the posting in a resting state and give up its lease."""
    p.state, p.state_reason, p.updated_at = state.value, reason, now
    p.lease_token = p.lease_until = None
    p.next_attempt_at = None
    p.finished_at = now
    return state.value


def follow_up(session, container, p: Posting, *, at: datetime | None) -> None:
    """Schedule the posting's next job (after this transaction commits)."""
    p.job_seq += 1
    p.next_attempt_at = at
    enqueue_after_commit(session, container, p.id, p.company_id, p.job_seq, at=at)


def pause(session, container, p: Posting, reason: str, *, now: datetime) -> None:
    """Park the posting until its company reconnects; it resumes where it was."""
    if p.state != PostingState.PAUSED:
        p.resume_state = p.state
    p.state, p.state_reason, p.updated_at = PostingState.PAUSED.value, reason, now
    p.lease_token = p.lease_until = None
    container.audit.append(p.company_id, "posting.paused", actor=ACTOR, subject=subject(p), session=session,
                           details={"reason": reason, "resumes_at": p.resume_state})


def on_fault(container, c: Claim, fault: LedgerFault) -> str:
    """Record a failed step: defer (throttled), pause (authorization lost), retry with back-off, or stop."""
    now = utcnow()
    settings = container.settings
    with container.unit_of_work() as session:
        p = _locked(session, c.posting_id)
        if p is None or p.lease_token != c.token:
            return "lease lost"
        p.lease_token = p.lease_until = None
        p.updated_at = now
        made = not (isinstance(fault, Throttled) or (isinstance(fault, Transient) and not fault.outcome_unknown))
        if not made:  # QuickBooks never saw the request: the next attempt need not look first
            if c.phase == "create":
                p.create_attempts = max(0, p.create_attempts - 1)
            else:
                p.send_attempts = max(0, p.send_attempts - 1)
        if isinstance(fault, Throttled):
            follow_up(session, container, p, at=now + timedelta(seconds=max(fault.retry_after, 0.05)))
            return "deferred"
        if isinstance(fault, AuthLost):
            pause(session, container, p, f"QuickBooks refused the company's authorization: {fault.message}", now=now)
            return PostingState.PAUSED.value
        details = {**fault.as_details(), "step": c.phase, "requestid": p.key, "attempt": p.attempts + 1}
        if fault.retryable:
            p.attempts += 1
            if p.attempts >= settings.posting_max_attempts:
                p.resume_state = p.state
                container.audit.append(p.company_id, "posting.failed", actor=ACTOR, subject=subject(p),
                                       session=session, details=details)
                return finish(p, PostingState.FAILED, f"gave up after {p.attempts} tries: {fault.message}", now)
            delay = retry_delay(p.attempts, base=settings.posting_retry_base, cap=settings.posting_retry_max)
            container.audit.append(p.company_id, "posting.retry_scheduled", actor=ACTOR, subject=subject(p),
                                   session=session, details={**details, "retry_in_seconds": round(delay, 3)})
            p.state_reason = f"try {p.attempts} failed: {fault.message}"
            follow_up(session, container, p, at=now + timedelta(seconds=delay))
            return "retrying"
        if c.phase == "send":
            container.audit.append(p.company_id, "email.failed", actor=ACTOR, subject=subject(p), session=session,
                                   details=details)
            if isinstance(fault, ObjectNotFound):
                return finish(p, PostingState.NEEDS_ATTENTION,
                              f"the invoice is no longer in QuickBooks: {fault.message}", now)
            return finish(p, PostingState.DELIVERY_FAILED, f"QuickBooks did not send it: {fault.message}", now)
        container.audit.append(p.company_id, "invoice.rejected", actor=ACTOR, subject=subject(p), session=session,
                               details=details)
        return finish(p, PostingState.REJECTED, f"QuickBooks refused it: {fault.message}", now)
