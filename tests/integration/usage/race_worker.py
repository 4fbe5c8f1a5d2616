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
        barrier.abort()  # the other worker stops waiting for this one
        done.put((worker, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        container.database.dispose()


EDITED_ENTRIES = 6


def edit_or_bill(environment: dict, company_id: str, role: str, rounds: int, barrier, edited, done) -> None:
    """``edit``: each round, edit every entry of agreement 0 twice (a new version each); ``bill``: until the
    editor has finished its round, draft-and-consume what is unbilled, as a posting does (``unbilled``
    then ``consume``, one transaction), so the two overlap all the time."""
    from datetime import timedelta
    from decimal import Decimal

    from addon import bootstrap, usage
    from addon.config import load_settings
    from rules import BusinessKey, UsageConsumed
    from tests.integration.usage.conftest import NOW, time_entry

    container = bootstrap.build(load_settings(environment))
    bootstrap.set_current(container)
    try:
        for round_no in range(rounds):
            barrier.wait(timeout=60)
            if role == "edit":
                edited.clear()
            barrier.wait(timeout=60)
            if role == "edit":
                for n in range(EDITED_ENTRIES):
                    for twice in (1, 2):  # edited again at once, while the biller may be consuming the first
                        hours = f"{1 + (round_no + n) % 5}.{25 * twice}"
                        event = time_entry(f"e-{n}", hours, keys=("project:toggl:0",),
                                           changed=NOW + timedelta(hours=round_no + 1, minutes=twice))
                        with container.unit_of_work() as session:
                            usage.record_event(session, company_id, event, now=NOW)
                edited.set()
            else:
                attempt = 0
                while not edited.is_set() or attempt == 0:
                    attempt += 1
                    with container.unit_of_work() as session:
                        pending = usage.unbilled(session, company_id, agreement_id(0))
                        consumed = [UsageConsumed(r.source, r.source_id, r.version, "support",
                                                  hours=Decimal(0) if r.deleted else r.hours) for r in pending]
                        usage.consume(session, company_id, consumed,
                                      BusinessKey(company_id, agreement_id(0), "month-end", f"run-{round_no}-{attempt}"))
        done.put((role, "ok", ""))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails with it
        barrier.abort()  # the other worker stops waiting for this one
        done.put((role, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        container.database.dispose()
