"""The posting job against the QuickBooks emulator over HTTP, through the real adapter: two calls per
invoice, lost replies resolved by looking first, the totals check on QuickBooks' own tax."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from addon.models.postings import Posting
from addon.postings.pipeline import run_posting
from rules import SendMode
from tests.integration.connection.conftest import _close, connect_realm, emulator_container
from tests.unit.postings.conftest import agreement_for, period_draft, stored


@pytest.fixture
def qbo(tmp_path, sqlite_database_url, redis_url, emulator):
    """A container whose QuickBooks is the emulator, a connected demo company, and Northwind's id there."""
    container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator,
                                   AUTOBILL_POSTING_RETRY_BASE="0.01", AUTOBILL_POSTING_RETRY_MAX="0.02")
    realm = emulator.control.create_realm("Demo IT Services", seed="demo")
    company = connect_realm(container, emulator, realm)
    customer = next(c["Id"] for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT")
    yield container, company.id, realm, customer
    _close(container)


def _draft(company_id, customer, boundary=date(2026, 2, 1), **kwargs):
    agreement = agreement_for(company_id, **kwargs)
    from dataclasses import replace

    return period_draft(replace(agreement, customer_id=customer), boundary)


def _again(container, posting_id):
    with container.unit_of_work() as session:
        session.get(Posting, posting_id).next_attempt_at = None
    return run_posting(container, posting_id)


def _posting(container, posting_id) -> Posting:
    with container.unit_of_work() as session:
        return session.get(Posting, posting_id)


def _invoices(emulator, realm, key):
    return [i for i in emulator.control.objects(realm, "Invoice") if (i.get("PrivateNote") or "").endswith(key)]


def test_a_warm_invoice_costs_exactly_two_calls_create_and_send(qbo, emulator):
    container, company_id, realm, customer = qbo
    first = stored(container, _draft(company_id, customer, date(2026, 2, 1)))
    assert run_posting(container, first) == "sent"
    before = emulator.control.counters(realm)["by_route"]
    second = stored(container, _draft(company_id, customer, date(2026, 3, 1)))
    assert run_posting(container, second) == "sent"
    after = emulator.control.counters(realm)["by_route"]
    spent = {route: n - before.get(route, 0) for route, n in after.items() if n != before.get(route, 0)}
    assert sum(spent.values()) == 2 and set(spent) == {"POST invoice", "POST invoice/send"}, spent
    row = _posting(container, second)
    [mail] = [m for m in emulator.control.outbox(realm) if m["txnId"] == row.qbo_invoice_id]
    assert mail["to"] == "billing@northwind.example" and mail["status"] == "delivered"
    assert row.email_status == "EmailSent" and row.delivered_at is not None


def test_a_create_committed_then_dropped_without_requestid_memory_makes_one_invoice(qbo, emulator):
    container, company_id, realm, customer = qbo
    emulator.control.preferences(realm, requestid_memory="off")
    emulator.control.fault(realm, "POST invoice", mode="commit_then_drop", times=1)
    posting_id = stored(container, _draft(company_id, customer))
    assert run_posting(container, posting_id) == "retrying"
    assert _again(container, posting_id) == "sent"
    row = _posting(container, posting_id)
    assert len(_invoices(emulator, realm, row.key)) == 1
    assert "invoice.adopted" in [r.action for r in container.audit.records(company_id)]


def test_a_send_committed_then_dropped_emails_once(qbo, emulator):
    container, company_id, realm, customer = qbo
    emulator.control.fault(realm, "POST invoice/send", mode="commit_then_drop", times=1)
    posting_id = stored(container, _draft(company_id, customer))
    assert run_posting(container, posting_id) == "retrying"
    assert _again(container, posting_id) == "sent"
    row = _posting(container, posting_id)
    assert len([m for m in emulator.control.outbox(realm) if m["txnId"] == row.qbo_invoice_id]) == 1


def test_quickbooks_tax_that_differs_from_the_drafts_holds_the_invoice_and_sends_nothing(qbo, emulator):
    container, company_id, realm, customer = qbo
    posting_id = stored(container, _draft(company_id, customer, tax_rates="8.25"))  # what the company charged
    emulator.control.set_tax_rate(realm, "8.875")  # then someone changed the rate in QuickBooks
    assert run_posting(container, posting_id) == "needs_attention"
    row = _posting(container, posting_id)
    # QuickBooks charged 1500.00 x 8.875 % = 133.13 (half-up) where the draft expects 123.75 at 8.25 %.
    assert row.qbo_tax == Decimal("133.13") and row.qbo_total == row.total + Decimal("133.13")
    assert "tax" in row.state_reason
    assert emulator.control.outbox(realm) == []
    assert emulator.control.counters(realm)["by_route"].get("POST invoice/send", 0) == 0


def test_quickbooks_tax_that_matches_passes_and_is_recorded(qbo, emulator):
    container, company_id, realm, customer = qbo
    posting_id = stored(container, _draft(company_id, customer, tax_rates="8.25"))
    assert run_posting(container, posting_id) == "sent"
    assert str(_posting(container, posting_id).qbo_tax) == "123.750000"


def test_an_undeliverable_address_is_a_delivery_failure(qbo, emulator):
    container, company_id, realm, customer = qbo
    posting_id = stored(container, _draft(company_id, customer, bill_to=("ap@northwind.invalid",)))
    assert run_posting(container, posting_id) == "delivery_failed"
    assert "Undeliverable" in _posting(container, posting_id).state_reason


@pytest.mark.parametrize("mode, state, emails", [(SendMode.CREATE_ONLY, "created", 0),
                                                 (SendMode.HOLD_FOR_REVIEW, "held", 0)])
def test_review_modes_create_without_sending(qbo, emulator, mode, state, emails):
    container, company_id, realm, customer = qbo
    posting_id = stored(container, _draft(company_id, customer, send_mode=mode))
    assert run_posting(container, posting_id) == state
    assert len(_invoices(emulator, realm, _posting(container, posting_id).key)) == 1
    assert len(emulator.control.outbox(realm)) == emails
