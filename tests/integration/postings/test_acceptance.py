"""Acceptance, wired for real: signed deliveries POSTed over HTTP to the running web app, processed by a
real worker process on a real Redis, invoices counted in the QuickBooks emulator.

1. A generic deal won: exactly one invoice with the rule's lines and one email; the same delivery three
   times, and a second, different event about the same deal, change nothing; the audit chain verifies.
2. A HubSpot deal won (enriched from a local HTTP server standing in for HubSpot's API) whose recurring
   lines start an agreement, arriving as two different events: one agreement, one onboarding invoice.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from addon.models.events import EventRecord
from addon.models.postings import Posting
from connectors.generic import SIGNATURE_HEADER, signature_header
from tests.integration.connection.conftest import connect_realm
from tests.integration.connectors.conftest import RecordedApi, _handler
from tests.integration.postings.stack import Stack, wait_until

FIXTURES = Path(__file__).parents[2] / "fixtures"
HUBSPOT_SECRET = "hubspot-client-secret-for-acceptance"
HUBSPOT_TOKEN = "pat-na1-acceptance-token"


@pytest.fixture
def stack(tmp_path, sqlite_database_url, redis_url, emulator):
    made = Stack(tmp_path, sqlite_database_url, redis_url, emulator)
    yield made
    made.stop()


@pytest.fixture
def hubspot_api():
    """A local HTTP server answering HubSpot's CRM API with recorded fixtures."""
    api = RecordedApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    api.answer("GET", "/crm/v3/objects/deals/512", fixture="hubspot/api/deal-512.json")
    api.answer("POST", "/crm/v3/objects/line_items/batch/read", fixture="hubspot/api/line-items-batch-read.json")
    api.answer("GET", "/crm/v3/objects/companies/7001", fixture="hubspot/api/company-7001.json")
    api.answer("GET", "/crm/v3/objects/contacts/901", fixture="hubspot/api/contact-901.json")
    yield api
    server.shutdown()
    server.server_close()


def _generic(delivery_id: str, event_id: str, occurred_at: str) -> bytes:
    event = {"kind": "deal_won", "source_object_id": "deal-42", "event_id": event_id, "occurred_at": occurred_at,
             "amount": "4200.00", "currency": "USD", "customer": {"id": "cust-7", "name": "Northwind IT"},
             "lines": [{"description": "Network assessment", "quantity": "1", "unit_price": "4200.00"}]}
    return json.dumps({"id": delivery_id, "events": [event]}, separators=(",", ":")).encode()


def _post_generic(url: str, secret: str, body: bytes) -> int:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(body, secret)}
    return requests.post(url, data=body, headers=headers, timeout=10).status_code


def _post_hubspot(url: str, body: bytes) -> int:
    stamp = str(int(time.time() * 1000))
    signed = base64.b64encode(hmac.new(HUBSPOT_SECRET.encode(), b"POST" + url.encode() + body + stamp.encode(),
                                       hashlib.sha256).digest()).decode()
    headers = {"Content-Type": "application/json", "X-HubSpot-Signature-v3": signed,
               "X-HubSpot-Request-Timestamp": stamp}
    return requests.post(url, data=body, headers=headers, timeout=10).status_code


def _invoices(emulator, realm, key):
    return [i for i in emulator.control.objects(realm, "Invoice")
            if (i.get("PrivateNote") or "").rstrip().endswith(f"autobill:{key}")]


def _events_closed(container, company_id, count):
    with container.unit_of_work() as session:
        rows = session.execute(select(EventRecord.status).where(EventRecord.company_id == company_id)).scalars().all()
    return len(rows) >= count and all(s in ("done", "ignored") for s in rows)


def _postings(container, company_id):
    with container.unit_of_work() as session:
        return list(session.execute(select(Posting).where(Posting.company_id == company_id)
                                    .order_by(Posting.id)).scalars())


