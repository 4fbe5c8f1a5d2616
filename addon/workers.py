"""autobill's RQ worker: it runs each job in itself, keeping the job's heartbeat from a thread.

RQ's default worker forks a work horse for every job. Each horse opens its own database connection and
rebuilds what the job touches first; measured in bench/posting (part 3, 200 invoices across 10
companies) that was about 150 ms of CPU per invoice inside jobs and 20 ms of RQ's own per job, against
about 45 ms and 4 ms with the jobs run in the worker. So autobill's worker is RQ's SimpleWorker (no
fork) with the two things the forking parent otherwise does:

- heartbeats: a thread renews the job's entry in RQ's started registry (and the worker's own key) every
  job monitoring interval, with a margin of two intervals; a job whose worker was killed is then
  reclaimed after that entry expires and the next maintenance run, a bound that follows from the settings
  (job timeout, job monitoring interval, maintenance interval) alone, as it does for a forking worker.
  SimpleWorker on its own keeps the entry alive for the whole job timeout plus 60 s instead.
- the job timeout: RQ's death penalty (SIGALRM, in the worker's main thread) stops a job that runs past
  its timeout, as it does in a horse. A job stuck where the alarm cannot reach it (inside C code) is the
  one case a forking parent handles by killing the horse: here the heartbeat thread stops renewing
  once the job is past its timeout plus two intervals, logs it, and ends the process, so the job is
  reclaimed and the process supervisor starts a fresh worker.
"""

from __future__ import annotations

import logging
import os
import threading

from rq import SimpleWorker
from rq.worker import WorkerStatus

log = logging.getLogger(__name__)


class AutobillWorker(SimpleWorker):
    """An RQ worker that runs jobs in itself, heartbeating every monitoring interval from a thread."""

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        """Seconds a heartbeat keeps the job (and this worker) alive: one interval plus a margin of two."""
        margin = 2 * int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            return int(max(1, min(job.timeout - working_time, self.job_monitoring_interval))) + margin
        return int(self.job_monitoring_interval) + margin

    def execute_job(self, job, queue):
        """Run the job here (SimpleWorker's way) while a thread keeps its heartbeat."""
        execution = self.prepare_execution(job)
        keeper = Heartbeat(self, job, execution)
        keeper.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            keeper.stop()
        self.set_state(WorkerStatus.IDLE)


class Heartbeat(threading.Thread):
    """Renews a running job's heartbeat every monitoring interval until stopped, or ends a stuck process."""

    def __init__(self, worker: AutobillWorker, job, execution):
        super().__init__(name=f"heartbeat-{job.id}", daemon=True)
        self.worker, self.job, self.execution = worker, job, execution
        self.interval = max(1, int(worker.job_monitoring_interval))
        timeout = job.timeout if job.timeout and job.timeout > 0 else None
        self.give_up_after = None if timeout is None else timeout + 2 * self.interval
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)

    def run(self) -> None:
        waited = 0.0
        while not self._done.wait(self.interval):
            waited += self.interval
            if self.give_up_after is not None and waited >= self.give_up_after:
                # The job outlived its own timeout by two intervals: the alarm could not stop it. Stop
                # keeping it alive and end this worker; RQ reclaims the job once its entry expires.
                log.error("job %s ran %.0f s, past its timeout of %s s, and could not be stopped: worker %s "
                          "exits so it is reclaimed", self.job.id, waited, self.job.timeout, self.worker.name)
                os._exit(70)
            try:
                self.worker.maintain_heartbeats(self.job, self.execution)
            except Exception:  # Redis away for a moment: the next beat tries again, the TTL has a margin
                log.warning("heartbeat for job %s failed", self.job.id, exc_info=True)


# RQ's scheduler (run by one worker, enqueueing scheduled jobs when due) holds a lock per queue for its
# interval (1 s) plus 60 s, whatever the settings: https://github.com/rq/rq/blob/master/rq/scheduler.py
# (``acquire_locks``: ``self.interval + 60``). A worker killed while holding it leaves scheduled jobs until
# then and another worker's next maintenance run.
RQ_SCHEDULER_LOCK_SECONDS = 61


def reclaim_bound(settings) -> float:
    """Seconds within which a killed worker's job is back on its queue: heartbeat TTL plus one maintenance run."""
    monitoring = max(1, round(settings.job_monitoring_interval))
    return 3 * monitoring + max(1, round(settings.worker_maintenance_interval))


def recovery_bound(settings, *, scheduler_lost: bool = False) -> float:
    """Seconds from a worker killed mid-call until another worker takes the posting up again (then that job's
    own run adds its calls).

    RQ puts the killed job back within ``reclaim_bound``; that run finds the lease held and schedules
    the posting for the lease's end, which RQ's scheduler enqueues within its one-second interval. When the
    killed worker was running RQ's scheduler (``scheduler_lost``), scheduled jobs wait until another worker's
    maintenance run takes the scheduler's lock over after RQ's fixed lock lifetime, or until the posting
    sweeper, one sweep grace and one tick after the lease's end, enqueues the posting: whichever is first.
    With the production defaults both cases come to the lease plus a second (211 s).
    """
    from addon.postings.pipeline import lease_seconds

    lease = lease_seconds(settings)
    wait = 1.0
    if scheduler_lost:
        takeover = RQ_SCHEDULER_LOCK_SECONDS + max(1, round(settings.worker_maintenance_interval))
        sweep = settings.posting_sweep_grace + max(1, round(settings.tick_seconds))
        wait = min(max(takeover - lease, wait), sweep)
    return max(reclaim_bound(settings), lease) + wait


# What jobs import and build on first use, loaded when the worker starts so its first job (and its
# first latency figure) does not pay for it.
WARM_MODULES = ("addon.companyjobs", "addon.eventjob", "addon.inbox", "addon.postings.pipeline", "addon.postings.drafting",
                "addon.quickbooks.gateway", "addon.scheduler", "addon.usage", "connectors", "rules")
# The container's services jobs share, built on first use; the database alone imports its driver and
# makes an engine (measured: over a second on a loaded machine). None of them opens a connection when built.
WARM_SERVICES = ("database", "vault", "audit", "companies", "budget", "endpoints", "mappings", "agreements")


def warm_up(container) -> None:
    """Load what jobs need once, in the worker, before its first job."""
    import importlib

    from sqlalchemy.orm import configure_mappers

    import addon.models  # noqa: F401 - every table, for the mapper configuration below

    for name in WARM_MODULES:
        importlib.import_module(name)
    configure_mappers()
    import connectors

    for name in connectors.names():
        connectors.get(name)
    for name in WARM_SERVICES:
        getattr(container, name)
    # One connection, back to the pool at once: the dialect's first-connect set-up (server version and
    # settings, a few round trips) is done here, and the first job finds a pooled connection.
    with container.database.engine.connect():
        pass
