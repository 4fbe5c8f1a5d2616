"""Review: approve, decline (reject), edit-then-approve and retry postings, as a named person.

Who may: a user with the bookkeeper role (or admin) for the company. Credits (a negative line or
total) need an approver other than the person who last changed the rule that drafted them (four
eyes, ``addon.postings.foureyes``); that person is found through ``set_rule_author_provider``. Every action is audited with who
did it. Approvals work from the stored draft; an edit replaces it (the original is kept) and is
re-verified: QuickBooks' totals are compared again before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from addon.clock import utcnow
from addon.errors import NotFound
from addon.models.companies import Role, User
from addon.models.postings import Posting, PostingState
from addon.postings.foureyes import four_eyes_refusal
from addon.postings.pipeline import finish, follow_up, subject
from addon.postings.store import get_posting, reasons_of

RuleAuthor = Callable[[Session, Posting], "str | None"]
_RULE_AUTHOR: list[RuleAuthor] = []

APPROVABLE = frozenset({PostingState.HELD})
DECLINABLE = frozenset({PostingState.HELD, PostingState.NEEDS_ATTENTION, PostingState.FAILED,
                        PostingState.REJECTED})
RETRYABLE = frozenset({PostingState.FAILED, PostingState.REJECTED})


def set_rule_author_provider(fn: RuleAuthor | None) -> None:
    """Register ``fn(session, posting) -> who last changed the rule`` (``user:<id>``, an id or an email)."""
    _RULE_AUTHOR.clear()
    if fn is not None:
        _RULE_AUTHOR.append(fn)


@dataclass(frozen=True)
class Reviewer:
    """The person acting: their user id and email, and the audit actor string."""

    user_id: str
    email: str | None

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"



@dataclass(frozen=True)
class ReviewResult:
    """What one review action did to one posting."""

    posting_id: int
    ok: bool
    state: str
    message: str


def reviewer(container, company_id: str, who: str) -> Reviewer:
    """The user named by id or email, if their role lets them review this company's postings."""
    with container.unit_of_work() as session:
        user = session.execute(select(User).where(or_(User.id == who, func.lower(User.email) == who.lower()))
                               .order_by(User.created_at)).scalars().first()
    if user is None:
        raise NotFound(f"no user {who!r} (a person signs in with Intuit once before they can review)")
    container.companies.require_role(user.id, company_id, Role.BOOKKEEPER)
    return Reviewer(user.id, user.email)


def _rule_author(session: Session, posting: Posting) -> str | None:
    return _RULE_AUTHOR[0](session, posting) if _RULE_AUTHOR else None


def approve(container, company_id: str, posting_ids: Iterable[int], who: str) -> list[ReviewResult]:
    """Approve held postings: each goes on to create or send (create-only ones are done)."""
    person = reviewer(container, company_id, who)
    return [approve_one(container, company_id, pid, person) for pid in posting_ids]


def approve_one(container, company_id: str, posting_id: int, person: Reviewer) -> ReviewResult:
    now = utcnow()
    with container.unit_of_work() as session:
        p = get_posting(session, company_id, posting_id, lock=True)
        if PostingState(p.state) not in APPROVABLE:
            return ReviewResult(p.id, False, p.state, f"posting {p.id} is {p.state}, not held: nothing to approve")
        if p.has_credit:
            refusal = four_eyes_refusal(session, p, person, _rule_author(session, p))
            if refusal is not None:
                return ReviewResult(p.id, False, p.state, f"posting {p.id} takes money off (a credit): {refusal}")
        p.approved_by, p.approved_at, p.updated_at = person.actor, now, now
        container.audit.append(company_id, "posting.approved", actor=person.actor, subject=subject(p),
                               session=session, details={"by": person.actor, "email": person.email, "at": now,
                                                         "reasons": reasons_of(p), "credit": p.has_credit,
                                                         "invoice_id": p.qbo_invoice_id})
        if p.qbo_invoice_id is None:
            p.state, p.state_reason, p.finished_at = PostingState.PLANNED.value, None, None
        elif p.send_mode == "create_only":
            finish(p, PostingState.CREATED, None, now)
            return ReviewResult(p.id, True, p.state, f"posting {p.id} approved (create only: no email)")
        else:
            p.state, p.state_reason, p.finished_at = PostingState.SENDING.value, None, None
        p.attempts = 0
        follow_up(session, container, p, at=None)
        return ReviewResult(p.id, True, p.state, f"posting {p.id} approved by {person.email or person.user_id}")


