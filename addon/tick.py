"""``tick(now)``: the one heartbeat every time-driven feature hangs off.

Features register a task with ``register``; the scheduler calls ``tick`` once a minute (RQ cron)
and ``autobill tick --at`` calls it for any instant. A task receives the instant and decides
what is due from stored state, anchored to agreement starts and cursors, never to "the last
run", so a missed tick catches up and a doubled tick changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from addon.clock import as_utc

log = logging.getLogger(__name__)

TickTask = Callable[["TickContext"], object]


@dataclass(frozen=True)
class RegisteredTask:
    name: str
    fn: TickTask
    every_minutes: int = 1  # runs when the instant's epoch minute is a multiple of this


@dataclass
class TickContext:
    """What a task gets: the instant (UTC) and the application container."""

    now: datetime
    container: object


@dataclass
class TaskOutcome:
    name: str
    ok: bool
    result: object = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class TickReport:
    now: datetime
    outcomes: list[TaskOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


_TASKS: dict[str, RegisteredTask] = {}


def register(name: str, fn: TickTask, *, every_minutes: int = 1) -> None:
    """Register ``fn`` to run on ticks whose epoch minute is a multiple of ``every_minutes``."""
    if every_minutes < 1:
        raise ValueError(f"every_minutes must be at least 1, got {every_minutes}")
    _TASKS[name] = RegisteredTask(name, fn, every_minutes)


def registered() -> list[RegisteredTask]:
    """The registered tasks in registration order."""
    return list(_TASKS.values())


def tick(now: datetime, container: object) -> TickReport:
    """Run every task due at ``now``; one task failing does not stop the others."""
    now = as_utc(now)
    report = TickReport(now)
    epoch_minute = int(now.timestamp() // 60)
    ctx = TickContext(now=now, container=container)
    for task in registered():
        if epoch_minute % task.every_minutes:
            continue
        started = time.perf_counter()
        try:
            result = task.fn(ctx)
            report.outcomes.append(TaskOutcome(task.name, True, result, seconds=time.perf_counter() - started))
        except Exception as exc:  # noqa: BLE001 - a tick reports failures, the next tick retries
            log.exception("tick task %s failed", task.name)
            report.outcomes.append(
                TaskOutcome(task.name, False, error=f"{type(exc).__name__}: {exc}",
                            seconds=time.perf_counter() - started)
            )
    return report
