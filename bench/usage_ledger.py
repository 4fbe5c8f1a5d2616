"""Usage ledger speed: recording time entries (with the threshold check) and reading unbilled usage for
drafting, for an agreement that already has a long billed history.

Run: ``.venv/bin/python bench/usage_ledger.py [--database-url URL] [--billed 20000] [--entries 300]``.
Prints its figures and ends with one JSON line of them. Default database: a SQLite file in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from addon import migrate, usage
from addon.companies import create_company
from addon.db import Database
from addon.usage import providers
from rules import BusinessKey, Event, EventKind, UsageConsumed, load_agreement

NOW = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
AGREEMENT = "agr-bench"


def entry(n: int, hours: str = "1.5") -> Event:
    return Event(kind=EventKind.TIME_LOGGED, source="toggl", source_object_id=f"te-{n}", occurred_at=NOW,
                 attributes={"date": (date(2025, 1, 1) + timedelta(days=n % 400)).isoformat(), "hours": hours,
                             "person": "Ana", "billable": True, "mapping_keys": ["project:toggl:42"]})


def agreement(company_id: str):
    return load_agreement(json.dumps({
        "id": AGREEMENT, "company_id": company_id, "customer_id": "58", "start": "2025-01-01",
        "components": [{"type": "time_and_materials", "id": "t", "default_rate": "145.00",
                        "threshold_hours": "100000"}],
        "rules": [{"id": "th", "when": {"kind": "threshold_crossed"}}]}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--billed", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=300)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    database = Database(url)
    migrate.upgrade(database)
    with database.unit_of_work() as session:
        company = create_company(session, environment="bench", realm_id=str(time.time_ns()), name="Bench",
                                 now=NOW).id
    the_agreement = agreement(company)
    providers.set_project_resolver(lambda s, c, src, keys: AGREEMENT)
    providers.set_agreement_provider(lambda s, c, a: the_agreement)
    providers.set_event_raiser(lambda s, c, e: None)
    # History: many billed records, each consumed by a monthly posting.
    with database.unit_of_work() as session:
        for n in range(args.billed):
            usage.record_usage(session, company, entry(n), now=NOW)
        consumed = [UsageConsumed("toggl", f"te-{n}", 1, "t", hours=Decimal("1.5")) for n in range(args.billed)]
        usage.consume(session, company, consumed, BusinessKey(company, AGREEMENT, "monthly", "period:2026-03-01"))
    record_ms = []
    for n in range(args.billed, args.billed + args.entries):
        started = time.perf_counter()
        with database.unit_of_work() as session:
            usage.record_event(session, company, entry(n), now=NOW)
        record_ms.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    with database.unit_of_work() as session:
        unbilled = usage.unbilled(session, company, AGREEMENT)
    unbilled_ms = (time.perf_counter() - started) * 1000
    figures = {"database": database.dialect, "billed_history": args.billed, "entries": args.entries,
               "record_ms_p50": round(statistics.median(record_ms), 2),
               "record_ms_p95": round(sorted(record_ms)[int(len(record_ms) * 0.95) - 1], 2),
               "unbilled_records": len(unbilled), "unbilled_ms": round(unbilled_ms, 2)}
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))
    database.dispose()


if __name__ == "__main__":
    main()
