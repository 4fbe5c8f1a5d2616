"""Which RQ jobs will still run, read from where RQ keeps them rather than from a job's own status.

A job's hash can say "queued" while the job is in no queue (a worker killed between taking it and
starting it, a Redis that lost part of its data). Sweepers that re-enqueue lost work ask here: a job
is alive when its id is in its queue, in the queue's intermediate list (being taken), in the started
registry (running, or abandoned until RQ reclaims it), in a rate limit's waiting set, or scheduled
(with the time it is due, so an overdue one can be judged lost).

A rate limit's allowed set is not a sign of life: it holds the slots of jobs that are queued or
running, both seen directly. A job a worker took off the queue (``BLPOP``, when it listens to several)
and died before starting keeps its slot there with its hash saying "queued", which RQ's own clean-up
treats as legitimate, so the slot would be held for ever; ``free_lost_slots`` gives such slots back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
        ids |= {_text(j) for j in redis.zrange(RateLimitRegistry(key, redis).rate_limited_key, 0, -1)}
    scheduled = {_text(j): float(score) for j, score in
                 redis.zrange(ScheduledJobRegistry(queue=queue).key, 0, -1, withscores=True)}
    return LiveJobs(frozenset(ids), scheduled)


def without_live_jobs(queue: Queue, ids: Iterable[str], job_id: Callable[[str], str]) -> list[str]:
    """The ids among ``ids`` whose job (named ``job_id(id)``) RQ will not run any more: the ones a
    sweeper must enqueue again (one waiting in a long queue is left to that job)."""
    live = live_jobs(queue)
    return [i for i in ids if not live.alive(job_id(i))]


def free_lost_slots(queue: Queue, live: LiveJobs, rate_limit_keys: Iterable[str], *, older_than: float) -> int:
    """Give back the slots of jobs that hold one but are neither queued nor running (lost by a dead worker),
    taken before ``older_than`` (epoch seconds), and let waiting jobs have them; how many were freed."""
    redis, freed = queue.connection, 0
    for key in rate_limit_keys:
        limit = RateLimitRegistry(key, redis)
        lost = [_text(j) for j, taken in redis.zrange(limit.allowed_key, 0, -1, withscores=True)
                if _text(j) not in live.running_or_waiting and float(taken) < older_than]
        if lost:
            freed += redis.zrem(limit.allowed_key, *lost)
            if limit.concurrency:
                limit.acquire_and_enqueue(limit.concurrency)
    return freed
