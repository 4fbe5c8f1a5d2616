"""The posting job on RQ's ``postings`` queue, and how it is enqueued.

Fairness: every posting job carries an RQ ``RateLimit`` keyed by its company, so at most
``AUTOBILL_POSTING_CONCURRENCY`` jobs of one company are queued or running at once; the rest wait
outside the queue. A company's month-end of thousands of invoices therefore never stands in front of
another company's single invoice, and workers beyond that number stay free for other companies.

Job ids are ``posting-<id>-<seq>``: ``seq`` is the posting's ``job_seq``, bumped in the same
transaction that decides on a follow-up, so the sweeper can tell whether the job it expects is still
alive in Redis. Jobs take plain ids and are safe to run twice (the posting's lease and state decide).
"""

from __future__ import annotations

import logging
from datetime import datetime

from rq import Retry
from rq.rate_limit import RateLimit
from sqlalchemy.orm import Session

from addon.clock import utcnow
from addon.eventflow import after_commit

log = logging.getLogger(__name__)
QUEUE = "postings"
# RQ re-runs a job whose worker died (abandoned-job reclaim) only while it has retries left.
RQ_RETRIES = 3
FAILED_JOB_TTL = 7 * 86400
# A finished job's hash is kept a while instead of deleted at once: rq 3.0.0 deleting a job whose
# earlier execution was abandoned (a killed worker) fails on the stale execution and marks the
# successful job failed.
RESULT_TTL = 600


def job_id(posting_id: int, seq: int) -> str:
    """The RQ job id of a posting's ``seq``-th job."""
    return f"posting-{posting_id}-{seq}"


def rate_limit_key(company_id: str) -> str:
    """The RQ rate-limit key shared by one company's posting jobs."""
    return f"autobill-postings:{company_id}"


def post_invoice(posting_id: int) -> str:
    """RQ job (queue ``postings``): move one posting as far as it can go; safe to run twice."""
    from addon import bootstrap
    from addon.postings.pipeline import run_posting

    return run_posting(bootstrap.current(), int(posting_id))


def enqueue(container, posting_id: int, company_id: str, seq: int, *, at: datetime | None = None) -> None:
    """Put the posting's ``seq``-th job on the ``postings`` queue (at ``at`` when it is in the future)."""
    settings = container.settings
    queue = container.queue(QUEUE)
    options = {
        "job_id": job_id(posting_id, seq), "result_ttl": RESULT_TTL, "failure_ttl": FAILED_JOB_TTL,
        "job_timeout": max(1, round(settings.job_timeout)), "retry": Retry(max=RQ_RETRIES),
        "rate_limit": RateLimit(rate_limit_key(company_id), max(1, settings.posting_concurrency)),
        "description": f"posting {posting_id} of {company_id}",
    }
    if at is not None and at > utcnow():
        queue.enqueue_at(at, post_invoice, posting_id, **options)
    else:
        queue.enqueue(post_invoice, posting_id, **options)


def enqueue_after_commit(session: Session, container, posting_id: int, company_id: str, seq: int, *,
                         at: datetime | None = None) -> None:
    """Enqueue the job once ``session`` commits (never for a posting that was rolled back)."""
    def later() -> None:
        try:
            enqueue(container, posting_id, company_id, seq, at=at)
        except Exception:  # noqa: BLE001 - committed postings are found again by the sweeper
            log.exception("could not enqueue posting %s; the sweeper will", posting_id)

    after_commit(session, later)
