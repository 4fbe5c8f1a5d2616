"""Answers QuickBooks gives that are not plain faults, against the emulator through python-quickbooks: a
success cut short, a 401 for a token just refreshed (the grant is gone), and a 403 (this operation refused)."""

from decimal import Decimal

import pytest
from rq import SimpleWorker
from sqlalchemy import update

from addon import bootstrap, companyjobs
from addon.clock import utcnow
from addon.ledger import AuthLost, InvoiceLineSpec, InvoiceSpec, OperationRefused, Transient
from addon.models.companies import Company
from addon.tick import TickContext
from tests.integration.connection.conftest import _close, connect_realm, emulator_container

REQUEST_ID = "ab1" + "7" * 33


@pytest.fixture
def qbo(tmp_path, sqlite_database_url, redis_url, emulator):
    container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator)
    bootstrap.set_current(container)
    realm = emulator.control.create_realm("Northwind IT", seed="demo")
    company = connect_realm(container, emulator, realm)
    yield container, company
    bootstrap.set_current(None)
    _close(container)


def _spec(ledger) -> InvoiceSpec:
    customer = ledger.find_customer("Northwind IT")
    item = ledger.find_item("Consulting hours")
    line = InvoiceLineSpec(amount=Decimal("5437.50"), description="37.5 hours at 145.00", item_id=item.id)
    return InvoiceSpec(customer.id, (line,), private_note=f"autobill:{REQUEST_ID}")


def test_a_create_whose_success_arrives_cut_short_is_an_unknown_outcome_and_the_retry_finds_that_invoice(
        qbo, emulator):
    container, company = qbo
    ledger = container.ledger(company.id)
    spec = _spec(ledger)
    emulator.control.fault(company.realm_id, "POST invoice", mode="commit_then_truncate", times=1)
    with pytest.raises(Transient) as caught:
        ledger.create_invoice(spec, request_id=REQUEST_ID)
    assert caught.value.outcome_unknown and caught.value.retryable and "cut off or unreadable" in caught.value.message
    [made] = emulator.control.objects(company.realm_id, "Invoice")  # it exists in QuickBooks all the same
    again = ledger.create_invoice(spec, request_id=REQUEST_ID)
    assert again.id == made["Id"] and len(emulator.control.objects(company.realm_id, "Invoice")) == 1


def test_a_401_for_the_token_just_refreshed_marks_the_company_needs_reconnect_with_its_reason(qbo, emulator):
    container, company = qbo
    emulator.control.fault(company.realm_id, "GET companyinfo", status=401, times=2)
    with pytest.raises(AuthLost, match="needs to be reconnected"):
        container.ledger(company.id).company_info()
    assert emulator.control.counters(company.realm_id)["token_grants"]["refresh_token"] == 1
    now = container.companies.get(company.id)
    assert now.status == "needs_reconnect" and "freshly refreshed access token" in now.status_reason
    [lost] = [r for r in container.audit.records(company.id) if r.action == "connection.lost"]
    assert lost.actor == "autobill" and '"outcome":"needs_reconnect"' in lost.details
    assert not any(token in lost.details for token in emulator.control.issued_tokens())

    # Its work is parked and stays parked: nothing re-enqueues it every minute while nobody reconnected.
    companyjobs.enqueue(container, company.id, "tests.integration.connection.jobs.create_invoice", "inv-1")
    worker = SimpleWorker([container.queue("postings")], connection=container.redis)
    worker.work(burst=True)
    assert len(companyjobs.parked(container, company.id)) == 1
    from addon.keepalive import resume_parked

    assert resume_parked(TickContext(container=container, now=utcnow())) == {"resumed": 0}
    assert container.queue("postings").count == 0


def test_a_403_refuses_that_operation_and_leaves_the_company_connected_and_its_work_unparked(qbo, emulator):
    container, company = qbo
    other = emulator.control.create_realm("Contoso Ltd", seed="empty")
    with container.unit_of_work() as session:  # our tokens are good, but not for the company asked about
        session.execute(update(Company).where(Company.id == company.id).values(realm_id=other))
    with pytest.raises(OperationRefused) as caught:
        container.ledger(company.id).company_info()
    assert not caught.value.retryable and "refused this operation" in caught.value.message
    assert caught.value.qbo_code == "3100"
    assert container.companies.get(company.id).status == "connected"
    assert emulator.control.counters(company.realm_id)["token_grants"].get("refresh_token", 0) == 0
    companyjobs.enqueue(container, company.id, "tests.integration.connection.jobs.create_invoice", "inv-2")
    SimpleWorker([container.queue("postings")], connection=container.redis).work(burst=True)
    assert companyjobs.parked(container, company.id) == []
    assert len(container.queue("postings").failed_job_registry) == 1  # refused, shown as failed, not parked
