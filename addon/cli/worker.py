"""``autobill worker``: an RQ worker on autobill's queues with autobill's time settings."""

from __future__ import annotations

import click

from addon import bootstrap


@click.command("worker")
@click.option("--queues", default=",".join(bootstrap.QUEUES), show_default=True,
              help="comma-separated queues, highest priority first")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@click.option("--name", default=None, help="worker name (default: host and pid)")
def worker_command(queues: str, burst: bool, name: str | None) -> None:
    """Process jobs from autobill's queues until stopped."""
    from addon.workers import AutobillWorker, warm_up

    container = bootstrap.current()
    warm_up(container)
    settings = container.settings
    names = [q.strip() for q in queues.split(",") if q.strip()]
    worker = AutobillWorker(
        [container.queue(n) for n in names],
        connection=container.redis,
        name=name,
        maintenance_interval=max(1, round(settings.worker_maintenance_interval)),
        job_monitoring_interval=max(1, round(settings.job_monitoring_interval)),
    )
    worker.work(burst=burst, with_scheduler=True)


def register(cli: click.Group) -> None:
    cli.add_command(worker_command)
