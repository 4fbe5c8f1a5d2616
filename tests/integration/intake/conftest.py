"""Intake tests: a migrated container on each database with a real Redis, a company, a fake ledger,
and a worker that runs queued jobs in this process."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from rq import SimpleWorker

from addon import bootstrap, migrate
from addon.ledger.fake import FakeLedgerGateway
from tests.integration.connection.conftest import (
    _close,
    add_company,
    connect_realm,
    emulator_container,
    make_settings,
)
from tests.integration.connection.test_cli import run
from tests.integration.connectors.conftest import _vendor_server, vendor_api  # noqa: F401 - fixtures used here

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
def quickbooks(tmp_path, database_url, redis_url, emulator):
    """Northwind IT connected to a QuickBooks emulator realm: the real adapter over HTTP, on each database."""
    made = emulator_container(tmp_path, database_url, redis_url, emulator)
    bootstrap.set_current(made)
    realm = emulator.control.create_realm("Northwind IT", seed="empty")
    company = connect_realm(made, emulator, realm)
    yield SimpleNamespace(container=made, company=company, realm=realm, emulator=emulator)
    bootstrap.set_current(None)
    _close(made)


def customers_in(quickbooks, name: str | None = None) -> list[dict]:
    """The customers QuickBooks itself holds (with this display name)."""
    found = quickbooks.emulator.control.objects(quickbooks.realm, "Customer")
    return [c for c in found if name is None or c["DisplayName"] == name]


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


@pytest.fixture
def cli_env(monkeypatch, tmp_path, sqlite_database_url, redis_url):
    """The environment a person's shell would have: SQLite, the test Redis, a public URL, demo keys."""
    values = {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": sqlite_database_url,
              "REDIS_URL": redis_url, "AUTOBILL_PUBLIC_URL": "https://autobill.example"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in ("QBO_CLIENT_ID", "AUTOBILL_ENCRYPTION_KEYS", "SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    bootstrap.set_current(None)
    yield values
    if bootstrap._CONTAINER is not None:
        bootstrap._CONTAINER.database.dispose()
    bootstrap.set_current(None)


@pytest.fixture
def cli_company(cli_env, capsys):
    """A company in the database the commands use, migrated by `autobill db upgrade`."""
    run(capsys, "db", "upgrade")
    return add_company(bootstrap.current())
