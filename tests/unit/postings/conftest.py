"""A migrated SQLite container on the test Redis, a connected company, and a fake QuickBooks company."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from addon import bootstrap, migrate
from addon.companies import create_company
from addon.config import load_settings
from addon.ledger.fake import FakeLedgerGateway
from addon.ledger.types import CustomerSpec, InvoiceRecord, InvoiceSpec, ItemSpec
from addon.postings.store import add_posting
from addon.vault import generate_key
from rules import (
    Agreement,
    Event,
    EventKind,
    FixedFee,
    How,
    Rule,
    SendMode,
    TaxTreatment,
    TimeAndMaterials,
    When,
    draft_for_event,
)
from rules.calendar import day_starts

D = Decimal


class TaxingFakeLedger(FakeLedgerGateway):
    """The fake QuickBooks company, with sales tax on taxable lines and undeliverable ``.invalid`` addresses."""

    def __init__(self, *args, tax_percent: Decimal = Decimal(0), **kwargs):
        super().__init__(*args, **kwargs)
        self.tax_percent = tax_percent

    def _new_invoice(self, spec: InvoiceSpec) -> InvoiceRecord:
        record = super()._new_invoice(spec)
        taxable = sum((line.amount for line in spec.lines if line.taxable), D(0))
        tax = (taxable * self.tax_percent / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        return self._put(dataclasses.replace(record, total=record.total + tax, balance=record.balance + tax))

    def send_invoice(self, invoice_id, *, to=None):
        record = super().send_invoice(invoice_id, to=to)
        if record.bill_email and record.bill_email.endswith(".invalid"):
            record = self._put(dataclasses.replace(record, delivery_error="Undeliverable"))
        return record


def make_settings(tmp_path, database_url, redis_url, **extra):
    env = {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "test-secret",
           "AUTOBILL_POSTING_RETRY_BASE": "0.01", "AUTOBILL_POSTING_RETRY_MAX": "0.05"}
    env.update(extra)
    return load_settings(env)


@pytest.fixture
def container(tmp_path, sqlite_database_url, redis_url):
    """A migrated SQLite container, installed as the process's current one."""
    made = bootstrap.build(make_settings(tmp_path, sqlite_database_url, redis_url))
    migrate.upgrade(made.database)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    made.database.dispose()
    if "redis" in made.__dict__:
        made.redis.close()


@pytest.fixture
def company_id(container) -> str:
    with container.unit_of_work() as session:
        return create_company(session, environment="sandbox", realm_id="9130357766371046", name="Northwind IT",
                              now=datetime(2026, 1, 5, 9, 30, tzinfo=UTC)).id


@pytest.fixture
def ledger(company_id) -> TaxingFakeLedger:
    fake = TaxingFakeLedger(company_id)
    fake.create_customer(CustomerSpec("Northwind IT", email="billing@northwind.example"))  # id 1
    fake.create_item(ItemSpec("Managed services"))  # id 2
    fake.create_item(ItemSpec("Consulting hours"))  # id 3
    fake.calls.clear()
    return fake


def agreement_for(company_id: str, *, send_mode=SendMode.AUTO_SEND, hold_before_create=False, amount="1500.00",
                  bill_to=("billing@northwind.example",), tax_rates=None, tolerance=None, extra=()) -> Agreement:
    """Northwind IT's managed-services agreement: a monthly fee billed in advance from Jan 1, 2026."""
    tax = TaxTreatment(rates={"TAX": D(tax_rates)}) if tax_rates else TaxTreatment()
    return Agreement(
        id="agr-northwind", company_id=company_id, customer_id="1", customer_name="Northwind IT",
        start=date(2026, 1, 1), timezone="America/New_York", bill_to=bill_to, tax=tax,
        components=(FixedFee(id="managed", item="Managed services", amount=D(amount),
                             tax_code="TAX" if tax_rates else None), *extra),
        rules=(Rule(id="monthly", when=When(EventKind.PERIOD_CLOSED),
                    how=How(send_mode, tolerance_percent=tolerance, hold_before_create=hold_before_create)),))


def period_draft(agreement: Agreement, boundary: date = date(2026, 2, 1), history=None, usage=()):
    """The draft the scheduler's period close at ``boundary`` makes."""
    event = Event(EventKind.PERIOD_CLOSED, "autobill", f"{agreement.id}@{boundary}",
                  day_starts(boundary, agreement.timezone), attributes={"boundary": boundary.isoformat()},
                  company_id=agreement.company_id, agreement_id=agreement.id)
    return draft_for_event(event, agreement, agreement.rules[0], usage=usage, history=history, today=boundary)


def stored(container, draft, **kwargs):
    """Add ``draft`` as a posting; its id."""
    with container.unit_of_work() as session:
        return add_posting(session, draft, now=datetime.now(UTC), **kwargs).posting.id


__all__ = ["D", "TaxingFakeLedger", "TimeAndMaterials", "agreement_for", "period_draft", "stored"]