def decline(container, company_id: str, posting_ids: Iterable[int], who: str, *, reason: str = "",
            ledger=None) -> list[ReviewResult]:
    """Reject postings in review: nothing is sent; an invoice already created (not sent) is voided."""
    person = reviewer(container, company_id, who)
    return [_decline_one(container, company_id, pid, person, reason, ledger) for pid in posting_ids]


def _decline_one(container, company_id: str, posting_id: int, person: Reviewer, reason: str,
                 ledger) -> ReviewResult:
    with container.unit_of_work() as session:
        p = get_posting(session, company_id, posting_id)
        state, invoice_id = PostingState(p.state), p.qbo_invoice_id
    if state not in DECLINABLE:
        return ReviewResult(posting_id, False, state.value,
                            f"posting {posting_id} is {state.value}: only held, failed, rejected or mismatched "
                            "postings can be rejected")
    voided = None
    if invoice_id is not None:
        # QuickBooks keeps a voided invoice (amounts zero), so the books show what happened.
        gateway = ledger if ledger is not None else container.ledger(company_id)
        current = gateway.read_invoice(invoice_id)
        if current.email_status == "EmailSent":
            return ReviewResult(posting_id, False, state.value, f"invoice {invoice_id} was already emailed from "
                                "QuickBooks: void or credit it there")
        if not current.voided:
            gateway.void_invoice(invoice_id, current.sync_token)
        voided = invoice_id
    now = utcnow()
    with container.unit_of_work() as session:
        p = get_posting(session, company_id, posting_id, lock=True)
        if p.state != state.value:
            return ReviewResult(p.id, False, p.state, f"posting {p.id} changed while it was being rejected")
        container.audit.append(company_id, "posting.declined", actor=person.actor, subject=subject(p),
                               session=session, details={"by": person.actor, "email": person.email, "reason": reason,
                                                         "voided_invoice_id": voided})
        finish(p, PostingState.DECLINED, f"rejected by {person.email or person.user_id}"
               + (f": {reason}" if reason else ""), now)
        return ReviewResult(p.id, True, p.state, f"posting {p.id} rejected" + (
            f"; invoice {voided} voided in QuickBooks" if voided else ""))


def retry(container, company_id: str, posting_ids: Iterable[int], who: str) -> list[ReviewResult]:
    """Try failed or rejected postings again from where they stopped (looking before writing)."""
    person = reviewer(container, company_id, who)
    results = []
    for posting_id in posting_ids:
        with container.unit_of_work() as session:
            p = get_posting(session, company_id, posting_id, lock=True)
            if PostingState(p.state) not in RETRYABLE:
                results.append(ReviewResult(p.id, False, p.state, f"posting {p.id} is {p.state}: nothing to retry"))
                continue
            resume = p.resume_state or (PostingState.CREATING.value if p.qbo_invoice_id is None
                                        else PostingState.SENDING.value)
            container.audit.append(company_id, "posting.retried", actor=person.actor, subject=subject(p),
                                   session=session, details={"by": person.actor, "from": p.state, "to": resume})
            p.state, p.state_reason, p.resume_state, p.attempts = resume, None, None, 0
            p.finished_at, p.updated_at = None, utcnow()
            follow_up(session, container, p, at=None)
            results.append(ReviewResult(p.id, True, p.state, f"posting {p.id} will be tried again"))
    return results
