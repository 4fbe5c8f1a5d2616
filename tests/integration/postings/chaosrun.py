"""The chaos test's moving parts: the senders POSTing deliveries, what the test does to the running system
(kills, the Redis flush, the token expiry) and how it watches the work go by."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from addon.models.events import EventRecord
from addon.models.inbox import Delivery as DeliveryRow
from addon.models.postings import Posting, PostingState
from addon.postings.jobs import job_id, rate_limit_key
from addon.postings.store import FINAL
from connectors.generic import SIGNATURE_HEADER, signature_header

QUEUES = ("tick", "events", "postings", "default")


def deliver(company: dict, body: bytes, session: requests.Session) -> bool:
    """POST one signed delivery as a sender would (again after anything but a 200); True when a duplicate."""
    for _ in range(20):
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(body, company["secret"])}
        try:
            response = session.post(company["url"], data=body, headers=headers, timeout=30)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            return bool(response.json()["duplicate"])
        time.sleep(0.2)
    raise AssertionError(f"the web app kept refusing a delivery to company {company['n']}")


def progress_of(container) -> dict:
    """Where the work stands: deliveries, events and postings by status, and what RQ holds."""
    with container.unit_of_work() as session:
        found = {what: dict(session.execute(select(column, func.count()).group_by(column)).all())
                 for what, column in (("deliveries", DeliveryRow.status), ("events", EventRecord.status),
                                      ("postings", Posting.state))}
    found["queued"] = {name: container.queue(name).count for name in QUEUES}
    found["started"] = {name: StartedJobRegistry(queue=container.queue(name)).count for name in QUEUES}
    return found


def stuck(container) -> list[dict]:
    """The unfinished postings, each with where RQ holds the job the sweeper expects for it (for a failure)."""
    with container.unit_of_work() as session:
        rows = list(session.execute(select(Posting).where(Posting.state.notin_([s.value for s in FINAL]))).scalars())
    redis, found = container.redis, []
    for p in rows[:10]:
        expected, queue = job_id(p.id, p.job_seq), container.queue("postings")
        limit = f"rq:rl:{rate_limit_key(p.company_id)}"
        where = {"queued": expected.encode() in redis.lrange(queue.key, 0, -1),
                 "started": redis.zscore(StartedJobRegistry(queue=queue).key, expected),
                 "scheduled": redis.zscore(ScheduledJobRegistry(queue=queue).key, expected),
                 "allowed": redis.zrange(f"{limit}:allowed", 0, -1), "waiting": redis.zrange(f"{limit}:rate_limited", 0, -1),
                 "status": redis.hget(f"rq:job:{expected}", "status")}
        found.append({"id": p.id, "state": p.state, "reason": p.state_reason, "job": expected, "where": where,
                      "lease_until": p.lease_until, "next_attempt_at": p.next_attempt_at, "updated_at": p.updated_at,
                      "attempts": (p.attempts, p.create_attempts, p.send_attempts)})
    return found


def events_closed(progress: dict, events: int) -> bool:
    """Every delivery read and all ``events`` closed."""
    return (sum(progress["events"].values()) >= events and "received" not in progress["deliveries"]
            and set(progress["events"]) <= {"done", "ignored", "failed"})


def settled(progress: dict, events: int) -> bool:
    """Every delivery read, every event closed, every posting in a final state."""
    return events_closed(progress, events) and set(progress["postings"]) <= {s.value for s in FINAL}


def cpu(stack, name: str) -> float:
    """CPU seconds a worker (or the scheduler) and its finished work horses have used so far."""
    fields = (Path("/proc") / str(stack.workers[name].pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class Chaos:
    """What the test does to the running system, when: kills on the clock, the flush and the token expiry
    when a share of the invoices has been sent (so they hit postings in flight, not only intake)."""

    def __init__(self, stack, emulator, plan, started: float):
        self.stack, self.emulator, self.plan = stack, emulator, plan
        self.rng = random.Random(plan.seed + 1)
        self.gaps = iter(plan.kill_gaps)
        self.next_kill = started + next(self.gaps)
        self.kills, self.restarted, self.worker_cpu = 0, [], 0.0
        self.flushed_at = self.expired_at = None

    def step(self, progress: dict, now: float, started: float) -> None:
        self.restarted += self.stack.restart_dead()
        deals = len(self.plan.deals)
        sent = progress["postings"].get(PostingState.SENT.value, 0) / deals
        if now >= self.next_kill and sent < 0.95:
            victim = self.rng.choice(sorted(n for n in self.stack.workers if n != "scheduler"))
            self.worker_cpu += cpu(self.stack, victim)
            self.stack.kill(victim)
            self.stack.start_worker()
            self.kills += 1
            self.next_kill = now + next(self.gaps)
        if self.flushed_at is None and sent >= self.plan.flush_at:
            self.stack.container.redis.flushall()
            self.flushed_at = round(now - started)
        if self.expired_at is None and sent >= self.plan.expire_at:
            assert self.emulator.control.expire_tokens() > 0
            self.expired_at = round(now - started)

    @property
    def done(self) -> bool:
        return self.flushed_at is not None and self.expired_at is not None


def send_all(plan, companies: list[dict], started: float, seconds: float) -> tuple[ThreadPoolExecutor, list, Counter]:
    """POST every copy of every delivery, spread evenly over ``seconds``, from 8 sender threads."""
    duplicates, counted, local = Counter(), threading.Lock(), threading.local()

    def send(slot: float, delivery) -> None:
        time.sleep(max(0.0, started + slot - time.monotonic()))
        if not hasattr(local, "session"):
            local.session = requests.Session()
        duplicate = deliver(companies[delivery.company], delivery.body(), local.session)
        with counted:
            duplicates[duplicate] += 1

    gap = seconds / len(plan.posts)
    pool = ThreadPoolExecutor(8)
    return pool, [pool.submit(send, i * gap, d) for i, d in enumerate(plan.posts)], duplicates
