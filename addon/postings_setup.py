"""Registers postings with the rest of autobill: the posting sweeper on tick.

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

from addon import demo, tick


def _sweep(ctx) -> dict:
    from addon.clock import utcnow
    from addon.postings.sweeper import sweep_postings

    # Stuck work is judged on the wall clock: the scheduler floors tick instants to the minute.
    return sweep_postings(ctx.container, utcnow())


tick.register("postings.sweep", _sweep)


def _prepare_demo(container) -> list[str]:
    from addon.demoseed import prepare_demo

    return prepare_demo(container)


if _prepare_demo not in demo.PREPARE_STEPS:
    demo.PREPARE_STEPS.append(_prepare_demo)
