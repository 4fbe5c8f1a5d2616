"""From the command line: a backfill of past events, a Pipedrive endpoint whose basic-auth pair comes in
on standard input, and a failed event brought back with ``autobill replay ev_...``."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from addon import bootstrap, eventflow
from addon.errors import AutobillError
from addon.eventflow import Outcome
from addon.eventjob import run_event
from addon.models.events import EventRecord
from addon.models.inbox import Delivery, Endpoint
from rules.events import EventKind
from tests.integration.connection.test_cli import run
from tests.integration.intake.conftest import run_jobs
from tests.integration.intake.helpers import period_closed
from webapp import create_app

FIXTURES = Path(__file__).parents[2] / "fixtures"
BACKFILL = FIXTURES / "generic" / "backfill.jsonl"
PAIR = "autobill-hook:s3cret-pass:word"  # the first colon separates user and password


def _deliveries(container, company_id) -> list[Delivery]:
    with container.unit_of_work() as session:
        return list(session.execute(select(Delivery).where(Delivery.company_id == company_id)
                                    .order_by(Delivery.received_at, Delivery.id)).scalars())


def _events(container, company_id) -> list[EventRecord]:
    with container.unit_of_work() as session:
        return list(session.execute(select(EventRecord).where(EventRecord.company_id == company_id)
                                    .order_by(EventRecord.source_object_id)).scalars())


def test_a_backfill_stores_good_lines_reports_bad_ones_by_number_and_stores_nothing_twice(cli_company, capsys):
    code, _, err = run(capsys, "events", "backfill", str(BACKFILL), "--company", cli_company.id, "--as", "ann")
    assert code == 2 and "backfill needs the company's generic endpoint" in err
    assert run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "generic")[0] == 0

    code, out, err = run(capsys, "events", "backfill", str(BACKFILL), "--company", cli_company.id, "--as", "ann")
    # Line 2 is blank; line 3 misspells amount; line 5 is not JSON. The others import.
    assert code == 1
    assert out == "stored 3 new, 0 already stored, 2 refused\n"
    assert err.splitlines() == ["line 3: event has unknown field(s): ammount",
                                "line 5: not JSON: Expecting value at column 1"]
    container = bootstrap.current()
    stored = _deliveries(container, cli_company.id)
    assert [d.status for d in stored] == ["received"] * 3
    assert all(d.headers and json.loads(d.headers)["x-autobill-backfill"] == "cli:ann" for d in stored)
    assert run_jobs(container) == 6  # three delivery jobs, then the job of each event they stored
    assert [d.status for d in _deliveries(container, cli_company.id)] == ["processed"] * 3
    events = _events(container, cli_company.id)
    assert [(e.kind, e.source_object_id) for e in events] == [
        ("contract_ended", "contract-9"), ("deal_won", "crm-deal-1001"), ("time_logged", "ts-1")]
    assert "crm-deal-1002" not in {e.source_object_id for e in events}  # the refused line left nothing behind

    code, out, err = run(capsys, "events", "backfill", str(BACKFILL), "--company", cli_company.id, "--as", "ann")
    assert (code, out) == (1, "stored 0 new, 3 already stored, 2 refused\n")
    assert run_jobs(container) == 0
    assert len(_deliveries(container, cli_company.id)) == 3 and len(_events(container, cli_company.id)) == 3
    audited = [r for r in container.audit.records(cli_company.id) if r.action == "events.backfilled"]
    assert [(r.actor, json.loads(r.details)["stored"]) for r in audited] == [("cli:ann", 3), ("cli:ann", 0)]


def test_a_backfill_of_only_good_lines_exits_zero(cli_company, capsys, tmp_path):
    run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "generic")
    past = tmp_path / "past.jsonl"
    past.write_text('{"kind": "contract_ended", "source_object_id": "contract-1", '
                    '"occurred_at": "2025-12-31T23:59:59Z"}\n\n')
    code, out, err = run(capsys, "events", "backfill", str(past), "--company", cli_company.id, "--as", "ann")
    assert (code, out, err) == (0, "stored 1 new, 0 already stored, 0 refused\n", "")


def _basic(pair: str) -> str:
    return "Basic " + base64.b64encode(pair.encode()).decode()


def test_a_pipedrive_endpoint_takes_its_basic_auth_pair_from_standard_input(cli_company, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PAIR}\npipedrive-api-token-7\n"))
    code, out, err = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "pipedrive",
                         "--secret-stdin", "--api-token-stdin", "--as", "ann")
    assert (code, err) == (0, "") and "s3cret" not in out
    endpoint_id = out.split()[1]
    url = next(line.split(None, 1)[1] for line in out.splitlines() if line.startswith("url"))
    container = bootstrap.current()
    with container.unit_of_work() as session:
        row = session.get(Endpoint, endpoint_id)
    assert container.vault.decrypt(row.secret) == PAIR
    assert json.loads(container.vault.decrypt(row.api_credentials)) == "pipedrive-api-token-7"

    client = create_app(container).test_client()
    body = (FIXTURES / "pipedrive" / "webhook-v2-deal-won.json").read_bytes()

    def post(pair: str | None):
        headers = {"Content-Type": "application/json"}
        if pair is not None:
            headers["Authorization"] = _basic(pair)
        return client.post(urlsplit(url).path, data=body, headers=headers)

    assert post(None).status_code == 401
    assert post("autobill-hook:wrong").status_code == 401
    assert post("autobill-hook:s3cret-pass").status_code == 401  # the password runs to the end of the line
    answer = post(PAIR)
    assert answer.status_code == 200 and answer.json["duplicate"] is False
    [stored] = _deliveries(container, cli_company.id)
    assert "authorization" not in json.loads(stored.headers)  # the pair is never kept with the delivery
    code, out, _ = run(capsys, "endpoints", "list", "--company", cli_company.id)
    assert out.rstrip().endswith(
        ", 3 refused (last: HTTP Basic user or password does not match the webhook's)")
    assert "s3cret" not in out
    details = " ".join(r.details for r in container.audit.records(cli_company.id))
    assert "s3cret" not in details and "pipedrive-api-token" not in details


@pytest.fixture
def failing_period_handler():
    """A period_closed handler that fails (retryably) until told to bill; the previous one is put back."""
    saved = eventflow.handler_for(EventKind.PERIOD_CLOSED)
    state = {"fail": True, "calls": 0}

    def handler(container, session, row, event):
        state["calls"] += 1
        if state["fail"]:
            raise AutobillError("QuickBooks is slow", retryable=True)
        return Outcome.done("drafted the January invoice")

    eventflow.register_handler(EventKind.PERIOD_CLOSED, handler, replace=True)
    yield state
    eventflow.unregister_handler(EventKind.PERIOD_CLOSED)
    if saved is not None:
        eventflow.register_handler(EventKind.PERIOD_CLOSED, saved)


def test_an_event_failed_after_the_retry_limit_comes_back_with_replay(cli_company, capsys, failing_period_handler):
    container = bootstrap.current()
    now = datetime(2026, 2, 1, 0, 5, tzinfo=UTC)
    with container.unit_of_work() as session:
        event_id = eventflow.raise_event(session, cli_company.id, period_closed(), now=now).id
    limit = container.settings.retry_limit
    for attempt in range(limit):
        row = run_event(container, event_id, now=now + timedelta(hours=attempt))
    assert (row.status, row.attempts) == ("failed", limit)
    assert row.reason == f"handler failed: QuickBooks is slow (gave up after {limit} tries)"
    assert eventflow.sweep(container, now + timedelta(days=30)) == 0  # failed stays failed by itself

    failing_period_handler["fail"] = False  # the cause is fixed
    code, out, err = run(capsys, "replay", event_id, "--company", cli_company.id, "--as", "ann")
    assert (code, err) == (0, "")
    assert out == f"{event_id}  period_closed  done  drafted the January invoice\n"
    with container.unit_of_work() as session:
        row = session.get(EventRecord, event_id)
    assert (row.status, row.attempts, row.reason) == ("done", 0, "drafted the January invoice")
    assert failing_period_handler["calls"] == limit + 1
    replayed = [r for r in container.audit.records(cli_company.id) if r.action == "event.replayed"]
    assert [(r.actor, r.subject) for r in replayed] == [("cli:ann", f"event:{event_id}")]
    code, _, err = run(capsys, "replay", "ev_nope", "--company", cli_company.id)
    assert code == 2 and "no event 'ev_nope'" in err
