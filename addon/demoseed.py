"""The demo company `autobill run` prepares in demo mode, and the signed delivery `autobill demo send` makes.

On first run: the emulator's "Demo IT Services" is connected (the same code flow as the web app's
Connect button, played headless), a generic endpoint is created for it, the generic source customer
``demo-northwind`` is mapped to the emulator's Northwind IT, and an example agreement is imported with
one rule: when a deal is won, bill its lines and send the invoice. Every later run finds them and
changes nothing. ``send_demo_delivery`` signs a deal-won delivery at the moment it sends it (so no
replay window is bypassed) and posts it to the endpoint over HTTP, like any sender would.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

import requests
from sqlalchemy import select

from addon.clock import utcnow
from addon.errors import ConfigError, NotFound
from addon.models.companies import Company
from addon.models.inbox import Endpoint

DEMO_REALM_NAME = "Demo IT Services"
DEMO_CUSTOMER_KEY = "demo-northwind"
DEMO_CUSTOMER_NAME = "Northwind IT"
DEMO_AGREEMENT_ID = "agr-demo-northwind-projects"
ACTOR = "demo"


@dataclass(frozen=True)
class DemoCompany:
    """The demo company and its generic endpoint."""

    company_id: str
    realm_id: str
    endpoint_id: str


def _emulator_realms(container) -> list[dict]:
    url = f"{container.settings.sandbox_url}/_sandbox/realms"
    try:
        return requests.get(url, timeout=10).json()["realms"]
    except (requests.RequestException, ValueError, KeyError):
        raise ConfigError(f"the QuickBooks emulator does not answer at {container.settings.sandbox_url}") from None


def demo_company(container) -> Company | None:
    with container.unit_of_work() as session:
        return session.execute(select(Company).where(Company.environment == "emulator", Company.name == DEMO_REALM_NAME)
                               .order_by(Company.created_at)).scalars().first()


def _endpoint(container, company_id: str) -> str | None:
    with container.unit_of_work() as session:
        return session.execute(select(Endpoint.id).where(Endpoint.company_id == company_id, Endpoint.source == "generic")
                               .order_by(Endpoint.created_at)).scalars().first()


def _agreement(company_id: str, customer_id: str) -> dict:
    return {
        "id": DEMO_AGREEMENT_ID, "company_id": company_id, "customer_id": customer_id,
        "customer_name": DEMO_CUSTOMER_NAME, "name": "Northwind IT: projects won in the CRM", "currency": "USD",
        "start": "2026-01-01", "terms": {"kind": "net", "days": 30}, "bill_to": ["billing@northwind.example"],
        "memo": "Thank you for your business, {{ agreement.customer_name }}!",
        "components": [{"type": "event_lines", "id": "deal-lines", "item": "Consulting hours"}],
        "rules": [{"id": "bill-won-deals", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"}}],
    }


def seed_demo(container) -> DemoCompany:
    """Connect the emulator's demo company with its endpoint, mapping and example agreement (once)."""
    from addon.emulator_connect import connect_with_emulator

    company = demo_company(container)
    if company is None:
        realm = next((r["realmId"] for r in _emulator_realms(container) if r["name"] == DEMO_REALM_NAME), None)
        company = connect_with_emulator(container, realm_id=realm, company_name=DEMO_REALM_NAME).company
    endpoint_id = _endpoint(container, company.id)
    if endpoint_id is None:
        endpoint_id = container.endpoints.create(company.id, "generic", actor=ACTOR).endpoint.id
    if container.mappings.get(company.id, "customer", "generic", DEMO_CUSTOMER_KEY) is None:
        customer = container.ledger(company.id).find_customer(DEMO_CUSTOMER_NAME)
        if customer is None:
            raise NotFound(f"the demo company has no customer {DEMO_CUSTOMER_NAME!r}")
        container.mappings.set(company.id, "customer", "generic", DEMO_CUSTOMER_KEY, customer.id, actor=ACTOR)
        container.agreements.import_document(company.id, json.dumps(_agreement(company.id, customer.id)), actor=ACTOR)
    return DemoCompany(company.id, company.realm_id, endpoint_id)


def prepare_demo(container) -> list[str]:
    """``autobill run``'s prepare step: the demo company, and how to make an invoice appear."""
    if not container.settings.demo_mode:
        return []
    try:
        demo = seed_demo(container)
    except ConfigError as exc:  # the emulator is not running (autobill run starts it first)
        return [f"no demo company yet: {exc.message}"]
    outbox = f"{container.settings.sandbox_url}/_sandbox/realms/{demo.realm_id}/outbox"
    return [f"autobill demo send   # a signed deal-won delivery to the demo endpoint; the invoice email shows in {outbox}",
            f"autobill postings list --company {demo.company_id}   # what became of it"]


def demo_body(deal_id: str, amount: str, now: datetime) -> bytes:
    """A generic delivery: one won deal for Northwind IT with one line."""
    event = {"kind": "deal_won", "source_object_id": deal_id, "occurred_at": now.isoformat(), "amount": amount,
             "currency": "USD", "customer": {"id": DEMO_CUSTOMER_KEY, "name": DEMO_CUSTOMER_NAME},
             "lines": [{"description": f"Network assessment ({deal_id})", "quantity": "1", "unit_price": amount}]}
    return json.dumps({"id": f"demo-{uuid.uuid4().hex}", "events": [event]}, separators=(",", ":")).encode()


def wait_for_posting(container, deal_id: str, *, timeout: float):
    """The demo deal's posting once it rests (sent, held, ...), or as it is when ``timeout`` runs out."""
    from addon.models.postings import Posting
    from addon.postings.store import FINAL
    from rules import BusinessKey
    from rules.keys import object_thing

    company = demo_company(container)
    key = str(BusinessKey(company.id, DEMO_AGREEMENT_ID, "bill-won-deals", object_thing("generic", deal_id)))
    deadline = time.monotonic() + timeout
    while True:
        with container.unit_of_work() as session:
            posting = session.execute(select(Posting).where(Posting.key == key)).scalar_one_or_none()
        if (posting is not None and posting.state in FINAL) or time.monotonic() > deadline:
            return posting
        time.sleep(0.25)


@dataclass(frozen=True)
class Sent:
    """What the demo delivery got back."""

    status: int
    deal_id: str
    url: str


def send_demo_delivery(container, *, deal_id: str | None = None, amount: str = "4200.00") -> Sent:
    """Sign (now) and POST a deal-won delivery to the demo company's generic endpoint."""
    from connectors.generic import SIGNATURE_HEADER, signature_header

    demo = demo_company(container)
    endpoint_id = _endpoint(container, demo.id) if demo else None
    if demo is None or endpoint_id is None:
        raise ConfigError("no demo company yet: start autobill in demo mode first (`make run`)")
    url = container.endpoints.url(demo.id, endpoint_id)
    token = urlparse(url).path.rstrip("/").rsplit("/", 1)[1]
    resolved = container.endpoints.resolve("generic", token)
    deal_id = deal_id or f"deal-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    body = demo_body(deal_id, amount, now)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(body, resolved.secret, now=now)}
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=10)
    except requests.RequestException:
        raise ConfigError(f"the web app does not answer at {container.settings.web_url}: is `make run` running?") from None
    return Sent(answer.status_code, deal_id, url)
