"""The posting sweeper (a tick task): postings a lost queue left behind get a job again, and postings
paused while their company needed reconnecting resume once it is connected.

Redis may lose everything (promise 1); the postings table says what is unfinished. A posting is
re-enqueued when it is active, due, not leased, unchanged for ``AUTOBILL_POSTING_SWEEP_GRACE`` and its
expected job (``posting-<id>-<seq>``) is not alive in RQ, so a month-end waiting its turn behind the
company's rate limit is not enqueued twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import or_, select

from addon.models.companies import Company, CompanyStatus
from addon.models.postings import Posting, PostingState
from addon.postings.jobs import job_id
from addon.postings.pipeline import follow_up, subject
from addon.postings.store import ACTIVE

SWEEP_LIMIT = 1000
ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.RATE_LIMITED}


def alive_jobs(redis, ids: list[str], *, overdue_before: datetime) -> set[str]:
    """The ids among ``ids`` whose RQ job exists and will still run (or is running).

    A scheduled job still waiting after ``overdue_before`` counts as lost: the worker holding RQ's
    scheduler lock may have died, and another takes the lock over only minutes later.
    """
    if not ids:
        return set()
    jobs = [job for job in Job.fetch_many(ids, connection=redis) if job is not None]
    alive = {job.id for job in jobs if job.get_status(refresh=False) in ALIVE - {JobStatus.SCHEDULED}}
    scheduled = [job for job in jobs if job.get_status(refresh=False) == JobStatus.SCHEDULED]
    for job in scheduled:
        try:
            due = ScheduledJobRegistry(job.origin, connection=redis).get_scheduled_time(job)
        except NoSuchJobError:
            continue
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        if due > overdue_before:
            alive.add(job.id)
    return alive


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
    """Enqueue again what Redis lost and resume what reconnected companies paused; counts of both."""
    resumed = resume_paused(container, now)
    quiet_since = now - timedelta(seconds=container.settings.posting_sweep_grace)
    query = (select(Posting.id, Posting.job_seq)
             .where(Posting.state.in_([s.value for s in ACTIVE]), Posting.updated_at <= quiet_since,
                    or_(Posting.next_attempt_at.is_(None), Posting.next_attempt_at <= now),
                    or_(Posting.lease_until.is_(None), Posting.lease_until <= now))
             .order_by(Posting.id).limit(limit))
    with container.unit_of_work() as session:
        candidates = session.execute(query).all()
    expected = {job_id(pid, seq): (pid, seq) for pid, seq in candidates}
    alive = alive_jobs(container.redis, list(expected), overdue_before=quiet_since)
    lost = [expected[j] for j in expected if j not in alive]
    enqueued = 0
    for pid, seq in lost:
        with container.unit_of_work() as session:
            p = session.get(Posting, pid, with_for_update=True, populate_existing=True)
            if p is None or p.job_seq != seq or PostingState(p.state) not in ACTIVE:
                continue  # a job moved it meanwhile
            follow_up(session, container, p, at=None)
            p.updated_at = now
            enqueued += 1
    return {"resumed": resumed, "enqueued": enqueued}
