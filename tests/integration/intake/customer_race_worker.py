"""A long-lived worker process for the customer-mapping race: builds its own container, then runs the
event jobs it is handed each round, all workers released together by a barrier."""

from __future__ import annotations

import os


def serve(env: dict, barrier, tasks, results, rounds: int) -> None:
    """Each round: take a list of event ids (and whether claims expire at once), wait, run them, report."""
    os.environ.update(env)
    from addon import bootstrap
    from addon.config import load_settings
    from addon.eventjob import run_event

    container = bootstrap.build(load_settings(env))
    bootstrap.set_current(container)
    normal = container.settings
    try:
        for _ in range(rounds):
            event_ids, claims_expire = tasks.get(timeout=60)
            # With claims expiring at once every worker goes to QuickBooks: only its request id and
            # name rules stand between them and a second customer.
            container.settings = normal.replace(customer_claim_timeout=0) if claims_expire else normal
            barrier.wait(timeout=60)
            outcome = []
            for event_id in event_ids:
                try:
                    row = run_event(container, event_id)
                    outcome.append((event_id, row.status, row.qbo_customer_id))
                except Exception as exc:  # noqa: BLE001 - reported to the test
                    outcome.append((event_id, f"{type(exc).__name__}: {exc}", None))
            results.put(outcome)
    finally:
        container.database.dispose()