def test_signed_deliveries_over_http_become_exactly_one_invoice_each_with_one_email(stack, emulator, hubspot_api):
    container = stack.container
    realm = emulator.control.create_realm("Northwind Books", seed="demo")
    company_id = connect_realm(container, emulator, realm).id
    northwind = next(c["Id"] for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT")
    items = {i["Name"]: i["Id"] for i in emulator.control.objects(realm, "Item")}
    for source, key in (("generic", "cust-7"), ("hubspot", "7001")):
        container.mappings.set(company_id, "customer", source, key, northwind, actor="test")
    container.agreements.import_document(company_id, json.dumps({
        "format": "autobill.agreements/1", "company_id": company_id,
        "agreements": [{"id": "agr-northwind-projects", "customer_id": northwind, "customer_name": "Northwind IT",
                        "start": "2026-01-01", "bill_to": ["billing@northwind.example"],
                        "components": [{"type": "event_lines", "id": "deal", "item": "Consulting hours"}],
                        "rules": [{"id": "bill-won-deals", "how": {"send_mode": "auto_send"}, "when": {
                            "kind": "deal_won", "conditions": {"all": [{"path": "source", "value": "generic"}]}}}]}],
        "rules": [{"id": "hubspot-won-deals", "how": {"send_mode": "auto_send"},
                   "when": {"kind": "deal_won", "conditions": {"all": [{"path": "source", "value": "hubspot"}]}},
                   "starts": {"items": {"88001": "Managed services", "88002": "Consulting hours"}}}]}),
        actor="user:us_author")
    generic = container.endpoints.create(company_id, "generic", actor="test")
    hubspot = container.endpoints.create(company_id, "hubspot", secret=HUBSPOT_SECRET, api_credentials=HUBSPOT_TOKEN,
                                         settings={"api_base_url": hubspot_api.base_url}, actor="test")
    stack.start_worker()

    # 1. The same generic delivery three times, then another event about the same deal.
    first = _generic("delivery-1", "evt-1", "2026-01-20T15:00:00Z")
    assert [_post_generic(generic.url, generic.generated_secret, first) for _ in range(3)] == [200] * 3
    assert _post_generic(generic.url, generic.generated_secret,
                         _generic("delivery-2", "evt-2", "2026-01-20T15:05:00Z")) == 200
    wait_until(lambda: _events_closed(container, company_id, 2), 60, what="both generic events")
    [deal] = wait_until(lambda: [p for p in _postings(container, company_id) if p.state == "sent"], 60,
                        what="the generic deal's invoice sent")
    [invoice] = _invoices(emulator, realm, deal.key)
    lines = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert [(ln["Description"], Decimal(str(ln["Amount"])), ln["SalesItemLineDetail"]["ItemRef"]["value"])
            for ln in lines] == [("Network assessment", Decimal("4200.00"), items["Consulting hours"])]
    mails = [m for m in emulator.control.outbox(realm) if m["txnId"] == invoice["Id"]]
    assert len(mails) == 1 and mails[0]["to"] == "billing@northwind.example"

    # 2. A HubSpot deal won, as two different events about deal 512.
    notification = json.loads((FIXTURES / "hubspot" / "deal-won-batch.json").read_text())[0]
    other = copy.deepcopy(notification)
    other.update(eventId=4120000999, subscriptionId=2400399, occurredAt=notification["occurredAt"] + 5000)
    for body in (json.dumps([notification]).encode(), json.dumps([other]).encode()):
        assert _post_hubspot(hubspot.url, body) == 200
    wait_until(lambda: _events_closed(container, company_id, 4), 60, what="both HubSpot events")
    started = [a for a in container.agreements.of_customer(company_id, northwind) if a.id != "agr-northwind-projects"]
    assert len(started) == 1
    onboarding = wait_until(lambda: [p for p in _postings(container, company_id)
                                     if p.agreement_id == started[0].id and p.state == "sent"], 60,
                            what="the onboarding invoice sent")
    assert len(onboarding) == 1 and str(onboarding[0].total) == "1000.000000"
    assert len(_invoices(emulator, realm, onboarding[0].key)) == 1

    # Nothing more happens afterwards: one invoice and one email per deal, and the chain verifies.
    time.sleep(1)
    assert len(_postings(container, company_id)) == 2
    assert len(emulator.control.outbox(realm)) == 2
    assert sum(1 for i in emulator.control.objects(realm, "Invoice") if "autobill:" in (i.get("PrivateNote") or "")) == 2
    report = container.audit.verify(company_id)
    assert report.ok, report.problem
    records = container.audit.records(company_id)
    actions = [r.action for r in records]
    for action in ("delivery.received", "event.mapped", "draft.made", "invoice.created", "totals.compared",
                   "email.sent"):
        assert action in actions
    # One record per delivery stored (the generic one sent three times is one delivery) and every event
    # mapped to its QuickBooks customer once, before anything is drafted from it.
    received = [json.loads(r.details) for r in records if r.action == "delivery.received"]
    assert sorted(d["outcome"] for d in received) == ["processed"] * 4
    assert len({r.subject for r in records if r.action == "delivery.received"}) == 4
    mapped = [r.subject for r in records if r.action == "event.mapped"]
    assert len(mapped) == len(set(mapped)) == 4
    assert actions.index("delivery.received") < actions.index("event.mapped") < actions.index("draft.made")
    assert not any(HUBSPOT_SECRET in r.details or generic.generated_secret in r.details for r in records)
