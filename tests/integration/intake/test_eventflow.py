"""The event flow on both databases with a real Redis: raising, handlers, retries, sweeping."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from addon import eventflow
from addon.errors import AutobillError
from addon.eventflow import Outcome
from addon.eventjob import run_event
from addon.models.events import EventRecord, EventStatus
from rules.events import EventKind
from tests.integration.intake.conftest import NOW, queued, run_jobs
from tests.integration.intake.helpers import period_closed, store_events, time_logged


@pytest.fixture
def handlers():
    """Register handlers for a test (None: no handler); the ones registered before are put back afterwards."""
    saved = {}

    def register(kind, handler):
        saved.setdefault(kind, eventflow.handler_for(kind))
        if handler is None:
            eventflow.unregister_handler(kind)
        else:
            eventflow.register_handler(kind, handler, replace=True)

    yield register
    for kind, handler in saved.items():
        eventflow.unregister_handler(kind)
        if handler is not None:
            eventflow.register_handler(kind, handler)


def _row(container, event_id) -> EventRecord:
    with container.unit_of_work() as session:
        return session.get(EventRecord, event_id)


def _raise(container, company, event=None):
    with container.unit_of_work() as session:
        row = eventflow.raise_event(session, company.id, event or period_closed(), now=NOW)
        return row.id if row else None


def test_a_raised_event_is_stored_once_and_enqueued_only_after_its_transaction_commits(container, company):
    with container.unit_of_work() as session:
        row = eventflow.raise_event(session, company.id, period_closed(), now=NOW)
        assert row.status == EventStatus.READY and row.agreement_id == "agr-northwind-support"
        assert queued(container) == []
    assert queued(container) == [("addon.eventflow.process_event", (row.id,))]
    assert _raise(container, company) is None
    with container.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(EventRecord)) == 1
    assert len(queued(container)) == 1
    assert eventflow.event_of(_row(container, row.id)).company_id == company.id


def test_an_event_raised_in_a_transaction_that_rolls_back_is_neither_stored_nor_enqueued(container, company):
    with pytest.raises(RuntimeError), container.unit_of_work() as session:
        eventflow.raise_event(session, company.id, period_closed(), now=NOW)
        raise RuntimeError("the caller's work failed")
    assert queued(container) == []
    assert _raise(container, company) is not None


def test_without_a_handler_an_event_stays_ready_with_the_reason_no_handler_for_its_kind(container, company, handlers):
    handlers(EventKind.PERIOD_CLOSED, None)  # drafting handles it once postings are wired in
    event_id = _raise(container, company)
    assert run_jobs(container) == 1
    row = _row(container, event_id)
    assert (row.status, row.reason) == ("ready", "no handler for period_closed")
    assert row.next_attempt_at > NOW


def test_a_handler_runs_in_one_unit_of_work_and_the_event_is_done_in_that_same_transaction(
        container, company, handlers):
    seen = []

    def bill_period(c, session, row, event):
        seen.append((row.id, event.agreement_id, event.period_start))
        c.audit.append(row.company_id, "invoice.drafted", actor="worker", subject=f"event:{row.id}",
                       session=session)
        assert session.get(EventRecord, row.id).status == "ready"  # not done before the handler returns
        return Outcome.done("drafted one invoice")

    handlers(EventKind.PERIOD_CLOSED, bill_period)
    event_id = _raise(container, company)
    run_jobs(container)
    row = _row(container, event_id)
    assert (row.status, row.reason) == ("done", "drafted one invoice")
    assert row.closed_at is not None and row.next_attempt_at is None
    assert seen == [(event_id, "agr-northwind-support", period_closed().period_start)]
    assert [r.action for r in container.audit.records(company.id)] == ["invoice.drafted"]


def test_running_an_event_twice_calls_its_handler_once(container, company, handlers):
    calls = []
    handlers(EventKind.PERIOD_CLOSED, lambda c, s, row, e: calls.append(row.id))
    event_id = _raise(container, company)
    eventflow.enqueue_events(container, [event_id])  # a duplicate job, as a sweep racing the first would make
    assert run_jobs(container) in (1, 2)  # one job id per event: the duplicate may fold into the first
    assert eventflow.process_event(event_id) == "done"
    assert calls == [event_id]


def test_a_failing_handler_rolls_back_its_work_and_the_event_is_tried_again_after_a_doubling_pause(
        container, company, handlers):
    attempts = []

    def flaky(c, session, row, event):
        c.audit.append(row.company_id, "invoice.drafted", actor="worker", subject="x", session=session)
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("QuickBooks went away")
        return None

    handlers(EventKind.PERIOD_CLOSED, flaky)
    event_id = _raise(container, company)
    base = container.settings.retry_base
    row = run_event(container, event_id, now=NOW)
    assert (row.status, row.attempts) == ("ready", 1)
    assert row.reason == "handler failed: ConnectionError; see the worker log"
    assert row.next_attempt_at == NOW + timedelta(seconds=base)
    row = run_event(container, event_id, now=NOW)
    assert row.next_attempt_at == NOW + timedelta(seconds=2 * base)
    row = run_event(container, event_id, now=NOW)
    assert (row.status, row.reason) == ("done", None)
    assert [r.action for r in container.audit.records(company.id)] == ["invoice.drafted"]


def test_an_error_retrying_cannot_fix_fails_the_event_at_once_and_the_retry_limit_fails_it_too(
        container, company, handlers):
    def refuse(c, session, row, event):
        raise AutobillError("the agreement has no customer", retryable=False)

    handlers(EventKind.PERIOD_CLOSED, refuse)
    row = run_event(container, _raise(container, company), now=NOW)
    assert (row.status, row.reason) == ("failed", "handler failed: the agreement has no customer")

    def broken(c, session, row, event):
        raise AutobillError("QuickBooks is slow", retryable=True)

    handlers(EventKind.PERIOD_CLOSED, broken)
    event_id = _raise(container, company, period_closed(agreement_id="agr-contoso"))
    for _ in range(container.settings.retry_limit):
        row = run_event(container, event_id, now=NOW)
    assert row.status == "failed" and row.reason.endswith(f"(gave up after {container.settings.retry_limit} tries)")


def test_a_handler_may_ignore_an_event_or_leave_it_waiting_for_a_mapping(container, company, handlers):
    handlers(EventKind.PERIOD_CLOSED, lambda c, s, r, e: Outcome.ignored("the agreement ended"))
    handlers(EventKind.TIME_LOGGED, lambda c, s, r, e: Outcome.waiting_mapping("project site is not mapped"))
    closed = run_event(container, _raise(container, company), now=NOW)
    assert (closed.status, closed.reason) == ("ignored", "the agreement ended")
    [entry] = store_events(container, company.id, [time_logged()])
    waiting = run_event(container, entry, now=NOW)
    assert (waiting.status, waiting.reason, waiting.next_attempt_at) == (
        "waiting_mapping", "project site is not mapped", None)


def test_registering_a_second_handler_for_a_kind_is_refused(handlers):
    def first(*args):
        return None

    handlers(EventKind.CONTRACT_ENDED, first)
    eventflow.register_handler(EventKind.CONTRACT_ENDED, first)  # the same one again is fine
    with pytest.raises(ValueError, match="contract_ended events already have a handler"):
        eventflow.register_handler([EventKind.CONTRACT_ENDED], lambda *a: None)


def test_the_sweeper_enqueues_open_events_that_are_due_and_leaves_the_rest(container, company, handlers):
    handlers(EventKind.PERIOD_CLOSED, lambda c, s, r, e: None)
    done = _raise(container, company)
    run_jobs(container)
    open_id = _raise(container, company, period_closed(agreement_id="agr-contoso"))
    container.redis.flushall()  # Redis lost the job
    grace = timedelta(seconds=container.settings.sweep_grace)
    assert eventflow.sweep(container, NOW) == 0  # its grace has not passed: its own job may still run
    assert eventflow.sweep(container, NOW + grace) == 1
    assert queued(container) == [("addon.eventflow.process_event", (open_id,))]
    assert eventflow.sweep(container, NOW + grace) == 0  # enqueued once, not every tick
    run_jobs(container)
    assert _row(container, open_id).status == "done" and _row(container, done).status == "done"


def test_the_sweeper_leaves_an_event_whose_job_still_waits_in_a_long_queue(container, company, handlers):
    handlers(EventKind.PERIOD_CLOSED, lambda c, s, r, e: None)
    waiting = _raise(container, company)
    later = NOW + timedelta(seconds=container.settings.sweep_grace) * 10
    assert eventflow.sweep(container, later) == 0  # its job is still queued: no second job behind it
    assert len(queued(container)) == 1
    container.redis.flushall()
    assert eventflow.sweep(container, later + timedelta(seconds=container.settings.sweep_grace)) == 1
    run_jobs(container)
    assert _row(container, waiting).status == "done"


def test_usage_events_need_no_customer_mapping_but_a_won_deal_waits_for_its_customer(container, company, ledger):
    from tests.integration.intake.helpers import deal_won

    usage, deal = store_events(container, company.id, [time_logged(), deal_won()])
    assert _row(container, usage).status == "ready"
    assert _row(container, deal).status == "waiting_mapping"


def _actions(container, company, prefix="event."):
    return [(r.action, r.subject) for r in container.audit.records(company.id) if r.action.startswith(prefix)]


def test_an_ignored_or_failed_event_is_audited_once_and_a_handlers_own_record_is_not_doubled(
        container, company, handlers):
    handlers(EventKind.PERIOD_CLOSED, lambda c, s, r, e: Outcome.ignored("the agreement ended"))
    ignored = _raise(container, company)
    run_event(container, ignored, now=NOW)
    run_event(container, ignored, now=NOW)  # closed: a second run records nothing

    def explains_itself(c, session, row, event):
        c.audit.append(row.company_id, "event.ignored", actor="worker", subject=f"event:{row.id}", session=session,
                       details={"reason": "no rule matched"})
        return Outcome.ignored("no rule matched")

    handlers(EventKind.PERIOD_CLOSED, explains_itself)
    explained = _raise(container, company, period_closed(agreement_id="agr-contoso"))
    run_event(container, explained, now=NOW)

    def refuse(c, session, row, event):
        raise AutobillError("the agreement has no customer", retryable=False)

    handlers(EventKind.PERIOD_CLOSED, refuse)
    failed = _raise(container, company, period_closed(agreement_id="agr-fabrikam"))
    run_event(container, failed, now=NOW)
    run_event(container, failed, now=NOW)
    assert _actions(container, company) == [("event.ignored", f"event:{ignored}"),
                                            ("event.ignored", f"event:{explained}"),
                                            ("event.failed", f"event:{failed}")]
    details = json.loads(container.audit.records(company.id)[-1].details)
    assert details["reason"] == "handler failed: the agreement has no customer" and details["kind"] == "period_closed"


def test_a_won_deals_customer_mapping_is_audited_once_however_often_its_job_runs(container, company, ledger):
    from tests.integration.intake.helpers import deal_won

    [deal] = store_events(container, company.id, [deal_won()])
    eventflow.enqueue_events(container, [deal])
    run_jobs(container)
    run_event(container, deal, now=NOW)
    [mapped] = [r for r in container.audit.records(company.id) if r.action == "event.mapped"]
    assert mapped.subject == f"event:{deal}"
    details = json.loads(mapped.details)
    assert details["customer_id"] == _row(container, deal).qbo_customer_id is not None
    assert details["source_customer_id"] == "cust-7" and details["reason"] is None
