"""The Harvest poll as the scheduler runs it: ``tick`` polls each Harvest endpoint of each company
against a local HTTP server (paging, a rate-limit answer), stores the entries on the mapped agreement
and saves the cursor; the next tick within the poll interval leaves Harvest alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from addon import bootstrap, migrate, tick, usage
from addon.companies import create_company
from addon.errors import InvalidInput
from addon.models.usage import PollCursor
from addon.usage import polling
from rules import dump_agreement
from tests.integration.connection.conftest import make_settings
from tests.integration.usage.agreements import NORTHWIND, northwind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "harvest"
PATH = "/v2/time_entries"
NOW = datetime(2024, 1, 16, 12, 0, tzinfo=UTC)


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def container(tmp_path, database_url, redis_url):
    made = bootstrap.build(make_settings(tmp_path, database_url, redis_url))
    migrate.upgrade(made.database)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    made.database.dispose()
    made.redis.close()


def test_tick_polls_harvest_pages_through_a_rate_limit_and_stores_entries_with_the_cursor(
        container, vendor, monkeypatch):
    sleeps = []
    monkeypatch.setattr(polling, "SLEEP", sleeps.append)
    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="9130357766371046",
                                 name="Northwind IT", now=NOW).id
    agreement = northwind(company)
    container.agreements.import_document(company, dump_agreement(agreement), actor="cli")
    container.mappings.set(company, "project", "harvest", "project:harvest:14307913", NORTHWIND, actor="cli")
    endpoint = container.endpoints.create(
        company, "harvest", api_credentials="1234567.pt.northwind-token", actor="cli",
        settings={"account_id": "1234567", "api_base_url": f"{vendor.base_url}/v2"}).endpoint
    limited = load("rate_limited.json")
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, status=429, body=limited["body"], headers=limited["headers"])
    vendor.answer(PATH, body=load("time_entries_page_2.json"))

    report = tick.tick(NOW, container)
    [outcome] = [o for o in report.outcomes if o.name == "usage.poll_harvest"]
    assert outcome.ok and outcome.result == {"polled": 1, "stored": 3}
    assert sleeps == [2.0] and len(vendor.seen) == 3
    assert vendor.seen[0].headers["Authorization"] == "Bearer 1234567.pt.northwind-token"
    with container.unit_of_work() as session:
        lines = usage.list_usage(session, company, agreement_id=NORTHWIND)
        cursor = session.get(PollCursor, (company, "harvest", endpoint.id))
    assert sorted((line.source_id, line.hours, line.status) for line in lines) == [
        ("636709355", Decimal("2.11"), "unbilled"), ("636709356", Decimal("1.5"), "unbilled"),
        ("636718192", Decimal("0.75"), "unbilled")]
    assert (cursor.cursor, cursor.polled_at) == ("2024-01-16T11:55:00Z", NOW)

    again = tick.tick(NOW + timedelta(minutes=1), container)
    [outcome] = [o for o in again.outcomes if o.name == "usage.poll_harvest"]
    assert outcome.result == {"not due": 1, "stored": 0} and len(vendor.seen) == 3


def test_a_harvest_endpoint_needs_its_token_and_account_and_takes_no_signing_secret(container):
    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="9130357766371046",
                                 name="Northwind IT", now=NOW).id
    with pytest.raises(InvalidInput, match="API token"):
        container.endpoints.create(company, "harvest", settings={"account_id": "1"}, actor="cli")
    with pytest.raises(InvalidInput, match="account_id"):
        container.endpoints.create(company, "harvest", api_credentials="t", actor="cli")
    with pytest.raises(InvalidInput, match="no signing secret"):
        container.endpoints.create(company, "harvest", api_credentials="t", secret="s",
                                   settings={"account_id": "1"}, actor="cli")
