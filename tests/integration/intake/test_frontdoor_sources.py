"""The front door with each kind of sender: handshakes, pings, SOAP acknowledgements, HubSpot's v3
signature over the public URL, enrichment through the source's API, and credentials never stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from addon import bootstrap
from addon.eventjob import run_event
from addon.models.events import EventRecord
from addon.models.inbox import Delivery, Endpoint
from connectors.salesforce import ACK
from tests.integration.connection.conftest import _close, connect_realm, emulator_container
from tests.integration.intake.conftest import run_jobs
from webapp import create_app

FIXTURES = Path(__file__).parents[2] / "fixtures"
PUBLIC = "https://autobill.example"
HUBSPOT_SECRET = "hubspot-client-secret-for-tests"
TOKEN = "pat-na1-northwind-test-token"


@pytest.fixture
def app(tmp_path, sqlite_database_url, redis_url, emulator):
    """An app on SQLite whose public URL is what senders call, its company connected to a QuickBooks emulator."""
    container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator, AUTOBILL_PUBLIC_URL=PUBLIC)
    bootstrap.set_current(container)
    realm = emulator.control.create_realm("Northwind IT", seed="empty")
    company = connect_realm(container, emulator, realm)
    yield container, company, create_app(container).test_client(), realm
    bootstrap.set_current(None)
    _close(container)


def path_of(url: str) -> str:
    return urlsplit(url).path


def deliveries(container) -> list[Delivery]:
    with container.unit_of_work() as session:
        return list(session.execute(select(Delivery)).scalars())


def events(container) -> list[EventRecord]:
    with container.unit_of_work() as session:
        return list(session.execute(select(EventRecord).order_by(EventRecord.dedupe_key)).scalars())


def test_salesforce_gets_its_soap_acknowledgement_only_after_the_message_is_stored(app):
    container, company, client, realm = app
    created = container.endpoints.create(company.id, "salesforce", settings={"organization_id": "00D5e000000KQ2e"},
                                         actor="test")
    body = (FIXTURES / "salesforce" / "outbound-opportunity-won.xml").read_bytes()
    for _ in range(2):
        answer = client.post(path_of(created.url), data=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        assert (answer.status_code, answer.data) == (200, ACK)
    assert len(deliveries(container)) == 1
    attack = (FIXTURES / "salesforce" / "attack-external-entity.xml").read_bytes()
    answer = client.post(path_of(created.url), data=attack, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 401 and "DTD" in answer.json["error"]["message"]
    assert len(deliveries(container)) == 1
    run_jobs(container)
    assert [e.kind for e in events(container)] == ["deal_won"]


def test_asanas_handshake_is_accepted_once_while_the_endpoint_awaits_it_and_its_secret_kept(app):
    container, company, client, realm = app
    created = container.endpoints.create(company.id, "asana", actor="test")
    assert created.endpoint.status == "awaiting_handshake"
    handshake_secret = "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"
    answer = client.post(path_of(created.url), headers={"X-Hook-Secret": handshake_secret})
    assert (answer.status_code, answer.headers["X-Hook-Secret"]) == (200, handshake_secret)
    again = client.post(path_of(created.url), headers={"X-Hook-Secret": "an attacker's secret"})
    assert again.status_code == 401 and "X-Hook-Secret" not in again.headers
    body = (FIXTURES / "asana" / "heartbeat.json").read_bytes()
    signature = hmac.new(handshake_secret.encode(), body, hashlib.sha256).hexdigest()
    answer = client.post(path_of(created.url), data=body, headers={"Content-Type": "application/json",
                                                                    "X-Hook-Signature": signature})
    assert answer.status_code == 200
    with container.unit_of_work() as session:
        row = session.get(Endpoint, created.endpoint.id)
    assert (row.status, row.rejected_count) == ("active", 1)
    assert container.vault.decrypt(row.secret) == handshake_secret
    assert [d.headers for d in deliveries(container)] and "x-hook-secret" not in deliveries(container)[0].headers
    assert "endpoint.handshake_accepted" in [r.action for r in container.audit.records(company.id)]


def test_a_toggl_validation_ping_is_answered_before_verification_and_never_stored(app):
    container, company, client, realm = app
    created = container.endpoints.create(company.id, "toggl", secret="toggl-secret", actor="test")
    body = (FIXTURES / "toggl" / "ping_with_validation_code.json").read_bytes()
    answer = client.post(path_of(created.url), data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json == {"validation_code": "89627dd73f2044f2f73815d665bbce33"}
    assert deliveries(container) == []


def test_pipedrives_basic_auth_pair_is_checked_and_never_stored(app):
    container, company, client, realm = app
    created = container.endpoints.create(company.id, "pipedrive", secret="autobill:long-random-password",
                                         actor="test")
    body = (FIXTURES / "pipedrive" / "webhook-v2-deal-won.json").read_bytes()
    auth = "Basic " + base64.b64encode(b"autobill:long-random-password").decode()
    answer = client.post(path_of(created.url), data=body, headers={"Content-Type": "application/json",
                                                                    "Authorization": auth})
    assert answer.status_code == 200
    [stored] = deliveries(container)
    assert "authorization" not in json.loads(stored.headers)
    wrong = client.post(path_of(created.url), data=body, headers={"Content-Type": "application/json",
                                                                   "Authorization": "Basic eDp5"})
    assert wrong.status_code == 401


def hubspot_headers(url: str, body: bytes, *, millis: int | None = None) -> dict:
    stamp = str(millis if millis is not None else int(time.time() * 1000))
    message = b"POST" + url.encode() + body + stamp.encode()
    signature = base64.b64encode(hmac.new(HUBSPOT_SECRET.encode(), message, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": stamp}


def record_deal_512(api, status=200):
    api.answer("GET", "/crm/v3/objects/deals/512", status=status, fixture="hubspot/api/deal-512.json")
    api.answer("POST", "/crm/v3/objects/line_items/batch/read", fixture="hubspot/api/line-items-batch-read.json")
    api.answer("GET", "/crm/v3/objects/companies/7001", fixture="hubspot/api/company-7001.json")
    api.answer("GET", "/crm/v3/objects/contacts/901", fixture="hubspot/api/contact-901.json")


def test_hubspot_v3_is_checked_over_the_public_url_as_called_and_the_deal_enriched_with_retries(
        app, vendor_api, emulator):
    container, company, client, realm = app
    created = container.endpoints.create(company.id, "hubspot", secret=HUBSPOT_SECRET, api_credentials=TOKEN,
                                         settings={"api_base_url": vendor_api.base_url}, actor="test")
    assert created.url.startswith(f"{PUBLIC}/hooks/hubspot/")
    body = (FIXTURES / "hubspot" / "deal-won-batch.json").read_bytes()
    internal = client.post(path_of(created.url), data=body,
                           headers=hubspot_headers(f"http://localhost{path_of(created.url)}", body))
    assert internal.status_code == 401  # signed for another URL than the one HubSpot calls
    answer = client.post(path_of(created.url), data=body, headers=hubspot_headers(created.url, body))
    assert answer.status_code == 200
    vendor_api.answer("GET", "/crm/v3/objects/deals/512", status=503, body={"status": "error"})
    run_jobs(container)
    [event] = events(container)
    assert event.status == "waiting_enrichment" and event.attempts == 1
    assert event.reason == ("enrichment failed: HubSpot GET /crm/v3/objects/deals/512 answered 503 "
                            "(HTTP 503 Service Unavailable)")
    assert TOKEN not in event.reason
    record_deal_512(vendor_api)
    done = run_event(container, event.id, now=event.next_attempt_at + timedelta(seconds=1))
    assert done.status == "ignored" and done.reason.startswith("no rule matched")  # drafting has no agreement
    [northwind] = [c for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT"]
    assert done.source_customer_id == "7001" and done.qbo_customer_id == northwind["Id"]
    payload = json.loads(done.payload)
    assert (payload["amount"], payload["currency"]) == ("18500.00", "USD")
    [request] = vendor_api.seen("GET", "/crm/v3/objects/deals/512")[-1:]
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_an_asana_completion_the_task_no_longer_shows_is_ignored_with_the_connectors_reason(app, vendor_api):
    container, company, client, _ = app
    created = container.endpoints.create(company.id, "asana", api_credentials="asana-pat",
                                         settings={"api_base_url": vendor_api.base_url}, actor="test")
    secret = "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"
    client.post(path_of(created.url), headers={"X-Hook-Secret": secret})
    body = (FIXTURES / "asana" / "task_completed.json").read_bytes()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    vendor_api.answer("GET", "/tasks/1206845912347101", fixture="asana/api_task_not_completed.json")
    assert client.post(path_of(created.url), data=body, headers={
        "Content-Type": "application/json", "X-Hook-Signature": signature}).status_code == 200
    run_jobs(container)
    [event] = events(container)
    assert event.status == "ignored" and "not completed" in event.reason
    assert vendor_api.seen("GET", "/tasks/1206845912347101")[0]["headers"]["Authorization"] == "Bearer asana-pat"
