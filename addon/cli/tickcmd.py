"""``autobill tick`` and ``autobill scheduler``."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from addon import bootstrap
from addon.errors import InvalidInput


def _parse_instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--at {value!r} is not an ISO 8601 time (e.g. 2026-12-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        # Refused rather than read as UTC: "midnight" in a company's zone and in UTC are different ticks.
        raise InvalidInput(f"--at {value!r} has no time zone; add Z or an offset such as +01:00")
    return moment


@contextmanager
def _task_tracebacks_to(path: Path):
    """Send the tick's per-task tracebacks to ``path`` instead of the terminal (one line each is printed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("addon.tick")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        handler.close()


@click.command("tick")
@click.option("--at", "at", required=True, help="the instant to tick, ISO 8601 with a zone (Z or +01:00)")
def tick_command(at: str) -> None:
    """Run the scheduler's tick for one instant, in this process."""
    from addon import migrate
    from addon.tick import tick

    instant = _parse_instant(at)  # a bad --at is refused before anything is opened
    container = bootstrap.current()
    # Every task reads the database: behind the code, each would fail with its own traceback. Demo mode
    # brings the schema up to date (as every command does); production stops with one line.
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    log_path = container.settings.state_path / "logs" / "tick.log"
    with _task_tracebacks_to(log_path):
        report = tick(instant, container)
    for outcome in report.outcomes:
        status = "ok" if outcome.ok else f"FAILED {outcome.error}"
        click.echo(f"{outcome.name}: {status}" + (f" {json.dumps(outcome.result, default=str)}"
                                                  if outcome.ok and outcome.result is not None else ""))
    click.echo(f"tick {report.now.isoformat()}: {len(report.outcomes)} task(s), "
               f"{'all ok' if report.ok else f'some failed (tracebacks in {log_path})'}")
    if not report.ok:
        raise SystemExit(1)


@click.command("scheduler")
def scheduler_command() -> None:
    """Run RQ's cron scheduler: one tick a minute, executed by the workers."""
    from addon.scheduler import start_scheduler

    start_scheduler(bootstrap.current())


def register(cli: click.Group) -> None:
    cli.add_command(tick_command)
    cli.add_command(scheduler_command)
