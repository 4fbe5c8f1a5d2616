"""Harvest polling over real HTTP: paging through links.next, 429 with Retry-After, the cursor."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors import harvest
from connectors.errors import EnrichmentError
from rules import EventKind, usage_from_event
from tests.conftest import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "harvest"
CREDENTIALS = {"account_id": "1234567", "token": "1234567.pt.northwind-token"}
NOW = datetime(2024, 1, 16, 12, 0, tzinfo=UTC)
PATH = "/v2/time_entries"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def script_two_pages(vendor):
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, body=load("time_entries_page_2.json"))


class Sleeps:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


def test_a_poll_pages_through_every_entry_updated_since_the_cursor(vendor):
    script_two_pages(vendor)
    result = harvest.poll(CREDENTIALS, "2024-01-15T00:00:00Z", base_url=f"{vendor.base_url}/v2", now=NOW,
                          page_size=2)
    assert result.complete and result.pages == 2
    assert [e.source_object_id for e in result.events] == ["636709355", "636709356", "636718192"]
    assert result.skipped == [("636718193", "a running timer; it counts once stopped")]
    first, following = vendor.seen
    assert first.args == {"updated_since": "2024-01-15T00:00:00Z", "per_page": "2"}
    assert following.args["cursor"] == "eyJhZnRlciI6eyJpZCI6NjM2NzA5MzU2fX0"
    assert first.headers["Authorization"] == "Bearer 1234567.pt.northwind-token"
    assert first.headers["Harvest-Account-Id"] == "1234567"
    assert first.headers["User-Agent"].startswith("autobill")


def test_the_new_cursor_trails_now_by_the_overlap_so_edits_during_paging_are_not_missed(vendor):
    script_two_pages(vendor)
    result = harvest.poll(CREDENTIALS, "2024-01-15T00:00:00Z", base_url=f"{vendor.base_url}/v2", now=NOW)
    assert result.cursor == "2024-01-16T11:55:00Z"


def test_entries_become_time_logged_events_that_are_usage_records(vendor):
    script_two_pages(vendor)
    result = harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW)
    event = result.events[0]
    assert event.kind is EventKind.TIME_LOGGED
    assert event.occurred_at == datetime(2024, 1, 15, 17, 50, 15, tzinfo=UTC)
    assert event.source_event_id == "636709355@2024-01-15T17:50:15Z"
    assert event.attributes["mapping_keys"] == ["project:harvest:14307913", "client:harvest:5735776"]
    record = usage_from_event(event, version=1)
    assert record.hours == Decimal("2.11")
    assert record.rate == Decimal("100.0")
    assert record.currency == "USD"
    assert record.date == date(2024, 1, 15)
    assert record.person == "Kim Allen" and record.project == "Managed services"


def test_the_first_poll_looks_back_a_month(vendor):
    script_two_pages(vendor)
    harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW)
    assert vendor.seen[0].args["updated_since"] == "2023-12-16T12:00:00Z"


def test_rounded_hours_are_used_when_the_endpoint_says_so(vendor):
    script_two_pages(vendor)
    result = harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW,
                          settings={"use_rounded_hours": True})
    assert result.events[0].attributes["hours"] == "2.25"


def test_a_short_rate_limit_is_waited_out_and_the_same_page_is_asked_again(vendor):
    limited = load("rate_limited.json")
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, status=429, body=limited["body"], headers=limited["headers"])
    vendor.answer(PATH, body=load("time_entries_page_2.json"))
    sleeps = Sleeps()
    result = harvest.poll(CREDENTIALS, "2024-01-15T00:00:00Z", base_url=f"{vendor.base_url}/v2", now=NOW,
                          sleep=sleeps)
    assert sleeps.calls == [2.0]
    assert result.complete and len(result.events) == 3
    assert vendor.seen[1].args == vendor.seen[2].args


def test_a_long_rate_limit_returns_early_with_the_entries_read_and_the_cursor_unchanged(vendor):
    vendor.answer(PATH, body=load("time_entries_page_1.json"))
    vendor.answer(PATH, status=429, body={"error": "rate_limit_exceeded"}, headers={"Retry-After": "60"})
    sleeps = Sleeps()
    result = harvest.poll(CREDENTIALS, "2024-01-15T00:00:00Z", base_url=f"{vendor.base_url}/v2", now=NOW,
                          sleep=sleeps)
    assert not result.complete and result.retry_after == 60
    assert result.cursor == "2024-01-15T00:00:00Z"
    assert len(result.events) == 2 and sleeps.calls == []


def test_a_rate_limit_that_never_lifts_stops_after_a_few_waits(vendor):
    vendor.answer(PATH, status=429, body={}, headers={"Retry-After": "1"})
    sleeps = Sleeps()
    result = harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW, sleep=sleeps)
    assert not result.complete and result.events == [] and len(sleeps.calls) == harvest.MAX_WAITS_PER_PAGE
    assert result.cursor == "2023-12-16T12:00:00Z"


def test_a_next_link_to_another_host_is_not_followed_with_the_token(vendor):
    page = load("time_entries_page_1.json")
    page["links"]["next"] = "https://evil.example/v2/time_entries?cursor=x"
    vendor.answer(PATH, body=page)
    with pytest.raises(EnrichmentError, match="another host"):
        harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW)
    assert len(vendor.seen) == 1


def test_an_entry_that_cannot_be_read_is_skipped_with_a_reason_not_lost_silently(vendor):
    page = load("time_entries_page_2.json")
    page["time_entries"][0]["spent_date"] = "16/01/2024"
    vendor.answer(PATH, body=page)
    result = harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW)
    assert result.events == []
    assert result.skipped[0][0] == "636718192" and "could not be read" in result.skipped[0][1]


@pytest.mark.parametrize("status, raw, message", [
    (401, b'{"error": "invalid_token"}', "refused the stored credentials"),
    (503, b"", "answered 503"),
    (200, b'{"time_entries": "none"}', "without a time_entries list"),
])
def test_api_failures_are_errors_that_never_show_the_token(vendor, status, raw, message):
    vendor.answer(PATH, status=status, raw=raw)
    with pytest.raises(EnrichmentError, match=message) as caught:
        harvest.poll(CREDENTIALS, None, base_url=f"{vendor.base_url}/v2", now=NOW)
    assert "northwind-token" not in caught.value.message


def test_an_unreachable_api_and_missing_credentials_are_clear_errors():
    with pytest.raises(EnrichmentError, match="could not reach Harvest"):
        harvest.poll(CREDENTIALS, None, base_url=f"http://127.0.0.1:{free_port()}/v2", now=NOW)
    with pytest.raises(EnrichmentError, match="account_id and a token"):
        harvest.poll({"token": "x"}, None, now=NOW)
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        harvest.poll(CREDENTIALS, "last tuesday", now=NOW)
