"""The history drafting reads is exactly the stored drafts folded with ``History.after``, oldest first."""

from __future__ import annotations

from datetime import date

from addon.postings.history import history_for
from rules import History
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
