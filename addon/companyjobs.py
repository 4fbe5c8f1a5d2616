"""Company jobs: RQ jobs that talk to one company's QuickBooks, within its budget, and can wait.

``enqueue`` puts ``func(company_id, *args)`` on a queue behind RQ's ``RateLimit`` keyed by the
company, so at most ``QBO_MAX_IN_FLIGHT`` of the company's jobs run at once on all workers (and
none waits on a worker for a slot). ``run_company_job`` is the RQ job around it:
- the company is throttled (its budget is spent or QuickBooks said 429): the job is re-enqueued
  for when the budget allows, with its retries untouched, and finishes as "deferred";
- the company needs reconnecting (or ``AuthLost`` is raised): the job is parked in SQL, kept, not
  failed; ``resume`` puts parked jobs back on their queue, with the retries they had left, once the
  company is connected again.
``func`` is the dotted path of a module-level function taking plain ids and safe to run twice.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select

from addon import bootstrap
from addon.audit import canonical_json
from addon.clock import utcnow
from addon.ledger.faults import AuthLost, Throttled
from addon.models.companies import CompanyStatus
from addon.models.work import ParkedJob

log = logging.getLogger(__name__)


def _path(func: Callable | str) -> str:
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def _resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def job_key(func: str, args: list) -> str:
    """Identity of a job (function and arguments): the same job parked twice is kept once."""
    return hashlib.sha256(f"{func}:{canonical_json(args)}".encode()).hexdigest()


def rate_limit(container, company_id: str):
    """RQ's concurrency limit for the company's jobs."""
    from rq.rate_limit import RateLimit

    return RateLimit(f"autobill-qbo-{company_id}", int(container.settings.qbo_max_in_flight))


def enqueue(container, company_id: str, func: Callable | str, *args, queue: str = "postings", retry=None,
            delay: float | None = None, meta: dict | None = None):
    """Enqueue ``func(company_id, *args)`` as a company job; returns the RQ job."""
    q = container.queue(queue)
    options = {"rate_limit": rate_limit(container, company_id), "retry": retry, "meta": meta}
    job_args = (company_id, _path(func), list(args))
    if delay and delay > 0:
        return q.enqueue_in(timedelta(seconds=delay), run_company_job, *job_args, **options)
    return q.enqueue(run_company_job, *job_args, **options)


def run_company_job(company_id: str, func: str, args: list):
    """RQ job: run ``func(company_id, *args)``; defer it when throttled, park it when the company lost its connection."""
    container = bootstrap.current()
    company = container.companies.get(company_id)
    if company.status != CompanyStatus.CONNECTED.value:
        return park(container, company_id, func, args, reason=company.status_reason or company.status)
    wait = container.budget.backoff_remaining(company_id)
    if wait > 0:
        return _defer(container, company_id, func, args, wait)
    try:
        return _resolve(func)(company_id, *args)
    except Throttled as exc:
        return _defer(container, company_id, func, args, exc.retry_after)
    except AuthLost as exc:
        return park(container, company_id, func, args, reason=exc.message)


def _defer(container, company_id: str, func: str, args: list, seconds: float) -> dict:
    from rq import Retry, get_current_job

    job = get_current_job()
    if job is None:
        raise Throttled(f"company {company_id} is throttled", retry_after=seconds)
    retry = None
    if job.retries_left:
        retry = Retry(max=job.retries_left, interval=job.retry_intervals or 0)
    meta = {**(job.meta or {}), "deferrals": int((job.meta or {}).get("deferrals", 0)) + 1, "deferred_from": job.id}
    later = enqueue(container, company_id, func, *args, queue=job.origin, retry=retry, delay=max(seconds, 0.001),
                    meta=meta)
    log.info("company %s throttled: job %s deferred %.1f s as %s", company_id, job.id, seconds, later.id)
    return {"deferred": round(seconds, 3), "as": later.id}


def park(container, company_id: str, func: str, args: list, *, reason: str, queue: str | None = None) -> dict:
    """Keep a job that cannot run until the company is reconnected; returns what happened."""
    from rq import get_current_job

    job = get_current_job()
    key = job_key(func, args)
    with container.unit_of_work() as session:
        exists = session.execute(select(ParkedJob.id).where(ParkedJob.company_id == company_id,
                                                            ParkedJob.job_key == key)).first()
        if not exists:
            session.add(ParkedJob(company_id=company_id, job_key=key, queue=queue or (job.origin if job else "postings"),
                                  func=func, args=json.dumps(args), reason=reason[:255], parked_at=utcnow(),
                                  retry=_retry_policy(job)))
    log.info("company %s needs reconnecting: job %s parked", company_id, func)
    return {"parked": reason}


def _retry_policy(job) -> str | None:
    """The job's remaining RQ retries as JSON (a parked job has spent none: it was kept, not failed)."""
    if job is None or not job.retries_left:
        return None
    return json.dumps({"max": job.retries_left, "intervals": list(job.retry_intervals or [0])})


def _retry_of(text: str | None):
    from rq import Retry

    if not text:
        return None
    policy = json.loads(text)
    return Retry(max=int(policy["max"]), interval=policy.get("intervals") or 0)


def parked(container, company_id: str) -> list[ParkedJob]:
    """The company's parked jobs, oldest first."""
    with container.unit_of_work() as session:
        return list(session.execute(select(ParkedJob).where(ParkedJob.company_id == company_id)
                                    .order_by(ParkedJob.id)).scalars())


def resume(container, company_id: str) -> int:
    """Put the company's parked jobs back on their queues (enqueue first, then forget: never lost)."""
    count = 0
    for row in parked(container, company_id):
        enqueue(container, company_id, row.func, *json.loads(row.args), queue=row.queue, retry=_retry_of(row.retry))
        with container.unit_of_work() as session:
            session.execute(delete(ParkedJob).where(ParkedJob.id == row.id))
        count += 1
    return count
