"""Which RQ jobs will still run, read from where RQ keeps them rather than from a job's own status.

A job's hash can say "queued" while the job is in no queue (a worker killed between taking it and
starting it, a Redis that lost part of its data). Sweepers that re-enqueue lost work ask here: a job
is alive when its id is in its queue, in the queue's intermediate list (being taken), in the started
registry (running, or abandoned until RQ reclaims it), in a rate limit's waiting or allowed set, or
scheduled (with the time it is due, so an overdue one can be judged lost).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rq import Queue
from rq.rate_limit import RateLimitRegistry
from rq.registry import ScheduledJobRegistry, StartedJobRegistry


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class LiveJobs:
    """Job ids that will run (or are running), and scheduled ones with when they are due (epoch seconds)."""

    running_or_waiting: frozenset[str]
    scheduled: dict[str, float] = field(default_factory=dict)

    def alive(self, job_id: str, *, overdue_before: float | None = None) -> bool:
        """True when the job will still run; a scheduled one only while not overdue (when a limit is given)."""
        if job_id in self.running_or_waiting:
            return True
        due = self.scheduled.get(job_id)
        return due is not None and (overdue_before is None or due > overdue_before)


def live_jobs(queue: Queue, *, rate_limit_keys: Iterable[str] = ()) -> LiveJobs:
    """Every job of ``queue`` that RQ will still run, from its lists, registries and rate limits."""
    redis = queue.connection
    ids = {_text(j) for j in redis.lrange(queue.key, 0, -1)}
    ids |= {_text(j) for j in redis.lrange(queue.intermediate_queue_key, 0, -1)}
    started = StartedJobRegistry(queue=queue)
    ids |= {_text(member).split(":", 1)[0] for member in redis.zrange(started.key, 0, -1)}
    for key in rate_limit_keys:
        limit = RateLimitRegistry(key, redis)
        ids |= {_text(j) for j in redis.zrange(limit.rate_limited_key, 0, -1)}
        ids |= {_text(j) for j in redis.zrange(limit.allowed_key, 0, -1)}
    scheduled = {_text(j): float(score) for j, score in
                 redis.zrange(ScheduledJobRegistry(queue=queue).key, 0, -1, withscores=True)}
    return LiveJobs(frozenset(ids), scheduled)
