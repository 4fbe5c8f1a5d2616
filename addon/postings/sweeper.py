"""The posting sweeper (a tick task): postings a lost queue left behind get a job again, and postings
paused while their company needed reconnecting resume once it is connected.

Redis may lose everything (promise 1); the postings table says what is unfinished. A posting is
re-enqueued when it is active, due, not leased, unchanged for ``AUTOBILL_POSTING_SWEEP_GRACE`` and its
expected job (``posting-<id>-<seq>``) is not alive in RQ, so a month-end waiting its turn behind the
company's rate limit is not enqueued twice. Rate-limit slots held by jobs a dead worker lost are given
back first (``rqjobs.free_lost_slots``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from addon.models.companies import Company, CompanyStatus
from addon.models.postings import Posting, PostingState
from addon.postings.jobs import QUEUE, job_id, rate_limit_key
from addon.postings.pipeline import follow_up, subject
from addon.postings.store import ACTIVE
from addon.rqjobs import free_lost_slots, live_jobs

SWEEP_LIMIT = 1000


def resume_paused(container, now: datetime, *, company_id: str | None = None) -> int:
    """Resume the paused postings of connected companies (or of one); how many."""
    query = (select(Posting).join(Company, Company.id == Posting.company_id)
             .where(Posting.state == PostingState.PAUSED.value, Company.status == CompanyStatus.CONNECTED.value)
             .limit(SWEEP_LIMIT).with_for_update(of=Posting))
    if company_id is not None:
        query = query.where(Posting.company_id == company_id)
    with container.unit_of_work() as session:
        rows = list(session.execute(query.execution_options(populate_existing=True)).scalars())
        for p in rows:
            p.state, p.state_reason = p.resume_state or PostingState.PLANNED.value, None
            p.resume_state, p.updated_at = None, now
            container.audit.append(p.company_id, "posting.resumed", actor="tick", subject=subject(p), session=session,
                                   details={"state": p.state})
            follow_up(session, container, p, at=None)
    return len(rows)


def sweep_postings(container, now: datetime, *, limit: int = SWEEP_LIMIT) -> dict:
    """Enqueue again what Redis lost, free slots lost jobs held, resume what reconnected companies paused; counts."""
    resumed = resume_paused(container, now)
    quiet_since = now - timedelta(seconds=container.settings.posting_sweep_grace)
    query = (select(Posting.id, Posting.job_seq, Posting.company_id)
             .where(Posting.state.in_([s.value for s in ACTIVE]), Posting.updated_at <= quiet_since,
                    or_(Posting.next_attempt_at.is_(None), Posting.next_attempt_at <= now),
                    or_(Posting.lease_until.is_(None), Posting.lease_until <= now))
             .order_by(Posting.id).limit(limit))
    with container.unit_of_work() as session:
        candidates = session.execute(query).all()
    expected = {job_id(pid, seq): (pid, seq, company) for pid, seq, company in candidates}
    queue, keys = container.queue(QUEUE), {rate_limit_key(c) for _, _, c in candidates}
    live = live_jobs(queue, rate_limit_keys=keys)
    # Slots of jobs a dead worker lost would otherwise be held for ever, and with all of a company's
    # slots held its postings would wait for good (their jobs count as alive while they wait).
    freed = free_lost_slots(queue, live, keys, older_than=quiet_since.timestamp())
    # A scheduled job still waiting long after it was due counts as lost: the worker holding RQ's
    # scheduler lock may have died, and another takes the lock over only minutes later.
    lost = [expected[j][:2] for j in expected if not live.alive(j, overdue_before=quiet_since.timestamp())]
    enqueued = 0
    for pid, seq in lost:
        with container.unit_of_work() as session:
            p = session.get(Posting, pid, with_for_update=True, populate_existing=True)
            if p is None or p.job_seq != seq or PostingState(p.state) not in ACTIVE:
                continue  # a job moved it meanwhile
            follow_up(session, container, p, at=None)
            p.updated_at = now
            enqueued += 1
    return {"resumed": resumed, "enqueued": enqueued, "slots_freed": freed}
