"""``autobill tick`` and ``autobill scheduler``."""

from __future__ import annotations

import json
from datetime import datetime

import click

from addon import bootstrap
from addon.errors import InvalidInput


def _parse_instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--at {value!r} is not an ISO 8601 time (e.g. 2026-12-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"--at {value!r} has no time zone; add Z or an offset such as +01:00")
    return moment


@click.command("tick")
@click.option("--at", "at", required=True, help="the instant to tick, ISO 8601 with a zone")
def tick_command(at: str) -> None:
    """Run the scheduler's tick for one instant, in this process."""
    from addon.tick import tick

    container = bootstrap.current()
    report = tick(_parse_instant(at), container)
    for outcome in report.outcomes:
        status = "ok" if outcome.ok else f"FAILED {outcome.error}"
        click.echo(f"{outcome.name}: {status}" + (f" {json.dumps(outcome.result, default=str)}"
                                                  if outcome.ok and outcome.result is not None else ""))
    click.echo(f"tick {report.now.isoformat()}: {len(report.outcomes)} task(s), "
               f"{'all ok' if report.ok else 'some failed'}")
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
