"""``autobill postings`` run the way a person runs it: list, show, approve, reject, retry, edit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from addon.cli import main
from addon.models.companies import Membership, User
from addon.models.postings import Posting
from rules import SendMode
from tests.unit.postings.conftest import agreement_for, period_draft, stored

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)


def run(capsys, *argv):
    """Run ``autobill argv``; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def held(container, company_id):
    """Three postings held before create, and a bookkeeper called Jane."""
    with container.unit_of_work() as session:
        session.add(User(id="us_jane", email="jane@northwind.example", created_at=NOW))
        session.flush()
        session.add(Membership(company_id=company_id, user_id="us_jane", role="bookkeeper", created_at=NOW))
    agreement = agreement_for(company_id, send_mode=SendMode.HOLD_FOR_REVIEW, hold_before_create=True)
    return [stored(container, period_draft(agreement, date(2026, month, 1))) for month in (2, 3, 4)]


def _state(container, posting_id):
    with container.unit_of_work() as session:
        return session.get(Posting, posting_id).state


def test_list_shows_held_postings_with_why_and_show_explains_every_line(container, company_id, held, capsys):
    code, out, _ = run(capsys, "postings", "list", "--company", company_id, "--state", "held")
    assert code == 0 and out.count("held") >= 3 and "1,500.00 USD" in out and "holds its invoices for review" in out
    code, out, _ = run(capsys, "postings", "show", "--company", company_id, str(held[0]))
    assert code == 0 and "1. " in out and "rule monthly v1" in out and "total 1500.00 USD" in out


def test_approve_and_reject_as_a_bookkeeper_from_the_command_line(container, company_id, held, capsys):
    code, out, _ = run(capsys, "postings", "approve", "--company", company_id, "--as", "jane@northwind.example",
                       str(held[0]))
    assert code == 0 and "approved by jane@northwind.example" in out
    assert _state(container, held[0]) == "planned"
    code, out, _ = run(capsys, "postings", "reject", "--company", company_id, "--as", "us_jane",
                       "--reason", "duplicate of a manual invoice", str(held[1]))
    assert code == 0 and "rejected" in out and _state(container, held[1]) == "declined"
    code, out, _ = run(capsys, "postings", "approve", "--company", company_id, "--as", "us_jane", str(held[1]))
    assert code == 1 and "not held" in out


def test_approve_all_held_at_once(container, company_id, held, capsys):
    code, out, _ = run(capsys, "postings", "approve", "--company", company_id, "--as", "us_jane", "--all-held")
    assert code == 0 and out.count("approved") == 3
    assert {_state(container, i) for i in held} == {"planned"}


def test_bad_input_gets_one_clear_line_and_changes_nothing(container, company_id, held, capsys):
    code, _, err = run(capsys, "postings", "list", "--company", company_id, "--state", "lost")
    assert code == 2 and "unknown state 'lost'" in err
    code, _, err = run(capsys, "postings", "edit", "--company", company_id, "--as", "us_jane", "--set", "1.rate=abc",
                       str(held[2]))
    assert code == 2 and "line 1 rate must be a number" in err and "Traceback" not in err
    code, _, err = run(capsys, "postings", "approve", "--company", company_id, "--as", "mallory@example.com",
                       str(held[2]))
    assert code == 2 and "no user" in err
    assert _state(container, held[2]) == "held"


def test_edit_from_the_command_line_changes_the_stored_draft_and_approves(container, company_id, held, capsys):
    code, out, _ = run(capsys, "postings", "edit", "--company", company_id, "--as", "us_jane",
                       "--set", "1.rate=1200.00", "--set", "1.description=Managed services (pilot month)",
                       str(held[2]))
    assert code == 0 and "approved" in out
    with container.unit_of_work() as session:
        row = session.get(Posting, held[2])
        assert row.state == "planned" and str(row.total) == "1200.000000" and "pilot month" in row.draft
