"""The history drafting reads is exactly the stored drafts folded with ``History.after``, oldest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from addon.postings.history import history_for
from rules import (
    Consumption,
    Event,
    EventKind,
    EventLine,
    EventLines,
    History,
    How,
    Rule,
    SendMode,
    When,
    draft_for_event,
)
from tests.unit.postings.conftest import agreement_for, period_draft, stored


def test_history_is_the_stored_drafts_folded_in_order(container, company_id):
    agreement = agreement_for(company_id)
    expected = History()
    for month in (2, 3, 4):
        draft = period_draft(agreement, date(2026, month, 1), history=expected)
        stored(container, draft)
        expected = expected.after(draft)
    with container.unit_of_work() as session:
        folded = history_for(session, company_id, agreement.id)
    assert folded == expected
    assert folded.fee_periods and folded.previous_totals == {"monthly": draft.total}


def test_drafts_that_consume_nothing_fold_exactly_as_history_after_does(container, company_id):
    won_rule = Rule(id="won", when=When(EventKind.DEAL_WON), how=How(SendMode.AUTO_SEND))
    agreement = replace(agreement_for(company_id), components=(EventLines(id="deal", item="Consulting hours"),),
                        rules=(won_rule,))
    expected = History()
    for n in (1, 2, 3):
        won = Event(EventKind.DEAL_WON, "hubspot", f"deal-{n}", datetime(2026, 1, 20, tzinfo=UTC),
                    amount=Decimal(100 * n), currency="USD", lines=(EventLine("Setup", Decimal(1), Decimal(100 * n)),))
        draft = draft_for_event(won, agreement, won_rule, history=expected, today=date(2026, 1, 20))
        assert draft.consumption == Consumption()
        stored(container, draft)
        expected = expected.after(draft)
    with container.unit_of_work() as session:
        assert history_for(session, company_id, agreement.id) == expected


def test_invoices_quickbooks_has_numbered_are_named_by_their_number(container, company_id):
    from addon.models.postings import Posting

    agreement = agreement_for(company_id)
    february = period_draft(agreement, date(2026, 2, 1))
    posting_id = stored(container, february)
    with container.unit_of_work() as session:
        assert history_for(session, company_id, agreement.id).invoice_name(str(february.key)) == \
            f"invoice autobill:{february.key}"
        session.get(Posting, posting_id).qbo_doc_number = "1042"
    with container.unit_of_work() as session:
        assert history_for(session, company_id, agreement.id).invoice_name(str(february.key)) == "invoice 1042"
