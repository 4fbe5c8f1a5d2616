"""Review modes: held postings are approved, rejected or edited by a bookkeeper; credits need four eyes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from addon.errors import Forbidden, InvalidInput
from addon.models.companies import Membership, User
from addon.models.postings import Posting
from addon.postings import review
from addon.postings.edits import DraftEdit, LineEdit, edit
from addon.postings.pipeline import run_posting
from rules import SendMode, SlaCredits, UsageKind, UsageRecord
from tests.unit.postings.conftest import D, agreement_for, period_draft, stored

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)


def _user(container, company_id, email, role="bookkeeper") -> str:
    with container.unit_of_work() as session:
        user = User(id=f"us_{email.split('@')[0]}", email=email, created_at=NOW)
        session.add(user)
        session.flush()
        if role:
            session.add(Membership(company_id=company_id, user_id=user.id, role=role, created_at=NOW))
        return user.id


@pytest.fixture
def jane(container, company_id):
    return _user(container, company_id, "jane@northwind.example")


@pytest.fixture(autouse=True)
def _keep_author_provider():
    saved = list(review._RULE_AUTHOR)
    yield
    review._RULE_AUTHOR[:] = saved


def _row(container, posting_id) -> Posting:
    with container.unit_of_work() as session:
        return session.get(Posting, posting_id)


def _held_after_create(container, company_id, ledger, **kwargs):
    posting_id = stored(container, period_draft(agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW,
                                                              **kwargs)))
    assert run_posting(container, posting_id, ledger=ledger) == "held"
    return posting_id


def test_approving_a_held_invoice_sends_it_and_records_who_approved(container, company_id, ledger, jane):
    posting_id = _held_after_create(container, company_id, ledger)
    [result] = review.approve(container, company_id, [posting_id], "jane@northwind.example")
    assert result.ok and result.state == "sending"
    ledger.calls.clear()
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    assert ledger.calls == ["read_invoice", "send_invoice"]  # a person may have sent it meanwhile: look first
    row = _row(container, posting_id)
    assert row.approved_by == f"user:{jane}" and row.approved_at is not None
    approved = [r for r in container.audit.records(company_id) if r.action == "posting.approved"]
    assert len(approved) == 1 and approved[0].actor == f"user:{jane}"


def test_approving_a_hold_before_create_posting_creates_then_sends_it(container, company_id, ledger, jane):
    draft = period_draft(agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW, hold_before_create=True))
    posting_id = stored(container, draft)
    review.approve(container, company_id, [posting_id], jane)
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    assert ledger.calls == ["find_item", "create_invoice", "send_invoice"]


def test_rejecting_a_held_invoice_voids_it_and_sends_nothing(container, company_id, ledger, jane):
    posting_id = _held_after_create(container, company_id, ledger)
    [result] = review.decline(container, company_id, [posting_id], jane, reason="wrong month", ledger=ledger)
    assert result.ok and result.state == "declined"
    row = _row(container, posting_id)
    assert ledger.read_invoice(row.qbo_invoice_id).voided
    assert "send_invoice" not in ledger.calls
    assert run_posting(container, posting_id, ledger=ledger) == "declined"


def test_approve_many_at_once(container, company_id, ledger, jane):
    agreement = agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW, hold_before_create=True)
    ids = [stored(container, period_draft(agreement, day)) for day in
           (datetime(2026, 2, 1).date(), datetime(2026, 3, 1).date(), datetime(2026, 4, 1).date())]
    results = review.approve(container, company_id, ids, jane)
    assert [r.ok for r in results] == [True, True, True]
    assert [run_posting(container, i, ledger=ledger) for i in ids] == ["sent"] * 3


def test_a_viewer_or_a_stranger_cannot_approve(container, company_id, ledger):
    _user(container, company_id, "vic@northwind.example", role="viewer")
    posting_id = _held_after_create(container, company_id, ledger)
    with pytest.raises(Forbidden):
        review.approve(container, company_id, [posting_id], "vic@northwind.example")
    with pytest.raises(Exception, match="no user"):
        review.approve(container, company_id, [posting_id], "nobody@example.com")
    assert _row(container, posting_id).state == "held"


def test_a_credit_needs_an_approver_other_than_the_person_who_last_changed_the_rule(
        container, company_id, ledger, jane):
    tom = _user(container, company_id, "tom@northwind.example")
    review.set_rule_author_provider(lambda session, posting: f"user:{jane}")
    credit = SlaCredits(id="sla", item="Managed services", fixed_amount=D("200.00"))
    breach = UsageRecord(UsageKind.SLA_BREACH, "pagerduty", "incident-7", 1, date(2026, 1, 20))
    draft = period_draft(agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW, extra=(credit,)),
                         usage=(breach,))
    posting_id = stored(container, draft)
    assert run_posting(container, posting_id, ledger=ledger) == "held"
    assert _row(container, posting_id).has_credit
    [refused] = review.approve(container, company_id, [posting_id], jane)
    assert not refused.ok and "other than the person who last changed" in refused.message
    assert _row(container, posting_id).state == "held"
    [approved] = review.approve(container, company_id, [posting_id], tom)
    assert approved.ok


def test_an_edit_is_re_verified_audited_and_then_approved(container, company_id, ledger, jane):
    posting_id = _held_after_create(container, company_id, ledger)
    result = edit(container, company_id, posting_id, jane, DraftEdit(
        lines=(LineEdit(1, rate=D("1450.00"), description="Managed services, February (loyalty rate)"),),
        memo="Thank you for ten years together"), ledger=ledger)
    assert result.ok and result.state == "sending"
    row = _row(container, posting_id)
    assert row.total == D("1450.00") and row.original_draft is not None and row.edited_by == f"user:{jane}"
    invoice = ledger.read_invoice(row.qbo_invoice_id)
    assert invoice.total == D("1450.00") and invoice.customer_memo == "Thank you for ten years together"
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    actions = [r.action for r in container.audit.records(company_id)]
    assert actions.index("posting.edited") < actions.index("posting.approved") < actions.index("email.sent")


def test_only_held_postings_can_be_edited(container, company_id, ledger, jane):
    posting_id = stored(container, period_draft(agreement_for(company_id)))
    run_posting(container, posting_id, ledger=ledger)
    with pytest.raises(InvalidInput):
        edit(container, company_id, posting_id, jane, DraftEdit(lines=(LineEdit(1, rate=D("1.00")),)), ledger=ledger)


def test_a_failed_posting_is_retried_by_a_person_and_finishes(container, company_id, ledger, jane):
    from addon.ledger.faults import Transient

    posting_id = stored(container, period_draft(agreement_for(company_id)))
    with container.unit_of_work() as session:
        row = session.get(Posting, posting_id)
        row.attempts = 7
    ledger.fail_next(Transient("504 Gateway Timeout"))
    assert run_posting(container, posting_id, ledger=ledger) == "failed"
    [result] = review.retry(container, company_id, [posting_id], jane)
    assert result.ok
    assert run_posting(container, posting_id, ledger=ledger) == "sent"
    # After a failure whose outcome is unknown the retry looks for the invoice before creating it.
    assert ledger.calls == ["find_item", "query", "find_item", "create_invoice", "send_invoice"]


# Four eyes with the real author provider, over rule versions stored by importing the agreement.

def _credit_agreement(company_id, tolerance=None):
    credit = SlaCredits(id="sla", item="Managed services", fixed_amount=D("200.00"))
    return agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW, extra=(credit,), tolerance=tolerance)


def _import(container, company_id, agreement, actor):
    from rules import AgreementSet, dump_agreements

    container.agreements.import_document(company_id, dump_agreements(AgreementSet(
        company_id=company_id, agreements=(agreement,), rules=())), actor=actor)


def _held_credit(container, company_id, ledger, boundary=date(2026, 2, 1)):
    """A held credit drafted from the agreement as stored (so from its current rule version)."""
    stored_agreement = container.agreements.agreement(company_id, "agr-northwind")
    breach = UsageRecord(UsageKind.SLA_BREACH, "pagerduty", f"incident-{boundary}", 1,
                         date(boundary.year, boundary.month, 1) - timedelta(days=10))
    posting_id = stored(container, period_draft(stored_agreement, boundary, usage=(breach,)))
    assert run_posting(container, posting_id, ledger=ledger) == "held" and _row(container, posting_id).has_credit
    return posting_id


@pytest.fixture
def real_author_provider():
    from addon import postings_setup

    review.set_rule_author_provider(postings_setup.rule_author)


def test_four_eyes_asks_the_stored_rule_version_who_changed_it_last(
        container, company_id, ledger, jane, real_author_provider):
    tom = _user(container, company_id, "tom@northwind.example")
    _import(container, company_id, _credit_agreement(company_id), f"user:{jane}")
    first = _held_credit(container, company_id, ledger)
    [refused] = review.approve(container, company_id, [first], "JANE@northwind.example")
    assert not refused.ok and f"user:{jane}" in refused.message
    assert review.approve(container, company_id, [first], tom)[0].ok

    _import(container, company_id, _credit_agreement(company_id, tolerance=D("5")), f"user:{tom}")  # version 2
    second = _held_credit(container, company_id, ledger, date(2026, 3, 1))
    assert _row(container, second).rule_version == 2
    assert not review.approve(container, company_id, [second], tom)[0].ok
    assert review.approve(container, company_id, [second], jane)[0].ok


def test_a_cli_name_is_the_user_it_names_even_one_who_signed_in_after_the_import(
        container, company_id, ledger, real_author_provider):
    _import(container, company_id, _credit_agreement(company_id), "cli:Jane@Northwind.example")
    posting_id = _held_credit(container, company_id, ledger)
    jane = _user(container, company_id, "jane@northwind.example")  # signs in with Intuit later
    tom = _user(container, company_id, "tom@northwind.example")
    [refused] = review.approve(container, company_id, [posting_id], jane)
    assert not refused.ok and "other than the person who last changed" in refused.message
    assert review.approve(container, company_id, [posting_id], tom)[0].ok


def test_an_unknown_cli_name_refuses_whoever_it_could_be_and_lets_someone_else_approve(
        container, company_id, ledger, jane, real_author_provider):
    tom = _user(container, company_id, "tom@northwind.example")
    _import(container, company_id, _credit_agreement(company_id), "cli:jane")
    posting_id = _held_credit(container, company_id, ledger)
    assert not review.approve(container, company_id, [posting_id], jane)[0].ok  # "jane" could be jane@...
    assert review.approve(container, company_id, [posting_id], tom)[0].ok


def test_a_credit_whose_rule_nobody_known_changed_waits_for_a_known_user_to_change_it(
        container, company_id, ledger, jane, real_author_provider):
    tom = _user(container, company_id, "tom@northwind.example")
    _import(container, company_id, _credit_agreement(company_id), "cli")
    posting_id = _held_credit(container, company_id, ledger)
    for person in (jane, tom):
        [refused] = review.approve(container, company_id, [posting_id], person)
        assert not refused.ok and "nobody known last changed its rule" in refused.message
    assert _row(container, posting_id).state == "held"
    without_credit = stored(container, period_draft(container.agreements.agreement(company_id, "agr-northwind"),
                                                    date(2026, 4, 1)))
    assert run_posting(container, without_credit, ledger=ledger) == "held"
    assert review.approve(container, company_id, [without_credit], jane)[0].ok  # four eyes is for credits only

    _import(container, company_id, _credit_agreement(company_id, tolerance=D("5")), f"user:{tom}")
    later = _held_credit(container, company_id, ledger, date(2026, 3, 1))
    assert review.approve(container, company_id, [later], jane)[0].ok


def test_a_rule_an_agreement_started_from_a_company_rule_is_authored_by_that_company_rules_author(
        container, company_id, jane):
    from addon.models.agreements import AgreementRecord, RuleVersionRecord
    from addon.postings_setup import rule_author

    started_at = datetime(2026, 1, 10, tzinfo=UTC)
    with container.unit_of_work() as session:
        for version, actor, at in ((1, "cli:someone", datetime(2026, 1, 2, tzinfo=UTC)),
                                   (2, f"user:{jane}", datetime(2026, 1, 5, tzinfo=UTC)),
                                   (3, "cli:later", datetime(2026, 1, 20, tzinfo=UTC))):
            session.add(RuleVersionRecord(company_id=company_id, scope="", rule_id="hubspot-won", version=version,
                                          position=0, document="{}", current=version == 3, created_at=at,
                                          created_by=actor))
        session.add(AgreementRecord(company_id=company_id, id="agr-started", customer_id="1", name="Deal 512",
                                    document="{}", origin="rule", started_by_rule="hubspot-won", created_at=started_at,
                                    created_by="worker", updated_at=started_at, updated_by="worker"))
        session.add(RuleVersionRecord(company_id=company_id, scope="agr-started", rule_id="onboarding", version=1,
                                      position=0, document="{}", current=True, created_at=started_at,
                                      created_by="worker"))
        session.flush()
        posting = Posting(company_id=company_id, agreement_id="agr-started", rule_id="onboarding", rule_version=1)
        assert rule_author(session, posting) == f"user:{jane}"
