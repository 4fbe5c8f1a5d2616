"""The keep-alive tick task refreshes companies idle for 30 days, and only those."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from addon.keepalive import keep_alive
from addon.models.companies import Company, Connection
from addon.tick import TickContext
from addon.tokens import TokenKeeper, TokenStore
from tests.integration.connection.conftest import add_company
from tests.unit.connection.fakes import FakeOAuth

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def oauth(container):
    fake = FakeOAuth()
    store = TokenStore(container.database, container.vault)
    container.__dict__["tokens"] = TokenKeeper(store, fake, container.redis, container.audit)
    return fake


def _company(container, oauth, name, realm, refreshed_days_ago, status="connected"):
    company = add_company(container, name=name, realm=realm)
    container.tokens.store.save(company.id, oauth.issue(), expected_version=0,
                                now=NOW - timedelta(days=refreshed_days_ago))
    with container.unit_of_work() as session:
        session.execute(update(Company).where(Company.id == company.id).values(status=status))
    return company


def test_only_companies_idle_longer_than_the_period_are_refreshed(container, oauth):
    idle = _company(container, oauth, "Northwind IT", "1", refreshed_days_ago=31)
    busy = _company(container, oauth, "Contoso", "2", refreshed_days_ago=3)
    _company(container, oauth, "Fabrikam", "3", refreshed_days_ago=60, status="needs_reconnect")
    outcome = keep_alive(TickContext(now=NOW, container=container))
    assert outcome == {"refreshed": 1, "needs_reconnect": 0, "failed": 0}
    assert oauth.refreshes == 1
    with container.unit_of_work() as session:
        assert session.get(Connection, idle.id).version == 2
        assert session.get(Connection, busy.id).version == 1
    assert keep_alive(TickContext(now=NOW, container=container))["refreshed"] == 0  # refreshed just now


def test_a_refused_refresh_during_keep_alive_marks_the_company_needs_reconnect(container, oauth):
    company = _company(container, oauth, "Northwind IT", "1", refreshed_days_ago=45)
    oauth.live_refresh.clear()
    outcome = keep_alive(TickContext(now=NOW, container=container))
    assert outcome == {"refreshed": 0, "needs_reconnect": 1, "failed": 0}
    assert container.companies.get(company.id).status == "needs_reconnect"
