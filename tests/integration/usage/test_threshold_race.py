"""Two worker processes record a burst of entries for one agreement at the same moment: the
threshold crossing fires exactly once (PostgreSQL; SQLite has a single writer)."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import text

from addon import migrate
from addon.companies import create_company
from addon.db import Database
from addon.models.usage import ThresholdCrossing
from tests.integration.usage import race_worker
from tests.integration.usage.conftest import NOW

# One-hour entries per worker and round: 5 + 5 is exactly the 10-hour threshold (the last entry,
# whichever worker records it, must see all the others); 8 + 8 goes on well past it.
PER_ROUND = [5, 8, 5, 8, 5, 8]
ROUNDS = len(PER_ROUND)


@pytest.mark.postgres
def test_a_threshold_crossed_by_a_burst_from_two_workers_at_once_fires_exactly_once(postgres_database_url):
    database = Database(postgres_database_url)
    migrate.upgrade(database)
    with database.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="4620816365", name="Northwind IT",
                                 now=NOW).id
        session.execute(text(f"CREATE TABLE {race_worker.RAISED_TABLE} (source_object_id text NOT NULL)"))
    context = multiprocessing.get_context("spawn")
    barrier, done = context.Barrier(2), context.Queue()
    workers = [context.Process(target=race_worker.run,
                               args=(postgres_database_url, company, n, PER_ROUND, barrier, done))
               for n in (1, 2)]
    for worker in workers:
        worker.start()
    try:
        outcomes = [done.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    assert [o[1] for o in outcomes] == ["ok", "ok"], outcomes
    with database.unit_of_work() as session:
        raised = session.execute(text(f"SELECT source_object_id FROM {race_worker.RAISED_TABLE}")).scalars().all()
        claimed = session.query(ThresholdCrossing).count()
    expected = sorted(f"{race_worker.agreement_id(r)}/ten-hours@2026-03-01#1" for r in range(ROUNDS))
    assert sorted(raised) == expected
    assert claimed == ROUNDS
    database.dispose()
