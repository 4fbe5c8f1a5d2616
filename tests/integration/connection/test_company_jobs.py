"""Company jobs on a real Redis: RQ's RateLimit keyed by the company keeps at most QBO_MAX_IN_FLIGHT of its
jobs running across worker processes, and work parked while the company was cut off keeps its retries."""

import os
import subprocess
import sys
import time

import pytest
from rq import Retry, SimpleWorker
from rq.job import JobStatus
from sqlalchemy import update

from addon import bootstrap, companyjobs, migrate
from addon.config import load_settings
from addon.models.companies import Company
from addon.vault import generate_key
from tests.integration.connection.conftest import _close, add_company

HOLD = "tests.integration.connection.jobs.hold_a_slot"


@pytest.fixture
def env(tmp_path, sqlite_database_url, redis_url):
    return {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": sqlite_database_url,
            "REDIS_URL": redis_url, "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "test-secret",
            "QBO_MAX_IN_FLIGHT": "2"}


@pytest.fixture
def container(env):
    made = bootstrap.build(load_settings(env))
    migrate.upgrade(made.database)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    _close(made)


def _status(queue, job) -> str:
    return queue.fetch_job(job.id).get_status(refresh=True)


def test_at_most_qbo_max_in_flight_of_a_companys_jobs_run_at_once_on_all_workers(container, env, tmp_path):
    northwind = add_company(container)
    contoso = add_company(container, name="Contoso Ltd", realm="9130357766371047")
    queue = container.queue("postings")
    jobs = [companyjobs.enqueue(container, northwind.id, HOLD, f"nw-{n}") for n in range(6)]
    other = companyjobs.enqueue(container, contoso.id, HOLD, "contoso-1")
    # Two of Northwind's jobs wait in the queue, the others are held back by RQ; Contoso's is not behind them.
    assert sorted(queue.get_job_ids()) == sorted([jobs[0].id, jobs[1].id, other.id])
    assert [_status(queue, j) for j in jobs[2:]] == [JobStatus.RATE_LIMITED] * 4

    argv = [sys.executable, "-m", "addon", "worker", "--queues", "postings"]
    logs = [(tmp_path / f"worker-{n}.log").open("w") for n in range(3)]
    workers = [subprocess.Popen(argv + ["--name", f"limit-{n}-{os.getpid()}"], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **env}) for n, log in enumerate(logs)]
    try:
        deadline = time.monotonic() + 90
        while not all(_status(queue, j) == JobStatus.FINISHED for j in [*jobs, other]):
            assert time.monotonic() < deadline, "the company's jobs did not all finish"
            assert all(w.poll() is None for w in workers), "a worker stopped"
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        for log in logs:
            log.close()
    seen = [int(n) for n in container.redis.lrange(f"test:seen:{northwind.id}", 0, -1)]
    assert len(seen) == 6 and max(seen) <= 2


def test_a_job_parked_while_its_company_was_cut_off_resumes_with_the_retries_it_had(container):
    company = add_company(container)
    with container.unit_of_work() as session:
        session.execute(update(Company).where(Company.id == company.id).values(
            status="needs_reconnect", status_reason="the refresh token was refused"))
    companyjobs.enqueue(container, company.id, HOLD, "nw-1", 0.0, retry=Retry(max=3, interval=[5, 30]))
    SimpleWorker([container.queue("postings")], connection=container.redis).work(burst=True)
    [parked] = companyjobs.parked(container, company.id)
    assert parked.reason == "the refresh token was refused"

    with container.unit_of_work() as session:
        session.execute(update(Company).where(Company.id == company.id).values(status="connected", status_reason=None))
    assert companyjobs.resume(container, company.id) == 1
    [resumed] = container.queue("postings").get_jobs()
    assert resumed.retries_left == 3 and resumed.retry_intervals == [5, 30]
    assert resumed.args[1:] == (HOLD, ["nw-1", 0.0])
    SimpleWorker([container.queue("postings")], connection=container.redis).work(burst=True)
    assert resumed.get_status(refresh=True) == JobStatus.FINISHED and companyjobs.parked(container, company.id) == []
