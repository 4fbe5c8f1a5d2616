"""The per-company QuickBooks budget, shared by every process on every machine through Redis.

Intuit allows per company (realm) 500 requests a minute, 10 a second and 10 at once, and
answers 429 beyond; it advises waiting 60 s after a 429.
https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles

Each request first takes a permit. One Lua script (atomic, on Redis' clock, so machines need not
agree on the time) checks, in order: the company's 429 back-off; the in-flight set (leases that
expire, so a killed process cannot hold a slot for ever); and sliding-window logs for the minute
and the second windows (see below). A sliding log never lets more than N requests through in
*any* window of that length, which a token bucket of the same rate would (a full bucket plus its
refill). Waits shorter than ``qbo_max_wait`` are slept here; longer ones raise ``Throttled`` so a
job can be deferred instead of holding a worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from addon.ledger.faults import Throttled

POLL_MS = 10

# Three sorted sets per company: the requests in flight (scored by when their lease ends), the log
# of admissions (for the minute window) and the log of completions (for the second window).
# - Minute window: requests admitted inside it, plus older ones still in flight. The budget (480)
#   stays under Intuit's 500, so a few requests reaching QuickBooks a little late across the window's
#   edge cannot tip it over; ``guard_ms`` widens the window further.
# - Second window: every request in flight, plus the finished ones stamped at the earlier of their
#   answer and their admission + ``guard_ms``. QuickBooks counted each request at some moment
#   between its sending and its answer: a request is counted here from its admission until a window
#   after it could at the latest have been counted there (its answer), or after it most likely was
#   (the guard), so one that was slow to reach QuickBooks (a starved process, a slow network) by up
#   to the guard cannot tip the next window over.
_ACQUIRE = """
local inflight, log, done, backoff = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member = ARGV[1]
local max_in_flight, lease_ms = tonumber(ARGV[2]), tonumber(ARGV[3])
local per_min, min_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local per_sec, sec_ms = tonumber(ARGV[6]), tonumber(ARGV[7])
local poll_ms = tonumber(ARGV[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', backoff)
if paused > 0 then return {1, paused, now} end
redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
local flying = redis.call('ZCARD', inflight)
if flying >= max_in_flight then return {2, poll_ms, now} end
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - min_ms)
local logged = redis.call('ZCARD', log)
local late = redis.call('ZCOUNT', inflight, '-inf', now - min_ms + lease_ms)
if logged + late >= per_min then
  if logged + late - per_min >= logged then return {3, poll_ms, now} end
  local edge = tonumber(redis.call('ZRANGE', log, late + logged - per_min, late + logged - per_min, 'WITHSCORES')[2])
  return {3, edge + min_ms - now + 1, now}
end
redis.call('ZREMRANGEBYSCORE', done, '-inf', now - sec_ms)
local finished = redis.call('ZCARD', done)
if finished + flying >= per_sec then
  if flying >= per_sec then return {4, poll_ms, now} end
  local edge = tonumber(redis.call('ZRANGE', done, flying + finished - per_sec, flying + finished - per_sec, 'WITHSCORES')[2])
  return {4, edge + sec_ms - now + 1, now}
end
redis.call('ZADD', inflight, now + lease_ms, member)
redis.call('PEXPIRE', inflight, lease_ms + 1000)
redis.call('ZADD', log, now, member)
redis.call('PEXPIRE', log, min_ms + lease_ms + 1000)
return {0, 0, now}
"""

_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], math.min(now, tonumber(ARGV[3]) + tonumber(ARGV[4])), ARGV[1])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) + 1000)
end
return now
"""

@dataclass(frozen=True)
class Permit:
    """One admitted request: its company, its id in Redis and when it was admitted (Redis' clock)."""

    company_id: str
    member: str
    admitted_ms: int


_REASONS = {1: "QuickBooks asked autobill to slow down (429)", 2: "10 requests already in flight",
            3: "the per-minute request budget is spent", 4: "the per-second request budget is spent"}


@dataclass(frozen=True)
class BudgetLimits:
    """The numbers the budget enforces (from settings; tests scale them down)."""

    per_minute: int
    per_second: int
    max_in_flight: int
    minute_window: float
    second_window: float
    backoff: float
    max_wait: float
    request_timeout: float
    window_guard: float = 0.25
    lease_slack: float = 5.0  # a slot outlives its request's timeout by this much before it is reclaimed

    @classmethod
    def from_settings(cls, settings) -> BudgetLimits:
        """The limits configured for this deployment."""
        return cls(settings.qbo_requests_per_minute, settings.qbo_requests_per_second, settings.qbo_max_in_flight,
                   settings.qbo_minute_window, settings.qbo_second_window, settings.qbo_throttle_backoff,
                   settings.qbo_max_wait, settings.qbo_request_timeout, settings.qbo_window_guard)


class CompanyBudget:
    """Permits to call QuickBooks for a company, within Intuit's limits, across all processes."""

    def __init__(self, redis, limits: BudgetLimits):
        self.redis = redis
        self.limits = limits
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)

    @staticmethod
    def _keys(company_id: str) -> list[str]:
        return [f"autobill:qbo:{company_id}:inflight", f"autobill:qbo:{company_id}:log",
                f"autobill:qbo:{company_id}:done", f"autobill:qbo:{company_id}:backoff"]

    def _try(self, company_id: str, member: str) -> tuple[int, float, int]:
        lim = self.limits
        guard_ms = int(lim.window_guard * 1000)
        lease_ms = int((lim.request_timeout + lim.lease_slack) * 1000)
        status, wait_ms, now_ms = self._acquire(keys=self._keys(company_id), args=[
            member, lim.max_in_flight, lease_ms,
            lim.per_minute, int(lim.minute_window * 1000) + guard_ms,
            lim.per_second, int(lim.second_window * 1000), POLL_MS])
        return int(status), int(wait_ms) / 1000, int(now_ms)

    def acquire(self, company_id: str) -> Permit:
        """A permit for one request, waiting up to ``max_wait``; else ``Throttled``."""
        member = uuid.uuid4().hex
        deadline = time.monotonic() + self.limits.max_wait
        while True:
            status, wait, now_ms = self._try(company_id, member)
            if status == 0:
                return Permit(company_id, member, now_ms)
            left = deadline - time.monotonic()
            if status == 1 or wait > left:
                raise Throttled(f"{_REASONS[status]}; trying again in {wait:.1f} s", retry_after=max(wait, 0.05))
            time.sleep(wait)

    def release(self, permit: Permit) -> None:
        """Give back the in-flight slot of a finished request; it stays in the windows from its admission."""
        inflight, _, done, _ = self._keys(permit.company_id)
        self._release(keys=[inflight, done], args=[permit.member, int(self.limits.second_window * 1000),
                                                   permit.admitted_ms, int(self.limits.window_guard * 1000)])

    @contextmanager
    def permit(self, company_id: str) -> Iterator[Permit]:
        """Hold a permit for the duration of one request."""
        held = self.acquire(company_id)
        try:
            yield held
        finally:
            self.release(held)

    def back_off(self, company_id: str, seconds: float | None = None) -> float:
        """Pause every request for the company (after a 429); returns the pause in seconds."""
        seconds = self.limits.backoff if seconds is None else seconds
        self.redis.set(self._keys(company_id)[3], "429", px=max(1, int(seconds * 1000)))
        return seconds

    def backoff_remaining(self, company_id: str) -> float:
        """Seconds left in the company's back-off (0 when none)."""
        ms = self.redis.pttl(self._keys(company_id)[3])
        return ms / 1000 if ms and ms > 0 else 0.0

    def in_flight(self, company_id: str) -> int:
        """Requests holding a slot right now (expired leases not counted)."""
        now_ms = int(time.time() * 1000)
        return int(self.redis.zcount(self._keys(company_id)[0], now_ms, "+inf"))
