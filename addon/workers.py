"""autobill's RQ worker: RQ's own, with the heartbeat margin following the monitoring interval.

RQ keeps a running job's entry in its started registry alive for the monitoring interval plus a fixed
60 s; a job whose worker died is reclaimed only after that entry expires (and the next maintenance
run). Here the margin is twice the monitoring interval instead: the same 60 s with the production
default of 30 s, and seconds when the time constants are scaled down for tests, so the bound on
reclaiming a killed worker's job follows from the settings (job timeout, job monitoring interval,
maintenance interval) alone.
"""

from __future__ import annotations

from rq import Worker


class AutobillWorker(Worker):
    """An RQ worker whose heartbeat margin scales with its monitoring interval."""

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        """Seconds a heartbeat keeps the job (and this worker) alive: one interval plus a margin of two."""
        margin = 2 * int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            return int(min(job.timeout - working_time, self.job_monitoring_interval)) + margin
        return int(self.job_monitoring_interval) + margin


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


# What jobs import and build on first use. A forking worker runs every job in a fresh copy of
# itself, so whatever the parent has not loaded yet is loaded again by every single job.
WARM_MODULES = ("addon.companyjobs", "addon.eventjob", "addon.inbox", "addon.postings.pipeline", "addon.postings.drafting",
                "addon.quickbooks.gateway", "addon.scheduler", "addon.usage", "connectors", "rules")
# The container's services jobs share, built on first use. Built in a work horse, they are built again by
# every job: the database alone imports its driver and makes an engine (measured: over a second a job on
# a loaded machine). None of them opens a connection when built.
WARM_SERVICES = ("database", "vault", "audit", "companies", "budget", "endpoints", "mappings", "agreements")


def warm_up(container) -> None:
    """Load what jobs need once, in the worker, before it forks its first work horse."""
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
    # One connection, closed at once: the dialect's first-connect set-up (server version and settings,
    # a few round trips) is then done here instead of in every job's new connection.
    engine = container.database.engine
    with engine.connect():
        pass
    engine.dispose()
