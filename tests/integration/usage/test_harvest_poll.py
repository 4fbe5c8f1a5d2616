"""Polling Harvest for one account: entries stored with the cursor, paging, rate limits, failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from addon.config import load_settings
from addon.models.usage import PollCursor, UsageVersion
from addon.usage import polling
from addon.usage.polling import PollAccount, poll_account

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "harvest"
PATH = "/v2/time_entries"
POLLED_AT = datetime(2024, 1, 16, 12, 0, tzinfo=UTC)
AGREEMENT = "agr-northwind-managed"
SETTINGS = load_settings({})


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def sleeps(monkeypatch):
    calls = []
    monkeypatch.setattr(polling, "SLEEP", calls.append)
    return calls


def account(company, vendor, **settings):
    return PollAccount(company, "ep_harvest1", "1234567.pt.northwind-token",
                       {"account_id": "1234567", "api_base_url": f"{vendor.base_url}/v2", **settings})


def cursor_row(database, company):
    with database.unit_of_work() as session:
        return session.get(PollCursor, (company, "harvest", "ep_harvest1"))


def stored(database, company):
    with database.unit_of_work() as session:
        rows = session.query(UsageVersion).filter_by(company_id=company).order_by(UsageVersion.source_id)
        return [(r.source_id, r.version, r.hours, r.agreement_id) for r in rows]


def test_a_poll_pages_through_a_rate_limit_and_stores_every_entry_with_the_cursor(ledger, neighbours, vendor, sleeps):
    database, company = ledger
    neighbours.projects["project:harvest:14307913"] = AGREEMENT
    limited = load("rate_limited.json")
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, status=429, body=limited["body"], headers=limited["headers"])
    vendor.answer(PATH, body=load("time_entries_page_2.json"))
    report = poll_account(database, account(company, vendor), now=POLLED_AT, settings=SETTINGS)
    assert (report.status, report.stored, report.pages, report.skipped) == ("polled", 3, 2, 1)
    assert sleeps == [2.0]
    assert vendor.seen[0].args["updated_since"] == "2023-12-16T12:00:00Z"  # first poll: a month back
    assert vendor.seen[0].headers["Harvest-Account-Id"] == "1234567"
    assert stored(database, company) == [("636709355", 1, Decimal("2.11"), AGREEMENT),
                                         ("636709356", 1, Decimal("1.5"), AGREEMENT),
                                         ("636718192", 1, Decimal("0.75"), AGREEMENT)]
    row = cursor_row(database, company)
    assert (row.cursor, row.polled_at, row.last_error) == ("2024-01-16T11:55:00Z", POLLED_AT, None)


def test_the_next_poll_waits_its_turn_and_its_overlap_stores_no_second_version(ledger, neighbours, vendor, sleeps):
    database, company = ledger
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, body=load("time_entries_page_2.json"))
    poll_account(database, account(company, vendor), now=POLLED_AT, settings=SETTINGS)
    early = poll_account(database, account(company, vendor), now=POLLED_AT + timedelta(minutes=1), settings=SETTINGS)
    assert early.status == "not due" and len(vendor.seen) == 2
    vendor.answers.clear()
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, body=load("time_entries_page_2.json"))
    later = POLLED_AT + timedelta(minutes=5)
    report = poll_account(database, account(company, vendor), now=later, settings=SETTINGS)
    assert report.status == "polled" and vendor.seen[2].args["updated_since"] == "2024-01-16T11:55:00Z"
    assert [v for _id, v, _h, _a in stored(database, company)] == [1, 1, 1]
    assert cursor_row(database, company).cursor == "2024-01-16T12:00:00Z"


def test_a_long_rate_limit_keeps_what_was_read_keeps_the_cursor_and_waits_before_polling_again(
        ledger, neighbours, vendor, sleeps):
    database, company = ledger
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, status=429, body={"error": "rate_limit_exceeded"}, headers={"Retry-After": "600"})
    report = poll_account(database, account(company, vendor), now=POLLED_AT, settings=SETTINGS)
    assert (report.status, report.stored) == ("partial", 2) and sleeps == []
    row = cursor_row(database, company)
    assert row.cursor is None and row.not_before == POLLED_AT + timedelta(seconds=600)
    assert "wait 600 s" in row.last_error
    assert len(stored(database, company)) == 2
    assert poll_account(database, account(company, vendor), now=POLLED_AT + timedelta(seconds=300),
                        settings=SETTINGS).status == "not due"


def test_a_refused_token_keeps_the_cursor_and_the_reason_never_shows_the_token(ledger, neighbours, vendor, sleeps):
    database, company = ledger
    vendor.answer(PATH, status=401, body={"error": "invalid_token"})
    report = poll_account(database, account(company, vendor), now=POLLED_AT, settings=SETTINGS)
    assert report.status == "failed" and "refused the stored credentials" in report.reason
    row = cursor_row(database, company)
    assert row.cursor is None and "northwind-token" not in row.last_error
    assert row.not_before == POLLED_AT + timedelta(seconds=SETTINGS.poll_retry)


def test_the_cursor_does_not_advance_when_storing_the_entries_fails(ledger, neighbours, vendor, sleeps, monkeypatch):
    database, company = ledger
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, body=load("time_entries_page_2.json"))
    real = polling.record_usage
    calls = []

    def failing(session, company_id, event, **kw):
        calls.append(event.source_object_id)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(session, company_id, event, **kw)

    monkeypatch.setattr(polling, "record_usage", failing)
    with pytest.raises(RuntimeError):
        poll_account(database, account(company, vendor), now=POLLED_AT, settings=SETTINGS)
    assert stored(database, company) == [] and cursor_row(database, company).cursor is None
