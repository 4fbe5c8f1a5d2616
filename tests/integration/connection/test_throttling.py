"""The per-company budget against the emulator's throttle, and 429s deferring jobs without spending retries.

The emulator's windows are QuickBooks' (a minute, a second) and cannot be shortened, so the limits
are scaled down instead: 25 a minute, 5 a second, 3 at once.
"""

import threading
import time

import pytest
from rq import Retry, SimpleWorker
from rq.scheduler import RQScheduler

from addon import bootstrap, companyjobs
from addon.ledger import Throttled
from tests.integration.connection.conftest import _close, connect_realm, emulator_container

SCALED = {"per_minute": 25, "per_second": 5, "concurrent": 3}


def _hammer(container, company_id, calls: int, threads: int = 6) -> dict:
    """``calls`` CompanyInfo reads from ``threads`` threads at once; counts what happened."""
    outcome, lock, left = {"ok": 0, "budget": 0, "429": 0}, threading.Lock(), [calls]

    def run():
        ledger = container.ledger(company_id)
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                ledger.company_info()
                kind = "ok"
            except Throttled as exc:
                kind = "429" if exc.qbo_code == "3001" else "budget"
            with lock:
                outcome[kind] += 1

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return outcome


@pytest.fixture
def scaled(tmp_path, sqlite_database_url, redis_url, emulator):
    def make(**settings):
        container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator, **settings)
        realm = emulator.control.create_realm("Northwind IT")
        emulator.control.limits(realm, **SCALED)
        made.append(container)
        return container, connect_realm(container, emulator, realm)

    made = []
    yield make
    for container in made:
        _close(container)


def test_a_load_over_the_limits_gets_no_429_with_the_budget_on(scaled, emulator):
    container, company = scaled(QBO_REQUESTS_PER_MINUTE="25", QBO_REQUESTS_PER_SECOND="5", QBO_MAX_IN_FLIGHT="3",
                                AUTOBILL_QBO_MAX_WAIT="10")
    emulator.control.latency(20)
    outcome = _hammer(container, company.id, calls=32)
    counters = emulator.control.counters(company.realm_id)
    assert counters["throttled"] == 0
    assert counters["concurrent_peak"] <= 3
    assert outcome["ok"] == 25 and outcome["budget"] == 7 and outcome["429"] == 0


def test_the_same_load_without_the_budget_is_throttled_by_quickbooks(scaled, emulator):
    container, company = scaled(QBO_REQUESTS_PER_MINUTE="100000", QBO_REQUESTS_PER_SECOND="100000",
                                QBO_MAX_IN_FLIGHT="100", AUTOBILL_QBO_THROTTLE_BACKOFF="0.001")
    emulator.control.latency(20)
    outcome = _hammer(container, company.id, calls=32)
    assert emulator.control.counters(company.realm_id)["throttled"] > 0 and outcome["429"] > 0


def test_a_429_defers_the_job_without_spending_its_retries_and_it_later_succeeds(scaled, emulator):
    container, company = scaled(AUTOBILL_QBO_THROTTLE_BACKOFF="1")
    bootstrap.set_current(container)
    try:
        emulator.control.fault(company.realm_id, "POST invoice", status=429, times=1)
        job = companyjobs.enqueue(container, company.id, "tests.integration.connection.jobs.create_invoice",
                                  "inv-throttled", retry=Retry(max=2, interval=[5, 10]))
        queue = container.queue("postings")
        SimpleWorker([queue], connection=container.redis).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished" and job.return_value()["deferred"] == pytest.approx(1.0, abs=0.05)
        later = queue.fetch_job(job.return_value()["as"])
        assert later.retries_left == 2 and later.meta["deferrals"] == 1
        assert emulator.control.objects(company.realm_id, "Invoice") == []

        time.sleep(max(0.0, container.budget.backoff_remaining(company.id)) + 0.05)
        scheduler = RQScheduler([queue], connection=container.redis)
        scheduler.acquire_locks()
        scheduler.enqueue_scheduled_jobs()
        scheduler.release_locks()
        SimpleWorker([queue], connection=container.redis).work(burst=True)
        later.refresh()
        assert later.get_status() == "finished"
        [invoice] = emulator.control.objects(company.realm_id, "Invoice")
        assert invoice["PrivateNote"] == "autobill:inv-throttled" and later.return_value() == invoice["Id"]
        assert len(queue.failed_job_registry) == 0
    finally:
        bootstrap.set_current(None)
