"""A container on a real database (SQLite and PostgreSQL) and a real Redis, schema migrated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from addon import bootstrap, migrate
from addon.companies import create_company
from addon.config import load_settings
from addon.vault import generate_key


def make_settings(tmp_path, database_url, redis_url, **extra):
    env = {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": database_url,
           "REDIS_URL": redis_url, "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "test-secret"}
    env.update(extra)
    return load_settings(env)


@pytest.fixture
def container(tmp_path, database_url, redis_url):
    """A migrated container on each database, installed as the process's current one."""
    made = bootstrap.build(make_settings(tmp_path, database_url, redis_url))
    migrate.upgrade(made.database)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    _close(made)


@pytest.fixture
def sqlite_container(tmp_path, sqlite_database_url, redis_url):
    """The same container on SQLite only."""
    made = bootstrap.build(make_settings(tmp_path, sqlite_database_url, redis_url))
    migrate.upgrade(made.database)
    yield made
    _close(made)


def _close(container) -> None:
    container.database.dispose()
    if "redis" in container.__dict__:
        container.redis.close()


def add_company(container, name="Northwind IT", realm="9130357766371046", environment="sandbox"):
    """A connected company row, as the connect flow leaves it (without tokens)."""
    with container.unit_of_work() as session:
        return create_company(session, environment=environment, realm_id=realm, name=name,
                              now=datetime(2026, 1, 5, 9, 30, tzinfo=UTC))


def emulator_container(tmp_path, database_url, redis_url, emulator, **extra):
    """A migrated demo-mode container whose QuickBooks is ``emulator``."""
    port = emulator.url.rsplit(":", 1)[1]
    made = bootstrap.build(make_settings(tmp_path, database_url, redis_url, AUTOBILL_SANDBOX_PORT=port, **extra))
    migrate.upgrade(made.database)
    return made


def connect_realm(container, emulator, realm_id, name="Northwind IT"):
    """A company for ``realm_id`` holding tokens the emulator issued, as after the connect flow."""
    from addon.clock import utcnow
    from addon.oauth import TokenGrant
    from addon.tokens import TokenStore

    body = emulator.control.tokens(realm_id)
    company = add_company(container, name=name, realm=realm_id, environment="emulator")
    grant = TokenGrant(body["access_token"], body["refresh_token"], int(body["expires_in"]),
                       int(body["x_refresh_token_expires_in"]))
    assert TokenStore(container.database, container.vault).save(company.id, grant, expected_version=0, now=utcnow())
    return company
