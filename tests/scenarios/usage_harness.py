"""The usage scenarios' harness: Northwind IT connected with Toggl and Clockify endpoints, its agreement
imported and projects mapped through intake's services, each delivery signed and POSTed to the web app's
front door, then the delivery job and the event job run in this process, and a clock the test moves. The ``week`` fixture is shared through conftest."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from addon import bootstrap, clock, eventjob, inbox, migrate, usage
from addon.companies import create_company
from addon.models.events import EventOrigin, EventRecord
from addon.usage import providers
from rules import History, dump_agreement, event_from_dict
from tests.integration.connection.conftest import make_settings
from tests.integration.usage.agreements import NORTHWIND, northwind
from tests.scenarios.time_payloads import CLOCKIFY_PROJECT, TOGGL_PROJECT
from webapp import create_app

SECRETS = {"toggl": "northwind-toggl-secret", "clockify": "northwind-clockify-token"}


def sign(source: str, raw: bytes) -> dict[str, str]:
    """The header each tool authenticates its webhooks with (Toggl: HMAC-SHA256 of the body; Clockify:
    the webhook's static token)."""
    if source == "toggl":
        return {"X-Webhook-Signature-256": "sha256=" + hmac.new(SECRETS[source].encode(), raw, "sha256").hexdigest()}
    return {"Clockify-Signature": SECRETS[source]}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


class Week:
    """Northwind IT connected with a Toggl and a Clockify endpoint, its agreement imported and its
    projects mapped; a clock the test moves; what posting would have billed so far (``history``)."""

    def __init__(self, container, company_id: str):
        self.container, self.company_id = container, company_id
        self.agreement = northwind(company_id, default_rate="160.00", group_by="entry")
        self.history = History()
        self.now = at(2, 9)
        self.client = create_app(container).test_client()
        container.agreements.import_document(company_id, dump_agreement(self.agreement), actor="cli")
        self.urls = {source: urlsplit(container.endpoints.create(company_id, source, secret=SECRETS[source],
                                                                 actor="cli").url).path
                     for source in ("toggl", "clockify")}
        for source, key in (("toggl", f"project:toggl:{TOGGL_PROJECT}"),
                            ("clockify", f"project:clockify:{CLOCKIFY_PROJECT}")):
            container.mappings.set(company_id, "project", source, key, NORTHWIND, actor="cli")
        providers.set_history_provider(lambda s, c, a: self.history)

    def deliver(self, source: str, delivery: tuple[bytes, dict], when: datetime) -> EventRecord:
        """One signed webhook POSTed to the company's endpoint, then the delivery job and the event job
        run in this process at ``when``: the path a real delivery takes."""
        self.now = when
        raw, headers = delivery
        answer = self.client.post(self.urls[source], data=raw, headers={**headers, **sign(source, raw)})
        assert answer.status_code == 200, answer.get_json()
        delivery_id = answer.get_json()["delivery_id"]
        assert inbox.run_delivery(self.container, delivery_id, now=when).status == "processed"
        with self.container.unit_of_work() as session:
            [event_id] = session.scalars(select(EventRecord.id).where(EventRecord.delivery_id == delivery_id)).all()
        return eventjob.run_event(self.container, event_id, now=when)

    def raised(self) -> list:
        """The threshold events the usage ledger raised, as intake stored them."""
        with self.container.unit_of_work() as session:
            rows = session.scalars(select(EventRecord).where(
                EventRecord.company_id == self.company_id, EventRecord.origin == EventOrigin.RAISED.value)
                .order_by(EventRecord.created_at)).all()
        return [event_from_dict(json.loads(row.payload)) for row in rows]

    def bill(self, make_draft):
        """Draft from unbilled usage and consume it in one transaction, as posting does."""
        with self.container.unit_of_work() as session:
            draft = make_draft(usage.unbilled(session, self.company_id, NORTHWIND))
            usage.consume(session, self.company_id, draft.consumption, draft.key)
        self.history = self.history.after(draft)
        return draft


@pytest.fixture
def week(tmp_path, database_url, redis_url, monkeypatch):
    container = bootstrap.build(make_settings(tmp_path, database_url, redis_url))
    saved = providers.snapshot()
    migrate.upgrade(container.database)
    bootstrap.set_current(container)
    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="9130357766371046",
                                 name="Northwind IT", now=at(1, 12))
    made = Week(container, company.id)
    monkeypatch.setattr(clock, "utcnow", lambda: made.now)
    yield made
    providers.restore(saved)
    bootstrap.set_current(None)
    container.database.dispose()
    container.redis.close()


