"""A long-lived worker process for the threshold race: per round, waits at the barrier with the
other worker, then records its share of a burst of time entries, one unit of work per entry, the
way the events job runs the usage handler. Everything is real: the container (intake's mappings,
agreements and ``eventflow.raise_event``), PostgreSQL and Redis."""

from __future__ import annotations


def agreement_id(round_no: int) -> str:
    return f"agr-race-{round_no}"


def run(environment: dict, company_id: str, worker: int, per_round: list[int], barrier, done) -> None:
    """Record ``per_round[n]`` one-hour entries in round n, starting with the other worker each round."""
    from addon import bootstrap, usage
    from addon.config import load_settings
    from tests.integration.usage.conftest import NOW, time_entry

    container = bootstrap.build(load_settings(environment))
    bootstrap.set_current(container)
    try:
        for round_no, entries in enumerate(per_round):
            barrier.wait(timeout=60)
            for n in range(entries):
                event = time_entry(f"r{round_no}-w{worker}-{n}", "1.0", keys=(f"project:toggl:{round_no}",))
                with container.unit_of_work() as session:
                    usage.record_event(session, company_id, event, now=NOW)
        done.put((worker, "ok", ""))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails with it
        done.put((worker, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        container.database.dispose()
