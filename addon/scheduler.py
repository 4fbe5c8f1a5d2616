"""The scheduler: RQ's cron enqueues one tick job a minute; a worker runs ``tick(now)``."""

from __future__ import annotations

from datetime import datetime

from addon import bootstrap
from addon.clock import utcnow
from addon.tick import tick


def floor_to_minute(moment: datetime) -> datetime:
    """The start of ``moment``'s minute: every scheduler that fires in one minute ticks the same instant."""
    return moment.replace(second=0, microsecond=0)


def run_tick_job(at: str | None = None) -> dict:
    """RQ job: run one tick for ``at`` (ISO) or the current minute; returns a summary."""
    now = datetime.fromisoformat(at) if at else floor_to_minute(utcnow())
    report = tick(now, bootstrap.current())
    return {
        "now": report.now.isoformat(),
        "ok": report.ok,
        "tasks": {o.name: (o.error or "ok") for o in report.outcomes},
    }


def start_scheduler(container: bootstrap.Container) -> None:
    """Run RQ's cron scheduler in this process until stopped (SIGINT/SIGTERM)."""
    from rq.cron import CronScheduler

    cron = CronScheduler(connection=container.redis, name=f"autobill-scheduler-{id(container):x}")
    seconds = container.settings.tick_seconds
    if seconds == 60:
        cron.register(run_tick_job, queue_name="tick", cron="* * * * *", name="tick",
                      job_timeout=int(container.settings.job_timeout), result_ttl=600)
    else:
        cron.register(run_tick_job, queue_name="tick", interval=max(1, round(seconds)), name="tick",
                      job_timeout=int(container.settings.job_timeout), result_ttl=600)
    cron.start()
