"""Posting integration tests: a migrated container on each database, a company with agreements in the
store, and helpers to raise events and run the events job in this process."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from addon import bootstrap, migrate
from addon.eventflow import raise_event
from addon.eventjob import run_event
from addon.models.base import new_id
from addon.models.events import EventRecord
from addon.models.postings import Posting
from rules import event_to_dict
from tests.integration.connection.conftest import add_company, make_settings

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)


def build(tmp_path, database_url, redis_url, **extra):
    made = bootstrap.build(make_settings(tmp_path, database_url, redis_url, **extra))
    migrate.upgrade(made.database)
    bootstrap.set_current(made)
    return made


@pytest.fixture
def container(tmp_path, database_url, redis_url):
    made = build(tmp_path, database_url, redis_url)
    yield made
    bootstrap.set_current(None)
    made.database.dispose()


@pytest.fixture
def company_id(container) -> str:
    return add_company(container).id


def import_agreement(container, company_id: str, document: dict, actor: str = "user:us_author") -> None:
    """Store an agreement (or a company's set) the way ``autobill agreements import`` does."""
    container.agreements.import_document(company_id, json.dumps(document), actor=actor)


def raised(container, company_id: str, event) -> str:
    """Raise ``event`` (as tick or the usage ledger does); its event id."""
    with container.unit_of_work() as session:
        row = raise_event(session, company_id, event, container=container)
        return row.id


def from_delivery(container, company_id: str, event, *, customer_id: str) -> str:
    """Store ``event`` as if a delivery brought it and its customer mapped to ``customer_id``; its id."""
    now = datetime.now(UTC)
    with container.unit_of_work() as session:
        row = EventRecord(
            id=new_id("ev"), company_id=company_id, dedupe_key=new_id("test"), origin="raised", source=event.source,
            kind=event.kind.value, source_object_id=event.source_object_id,
            source_customer_id=event.source_customer.id if event.source_customer else None,
            occurred_at=event.occurred_at, payload=json.dumps(event_to_dict(event), sort_keys=True), status="ready",
            attempts=0, next_attempt_at=now, qbo_customer_id=customer_id, agreement_id=event.agreement_id,
            created_at=now, updated_at=now)
        session.add(row)
        return row.id


def run(container, event_id: str) -> EventRecord:
    """Run the events job for ``event_id`` in this process."""
    return run_event(container, event_id)


def postings(container, company_id: str) -> list[Posting]:
    from sqlalchemy import select

    with container.unit_of_work() as session:
        return list(session.execute(select(Posting).where(Posting.company_id == company_id)
                                    .order_by(Posting.id)).scalars())
