"""Registers the connection feature with the rest of autobill: its prepare step and tick tasks.

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

from addon import demo, keepalive, tick


def prepare_database(container) -> list[str]:
    """Bring the schema up to date; in demo mode, say how to connect a company without a browser."""
    from addon import migrate

    migrate.upgrade(container.database)
    if container.settings.demo_mode:
        return ["autobill companies connect --emulator   # connect a demo QuickBooks company from the terminal"]
    return []


if prepare_database not in demo.PREPARE_STEPS:
    demo.PREPARE_STEPS.insert(0, prepare_database)
tick.register("qbo_keepalive", keepalive.keep_alive, every_minutes=60)
tick.register("resume_parked_work", keepalive.resume_parked, every_minutes=1)
