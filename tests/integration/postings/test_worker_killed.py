"""A worker killed with SIGKILL in the middle of a create: its job is reclaimed and the posting finished
within a bound that follows from the settings, with one invoice and one email, and no job is left
started.

Two workers are up before the job is enqueued and the one running it is killed, so the time measured
from the kill contains no process start-up: only what ``addon.workers.recovery_bound`` accounts for
(RQ's reclaim, the posting's lease, RQ's scheduler or the sweeper) and the jobs' own runs.
"""

from __future__ import annotations

import time
from datetime import date

import pytest
from rq import Worker
from rq.exceptions import SchedulerNotFound
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

from addon.clock import utcnow
from addon.models.postings import Posting
from addon.postings.invoice import remember_items
from addon.postings.jobs import enqueue, job_id
from addon.workers import recovery_bound
from tests.integration.connection.conftest import connect_realm
from tests.integration.postings.stack import Stack, children, wait_until
from tests.unit.postings.conftest import agreement_for, period_draft, stored

# The reclaimed run (it finds the lease held and schedules the posting) and the run that adopts and sends,
# each a forked work horse making a query or two and one or two calls, on a loaded machine.
JOB_RUNS = 5.0
# Timed: run on the same xdist worker as the chaos test (``--dist loadgroup``), never beside it.
pytestmark = pytest.mark.xdist_group("stack")


@pytest.fixture
def stack(tmp_path, sqlite_database_url, redis_url, emulator):
    # Time constants scaled by 0.02: job timeout 4 s, monitoring 1 s, maintenance 1 s, tick 1 s,
    # sweep grace 2.4 s.
    made = Stack(tmp_path, sqlite_database_url, redis_url, emulator, AUTOBILL_TIME_SCALE="0.02")
    yield made
    made.stop()


def _state(container, posting_id) -> Posting:
    with container.unit_of_work() as session:
        return session.get(Posting, posting_id)


def _running_rqs_scheduler(stack, queue: str) -> str:
    """The worker whose scheduler process (its child) holds RQ's scheduler lock of ``queue``."""
    redis = stack.container.redis
    holder = wait_until(lambda: redis.get(RQScheduler.get_locking_key(queue)), 30, 0.1, "RQ's scheduler running")

    def started() -> int | None:
        try:
            return RQScheduler.fetch(holder.decode(), redis).pid
        except SchedulerNotFound:  # the lock is taken before the scheduler's process registers
            return None

    pid = wait_until(started, 30, 0.1, "RQ's scheduler started")
    return next(name for name, proc in stack.workers.items() if pid in children(proc.pid))


def test_a_job_whose_worker_was_killed_mid_create_is_reclaimed_and_finished_within_the_bound(stack, emulator):
    from dataclasses import replace

    container = stack.container
    realm = emulator.control.create_realm("Demo IT Services", seed="demo")
    emulator.control.preferences(realm, requestid_memory="off")  # only the lookup can prevent a duplicate
    company_id = connect_realm(container, emulator, realm).id
    northwind = next(c["Id"] for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT")
    # The create takes 1.5 s at the emulator, which commits it whether or not anyone still listens.
    emulator.control.fault(realm, "POST invoice", mode="latency", latency_ms=1500, times=1)
    queue = container.queue("postings")
    for _ in range(2):
        stack.start_worker()
    stack.start_scheduler()
    wait_until(lambda: len(Worker.all(queue=queue)) == 2, 60, 0.1, "both workers up")
    scheduler = _running_rqs_scheduler(stack, "postings")
    # Stored only now, and enqueued at once: stored before the workers were up, the sweeper would have
    # enqueued a job of its own for it (quiet longer than its grace, no job), a second one beside ours.
    items = {i["Name"]: i["Id"] for i in emulator.control.objects(realm, "Item")}
    with container.unit_of_work() as session:
        remember_items(session, company_id, {"Managed services": items["Managed services"]}, utcnow())
    posting_id = stored(container, period_draft(replace(agreement_for(company_id), customer_id=northwind), date(2026, 2, 1)))
    enqueue(container, posting_id, company_id, 0)
    # With the item known, the create is the job's first call: in flight means inside the create.
    wait_until(lambda: emulator.control.counters(realm)["in_flight"] > 0, 30, 0.02, "the create in flight")
    victim = next(w.name for w in Worker.all(queue=queue) if w.get_current_job_id() == job_id(posting_id, 0))
    killed_at = time.monotonic()
    stack.kill(victim)
    scheduler_lost = victim == scheduler
    row = wait_until(lambda: (r := _state(container, posting_id)).state == "sent" and r, 60, 0.1, "the posting sent")
    took = time.monotonic() - killed_at
    bound = recovery_bound(container.settings, scheduler_lost=scheduler_lost) + JOB_RUNS
    print(f"recovered in {took:.1f} s, bound {bound:.1f} s; RQ's scheduler died with the worker: {scheduler_lost}")
    assert took <= bound, f"took {took:.1f} s, bound {bound:.1f} s (RQ's scheduler died with the worker: {scheduler_lost})"
    invoices = [i for i in emulator.control.objects(realm, "Invoice") if (i.get("PrivateNote") or "").endswith(row.key)]
    assert len(invoices) == 1
    assert len(emulator.control.outbox(realm)) == 1
    assert "invoice.adopted" in [r.action for r in container.audit.records(company_id)]
    wait_until(lambda: StartedJobRegistry(queue=queue).count == 0, 30, 0.2, "no posting job left started")
    assert FailedJobRegistry(queue=queue).count == 0
