"""The billing scenarios' harness: one company's books, end to end, with nothing stood in for.

Deliveries are signed as each vendor signs them and POSTed to the company's endpoint in the web app;
the delivery job reads them into events and the events job runs each event's handler (the usage
ledger for usage, the real drafting handler for billing events). Period closes are raised by tick's
own billing task (``addon.postings.schedule.bill_periods``) and drafted by the events job. History
comes from stored postings (``addon.postings.history``). The clock is the test's: every module that
reads the time reads ``Books.now``. The ``books`` fixture is shared through conftest.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from addon import bootstrap, eventjob, inbox, migrate
from addon.companies import create_company
from addon.models.events import EventOrigin, EventRecord
from addon.models.postings import Posting
from addon.postings.history import history_for
from addon.postings.schedule import bill_periods
from addon.usage import providers
from connectors import generic
from rules import InvoiceDraft, load_draft
from tests.integration.connection.conftest import make_settings
from webapp import create_app

# Every module that took ``utcnow`` by name (``from addon.clock import utcnow``) reads the test's clock.
CLOCK_READERS = ("addon.clock", "addon.frontdoor", "addon.inbox", "addon.eventflow", "addon.eventjob",
                 "addon.postings.drafting", "addon.mappings", "addon.agreements", "addon.audit", "addon.customers")


def _hex_hmac(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


SIGNERS = {
    # generic: Autobill-Signature t=,v1= over "<t>." + body (docs/connectors/generic.md)
    "generic": lambda secret, raw, now: {"Autobill-Signature": generic.signature_header(raw, secret, now=now)},
    # Jira admin webhooks: X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>
    "jira": lambda secret, raw, now: {"X-Hub-Signature": "sha256=" + _hex_hmac(secret, raw),
                                      "X-Atlassian-Webhook-Identifier": hashlib.sha256(raw).hexdigest()[:32]},
    # ClickUp: X-Signature: <hex HMAC-SHA256 of the body under webhook.secret>
    "clickup": lambda secret, raw, now: {"X-Signature": _hex_hmac(secret, raw)},
    # Asana: X-Hook-Signature: <hex HMAC-SHA256 of the body under the handshake's X-Hook-Secret>
    "asana": lambda secret, raw, now: {"X-Hook-Signature": _hex_hmac(secret, raw)},
}


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC instant of the scenario."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Books:
    """A connected company, its endpoints and agreements, and a clock the test moves."""

    def __init__(self, container, company_id: str):
        self.container, self.company_id = container, company_id
        self.now = at(2026, 1, 2, 9)
        self.client = create_app(container).test_client()
        self.endpoints: dict[str, tuple[str, str]] = {}
        self.last_delivery = None

    # --- setting up, as the CLI does

    def agreement(self, document: dict) -> None:
        """Import an agreement (``autobill agreements import``)."""
        self.container.agreements.import_document(self.company_id, json.dumps(document), actor="cli")

    def endpoint(self, source: str, *, secret: str | None = None, settings: dict | None = None,
                 token: str | None = None) -> str:
        """Create the company's endpoint for ``source`` (``autobill endpoints create``); its id."""
        made = self.container.endpoints.create(self.company_id, source, secret=secret, settings=settings,
                                               api_credentials={"token": token} if token else None, actor="cli")
        self.endpoints[source] = (urlsplit(made.url).path, made.generated_secret or secret)
        return made.endpoint.id

    def handshake(self, source: str, secret: str) -> None:
        """The handshake a source sends while its endpoint awaits one (Asana's ``X-Hook-Secret``)."""
        path, _ = self.endpoints[source]
        answer = self.client.post(path, headers={"X-Hook-Secret": secret})
        assert (answer.status_code, answer.headers.get("X-Hook-Secret")) == (200, secret)
        self.endpoints[source] = (path, secret)

    def map_project(self, source: str, key: str, agreement_id: str) -> None:
        """``autobill mappings set --kind project``."""
        self.container.mappings.set(self.company_id, "project", source, key, agreement_id, actor="cli")

    # --- what happens

    def deliver(self, source: str, body: dict | bytes, when: datetime, headers: dict | None = None) -> list[EventRecord]:
        """One signed delivery POSTed to the front door at ``when``, then the delivery job and the events
        job for each of its events; the events as they end (none for a delivery the connector ignored:
        ``last_delivery`` says why)."""
        self.now = when
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        path, secret = self.endpoints[source]
        sent = {"Content-Type": "application/json", **(headers or {}), **SIGNERS[source](secret, raw, when)}
        answer = self.client.post(path, data=raw, headers=sent)
        assert answer.status_code == 200, answer.get_json()
        delivery_id = answer.get_json()["delivery_id"]
        self.last_delivery = inbox.run_delivery(self.container, delivery_id, now=when)
        assert self.last_delivery.status in ("processed", "ignored"), self.last_delivery.reason
        with self.container.unit_of_work() as session:
            ids = session.scalars(select(EventRecord.id).where(EventRecord.delivery_id == delivery_id)
                                  .order_by(EventRecord.dedupe_key)).all()
        return self.run(ids)

    def run(self, event_ids) -> list[EventRecord]:
        """The events job for each event, here and now."""
        return [eventjob.run_event(self.container, event_id, now=self.now) for event_id in event_ids]

    def raised(self, kind: str | None = None) -> list[EventRecord]:
        """Events tick or the usage ledger raised, oldest first."""
        with self.container.unit_of_work() as session:
            stmt = select(EventRecord).where(EventRecord.company_id == self.company_id,
                                             EventRecord.origin == EventOrigin.RAISED.value)
            if kind:
                stmt = stmt.where(EventRecord.kind == kind)
            return list(session.scalars(stmt.order_by(EventRecord.created_at, EventRecord.source_object_id)))

    def tick(self, when: datetime) -> list[EventRecord]:
        """Tick's billing task at ``when`` raises the period closes due; the events job drafts each."""
        self.now = when
        before = {row.id for row in self.raised()}
        bill_periods(self.container, when)
        return self.run([row.id for row in self.raised() if row.id not in before])

    # --- what the books say

    def usage(self, **filters) -> dict:
        """``autobill usage list``: each record's (status, version) by source id."""
        from addon import usage

        with self.container.unit_of_work() as session:
            return {line.source_id: line for line in usage.list_usage(session, self.company_id, **filters)}

    def postings(self) -> list[Posting]:
        with self.container.unit_of_work() as session:
            return list(session.scalars(select(Posting).where(Posting.company_id == self.company_id)
                                        .order_by(Posting.id)))

    def drafts(self) -> list[InvoiceDraft]:
        """The draft each posting stores (what its QuickBooks invoice is made from), oldest first."""
        return [load_draft(posting.draft) for posting in self.postings()]

    def history(self, agreement_id: str):
        """What the agreement billed, folded from its stored postings."""
        with self.container.unit_of_work() as session:
            return history_for(session, self.company_id, agreement_id)


def lines(draft: InvoiceDraft) -> list[tuple[str, str, Decimal]]:
    """(line kind, description, amount) of each line."""
    return [(line.kind.value, line.description, line.amount) for line in draft.lines]


@pytest.fixture
def books(tmp_path, database_url, redis_url, monkeypatch):
    container = bootstrap.build(make_settings(tmp_path, database_url, redis_url))
    migrate.upgrade(container.database)
    bootstrap.set_current(container)
    saved = providers.snapshot()
    providers.set_history_provider(history_for)  # the posting pipeline's own, whatever ran before
    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="9130357766371046", name="Northwind IT",
                                 now=at(2026, 1, 1, 9))
    made = Books(container, company.id)
    for name in CLOCK_READERS:
        module = importlib.import_module(name)
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", lambda: made.now)
    yield made
    providers.restore(saved)
    bootstrap.set_current(None)
    container.database.dispose()
    container.redis.close()
