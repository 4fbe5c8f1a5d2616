"""Two worker processes record a burst of entries for one agreement at the same moment: the
threshold crossing fires exactly once (PostgreSQL; SQLite has a single writer)."""

from __future__ import annotations

import dataclasses
import multiprocessing

import pytest
from sqlalchemy import select

from addon import bootstrap, migrate
from addon.companies import create_company
from addon.models.events import EventRecord
from addon.models.usage import ThresholdCrossing
from addon.vault import generate_key
from rules import dump_agreement
from tests.integration.usage import race_worker
from tests.integration.usage.agreements import northwind
from tests.integration.usage.conftest import NOW

# One-hour entries per worker and round: 5 + 5 is exactly the 10-hour threshold (the last entry,
# whichever worker records it, must see all the others); 8 + 8 goes on well past it.
PER_ROUND = [5, 8, 5, 8, 5, 8]
ROUNDS = len(PER_ROUND)


@pytest.mark.postgres
def test_a_threshold_crossed_by_a_burst_from_two_workers_at_once_fires_exactly_once(
        tmp_path, postgres_database_url, redis_url):
    environment = {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": postgres_database_url,
                   "REDIS_URL": redis_url, "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "test"}
    from addon.config import load_settings

    container = bootstrap.build(load_settings(environment))
    migrate.upgrade(container.database)
    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="4620816365", name="Northwind IT",
                                 now=NOW).id
    for round_no in range(ROUNDS):
        agreement = dataclasses.replace(northwind(company), id=race_worker.agreement_id(round_no))
        container.agreements.import_document(company, dump_agreement(agreement), actor="cli")
        container.mappings.set(company, "project", "toggl", f"project:toggl:{round_no}", agreement.id, actor="cli")
    context = multiprocessing.get_context("spawn")
    barrier, done = context.Barrier(2), context.Queue()
    workers = [context.Process(target=race_worker.run, args=(environment, company, n, PER_ROUND, barrier, done))
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
    with container.unit_of_work() as session:
        raised = session.scalars(select(EventRecord.source_object_id).where(
            EventRecord.company_id == company, EventRecord.kind == "threshold_crossed")).all()
        claimed = session.query(ThresholdCrossing).count()
    expected = sorted(f"{race_worker.agreement_id(r)}/ten-hours@2026-03-01#1" for r in range(ROUNDS))
    assert sorted(raised) == expected
    assert claimed == ROUNDS
    try:
        assert container.queue("events").count == ROUNDS  # each enqueued once, after its commit
    finally:
        container.redis.close()
        container.database.dispose()


@pytest.mark.postgres
def test_a_worker_recording_edits_and_a_worker_billing_them_never_deadlock_and_agree_on_what_is_billed(
        tmp_path, postgres_database_url, redis_url):
    environment = {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": postgres_database_url,
                   "REDIS_URL": redis_url, "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "test"}
    from addon.config import load_settings
    from addon.models.usage import UsageConsumption, UsageHead

    container = bootstrap.build(load_settings(environment))
    migrate.upgrade(container.database)
    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="4620816365", name="Northwind IT",
                                 now=NOW).id
    agreement = dataclasses.replace(northwind(company), id=race_worker.agreement_id(0))
    container.agreements.import_document(company, dump_agreement(agreement), actor="cli")
    container.mappings.set(company, "project", "toggl", "project:toggl:0", agreement.id, actor="cli")
    context = multiprocessing.get_context("spawn")
    barrier, edited, done = context.Barrier(2), context.Event(), context.Queue()
    workers = [context.Process(target=race_worker.edit_or_bill,
                               args=(environment, company, role, 8, barrier, edited, done))
               for role in ("edit", "bill")]
    for worker in workers:
        worker.start()
    try:
        outcomes = [done.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
        container.redis.close()
    assert sorted(o[1] for o in outcomes) == ["ok", "ok"], outcomes  # a deadlock would be an error here
    with container.unit_of_work() as session:
        heads = session.scalars(select(UsageHead).where(UsageHead.company_id == company)).all()
        consumed = session.execute(select(UsageConsumption.source_id, UsageConsumption.version).where(
            UsageConsumption.company_id == company)).all()
    assert len(heads) == race_worker.EDITED_ENTRIES and consumed
    for head in heads:
        billed = max((v for source_id, v in consumed if source_id == head.source_id), default=None)
        assert head.billed_version == billed
        assert head.pending == (billed is None or billed < head.version)
    container.database.dispose()
