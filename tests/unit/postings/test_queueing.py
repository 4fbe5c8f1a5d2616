"""Posting jobs on RQ: per-company fairness, and the sweeper that re-enqueues what Redis lost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rq import Queue

from addon.clock import utcnow
from addon.companies import create_company
from addon.models.postings import Posting
from addon.postings.jobs import enqueue, job_id
from addon.postings.sweeper import sweep_postings
from tests.unit.postings.conftest import agreement_for, period_draft, stored


def _company(container, name, realm):
    with container.unit_of_work() as session:
        return create_company(session, environment="sandbox", realm_id=realm, name=name,
                              now=datetime(2026, 1, 5, tzinfo=UTC)).id


def test_one_companys_month_end_never_stands_in_front_of_another_companys_single_invoice(container):
    busy, quiet = _company(container, "Big Month End LLC", "1001"), _company(container, "Contoso Ltd", "1002")
    for n in range(200):
        enqueue(container, n + 1, busy, 0)
    enqueue(container, 999, quiet, 0)
    queue = Queue("postings", connection=container.redis)
    waiting = queue.job_ids
    # At most AUTOBILL_POSTING_CONCURRENCY (4) of the busy company's jobs are in the queue; the rest
    # wait outside it, so the quiet company's job is fifth in line, not two-hundred-and-first.
    assert len(waiting) == 5 and waiting[-1] == job_id(999, 0)


def _quiet(container, posting_id, minutes=10):
    with container.unit_of_work() as session:
        session.get(Posting, posting_id).updated_at = utcnow() - timedelta(minutes=minutes)


def test_the_sweeper_re_enqueues_a_posting_whose_job_redis_lost_and_leaves_live_ones_alone(container, company_id):
    agreement = agreement_for(company_id)
    lost, alive, fresh = (stored(container, period_draft(agreement, date(2026, m, 1))) for m in (2, 3, 4))
    for posting_id in (lost, alive):
        _quiet(container, posting_id)
    enqueue(container, alive, company_id, 0)
    assert sweep_postings(container, utcnow()) == {"resumed": 0, "enqueued": 1, "slots_freed": 0}
    with container.unit_of_work() as session:
        assert session.get(Posting, lost).job_seq == 1 and session.get(Posting, alive).job_seq == 0
        assert session.get(Posting, fresh).job_seq == 0  # quiet for less than the grace: its job may be on its way
    assert container.redis.exists(f"rq:job:{job_id(lost, 1)}")
    assert sweep_postings(container, utcnow())["enqueued"] == 0  # its job is alive now


def test_the_sweeper_leaves_leased_and_not_yet_due_postings_alone(container, company_id):
    agreement = agreement_for(company_id)
    leased, later = (stored(container, period_draft(agreement, date(2026, m, 1))) for m in (2, 3))
    with container.unit_of_work() as session:
        session.get(Posting, leased).lease_until = utcnow() + timedelta(minutes=3)
        session.get(Posting, later).next_attempt_at = utcnow() + timedelta(minutes=3)
    for posting_id in (leased, later):
        _quiet(container, posting_id)
    assert sweep_postings(container, utcnow())["enqueued"] == 0


def test_a_scheduled_job_long_overdue_counts_as_lost_because_rqs_scheduler_may_be_gone(container, company_id):
    from addon.postings.jobs import post_invoice

    agreement = agreement_for(company_id)
    overdue, pending = (stored(container, period_draft(agreement, date(2026, m, 1))) for m in (2, 3))
    queue = Queue("postings", connection=container.redis)
    queue.enqueue_at(utcnow() - timedelta(minutes=10), post_invoice, overdue, job_id=job_id(overdue, 0))
    queue.enqueue_at(utcnow() + timedelta(minutes=10), post_invoice, pending, job_id=job_id(pending, 0))
    for posting_id in (overdue, pending):
        _quiet(container, posting_id)
    assert sweep_postings(container, utcnow())["enqueued"] == 1
    with container.unit_of_work() as session:
        assert (session.get(Posting, overdue).job_seq, session.get(Posting, pending).job_seq) == (1, 0)


def _taken_by_a_worker_that_died(container, posting_id, seq=0):
    # A worker listening to several queues takes a job with BLPOP; killed before it starts the job, it
    # leaves the job in no queue and no registry, its hash saying "queued" and its rate-limit slot held.
    assert container.redis.lrem("rq:queue:postings", 0, job_id(posting_id, seq)) == 1
    assert container.redis.hget(f"rq:job:{job_id(posting_id, seq)}", "status") == b"queued"


def _back_dated_slots(container, company_id, minutes=10):
    key = f"rq:rl:autobill-postings:{company_id}:allowed"
    then = (utcnow() - timedelta(minutes=minutes)).timestamp()
    container.redis.zadd(key, {member: then for member in container.redis.zrange(key, 0, -1)})


def test_a_job_whose_hash_says_queued_but_that_is_in_no_queue_counts_as_lost(container, company_id):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    enqueue(container, posting_id, company_id, 0)
    _taken_by_a_worker_that_died(container, posting_id)
    _back_dated_slots(container, company_id)
    _quiet(container, posting_id)
    assert sweep_postings(container, utcnow())["enqueued"] == 1
    assert Queue("postings", connection=container.redis).job_ids == [job_id(posting_id, 1)]


def test_slots_held_by_jobs_dead_workers_lost_are_given_back_so_the_companys_postings_go_on(container, company_id):
    from rq.rate_limit import RateLimitRegistry

    agreement = agreement_for(company_id)
    postings = [stored(container, period_draft(agreement, date(2026, m, 1))) for m in range(1, 6)]
    for posting_id in postings:
        enqueue(container, posting_id, company_id, 0)
    lost, waiting = postings[:4], postings[4]  # four slots (AUTOBILL_POSTING_CONCURRENCY): the fifth waits
    for posting_id in lost:
        _taken_by_a_worker_that_died(container, posting_id)
    _back_dated_slots(container, company_id)
    queue = Queue("postings", connection=container.redis)
    RateLimitRegistry(f"autobill-postings:{company_id}", container.redis).cleanup()  # RQ's own maintenance
    assert queue.job_ids == []  # RQ keeps the slots: their jobs say "queued"
    for posting_id in postings:
        _quiet(container, posting_id)
    assert sweep_postings(container, utcnow()) == {"resumed": 0, "enqueued": 4, "slots_freed": 4}
    # The waiting posting goes first, then three of the four enqueued again; the last waits its turn.
    assert queue.job_ids == [job_id(waiting, 0)] + [job_id(p, 1) for p in lost[:3]]
