"""autobill's worker runs jobs in itself (addon/workers.py): a thread keeps a running job's heartbeat short
and renewed, RQ's alarm still stops a job past its timeout, and a job the alarm cannot stop ends the worker
instead of staying started forever."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from rq.job import JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from addon.workers import AutobillWorker
from tests.integration.postings.workerjobs import deaf_to_the_alarm, sleep_for

INTERVAL = 1  # job monitoring interval: heartbeats live 3 s (one interval plus a margin of two)


def _expiries(redis, registry: StartedJobRegistry) -> list[float]:
    """Seconds from now until each started entry expires (RQ scores them by expiry time)."""
    return [score - time.time() for _, score in redis.zrange(registry.key, 0, -1, withscores=True)]


def test_a_job_running_longer_than_its_heartbeat_is_kept_alive_by_short_renewed_heartbeats(container):
    queue = container.queue("postings")
    registry = StartedJobRegistry(queue=queue)
    job = queue.enqueue(sleep_for, 5, job_timeout=30)
    samples: list[tuple[float, list[float]]] = []

    def sample():
        began = time.monotonic()
        while time.monotonic() - began < 4.5:
            samples.append((time.monotonic() - began, _expiries(container.redis, registry)))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    worker = AutobillWorker([queue], connection=container.redis, job_monitoring_interval=INTERVAL)
    worker.work(burst=True)
    sampler.join()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == "slept"
    running = [(at, e[0]) for at, e in samples if e]
    # Past the first heartbeat's 3 s the job is still registered, never for longer than 3 s ahead (a
    # SimpleWorker's entry would stand for the timeout plus 60 s: 90 s here).
    assert any(at > 3.5 for at, _ in running), running
    assert all(left <= 3 * INTERVAL + 0.5 for _, left in running), running


def test_a_job_past_its_timeout_is_stopped_by_the_alarm_and_fails(container):
    queue = container.queue("postings")
    job = queue.enqueue(sleep_for, 30, job_timeout=2)
    began = time.monotonic()
    AutobillWorker([queue], connection=container.redis, job_monitoring_interval=INTERVAL).work(burst=True)
    assert time.monotonic() - began < 15
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in (job.latest_result().exc_string or "")
    assert job.id in FailedJobRegistry(queue=queue).get_job_ids()


CHILD = """
import sys
from redis import Redis
from rq import Queue
from addon.workers import AutobillWorker
redis = Redis.from_url(sys.argv[1])
AutobillWorker([Queue("postings", connection=redis)], connection=redis, job_monitoring_interval=1).work(burst=True)
"""


def test_a_job_the_alarm_cannot_stop_ends_its_worker_and_stops_being_kept_alive(container, redis_url):
    queue = container.queue("postings")
    job = queue.enqueue(deaf_to_the_alarm, 60, job_timeout=2)
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, redis_url], capture_output=True, text=True, timeout=60,
                          cwd=os.getcwd())
    took = time.monotonic() - began
    # Past its timeout (2 s) by two intervals, the heartbeat thread gives up and ends the process.
    assert done.returncode == 70, (done.returncode, done.stderr[-2000:])
    assert took < 30, took
    assert "could not be stopped" in done.stderr
    registry = StartedJobRegistry(queue=queue)
    # Nothing renews the entry now: it expires within one heartbeat (3 s) and RQ's clean-up takes it off.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and job.id in registry.get_job_ids(cleanup=True):
        time.sleep(0.25)
    assert job.id not in registry.get_job_ids(cleanup=True)
