"""A long-lived worker process for the refresh race: builds its own container, then calls
QuickBooks once per round, all workers released together by a barrier."""

from __future__ import annotations

import os


def serve(env: dict, company_id: str, barrier, results, rounds: int) -> None:
    """Run ``rounds`` rounds: wait at the barrier, read CompanyInfo, report the outcome."""
    os.environ.update(env)
    from addon import bootstrap
    from addon.config import load_settings

    container = bootstrap.build(load_settings(env))
    bootstrap.set_current(container)
    ledger = container.ledger(company_id)
    try:
        for n in range(rounds):
            barrier.wait(timeout=60)
            try:
                ledger.company_info()
                results.put((n, "ok"))
            except Exception as exc:  # noqa: BLE001 - reported to the test
                results.put((n, f"{type(exc).__name__}: {exc}"))
    finally:
        container.database.dispose()
