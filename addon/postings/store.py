"""Postings in the database: adding one per business key from a draft, reading, listing.

A posting stores its draft (``rules.dump_draft``); every later step (retry, approval, edit) works
from that stored snapshot, never from a recomputed one (promise 3). Adding a posting whose key
exists changes nothing, so a second event about the same billed thing is harmless (promise 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.errors import NotFound
from addon.models.postings import Posting, PostingState
from addon.postings.sqlinsert import insert_unless_present
from rules import InvoiceDraft, SendMode, dump_draft, load_draft

FINAL = frozenset({PostingState.SENT, PostingState.CREATED, PostingState.HELD, PostingState.REJECTED,
                   PostingState.NEEDS_ATTENTION, PostingState.DELIVERY_FAILED, PostingState.DECLINED})
# States a job moves on; PAUSED waits for a reconnect, FAILED for a person's retry.
ACTIVE = frozenset({PostingState.PLANNED, PostingState.CREATING, PostingState.SENDING})
WAITING = frozenset({PostingState.PAUSED, PostingState.FAILED})


@dataclass(frozen=True)
class NewPosting:
    """What adding a draft did: the posting, and whether this call made it (else it existed)."""

    posting: Posting
    created: bool

    @property
    def needs_job(self) -> bool:
        """True when a posting job must run for it (it was made now and is not held)."""
        return self.created and self.posting.state == PostingState.PLANNED


def review_reasons(draft: InvoiceDraft, *, backlog: bool = False, anomalies: Sequence[str] = ()) -> list[str]:
    """Why a person must look at ``draft`` before it is sent (empty: it may go on its own)."""
    reasons = list(draft.hold_reasons)
    if draft.send_mode is SendMode.HOLD_FOR_REVIEW:
        reasons.append("the rule holds its invoices for review")
    if draft.send_mode is SendMode.REVIEW_BY_EXCEPTION:
        reasons.extend(a for a in anomalies if a not in reasons)
    if backlog:
        reasons.append("catch-up: more periods were due at once than the backlog limit, so a person decides")
    return reasons


def has_credit(draft: InvoiceDraft) -> bool:
    """True when the draft takes money off (a negative line or total): approving it needs four eyes."""
    return draft.total < 0 or any(line.amount < 0 for line in draft.lines)


def add_posting(session: Session, draft: InvoiceDraft, *, now: datetime, event_id: str | None = None,
                backlog: bool = False, anomalies: Sequence[str] = ()) -> NewPosting:
    """Store ``draft`` as a posting unless its business key exists; held before create when it must be."""
    reasons = review_reasons(draft, backlog=backlog, anomalies=anomalies)
    before_create = bool(reasons) and (draft.hold_before_create or backlog)
    state = PostingState.HELD if before_create else PostingState.PLANNED
    values = {
        "company_id": draft.company_id, "key": str(draft.key), "key_text": draft.key.text,
        "agreement_id": draft.agreement_id, "rule_id": draft.rule_id, "rule_version": draft.rule_version,
        "customer_id": draft.customer_id, "customer_name": draft.customer_name or "", "event_id": event_id,
        "trigger": draft.trigger, "draft": dump_draft(draft), "total": draft.total, "currency": draft.currency,
        "invoice_date": draft.invoice_date, "send_mode": draft.send_mode.value,
        "hold_before_create": draft.hold_before_create, "hold_reasons": json.dumps(reasons),
        "has_credit": has_credit(draft), "backlog": backlog, "state": state.value,
        "state_reason": "; ".join(reasons) if before_create else None, "attempts": 0, "create_attempts": 0,
        "send_attempts": 0, "job_seq": 0, "created_at": now, "updated_at": now,
    }
    created = insert_unless_present(session, Posting, values, ("key",))
    posting = session.execute(select(Posting).where(Posting.key == str(draft.key))
                              .execution_options(populate_existing=True)).scalar_one()
    return NewPosting(posting, created)


def posting_draft(posting: Posting) -> InvoiceDraft:
    """The draft a posting stores (edited, if a person edited it)."""
    return load_draft(posting.draft)


def reasons_of(posting: Posting) -> list[str]:
    """Why the posting was held for review (empty when it was not)."""
    return list(json.loads(posting.hold_reasons or "[]"))


def get_posting(session: Session, company_id: str, posting_id: int, *, lock: bool = False) -> Posting:
    """One posting of one company (``NotFound`` for another company's)."""
    posting = session.get(Posting, posting_id, with_for_update=lock, populate_existing=lock)
    if posting is None or posting.company_id != company_id:
        raise NotFound(f"no posting {posting_id} in company {company_id}")
    return posting


def list_postings(session: Session, company_id: str, *, states: Iterable[str] = (), limit: int = 200
                  ) -> list[Posting]:
    """A company's postings, newest first, optionally of some states only."""
    query = select(Posting).where(Posting.company_id == company_id)
    wanted = [PostingState(s).value for s in states]
    if wanted:
        query = query.where(Posting.state.in_(wanted))
    return list(session.execute(query.order_by(Posting.id.desc()).limit(limit)).scalars())
