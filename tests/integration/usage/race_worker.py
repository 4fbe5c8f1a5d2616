"""A long-lived worker process for the threshold race: per round, waits at the barrier with the
other worker, then records its share of a burst of time entries, one unit of work per entry, the
way the events job does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

RAISED_TABLE = "race_raised_events"


def agreement_id(round_no: int) -> str:
    return f"agr-race-{round_no}"


def install_neighbours(company_id: str) -> None:
    """Mappings, agreements and an event raiser that stores each raised event in the transaction."""
    from addon.usage import providers
    from tests.integration.usage.agreements import northwind

    def resolve(session, company, source, keys):
        return next((agreement_id(int(k.rsplit(":", 1)[1])) for k in keys if k.startswith("project:toggl:")), None)

    def agreement(session, company, agreement_id_):
        import dataclasses

        return dataclasses.replace(northwind(company_id), id=agreement_id_)

    def raise_event(session, company, event):
        session.execute(text(f"INSERT INTO {RAISED_TABLE} (source_object_id) VALUES (:o)"),
                        {"o": event.source_object_id})

    providers.set_project_resolver(resolve)
    providers.set_agreement_provider(agreement)
    providers.set_event_raiser(raise_event)


def run(url: str, company_id: str, worker: int, per_round: list[int], barrier, done) -> None:
    """Record ``per_round[n]`` one-hour entries in round n, starting with the other worker each round."""
    from addon import usage
    from addon.db import Database
    from tests.integration.usage.conftest import NOW, time_entry

    install_neighbours(company_id)
    database = Database(url)
    try:
        for round_no, entries in enumerate(per_round):
            barrier.wait(timeout=60)
            for n in range(entries):
                event = time_entry(f"r{round_no}-w{worker}-{n}", "1.0", keys=(f"project:toggl:{round_no}",))
                with database.unit_of_work() as session:
                    usage.record_event(session, company_id, event, now=NOW)
        done.put((worker, "ok", datetime.now(UTC).isoformat()))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails with it
        done.put((worker, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        database.dispose()
