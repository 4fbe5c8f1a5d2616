"""Intake tests: a migrated container on each database with a real Redis, a company, a fake ledger,
and a worker that runs queued jobs in this process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rq import SimpleWorker

from addon import bootstrap, migrate
from addon.ledger.fake import FakeLedgerGateway
from tests.integration.connection.conftest import add_company, make_settings

NOW = datetime(2026, 1, 12, 15, 30, tzinfo=UTC)


def build_container(tmp_path, database_url, redis_url, **extra):
    """A migrated container, installed as this process's current one."""
    made = bootstrap.build(make_settings(tmp_path, database_url, redis_url, **extra))
    migrate.upgrade(made.database)
    bootstrap.set_current(made)
    return made


@pytest.fixture
def container(tmp_path, database_url, redis_url):
    """A migrated container on each database (SQLite and PostgreSQL)."""
    made = build_container(tmp_path, database_url, redis_url)
    yield made
    bootstrap.set_current(None)
    made.database.dispose()


@pytest.fixture
def sqlite_container(tmp_path, sqlite_database_url, redis_url):
    """The same on SQLite only, for tests that do not depend on the database."""
    made = build_container(tmp_path, sqlite_database_url, redis_url)
    yield made
    bootstrap.set_current(None)
    made.database.dispose()


@pytest.fixture
def company(container):
    """Northwind IT, connected."""
    return add_company(container)


@pytest.fixture
def ledger(container, company):
    """An in-memory QuickBooks company standing in for ``container.ledger`` (until tests use the emulator)."""
    fake = FakeLedgerGateway(company.id)
    container.ledger = lambda company_id: fake
    return fake


class InlineWorker(SimpleWorker):
    """RQ's in-process worker without the pub/sub listener (whose shutdown waits a second)."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


def run_jobs(container, queues=("events",)) -> int:
    """Run every queued job in this process until the queues are empty; how many ran."""
    queues = [container.queue(q) for q in queues]

    def ran() -> int:
        return sum(q.finished_job_registry.count + q.failed_job_registry.count for q in queues)

    before = ran()
    failed_before = sum(q.failed_job_registry.count for q in queues)
    InlineWorker(queues, connection=container.redis).work(burst=True)
    failed = [job for q in queues for job in q.failed_job_registry.get_job_ids()]
    assert len(failed) == failed_before, f"a job failed: {failed}"
    return ran() - before


def queued(container, queue="events") -> list:
    """The jobs waiting in ``queue``: (function name, args)."""
    return [(job.func_name, job.args) for job in container.queue(queue).get_jobs()]
