"""A migrated database (SQLite and PostgreSQL) with one company, and the usage ledger's neighbours
(project mappings, agreements, history, raised events) as small in-memory stand-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from addon import migrate, usage
from addon.companies import create_company
from addon.db import Database
from addon.usage import providers
from rules import Event, EventKind, History

NOW = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)


class Neighbours:
    """Project mappings, agreements, history and raised events, as the usage ledger asks for them."""

    def __init__(self):
        self.projects: dict[str, str] = {}
        self.agreements: dict[str, object] = {}
        self.histories: dict[str, object] = {}
        self.raised: list[Event] = []

    def resolve(self, session, company_id, source, keys):
        return next((self.projects[k] for k in keys if k in self.projects), None)

    def install(self):
        providers.set_project_resolver(self.resolve)
        providers.set_agreement_provider(lambda s, c, a: self.agreements.get(a))
        providers.set_history_provider(lambda s, c, a: self.histories.get(a) or History())
        providers.set_event_raiser(lambda s, c, e: self.raised.append(e))


@pytest.fixture
def neighbours():
    saved = providers.snapshot()
    made = Neighbours()
    made.install()
    yield made
    providers.restore(saved)


@pytest.fixture
def ledger(database_url, neighbours):
    """(database, company id) on each database, schema migrated."""
    database = Database(database_url)
    migrate.upgrade(database)
    with database.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="9130357766371046",
                                 name="Northwind IT", now=NOW)
    yield database, company.id
    database.dispose()


def time_entry(entry_id: str, hours: str, *, on: date = date(2026, 3, 2), source: str = "toggl",
               changed: datetime = NOW, keys=("project:toggl:42",), deleted: bool = False, person="Ana",
               task="Support", billable: bool = True, agreement_id: str | None = None,
               description: str = "") -> Event:
    """A time logged event as the connectors write it."""
    return Event(kind=EventKind.TIME_LOGGED, source=source, source_object_id=entry_id, occurred_at=changed,
                 agreement_id=agreement_id,
                 attributes={"date": on.isoformat(), "hours": hours, "person": person, "task": task,
                             "billable": billable, "deleted": deleted, "mapping_keys": list(keys),
                             "description": description})


def record(database, company, event, at=NOW):
    """Record one usage event in its own unit of work, as an events job does; what the ledger answered."""
    with database.unit_of_work() as session:
        return usage.record_event(session, company, event, now=at)


def hours_of(records) -> dict[str, Decimal]:
    """``{source_id: hours}`` of usage records (deleted ones as ``-``)."""
    return {r.source_id: ("-" if r.deleted else r.hours) for r in records}


from tests.integration.connectors.conftest import vendor  # noqa: E402,F401 - a scripted vendor API over HTTP
from tests.scenarios.books import books  # noqa: E402,F401 - one company's books, end to end
from tests.scenarios.usage_harness import week  # noqa: E402,F401 - the usage scenarios' harness
