"""Registers the connection feature with the rest of autobill: its prepare step and tick tasks.

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

from addon import bootstrap, demo, keepalive, tick


def prepare_database(container) -> list[str]:
    """Bring the schema up to date; in demo mode, say how to connect a company without a browser."""
    from addon import migrate

    migrate.upgrade(container.database)
    if container.settings.demo_mode:
        return ["autobill companies connect --emulator   # connect a demo QuickBooks company from the terminal"]
    return []


def warm_up(container) -> None:
    """Load the QuickBooks adapter and the ORM mappings once in the worker, not in every job."""
    import sqlalchemy.orm

    import addon.companyjobs  # noqa: F401
    import addon.quickbooks.gateway  # noqa: F401

    sqlalchemy.orm.configure_mappers()
    container.budget  # noqa: B018 - builds the budget and its Redis connection pool


if prepare_database not in demo.PREPARE_STEPS:
    demo.PREPARE_STEPS.insert(0, prepare_database)
if warm_up not in bootstrap.WARM_UP:
    bootstrap.WARM_UP.append(warm_up)
tick.register("qbo_keepalive", keepalive.keep_alive, every_minutes=60)
tick.register("resume_parked_work", keepalive.resume_parked, every_minutes=1)
