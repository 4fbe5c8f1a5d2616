"""The posting job against the fake QuickBooks company: create, verify, send, and every way a step fails."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from addon.ledger.faults import AuthLost, Rejected, Throttled, Transient
from addon.models.companies import Company
from addon.models.postings import Posting
from addon.postings.pipeline import run_posting
from rules import SendMode
from tests.unit.postings.conftest import D, agreement_for, period_draft, stored


def _posting(container, posting_id) -> Posting:
    with container.unit_of_work() as session:
        return session.get(Posting, posting_id)


def _actions(container, company_id) -> list[str]:
    return [r.action for r in container.audit.records(company_id)]


def _invoices(ledger):
    return [v for (kind, _), v in ledger.objects.items() if kind == "Invoice"]


def test_an_auto_send_posting_costs_exactly_a_create_and_a_send_once_items_are_cached(container, company_id, ledger):
    agreement = agreement_for(company_id)
    first = stored(container, period_draft(agreement, date(2026, 2, 1)))
    assert run_posting(container, first, ledger=ledger) == "sent"
    assert ledger.calls == ["find_item", "create_invoice", "send_invoice"]  # the item is looked up once
    ledger.calls.clear()
    second = stored(container, period_draft(agreement, date(2026, 3, 1)))
    assert run_posting(container, second, ledger=ledger) == "sent"
    assert ledger.calls == ["create_invoice", "send_invoice"]
    row = _posting(container, second)
    assert row.state == "sent" and row.email_status == "EmailSent" and row.qbo_total == D("1500.00")
    invoice = ledger.read_invoice(row.qbo_invoice_id)
    assert invoice.private_note.endswith(f"autobill:{row.key}")
    assert [(line.item_id, line.amount) for line in invoice.lines] == [("2", D("1500.00"))]
    assert container.audit.verify(company_id).ok
    assert _actions(container, company_id)[-3:] == ["invoice.created", "totals.compared", "email.sent"]


def test_a_create_whose_reply_was_lost_is_found_by_its_marker_and_adopted_not_created_again(
        container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    real_create = ledger.create_invoice

    def commit_then_drop(spec, *, request_id):
        real_create(spec, request_id=request_id)
        ledger._replies.clear()  # requestid memory off, as QuickBooks has been reported to behave
        raise Transient("connection reset after the request was sent", outcome_unknown=True)

    ledger.create_invoice = commit_then_drop
    assert run_posting(container, posting_id, ledger=ledger) == "retrying"
    ledger.create_invoice = real_create
    with container.unit_of_work() as session:
        session.get(Posting, posting_id).next_attempt_at = None
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    assert len(_invoices(ledger)) == 1
    assert "invoice.adopted" in _actions(container, company_id)


def test_totals_that_differ_from_the_draft_hold_the_invoice_and_send_nothing(container, company_id, ledger):
    ledger.tax_percent = D("8.25")
    posting_id = stored(container, period_draft(agreement_for(company_id, tax_rates="8.875")))
    assert run_posting(container, posting_id, ledger=ledger) == "needs_attention"
    row = _posting(container, posting_id)
    assert "tax" in row.state_reason and row.email_status is None
    assert "send_invoice" not in ledger.calls


def test_matching_tax_passes_the_totals_check(container, company_id, ledger):
    ledger.tax_percent = D("8.875")
    posting_id = stored(container, period_draft(agreement_for(company_id, tax_rates="8.875")))
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    assert _posting(container, posting_id).qbo_tax == D("133.13")


def test_a_send_with_an_unknown_outcome_reads_email_status_before_sending_again(container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    real_send = ledger.send_invoice

    def sent_then_dropped(invoice_id, *, to=None):
        real_send(invoice_id, to=to)
        raise Transient("read timeout", outcome_unknown=True)

    ledger.send_invoice = sent_then_dropped
    assert run_posting(container, posting_id, ledger=ledger) == "retrying"
    ledger.send_invoice = real_send
    ledger.calls.clear()
    with container.unit_of_work() as session:
        session.get(Posting, posting_id).next_attempt_at = None
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    assert ledger.calls == ["read_invoice"]  # it went already: no second email
    assert "email.already_sent" in _actions(container, company_id)


def test_an_undeliverable_address_is_a_delivery_failure_shown_to_people(container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id, bill_to=("ap@northwind.invalid",))))
    assert run_posting(container, posting_id, ledger=ledger) == "delivery_failed"
    assert "ap@northwind.invalid" in _posting(container, posting_id).state_reason


def test_quickbooks_refusing_the_invoice_is_final_with_its_message(container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    ledger.fail_next(Rejected("Invalid Reference Id: Customer 1 is inactive", qbo_code="2500"))
    assert run_posting(container, posting_id, ledger=ledger) == "rejected"
    assert "inactive" in _posting(container, posting_id).state_reason
    assert run_posting(container, posting_id, ledger=ledger) == "rejected"  # not retried


def test_an_item_quickbooks_does_not_have_rejects_the_posting_with_a_clear_reason(container, company_id, ledger):
    ledger.objects.pop(("Item", "2"))
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    assert run_posting(container, posting_id, ledger=ledger) == "rejected"
    assert "Managed services" in _posting(container, posting_id).state_reason


def test_throttling_defers_without_spending_a_retry(container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    ledger.fail_next(Throttled("the per-minute request budget is spent", retry_after=0.01))
    assert run_posting(container, posting_id, ledger=ledger) == "deferred"
    row = _posting(container, posting_id)
    assert (row.attempts, row.create_attempts, row.state) == (0, 0, "creating")
    assert container.redis.exists(f"rq:job:posting-{posting_id}-1")


def test_transient_failures_back_off_then_land_in_the_failed_list(container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    for n in range(1, 9):
        ledger.fail_next(Transient("503 Service Unavailable", outcome_unknown=False))
        with container.unit_of_work() as session:
            session.get(Posting, posting_id).next_attempt_at = None
        outcome = run_posting(container, posting_id, ledger=ledger)
        assert outcome == ("failed" if n == 8 else "retrying")
    row = _posting(container, posting_id)
    assert row.state == "failed" and "503" in row.state_reason and row.resume_state == "creating"
    assert row.create_attempts == 0  # QuickBooks never saw a create: no lookup needed later
    assert _actions(container, company_id).count("posting.retry_scheduled") == 7


def test_a_lost_authorization_pauses_the_posting_until_the_company_reconnects(container, company_id, ledger):
    from addon.clock import utcnow
    from addon.postings.sweeper import resume_paused

    posting_id = stored(container, period_draft(agreement_for(company_id)))
    ledger.fail_next(AuthLost("refresh token expired"))
    assert run_posting(container, posting_id, ledger=ledger) == "paused"
    with container.unit_of_work() as session:
        session.get(Company, company_id).status = "needs_reconnect"
    assert resume_paused(container, utcnow()) == 0
    with container.unit_of_work() as session:
        session.get(Company, company_id).status = "connected"
    assert resume_paused(container, utcnow()) == 1
    assert run_posting(container, posting_id, ledger=ledger) == "sent"


def test_a_company_that_needs_reconnecting_pauses_its_postings_before_any_call(container, company_id, ledger):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    with container.unit_of_work() as session:
        session.get(Company, company_id).status = "needs_reconnect"
    assert run_posting(container, posting_id, ledger=ledger) == "paused"
    assert ledger.calls == []


def test_a_posting_leased_by_a_live_job_is_left_alone(container, company_id, ledger):
    from addon.postings.pipeline import claim

    posting_id = stored(container, period_draft(agreement_for(company_id)))
    assert claim(container, posting_id).phase == "create"
    assert run_posting(container, posting_id, ledger=ledger) == "busy"
    assert ledger.calls == []


@pytest.mark.parametrize("mode, state, calls", [
    (SendMode.CREATE_ONLY, "created", ["find_item", "create_invoice"]),
    (SendMode.HOLD_FOR_REVIEW, "held", ["find_item", "create_invoice"]),
])
def test_create_only_and_hold_for_review_never_email(container, company_id, ledger, mode, state, calls):
    posting_id = stored(container, period_draft(agreement_for(company_id, send_mode=mode)))
    assert run_posting(container, posting_id, ledger=ledger) == state
    assert ledger.calls == calls
    assert _posting(container, posting_id).qbo_invoice_id is not None


def test_a_hold_before_create_posting_is_held_without_an_invoice(container, company_id, ledger):
    draft = period_draft(agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW, hold_before_create=True))
    posting_id = stored(container, draft)
    assert run_posting(container, posting_id, ledger=ledger) == "held"
    assert ledger.calls == [] and _posting(container, posting_id).qbo_invoice_id is None


def test_the_same_draft_added_twice_is_one_posting(container, company_id):
    from addon.clock import utcnow
    from addon.postings.store import add_posting

    draft = period_draft(agreement_for(company_id))
    with container.unit_of_work() as session:
        first = add_posting(session, draft, now=utcnow())
        second = add_posting(session, draft, now=utcnow())
    assert first.created and not second.created and first.posting.id == second.posting.id
    with container.unit_of_work() as session:
        assert len(session.execute(select(Posting)).scalars().all()) == 1
