"""A worker killed with SIGKILL in the middle of a create: its job is reclaimed and the posting finished
within a bound that follows from the settings, with one invoice and one email, and no job is left
started."""

from __future__ import annotations

import time
from datetime import date

import pytest
from rq.registry import FailedJobRegistry, StartedJobRegistry

from addon.clock import utcnow
from addon.models.postings import Posting
from addon.postings.invoice import remember_items
from addon.postings.jobs import enqueue
from addon.postings.pipeline import lease_seconds
from addon.workers import reclaim_bound
from tests.integration.connection.conftest import connect_realm
from tests.integration.postings.stack import Stack, wait_until
from tests.unit.postings.conftest import agreement_for, period_draft, stored


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


def test_a_job_whose_worker_was_killed_mid_create_is_reclaimed_and_finished_within_the_bound(stack, emulator):
    from dataclasses import replace

    container = stack.container
    realm = emulator.control.create_realm("Demo IT Services", seed="demo")
    emulator.control.preferences(realm, requestid_memory="off")  # only the lookup can prevent a duplicate
    company_id = connect_realm(container, emulator, realm).id
    northwind = next(c["Id"] for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT")
    posting_id = stored(container, period_draft(replace(agreement_for(company_id), customer_id=northwind), date(2026, 2, 1)))
    items = {i["Name"]: i["Id"] for i in emulator.control.objects(realm, "Item")}
    with container.unit_of_work() as session:
        remember_items(session, company_id, {"Managed services": items["Managed services"]}, utcnow())
    # The create takes 1.5 s at the emulator, which commits it whether or not anyone still listens.
    emulator.control.fault(realm, "POST invoice", mode="latency", latency_ms=1500, times=1)
    victim = stack.start_worker()
    stack.start_scheduler()
    enqueue(container, posting_id, company_id, 0)
    # With the item known, the create is the job's first call: in flight means inside the create.
    wait_until(lambda: emulator.control.counters(realm)["in_flight"] > 0, 30, 0.02, "the create in flight")
    killed_at = time.monotonic()
    stack.kill(victim)
    stack.start_worker()
    row = wait_until(lambda: (r := _state(container, posting_id)).state == "sent" and r, 60, 0.1, "the posting sent")
    took = time.monotonic() - killed_at
    settings = container.settings
    # The lease outlives any job; then either RQ's reclaimed run or the sweeper (one grace, one tick) goes on.
    bound = max(reclaim_bound(settings), lease_seconds(settings)) + settings.posting_sweep_grace + \
        max(1, round(settings.tick_seconds)) + 5  # + process start-up
    assert took <= bound, f"took {took:.1f} s, bound {bound:.1f} s"
    invoices = [i for i in emulator.control.objects(realm, "Invoice") if (i.get("PrivateNote") or "").endswith(row.key)]
    assert len(invoices) == 1
    assert len(emulator.control.outbox(realm)) == 1
    assert "invoice.adopted" in [r.action for r in container.audit.records(company_id)]
    queue = container.queue("postings")
    wait_until(lambda: StartedJobRegistry(queue=queue).count == 0, 30, 0.2, "no posting job left started")
    assert FailedJobRegistry(queue=queue).count == 0
